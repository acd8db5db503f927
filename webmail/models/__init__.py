"""Tables. Alembic migrations under `webmail/migrations` create and evolve them."""

from webmail.models.account import Account
from webmail.models.base import Base
from webmail.models.compose import RecentCorrespondent, Signature
from webmail.models.delegation import Delegation, DelegationRight
from webmail.models.patient_link import PatientLink
from webmail.models.privacy import (
    ConsentRecord,
    PrivacyRequest,
    PrivacyRequestKind,
    PrivacyRequestStatus,
)
from webmail.models.second_factor import SecondFactor
from webmail.models.session import UserSession
from webmail.models.statistics import AnonymousCounter, UsageCounter
from webmail.models.trace import FunctionalTrace, TechnicalEvent, TraceChain

__all__ = ["Account", "AnonymousCounter", "Base", "ConsentRecord", "Delegation",
           "DelegationRight", "FunctionalTrace", "PatientLink", "PrivacyRequest",
           "PrivacyRequestKind", "PrivacyRequestStatus", "RecentCorrespondent", "SecondFactor",
           "Signature", "TechnicalEvent", "TraceChain", "UsageCounter", "UserSession"]
