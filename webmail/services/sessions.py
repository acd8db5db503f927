"""Server-side session records: create, find, expire, end.

The cookie carries `s.<token>.<key>`. The table keeps sha256(token) and the IMAP password
encrypted with `key`, so neither a database copy nor a cookie alone yields the password.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update

from webmail.db import db
from webmail.models import Account, UserSession
from webmail.models.base import utcnow

COOKIE_PREFIX = "s."
TOUCH_EVERY = timedelta(seconds=60)  # last-seen writes are throttled to one a minute
CODE_WAIT = timedelta(minutes=5)  # between a right password and the second factor's code


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


@dataclass
class OpenSession:
    """A live record and the key from the cookie that unlocks its secret."""

    record: UserSession
    key: bytes

    def password(self) -> str:
        if self.record.secret is None:
            raise SessionEnded("the session no longer holds credentials")
        try:
            return Fernet(self.key).decrypt(self.record.secret).decode()
        except InvalidToken:
            raise SessionEnded("the session key does not match") from None


class SessionEnded(Exception):
    """The session expired, was signed out or revoked."""


def create(account: Account, password: str, ip_address: str, user_agent: str,
           awaiting_code: bool = False) -> tuple[OpenSession, str]:
    """Start a session for `account`; returns it and the cookie value to hand the browser.
    With `awaiting_code` it signs nobody in until the second factor is checked."""
    token = secrets.token_urlsafe(32)
    key = Fernet.generate_key()
    record = UserSession(
        token_hash=_hash(token),
        account=account,
        secret=Fernet(key).encrypt(password.encode()),
        data={},
        ip_address=ip_address[:45],
        user_agent=user_agent[:300],
        awaiting_code=awaiting_code,
    )
    db.session.add(record)
    db.session.flush()
    return OpenSession(record, key), f"{COOKIE_PREFIX}{token}.{key.decode()}"


def find(cookie_value: str, policy: SessionPolicy, now: datetime | None = None) -> OpenSession:
    """The live session a cookie names; ends it on the spot if it has run out of time."""
    token, _, key = cookie_value.removeprefix(COOKIE_PREFIX).partition(".")
    if not token or not key:
        raise SessionEnded("malformed session cookie")
    record = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    if record is None or record.ended_at is not None:
        raise SessionEnded("unknown or ended session")
    now = now or utcnow()
    if record.awaiting_code and now - record.created_at > CODE_WAIT:
        end(record, "code_timeout", now)
        raise SessionEnded("the second factor was not given in time")
    if now - record.last_seen_at > policy.idle:
        end(record, "idle", now)
        raise SessionEnded("idle timeout")
    if now - record.created_at > policy.absolute:
        end(record, "expired", now)
        raise SessionEnded("absolute timeout")
    return OpenSession(record, key.encode())


def touch(record: UserSession, now: datetime | None = None) -> bool:
    """Note activity, at most once a minute; returns whether a write is due."""
    now = now or utcnow()
    if now - record.last_seen_at < TOUCH_EVERY:
        return False
    record.last_seen_at = now
    return True


def end(record: UserSession, reason: str, now: datetime | None = None) -> None:
    """End a session for good and forget its encrypted password."""
    record.ended_at = now or utcnow()
    record.end_reason = reason
    record.secret = None
    db.session.commit()


def end_all_for(account_id: int, except_id: int | None = None, reason: str = "revoked") -> None:
    """Sign an account out everywhere (optionally but one session)."""
    query = (update(UserSession)
             .where(UserSession.account_id == account_id, UserSession.ended_at.is_(None))
             .values(ended_at=utcnow(), end_reason=reason, secret=None))
    if except_id is not None:
        query = query.where(UserSession.id != except_id)
    db.session.execute(query)
    db.session.commit()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
