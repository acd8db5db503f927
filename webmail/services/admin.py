"""Administration: the administrator role and a mailbox's life cycle, each change traced.

Pli does not create or delete mailboxes (the mail server does); an administrator tells
Pli that a mailbox was deleted, which starts the retention clocks of its data (see
services/retention.py), ends its sessions and refuses further sign-ins.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from webmail.db import db
from webmail.models import Account
from webmail.models.base import utcnow
from webmail.services import second_factor, sessions, trace_chain, traces
from webmail.services.auth import InvalidCredentials, normalise_address


class AdminError(ValueError):
    """A request an administrator can correct (unknown address, date in the future)."""


def command_line_actor() -> str:
    """Who acts from a shell: the system user, as traces need a person."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli:unknown"


def require_admin() -> Account:
    """Administrators only; for anyone else the page does not exist (404)."""
    if not current_user.is_authenticated or not current_user.is_admin:
        abort(404)
    return current_user


def set_admin(raw_address: str, is_admin: bool, actor: str) -> Account:
    """Grant or remove the administrator role; the person must have signed in once."""
    address = parse_address(raw_address)
    account = _account(address)
    if account is None:
        raise AdminError(f"no account for {address}: the person must sign in once first")
    account.is_admin = is_admin
    db.session.commit()
    traces.record("admin_granted" if is_admin else "admin_revoked", actor=actor,
                  mailbox=address)
    return account


def read_traces(raw_address: str, actor: str, limit: int = 50,
                before: int | None = None) -> list[traces.TraceEntry]:
    """A mailbox's traces, newest first; reading them is itself traced in that mailbox."""
    address = parse_address(raw_address)
    entries = traces.traces_for_mailbox(address, limit, before)
    traces.record_request_action("traces_viewed", mailbox=address, actor=actor,
                                 detail={"before": before} if before else None)
    return entries


def mark_deleted(raw_address: str, actor: str, at: datetime | None = None) -> Account | None:
    """Record that the mailbox was deleted on the mail server (now, or at `at`)."""
    address = parse_address(raw_address)
    now = utcnow()
    at = (at or now).astimezone(UTC)
    if at > now:
        raise AdminError("the deletion date is in the future: mark the mailbox once it is "
                         "deleted")
    account = _account(address)
    if account is not None:
        account.deleted_at = at
        db.session.commit()
        sessions.end_all_for(account.id, reason="mailbox_deleted")
    with db.engine.begin() as connection:
        trace_chain.set_mailbox_deleted(connection, address, at)
    traces.record("mailbox_deleted", actor=actor, mailbox=address,
                  detail={"deleted_at": at.isoformat(timespec="seconds")})
    return account


def restore(raw_address: str, actor: str) -> None:
    """Undo `mark_deleted` (a mistake, or the mailbox came back) while data remains."""
    address = parse_address(raw_address)
    account = _account(address)
    if account is not None:
        account.deleted_at = None
        db.session.commit()
    with db.engine.begin() as connection:
        trace_chain.set_mailbox_deleted(connection, address, None)
    traces.record("mailbox_restored", actor=actor, mailbox=address)


def reset_second_factor(raw_address: str, actor: str) -> None:
    """For someone who lost both their phone and their recovery codes, once the
    administrator has checked who is asking: the factor goes, and so do the person's
    sessions. Under "required" they set up a new app at their next sign-in."""
    address = parse_address(raw_address)
    account = _account(address)
    if account is None or not second_factor.is_enabled(account):
        raise AdminError(f"{address} has no second factor")
    second_factor.disable(account)
    sessions.end_all_for(account.id, reason="factor_reset")
    traces.record("second_factor_reset", actor=actor, mailbox=address)


def _account(address: str) -> Account | None:
    return db.session.scalar(select(Account).where(Account.address == address))


def parse_address(raw: str) -> str:
    try:
        address = normalise_address(raw)
    except InvalidCredentials:
        raise AdminError(f"not a mailbox address: {raw!r}") from None
    if "@" not in address:
        raise AdminError(f"not a mailbox address: {raw!r}")
    return address
