"""Functional traces: who did what, in which mailbox, when and from which address.

Every action a person takes is recorded here, and nowhere is message content or a
subject: `detail` carries only small facts (a folder, a uid, a count) and refuses keys
that would hold content. Each record is written in its own short transaction on its own
connection: it is kept even if the request fails later, and the chain lock (see
trace_chain.py) is never held across a request. Callers commit their own changes first
(SQLite has a single writer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from flask_babel import lazy_gettext
from flask_login import current_user
from sqlalchemy import select

from webmail.db import db
from webmail.models import FunctionalTrace
from webmail.models.base import utcnow
from webmail.services import statistics, trace_chain
from webmail.services.trace_chain import SYSTEM_CHAIN, ChainReport

SYSTEM_ACTOR = SYSTEM_CHAIN  # the service itself: timers, retention
ACTION_LABELS = {
    "sign_in": lazy_gettext("Signed in"),
    "sign_out": lazy_gettext("Signed out"),
    "sign_in_failed": lazy_gettext("Failed sign-in"),
    "message_opened": lazy_gettext("Opened a message"),
    "message_sent": lazy_gettext("Sent a message"),
    "message_moved": lazy_gettext("Moved messages"),
    "message_deleted": lazy_gettext("Deleted messages"),
    "delegation_granted": lazy_gettext("Delegation granted"),
    "delegation_changed": lazy_gettext("Delegation changed"),
    "delegation_revoked": lazy_gettext("Delegation revoked"),
    "delegation_removed": lazy_gettext("Delegation revoked"),
    "delegation_expired": lazy_gettext("Delegation expired"),
    "delegate_entered": lazy_gettext("Entered the mailbox as a delegate"),
    "privacy_request": lazy_gettext("Privacy request"),
    "privacy_request_withdrawn": lazy_gettext("Privacy request withdrawn"),
    "privacy_request_handled": lazy_gettext("Privacy request answered by an administrator"),
    "privacy_export": lazy_gettext("Personal data exported"),
    "profile_changed": lazy_gettext("Personal details corrected"),
    "communications_changed": lazy_gettext("Communications choices changed"),
    "session_revoked": lazy_gettext("Session signed out from the privacy page"),
    "mailbox_deleted": lazy_gettext("Mailbox marked deleted"),
    "mailbox_restored": lazy_gettext("Mailbox restored"),
    "admin_granted": lazy_gettext("Administrator role granted"),
    "admin_revoked": lazy_gettext("Administrator role removed"),
    "traces_erased": lazy_gettext("Traces erased at the end of their retention"),
    "traces_viewed": lazy_gettext("Traces consulted by an administrator"),
    "second_factor_enabled": lazy_gettext("Second factor turned on"),
    "second_factor_disabled": lazy_gettext("Second factor turned off"),
    "second_factor_reset": lazy_gettext("Second factor removed by an administrator"),
    "recovery_codes_renewed": lazy_gettext("New recovery codes made"),
    "patient_link_created": lazy_gettext("Secure link sent to a patient"),
    "patient_link_opened": lazy_gettext("Secure link opened by the patient"),
    "patient_link_code_failed": lazy_gettext("Wrong access code on a secure link"),
    "patient_link_replied": lazy_gettext("Patient answered through a secure link"),
    "patient_link_revoked": lazy_gettext("Secure link withdrawn"),
}
# Keys that would carry what traces must never hold: content, subjects, secrets.
FORBIDDEN_DETAIL_KEYS = frozenset({
    "subject", "body", "content", "text", "html", "snippet", "preview", "attachment",
    "password", "secret", "token", "cookie", "csrf_token",
})
MAX_DETAIL = 1000  # characters of JSON: a few facts, never a payload
_ACTION = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@dataclass(frozen=True)
class TraceEntry:
    id: int
    occurred_at: datetime
    action: str
    actor: str
    mailbox: str | None
    ip: str | None
    detail: dict | None

    @property
    def label(self) -> str:
        return action_label(self.action)

    def as_dict(self) -> dict:
        return {"id": self.id, "occurred_at": self.occurred_at.isoformat(),
                "action": self.action, "actor": self.actor, "mailbox": self.mailbox,
                "ip": self.ip, "detail": self.detail}


@dataclass(frozen=True)
class Activity:
    """A trace as a line of a page: when, what (in words), details (folder, uid…)."""

    at: datetime
    label: str
    detail: str


def record(action: str, *, actor: str, mailbox: str | None = None, ip: str | None = None,
           detail: dict | None = None) -> None:
    """Append one functional trace (and move the usage counters the action implies)."""
    _check(action, actor, detail)
    actor = actor.strip().lower()[:320]
    mailbox = mailbox.strip().lower()[:320] if mailbox else None
    now = utcnow()
    with db.engine.begin() as connection:
        trace_chain.append(connection, chain=mailbox or actor, action=action, actor=actor,
                           mailbox=mailbox, ip=(ip or None) and ip[:45], detail=detail or None,
                           occurred_at=now)
        statistics.count_for_action(connection, actor, action, detail, now)


def record_request_action(action: str, mailbox: str | None = None, detail: dict | None = None,
                          *, actor: str | None = None) -> None:
    """Trace an action of the current request: the signed-in person (or `actor` when
    nobody is signed in yet, e.g. a failed sign-in), from the request's address. Outside
    a request (a command, a timer) the actor is the service itself."""
    ip = None
    if has_request_context():
        ip = request.remote_addr
        if actor is None and current_user.is_authenticated:
            actor = current_user.address
        if actor is None:
            raise ValueError("nobody is signed in: say who acted")
    record(action, actor=actor or SYSTEM_ACTOR, mailbox=mailbox, ip=ip, detail=detail)


def verify_chain() -> ChainReport:
    """Check every chain from a single consistent snapshot of the database."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        else:
            connection.exec_driver_sql("BEGIN")  # one SQLite read transaction for all reads
        return trace_chain.verify(connection)


