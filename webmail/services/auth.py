"""Signing in against the IMAP server and out again."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app, session
from sqlalchemy import select

from imap_bridge.connection import close_quietly, open_imap
from imap_bridge.errors import AuthenticationFailed
from webmail.db import db
from webmail.mail_pool import pool, settings_from_config
from webmail.models import Account
from webmail.models.base import utcnow
from webmail.services import second_factor, sessions, traces
from webmail.services.mail import forget_session

_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
MAX_ADDRESS = 320
MAX_CODE_ATTEMPTS = 5  # wrong codes in one sign-in before the password is asked again


class InvalidCredentials(ValueError):
    """The form itself is unusable (empty, control characters, too long)."""


class MailboxClosed(Exception):
    """An administrator marked the mailbox deleted: no new session (README "Traces")."""


def normalise_address(raw: str) -> str:
    address = raw.strip().lower()
    if not address or len(address) > MAX_ADDRESS or _FORBIDDEN.search(address):
        raise InvalidCredentials("address")
    return address


@dataclass(frozen=True)
class PasswordChecked:
    account: Account
    awaiting_code: bool  # a second factor is set up: nobody is signed in until its code


def sign_in(raw_address: str, password: str, ip_address: str,
            user_agent: str) -> PasswordChecked:
    """Check the credentials with the IMAP server, then open a server-side session.

    The IMAP connection used for the check is kept in the pool, so the first page after
    sign-in needs no second login. When the person has a second factor, the session
    waits for its code (`complete_with_code`) and the connection is closed: the code
    may never come. Raises AuthenticationFailed or MailServerUnavailable.
    """
    address = normalise_address(raw_address)
    try:
        if not password or len(password) > 1024 or "\x00" in password:
            raise InvalidCredentials("password")
        client = open_imap(settings_from_config(current_app.config), address, password)
    except (AuthenticationFailed, InvalidCredentials):
        traces.record("sign_in_failed", actor=address, mailbox=address, ip=ip_address or None)
        raise
    account = db.session.scalar(select(Account).where(Account.address == address))
    if account is not None and account.deleted_at is not None:
        close_quietly(client)
        traces.record("sign_in_failed", actor=address, mailbox=address, ip=ip_address or None,
                      detail={"reason": "mailbox_deleted"})
        raise MailboxClosed(address)
    if account is None:
        account = Account(address=address)
        db.session.add(account)
    db.session.flush()
    awaiting_code = second_factor.is_enabled(account)
    if not awaiting_code:
        account.last_login_at = utcnow()
    open_session, cookie_value = sessions.create(account, password, ip_address, user_agent,
                                                 awaiting_code=awaiting_code)
    db.session.commit()
    if awaiting_code:
        close_quietly(client)
    else:
        pool().adopt((open_session.record.id, address), client)
        traces.record("sign_in", actor=address, mailbox=address, ip=ip_address or None)
    session.bind(open_session, cookie_value)
    return PasswordChecked(account, awaiting_code)


def complete_with_code(code: str, ip_address: str) -> Account:
    """The second step: the code from the app (or a recovery code) signs the person in.
    Raises second_factor.InvalidCode; after MAX_CODE_ATTEMPTS wrong codes the waiting
    session ends and the password must be given again (sessions.SessionEnded)."""
    open_session = _waiting_session()
    record = open_session.record
    account = record.account
    try:
        kind = second_factor.verify(account, code)
    except second_factor.InvalidCode:
        attempts = int(session.get("code_attempts", 0)) + 1
        session["code_attempts"] = attempts  # saved with the session record
        traces.record("sign_in_failed", actor=account.address, mailbox=account.address,
                      ip=ip_address or None, detail={"reason": "second_factor"})
        if attempts >= MAX_CODE_ATTEMPTS:
            sessions.end(record, "code_attempts")
            session.unbind()
            raise sessions.SessionEnded("too many wrong codes") from None
        raise
    session.pop("code_attempts", None)
    record.awaiting_code = False
    account.last_login_at = utcnow()
    db.session.commit()
    detail = {"second_factor": kind}
    traces.record("sign_in", actor=account.address, mailbox=account.address,
                  ip=ip_address or None, detail=detail)
    return account


def waiting_for_code() -> Account | None:
    """The person whose password was right and whose code is awaited, if any."""
    open_session = getattr(session, "open_session", None)
    if open_session is None or not open_session.record.awaiting_code:
        return None
    return open_session.record.account


def _waiting_session() -> sessions.OpenSession:
    open_session = getattr(session, "open_session", None)
    if open_session is None or not open_session.record.awaiting_code:
        raise sessions.SessionEnded("no sign-in is waiting for a code")
    return open_session


def sign_out() -> None:
    """End the server record, close its IMAP connections, drop the cookie."""
    open_session = getattr(session, "open_session", None)
    if open_session is not None:
        address = open_session.record.account.address
        if not open_session.record.awaiting_code:  # a sign-in never completed is no sign-out
            traces.record_request_action("sign_out", mailbox=address, actor=address)
        sessions.end(open_session.record, "signed_out")
        forget_session(open_session.record.id)
    session.unbind()
