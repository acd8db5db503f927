"""The privacy page's rules: what Pli holds about a person and for how long (the notice,
section 1.3), rectification of their details and their communications choices (1.4).

Every function takes the signed-in person's own account: the views never pass another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy import func, select

from webmail.db import db
from webmail.models import (
    Account,
    ConsentRecord,
    Delegation,
    FunctionalTrace,
    UsageCounter,
    UserSession,
)
from webmail.services import delegation, traces
from webmail.services.retention import RetentionPolicy

MAX_LENGTHS = {"display_name": 200, "profession": 120, "organisation": 200}
PROFILE_FIELDS = ("display_name", "profession", "rpps", "organisation")
_RPPS = re.compile(r"^[0-9]{11}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
METRIC_LABELS = {
    "sign_ins": lazy_gettext("Sign-ins"),
    "messages_opened": lazy_gettext("Messages opened"),
    "messages_sent": lazy_gettext("Messages sent"),
    "messages_moved": lazy_gettext("Messages moved"),
    "messages_deleted": lazy_gettext("Messages deleted"),
    "bytes_sent": lazy_gettext("Bytes sent"),
}


class ProfileError(ValueError):
    """Rectification refused; `errors` maps each wrong field to a translated message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class RetentionTerms:
    """How long each category is kept, in words, from the configured periods."""

    account: str  # identity, professional details, preferences, requests, sessions
    functional: str  # functional traces: counted from the mailbox's deletion
    technical: str
    statistics: str

    @classmethod
    def from_config(cls, config) -> RetentionTerms:
        policy = RetentionPolicy.from_config(config)
        return cls(
            account=gettext("life of the mailbox + %(period)s",
                             period=period_in_words(policy.account_months)),
            functional=gettext("%(period)s after the mailbox is deleted",
                               period=period_in_words(policy.functional_months)),
            technical=period_in_words(policy.technical_months),
            statistics=gettext("%(period)s, then anonymised",
                               period=period_in_words(policy.statistics_months)),
        )


@dataclass(frozen=True)
class Contacts:
    """Who answers for the data (from PLI_CONTROLLER_NAME, PLI_DPO_*, PLI_SUPERVISORY_*)."""

    controller: str
    dpo_name: str
    dpo_email: str
    dpo_postal_address: str
    authority_name: str
    authority_postal_address: str
    authority_url: str

    @classmethod
    def from_config(cls, config) -> Contacts:
        url = str(config.get("SUPERVISORY_AUTHORITY_URL") or "").strip()
        return cls(*(str(config.get(key) or "").strip() for key in (
            "CONTROLLER_NAME", "DPO_NAME", "DPO_EMAIL", "DPO_POSTAL_ADDRESS",
            "SUPERVISORY_AUTHORITY_NAME", "SUPERVISORY_AUTHORITY_POSTAL_ADDRESS")),
            authority_url=url if url.startswith(("https://", "http://")) else "")

    @property
    def dpo_configured(self) -> bool:
        return bool(self.dpo_name or self.dpo_email or self.dpo_postal_address)


@dataclass(frozen=True)
class UsageTotal:
    metric: str
    amount: int
    days: int

    @property
    def label(self) -> str:
        label = METRIC_LABELS.get(self.metric)
        return str(label) if label is not None else self.metric.replace("_", " ")


@dataclass(frozen=True)
class HeldData:
    """Everything the page lists under "what Pli holds about you"."""

    account: Account
    delegations_given: list[Delegation]
    delegations_received: list[Delegation]
    consents: list[ConsentRecord]
    session_count: int
    trace_count: int
    usage: list[UsageTotal]


def period_in_words(months: int) -> str:
    """12 → "1 an", 120 → "10 ans", 3 → "3 mois"."""
    if months % 12 == 0:
        return ngettext("%(num)s year", "%(num)s years", months // 12)
    return ngettext("%(num)s month", "%(num)s months", months)


def held_data(account: Account) -> HeldData:
    address = account.address
    return HeldData(
        account=account,
        delegations_given=delegation.given(address),
        delegations_received=delegation.received(address),
        consents=consent_records(account),
        session_count=db.session.scalar(select(func.count()).select_from(UserSession)
                                        .where(UserSession.account_id == account.id)) or 0,
        trace_count=db.session.scalar(select(func.count()).select_from(FunctionalTrace)
                                      .where(FunctionalTrace.actor == address)) or 0,
        usage=usage_totals(address),
    )


def consent_records(account: Account) -> list[ConsentRecord]:
    """Cookie choices made while signed in, newest first."""
    return list(db.session.scalars(select(ConsentRecord)
                                   .where(ConsentRecord.account_id == account.id)
                                   .order_by(ConsentRecord.recorded_at.desc(),
                                             ConsentRecord.id.desc())))


def usage_totals(address: str) -> list[UsageTotal]:
    """The person's own usage counters still kept per person, summed per metric."""
    rows = db.session.execute(
        select(UsageCounter.metric, func.sum(UsageCounter.amount),
               func.count(func.distinct(UsageCounter.day)))
        .where(UsageCounter.actor == address)
        .group_by(UsageCounter.metric).order_by(UsageCounter.metric)).all()
    return [UsageTotal(metric, int(amount or 0), days) for metric, amount, days in rows]


def update_profile(account: Account, form) -> list[str]:
    """Rectify the name and professional details; returns the fields that changed.

    Raises ProfileError (nothing saved) when a value is unusable, e.g. an RPPS number that
    is not 11 digits.
    """
    values = {name: " ".join(str(form.get(name, "")).split()) for name in PROFILE_FIELDS}
    values["rpps"] = values["rpps"].replace(" ", "")
    errors = {}
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            errors[name] = gettext("At most %(n)s characters.", n=limit)
    if values["rpps"] and not _RPPS.match(values["rpps"]):
        errors["rpps"] = gettext("An RPPS number has exactly 11 digits.")
    for name in PROFILE_FIELDS:
        if _CONTROL.search(values[name]):
            errors[name] = gettext("Control characters are not allowed.")
    if errors:
        raise ProfileError(errors)
    changed = [name for name in PROFILE_FIELDS if getattr(account, name) != values[name]]
    if changed:
        for name in changed:
            setattr(account, name, values[name])
        db.session.commit()
        # Field names only: the values are the person's data, not facts about an action.
        traces.record_request_action("profile_changed", mailbox=account.address,
                                     detail={"fields": changed})
    return changed


def set_communications(account: Account, newsletter: bool, service_messages: bool) -> bool:
    """Newsletter opt-in and service messages, in force at once; returns whether changed."""
    if (account.newsletter, account.service_messages) == (newsletter, service_messages):
        return False
    account.newsletter, account.service_messages = newsletter, service_messages
    db.session.commit()
    traces.record_request_action("communications_changed", mailbox=account.address,
                                 detail={"newsletter": newsletter,
                                         "service_messages": service_messages})
    return True


def newsletter_recipients() -> list[str]:
    """Who gets the newsletter today: opted in, mailbox not deleted."""
    return list(db.session.scalars(select(Account.address)
                                   .where(Account.newsletter.is_(True),
                                          Account.deleted_at.is_(None))
                                   .order_by(Account.address)))
