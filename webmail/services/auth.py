"""Signing in against the IMAP server and out again."""

from __future__ import annotations

import re

from flask import current_app, session
from sqlalchemy import select

from imap_bridge.connection import close_quietly, open_imap
from imap_bridge.errors import AuthenticationFailed
from webmail.db import db
from webmail.mail_pool import pool, settings_from_config
from webmail.models import Account
from webmail.models.base import utcnow
from webmail.services import sessions, traces
from webmail.services.mail import forget_session

_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
MAX_ADDRESS = 320


class InvalidCredentials(ValueError):
    """The form itself is unusable (empty, control characters, too long)."""


class MailboxClosed(Exception):
    """An administrator marked the mailbox deleted: no new session (README "Traces")."""


def normalise_address(raw: str) -> str:
    address = raw.strip().lower()
    if not address or len(address) > MAX_ADDRESS or _FORBIDDEN.search(address):
        raise InvalidCredentials("address")
    return address


def sign_in(raw_address: str, password: str, ip_address: str, user_agent: str) -> Account:
    """Check the credentials with the IMAP server, then open a server-side session.

    The IMAP connection used for the check is kept in the pool, so the first page after
    sign-in needs no second login. Raises AuthenticationFailed or MailServerUnavailable.
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
    account.last_login_at = utcnow()
    open_session, cookie_value = sessions.create(account, password, ip_address, user_agent)
    db.session.commit()
    pool().adopt((open_session.record.id, address), client)
    session.bind(open_session, cookie_value)
    traces.record("sign_in", actor=address, mailbox=address, ip=ip_address or None)
    return account


def sign_out() -> None:
    """End the server record, close its IMAP connections, drop the cookie."""
    open_session = getattr(session, "open_session", None)
    if open_session is not None:
        address = open_session.record.account.address
        traces.record_request_action("sign_out", mailbox=address, actor=address)
        sessions.end(open_session.record, "signed_out")
        forget_session(open_session.record.id)
    session.unbind()
