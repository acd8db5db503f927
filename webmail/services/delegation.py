"""Delegation rules: an owner grants, changes and removes delegates; sending on behalf
says who is who (the switcher is services/mailbox_switcher.py).

The table is the truth and is checked at every request (services/access.py); the IMAP
ACLs and the Postfix sender-login map follow it (services/delegation_server.py), so the
servers refuse what Pli would refuse. Every change files a notice in both INBOXes and is
traced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from imap_bridge.errors import MailError
from imap_bridge.models import SpecialUse
from webmail.db import db
from webmail.mail_pool import pool
from webmail.models import Account, Delegation, DelegationRight
from webmail.models.base import utcnow
from webmail.services import delegation_expiry as expiry
from webmail.services import delegation_notices as notices
from webmail.services import delegation_server as server
from webmail.services import mail
from webmail.services.access import MailboxAccess
from webmail.services.delegation_server import DelegationUnavailable, Runner

_ADDRESS = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,63}@[a-z0-9-]+(\.[a-z0-9-]+)*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_YEARS_AHEAD = 10


class DelegationError(ValueError):
    """Something the owner can fix; the message is already translated."""


@dataclass(frozen=True)
class SenderIdentity:
    """Who a message sent from this access is from (RFC 5322 §3.6.2): the owner in From,
    the delegate in Sender. The envelope sender is the owner's address, which Postfix
    accepts from the delegate's login only with send rights (sender-login map)."""

    from_address: str
    from_name: str
    sender_address: str | None
    sender_name: str
    envelope_from: str


# --- Owner side -------------------------------------------------------------------------

def given(owner: str) -> list[Delegation]:
    return list(db.session.scalars(select(Delegation).where(Delegation.owner == owner)
                                   .order_by(Delegation.delegate)))


def received(delegate: str) -> list[Delegation]:
    """Every delegation given to `delegate`, ended ones too (what Pli holds about them);
    the switcher offers only the active ones (mailbox_switcher.received)."""
    return list(db.session.scalars(select(Delegation).where(Delegation.delegate == delegate)
                                   .order_by(Delegation.owner)))


def get_given(access: MailboxAccess, delegation_id: int) -> Delegation | None:
    row = db.session.get(Delegation, delegation_id)
    return row if row is not None and row.owner == access.mailbox else None


def grant(access: MailboxAccess, raw_delegate: str, raw_right: str, raw_end: str) -> bool:
    """Add a delegate; returns False when the sender-login map could not be updated."""
    owner = access.mailbox
    delegate = parse_address(raw_delegate)
    right, end_date = parse_right(raw_right), parse_end_date(raw_end, today())
    if delegate == owner:
        raise DelegationError(gettext("You cannot delegate your mailbox to yourself."))
    if server.find(owner, delegate) is not None:
        raise DelegationError(gettext("%(address)s is already a delegate of this mailbox: "
                                      "change their rights below.", address=delegate))
    _check_exists(delegate, owner)
    row = Delegation(owner=owner, delegate=delegate, rights=right.value, end_date=end_date,
                     ends_at=end_instant(end_date), version=1, acl_applied=False,
                     folder_roles={})
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DelegationError(gettext("%(address)s is already a delegate of this mailbox.",
                                      address=delegate)) from None
    try:
        server.converge(owner, delegate, _owner_runner(access))
    except BaseException:
        db.session.delete(row)
        db.session.commit()
        raise
    return _announce(access, notices.Change.GRANTED, row, "delegation_granted")


def change(access: MailboxAccess, row: Delegation, raw_right: str, raw_end: str) -> bool:
    """New rights or end date, in force from the delegate's next request."""
    right, end_date = parse_right(raw_right), parse_end_date(raw_end, today())
    row.rights, row.end_date, row.ends_at = right.value, end_date, end_instant(end_date)
    row.version += 1
    row.updated_at = utcnow()
    db.session.commit()
    server.forget_connections(row.owner, server.delegate_sessions(row.delegate))
    server.converge(row.owner, row.delegate, _owner_runner(access))
    return _announce(access, notices.Change.CHANGED, row, "delegation_changed")


def remove(access: MailboxAccess, row: Delegation) -> bool:
    """End a delegation at once, open sessions and pooled connections included."""
    owner, delegate = row.owner, row.delegate
    facts = notices.Facts(owner, delegate, row.right, row.end_date)
    row.ends_at, row.version = utcnow(), row.version + 1  # ended even if the server fails
    db.session.commit()
    server.forget_connections(owner, server.delegate_sessions(delegate))
    server.converge(owner, delegate, _owner_runner(access))
    db.session.delete(row)
    db.session.commit()
    published = server.publish_sender_logins()
    _notify(access, notices.Change.REMOVED, facts)
    server.trace("delegation_removed", owner, {"delegate": delegate})
    return published


