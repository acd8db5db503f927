"""Requests the privacy notice promises (erasure, restriction, objection, directives after
death): filed by the person, handled by an administrator, followed by both.

Traces say that a request was filed, withdrawn or handled, of which kind and with which
status; never the person's words nor the administrator's answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

from webmail.db import db
from webmail.models import Account, PrivacyRequest, PrivacyRequestKind, PrivacyRequestStatus
from webmail.models.base import utcnow
from webmail.services import traces

Kind, Status = PrivacyRequestKind, PrivacyRequestStatus
KIND_LABELS = {
    Kind.ERASURE: lazy_gettext("Erasure of my data"),
    Kind.RESTRICTION: lazy_gettext("Restriction of processing"),
    Kind.OBJECTION: lazy_gettext("Objection to processing"),
    Kind.POST_MORTEM: lazy_gettext("Directives for after my death"),
}
STATUS_LABELS = {
    Status.PENDING: lazy_gettext("Pending"),
    Status.IN_PROGRESS: lazy_gettext("In progress"),
    Status.DONE: lazy_gettext("Done"),
    Status.REFUSED: lazy_gettext("Refused"),
    Status.WITHDRAWN: lazy_gettext("Withdrawn"),
}
OPEN = (Status.PENDING, Status.IN_PROGRESS)
# What an administrator may set; "withdrawn" is the person's own decision.
ADMIN_STATUSES = (Status.PENDING, Status.IN_PROGRESS, Status.DONE, Status.REFUSED)
MAX_DETAILS = 2000
MAX_CONTACT = 300
MAX_RESPONSE = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and line breaks allowed


class RequestError(ValueError):
    """Something the person or the administrator can correct; already translated."""


def for_account(account: Account) -> list[PrivacyRequest]:
    """The person's requests, newest first."""
    return list(db.session.scalars(select(PrivacyRequest)
                                   .where(PrivacyRequest.account_id == account.id)
                                   .order_by(PrivacyRequest.id.desc())))


def file(account: Account, raw_kind: str, details: str, trusted_contact: str = "") -> (
        PrivacyRequest):
    """Record a request as pending; directives after death may name a trusted third party."""
    kind = _kind(raw_kind)
    details = _text(details, MAX_DETAILS)
    contact = " ".join(_text(trusted_contact, MAX_CONTACT).split())
    if kind is Kind.POST_MORTEM:
        if not details:
            raise RequestError(gettext("Please write your directives."))
        if contact:
            details += "\n\n" + gettext("Trusted third party: %(contact)s", contact=contact)
    row = PrivacyRequest(account_id=account.id, address=account.address, kind=kind.value,
                         details=details, status=Status.PENDING.value)
    db.session.add(row)
    db.session.commit()
    traces.record_request_action("privacy_request", mailbox=account.address,
                                 detail={"kind": kind.value, "request": row.id})
    return row


def withdraw(account: Account, request_id: int) -> PrivacyRequest | None:
    """Withdraw one's own pending request; None when it is not the person's."""
    row = db.session.get(PrivacyRequest, request_id)
    if row is None or row.account_id != account.id:
        return None
    if row.status != Status.PENDING:
        raise RequestError(gettext("Only a pending request can be withdrawn."))
    row.status, row.updated_at = Status.WITHDRAWN.value, utcnow()
    db.session.commit()
    traces.record_request_action("privacy_request_withdrawn", mailbox=account.address,
                                 detail={"kind": row.kind, "request": row.id})
    return row


def list_requests(statuses: Iterable[str] | None = None) -> list[PrivacyRequest]:
    """For administrators: requests with these statuses (all when None), oldest first."""
    query = select(PrivacyRequest).order_by(PrivacyRequest.id)
    if statuses is not None:
        query = query.where(PrivacyRequest.status.in_([str(s) for s in statuses]))
    return list(db.session.scalars(query))


def handle(request_id: int, raw_status: str, response: str | None,
           actor: str) -> PrivacyRequest:
    """An administrator sets the status and answers (None keeps the previous answer);
    traced in the requester's mailbox."""
    row = db.session.get(PrivacyRequest, request_id)
    if row is None:
        raise RequestError(gettext("There is no request number %(id)s.", id=request_id))
    if row.status == Status.WITHDRAWN:
        raise RequestError(gettext("This request was withdrawn by its author."))
    try:
        status = Status(raw_status)
    except ValueError:
        status = None
    if status not in ADMIN_STATUSES:
        raise RequestError(gettext("Choose a status."))
    response = row.response if response is None else _text(response, MAX_RESPONSE)
    if status is Status.REFUSED and not response:
        raise RequestError(gettext("A refusal needs a reason in the response."))
    row.status, row.response, row.handled_by = status.value, response, actor
    row.updated_at = utcnow()
    db.session.commit()
    traces.record_request_action("privacy_request_handled", mailbox=row.address, actor=actor,
                                 detail={"kind": row.kind, "request": row.id,
                                         "status": status.value})
    return row


def parse_statuses(raw: str) -> tuple[Status, ...] | None:
    """The admin list's filter: "open" (default), "all" or one status."""
    if raw == "all":
        return None
    try:
        return (Status(raw),)
    except ValueError:
        return OPEN


def _kind(raw: str) -> PrivacyRequestKind:
    try:
        return Kind(raw)
    except ValueError:
        raise RequestError(gettext("Choose a kind of request.")) from None


def _text(raw: str, limit: int) -> str:
    text = (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(text):
        raise RequestError(gettext("Control characters are not allowed."))
    if len(text) > limit:
        raise RequestError(gettext("At most %(n)s characters.", n=limit))
    return text
