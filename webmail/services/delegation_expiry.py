"""Ending delegations whose last day has passed.

Access itself needs no job: every request compares the end with the clock. What needs
doing once is on the servers: remove the ACLs and the sender login, and tell both people.
That runs at the first refused request, when the owner opens the delegations page, and
from `flask delegations expire` (a daily timer) for delegations nobody touches.
"""

from __future__ import annotations

import logging
from datetime import datetime

from imapclient.exceptions import IMAPClientError
from sqlalchemy import select, update

from imap_bridge.errors import MailError
from webmail.db import db
from webmail.models import Delegation
from webmail.models.base import utcnow
from webmail.services import delegation_notices as notices
from webmail.services import delegation_server as server
from webmail.services.delegation_server import DelegationUnavailable, Runner

log = logging.getLogger(__name__)


def expire(row: Delegation, run_as_owner: Runner, now: datetime | None = None) -> bool:
    """Clean up one ended delegation; False when another request already did."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(Delegation)
        .where(Delegation.id == row.id, Delegation.acl_applied.is_(True),
               Delegation.ends_at <= now)
        .values(acl_applied=False)).rowcount
    db.session.commit()
    if not claimed:
        return False
    facts = notices.Facts(row.owner, row.delegate, row.right, row.end_date)
    try:
        server.converge(row.owner, row.delegate, run_as_owner, now)
    except (MailError, IMAPClientError, DelegationUnavailable):
        db.session.execute(update(Delegation).where(Delegation.id == row.id)
                           .values(acl_applied=True))  # so the next run tries again
        db.session.commit()
        raise
    server.publish_sender_logins(now)
    notices.file_into_inbox(run_as_owner, facts.owner,
                            *notices.owner_notice(notices.Change.EXPIRED, facts))
    notify_delegate(notices.Change.EXPIRED, facts)
    server.trace("delegation_expired", facts.owner, {"delegate": facts.delegate})
    return True


def expire_quietly(row: Delegation, now: datetime | None = None) -> None:
    """From a request that found the delegation ended: best effort, the CLI retries."""
    try:
        expire(row, server.master_runner(row.owner), now)
    except (MailError, IMAPClientError, DelegationUnavailable) as error:
        log.warning("expiry of %s -> %s postponed: %s", row.owner, row.delegate, error)


def expire_due(now: datetime | None = None) -> tuple[int, int]:
    """Every ended delegation still applied on the server; (cleaned, failed)."""
    now = now or utcnow()
    rows = list(db.session.scalars(select(Delegation).where(
        Delegation.acl_applied.is_(True), Delegation.ends_at <= now)))
    cleaned = failed = 0
    for row in rows:
        try:
            cleaned += expire(row, server.master_runner(row.owner), now)
        except (MailError, IMAPClientError, DelegationUnavailable) as error:
            log.error("expiry of %s -> %s failed: %s", row.owner, row.delegate, error)
            failed += 1
    return cleaned, failed


def notify_delegate(change: notices.Change, facts: notices.Facts) -> None:
    """The delegate's copy goes through the master login: no one else may write there."""
    if not server.master_configured():
        return
    notices.file_into_inbox(server.master_runner(facts.delegate), facts.delegate,
                            *notices.delegate_notice(change, facts))