def clean_up_ended(access: MailboxAccess) -> None:
    """When the owner looks: finish the expiry of ended delegations with their authority."""
    now = utcnow()
    for row in given(access.mailbox):
        if row.acl_applied and not row.is_active(now):
            try:
                expiry.expire(row, _owner_runner(access), now)
            except (MailError, DelegationUnavailable):
                continue  # the daily `flask delegations expire` tries again


def activity(access: MailboxAccess, delegate: str) -> list | None:
    """What `delegate` did in this mailbox, newest first, from the functional traces;
    None when this instance keeps no traces."""
    try:
        from webmail.services import traces
    except ImportError:
        return None
    return traces.actions_in_mailbox(access.mailbox, actor=delegate)


def set_display_name(access: MailboxAccess, raw: str) -> None:
    """The name delegates (and the sender label) show for this person."""
    name = " ".join(raw.split())
    if len(name) > 200 or _CONTROL.search(name):
        raise DelegationError(gettext("This name is too long or contains invalid characters."))
    account = db.session.scalar(select(Account).where(Account.address == access.actor))
    if account is not None:
        account.display_name = name
        db.session.commit()


def display_names(addresses: list[str]) -> dict[str, str]:
    rows = db.session.execute(select(Account.address, Account.display_name)
                              .where(Account.address.in_(addresses)))
    return {address: name for address, name in rows if name}


# --- Sending on behalf (used by compose) ------------------------------------------------

def may_send(access: MailboxAccess) -> bool:
    return access.can_send


def sender_identity(access: MailboxAccess) -> SenderIdentity:
    names = display_names([access.mailbox, access.actor])
    if access.is_owner:
        return SenderIdentity(access.mailbox, names.get(access.mailbox, ""), None, "",
                              access.mailbox)
    return SenderIdentity(access.mailbox, names.get(access.mailbox, ""), access.actor,
                          names.get(access.actor, ""), access.mailbox)


def special_folder_path(access: MailboxAccess, use: SpecialUse) -> str | None:
    """The IMAP path of the mailbox's Sent, Drafts… folder (the owner's, for a delegate)."""
    for folder in mail.list_folders(access):
        if folder.special_use is use and folder.selectable:
            return access.folder_path(folder.name)
    return None


# --- Parsing and dates -------------------------------------------------------------------

def parse_address(raw: str) -> str:
    address = (raw or "").strip().lower()
    if not _ADDRESS.match(address) or len(address) > 254:
        raise DelegationError(gettext("Enter the full address of the delegate, such as "
                                      "secretariat@example.org."))
    return address


def parse_right(raw: str) -> DelegationRight:
    try:
        return DelegationRight(raw)
    except ValueError:
        raise DelegationError(gettext("Choose the rights to grant.")) from None


def parse_end_date(raw: str, today_: date) -> date | None:
    """`YYYY-MM-DD` (date fields) or `DD/MM/YYYY` (typed by hand); empty means no end."""
    raw = (raw or "").strip()
    if not raw:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            value = datetime.strptime(raw, pattern).date()
            break
        except ValueError:
            continue
    else:
        raise DelegationError(gettext("Enter the last day as DD/MM/YYYY."))
    if value < today_:
        raise DelegationError(gettext("The last day cannot be in the past."))
    if value > today_ + timedelta(days=366 * MAX_YEARS_AHEAD):
        raise DelegationError(gettext("The last day must be within ten years."))
    return value


def end_instant(end_date: date | None) -> datetime | None:
    """Access stops at the end of the last day, local time (midnight after it)."""
    if end_date is None:
        return None
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(end_date + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


# --- Helpers -----------------------------------------------------------------------------

def _owner_runner(access: MailboxAccess) -> Runner:
    return lambda operation: pool().run(access.pool_key, access.credentials, operation)


def _check_exists(delegate: str, owner: str) -> None:
    try:
        exists = server.mailbox_exists(delegate, owner)
    except DelegationUnavailable:
        raise DelegationError(gettext("Delegation is not available on this server. "
                                      "Please contact your administrator.")) from None
    if not exists:
        raise DelegationError(gettext("There is no mailbox %(address)s on this server.",
                                      address=delegate))


def _announce(access: MailboxAccess, change_: notices.Change, row: Delegation,
              action: str) -> bool:
    published = server.publish_sender_logins()
    _notify(access, change_, notices.Facts(row.owner, row.delegate, row.right, row.end_date))
    server.trace(action, row.owner, {"delegate": row.delegate, "rights": row.rights,
                                     "end_date": row.end_date.isoformat()
                                     if row.end_date else None})
    return published


def _notify(access: MailboxAccess, change_: notices.Change, facts: notices.Facts) -> None:
    notices.file_into_inbox(_owner_runner(access), facts.owner,
                            *notices.owner_notice(change_, facts))
    expiry.notify_delegate(change_, facts)
    mail.caches().folders.forget(lambda key: key == access.pool_key)  # one unread more
