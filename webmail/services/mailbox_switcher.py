"""The mailbox switcher: one's own mailbox and those delegated to one, with unread counts.

Counts come from one connection, the person's own login: STATUS on their INBOX and on each
owner's `shared/<owner>/INBOX` (the unread marks there are the delegate's own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from imap_bridge.errors import MailServerUnavailable
from imap_bridge.shared_folders import unread_counts
from webmail.db import db
from webmail.mail_pool import pool
from webmail.models import Delegation, DelegationRight
from webmail.models.base import utcnow
from webmail.services import delegation_server as server
from webmail.services import mail
from webmail.services.access import MailboxAccess
from webmail.services.delegation import display_names


@dataclass(frozen=True)
class MailboxChoice:
    """One entry of the mailbox switcher."""

    address: str
    label: str
    unread: int | None  # None when the server could not say
    is_own: bool
    right: DelegationRight


def received(delegate: str, now: datetime | None = None) -> list[Delegation]:
    """Active delegations given to `delegate`, the switcher's entries."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Delegation).where(Delegation.delegate == delegate,
                                 or_(Delegation.ends_at.is_(None), Delegation.ends_at > now))
        .order_by(Delegation.owner)))


def mailbox_choices(access: MailboxAccess) -> list[MailboxChoice]:
    """The actor's own mailbox and those delegated to them, with INBOX unread counts
    (empty when nothing is delegated to them: no switcher then)."""
    rows = received(access.actor)
    if not rows:
        return []
    counts = _inbox_counts(access, [row.owner for row in rows])
    names = display_names([access.actor, *(row.owner for row in rows)])
    choices = [MailboxChoice(access.actor, names.get(access.actor) or access.actor,
                             counts.get("INBOX"), True, DelegationRight.SEND_ON_BEHALF)]
    for row in rows:
        choices.append(MailboxChoice(row.owner, names.get(row.owner) or row.owner,
                                     counts.get(_shared_inbox(row.owner)), False, row.right))
    return choices


def _shared_inbox(owner: str) -> str:
    return f"{server.shared_prefix()}{owner}/INBOX"


def _inbox_counts(access: MailboxAccess, owners: list[str]) -> dict[str, int | None]:
    key = (access.open_session.record.id, "#mailboxes")
    paths = ["INBOX", *(_shared_inbox(owner) for owner in owners)]
    cached = mail.caches().folders.get(key)
    if cached is not None and all(path in cached for path in paths):
        return cached
    own_key = (access.open_session.record.id, access.actor)
    try:
        counts = pool().run(own_key, access.credentials, lambda c: unread_counts(c, paths))
    except MailServerUnavailable:
        return {}
    mail.caches().folders.put(key, counts)
    return counts