def traces_for_mailbox(mailbox: str, limit: int = 50,
                       before: int | None = None) -> list[TraceEntry]:
    """What happened in a mailbox, newest first; `before` (a trace id) for the next page."""
    query = select(FunctionalTrace).where(FunctionalTrace.mailbox == mailbox.strip().lower())
    if before is not None:
        query = query.where(FunctionalTrace.id < before)
    rows = db.session.scalars(query.order_by(FunctionalTrace.id.desc()).limit(limit))
    return [_entry(row) for row in rows]


def traces_for_actor(actor: str) -> list[TraceEntry]:
    """Everything a person did, oldest first (for their privacy export)."""
    rows = db.session.scalars(select(FunctionalTrace)
                              .where(FunctionalTrace.actor == actor.strip().lower())
                              .order_by(FunctionalTrace.id))
    return [_entry(row) for row in rows]


def actions_in_mailbox(mailbox: str, actor: str | None = None,
                       limit: int = 100) -> list[Activity]:
    """A mailbox's recent traces as page lines, optionally one person's only."""
    query = select(FunctionalTrace).where(FunctionalTrace.mailbox == mailbox.strip().lower())
    if actor is not None:
        query = query.where(FunctionalTrace.actor == actor.strip().lower())
    rows = db.session.scalars(query.order_by(FunctionalTrace.id.desc()).limit(limit))
    return [Activity(row.occurred_at, action_label(row.action), describe(row.detail))
            for row in rows]


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action.replace("_", " ")


def describe(detail: dict | None) -> str:
    return ", ".join(f"{key}: {value}" for key, value in sorted((detail or {}).items()))


def _entry(row: FunctionalTrace) -> TraceEntry:
    return TraceEntry(row.id, row.occurred_at, row.action, row.actor, row.mailbox, row.ip,
                      row.detail)


def _check(action: str, actor: str, detail: dict | None) -> None:
    if not _ACTION.match(action):
        raise ValueError(f"invalid trace action {action!r}")
    if not actor or not actor.strip():
        raise ValueError("a trace needs an actor")
    if detail is None:
        return
    if not isinstance(detail, dict):
        raise ValueError("trace detail must be a dict")
    for key, value in detail.items():
        if not isinstance(key, str) or key.lower() in FORBIDDEN_DETAIL_KEYS:
            raise ValueError(f"trace detail may not carry {key!r}")
        if not _plain(value):
            raise ValueError(f"trace detail {key!r} must be a string, a whole number, "
                             "a boolean, null or a list of those")
    if len(describe(detail)) > MAX_DETAIL:
        raise ValueError("trace detail too long: traces hold facts, not payloads")


def _plain(value: object) -> bool:
    if isinstance(value, list):
        return all(_plain(item) and not isinstance(item, list) for item in value)
    return value is None or isinstance(value, str | bool | int)
