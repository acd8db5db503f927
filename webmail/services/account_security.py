"""The security part of the privacy page: recent sign-ins (successful ones from session
records, failed ones from traces), the sessions still open, and ending them.

Ending a session takes effect at its next request, since every request checks the record
(services/sessions.py). Its pooled IMAP connections in this process close at once; other
worker processes close theirs when they have been idle for IMAP_POOL_IDLE_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from webmail.db import db
from webmail.models import Account, FunctionalTrace, UserSession
from webmail.models.base import utcnow
from webmail.services import sessions, traces
from webmail.services.mail import forget_session
from webmail.services.user_agents import describe_device

RECENT = 10


@dataclass(frozen=True)
class SignIn:
    at: datetime
    device: str
    ip: str


@dataclass(frozen=True)
class ActiveSession:
    id: int
    started_at: datetime
    last_seen_at: datetime
    device: str
    ip: str
    is_current: bool


def recent_sign_ins(account: Account, limit: int = RECENT) -> list[SignIn]:
    rows = db.session.scalars(select(UserSession)
                              .where(UserSession.account_id == account.id,
                                     UserSession.awaiting_code.is_(False))
                              .order_by(UserSession.created_at.desc(), UserSession.id.desc())
                              .limit(limit))
    return [SignIn(row.created_at, describe_device(row.user_agent), row.ip_address)
            for row in rows]


def failed_sign_ins(account: Account, limit: int = RECENT) -> list[SignIn]:
    """Refused attempts with this address (the browser is not traced, only the address)."""
    rows = db.session.scalars(select(FunctionalTrace)
                              .where(FunctionalTrace.actor == account.address,
                                     FunctionalTrace.action == "sign_in_failed")
                              .order_by(FunctionalTrace.id.desc()).limit(limit))
    return [SignIn(row.occurred_at, "", row.ip or "") for row in rows]


def active_sessions(account: Account, current_id: int | None) -> list[ActiveSession]:
    """Sessions not ended and not yet past their idle or absolute limit, current first."""
    return sorted((ActiveSession(row.id, row.created_at, row.last_seen_at,
                                 describe_device(row.user_agent), row.ip_address,
                                 row.id == current_id) for row in _live(account)),
                  key=lambda s: (not s.is_current, -s.last_seen_at.timestamp()))


def end_session(account: Account, session_id: int, current_id: int | None) -> bool:
    """End one of the person's other sessions; False when there is no such session (the
    current one is ended by signing out, which also drops this browser's cookie)."""
    row = db.session.get(UserSession, session_id)
    if (row is None or row.account_id != account.id or row.ended_at is not None
            or row.id == current_id):
        return False
    sessions.end(row, "revoked")
    forget_session(row.id)
    traces.record_request_action("session_revoked", mailbox=account.address,
                                 detail={"session": row.id})
    return True


def end_other_sessions(account: Account, current_id: int | None) -> int:
    """End every session of the person but the current one; returns how many."""
    ids = [row.id for row in _live(account) if row.id != current_id]
    sessions.end_all_for(account.id, except_id=current_id)
    for session_id in ids:
        forget_session(session_id)
    if ids:
        traces.record_request_action("session_revoked", mailbox=account.address,
                                     detail={"sessions": len(ids), "others": True})
    return len(ids)


def _live(account: Account) -> list[UserSession]:
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    return list(db.session.scalars(
        select(UserSession).where(UserSession.account_id == account.id,
                                  UserSession.ended_at.is_(None),
                                  UserSession.awaiting_code.is_(False),
                                  UserSession.last_seen_at > now - idle,
                                  UserSession.created_at > now - absolute)))
