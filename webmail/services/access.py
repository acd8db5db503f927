"""The one place that answers "may the signed-in person act in this mailbox, and how?".

One's own mailbox: every right. Someone else's: only through an active delegation,
looked up on every request, so a revocation or an expiry takes effect at the next click.
Unknown or forbidden mailboxes give 404 (a URL cannot tell which mailboxes exist); a
right the delegation does not include gives a 403 page that says so.

A delegate's IMAP connections log in with the delegate's own credentials and reach the
owner's folders through the shared namespace; `folder_path` translates plain folder names
(as in URLs) into those paths, and every call into imap_bridge must go through it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, request, session
from flask_babel import gettext
from flask_login import current_user
from imapclient import IMAPClient
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from imap_bridge import folders as imap_folders
from imap_bridge.errors import FolderNotFound, MailError
from imap_bridge.models import Folder
from imap_bridge.pool import Credentials, PoolKey
from imap_bridge.shared_folders import list_shared_folders
from webmail.db import db
from webmail.models import Account, Delegation, DelegationRight
from webmail.models.base import utcnow
from webmail.services import delegation_server
from webmail.services.delegation_server import DelegationUnavailable
from webmail.services.sessions import OpenSession

log = logging.getLogger(__name__)
_ENTERED = "pli_delegations_entered"  # {owner: "<id>.<version>" synced in this session}


@dataclass(frozen=True)
class MailboxAccess:
    """A person acting in a mailbox, with what right, and how the webmail reaches it."""

    mailbox: str  # the address of the mailbox acted in
    actor: str  # the address of the person signed in
    open_session: OpenSession
    right: DelegationRight = DelegationRight.SEND_ON_BEHALF  # an owner may do everything
    owner_display_name: str = ""
    shared_root: str = ""  # "shared/<owner>/" when the actor is a delegate
    shared_prefix: str = "shared/"
    folder_roles: tuple[tuple[str, str], ...] = ()  # the owner's special folders

    @property
    def is_owner(self) -> bool:
        return self.mailbox == self.actor

    @property
    def is_delegate(self) -> bool:
        return not self.is_owner

    @property
    def can_read(self) -> bool:
        return True

    @property
    def can_organise(self) -> bool:
        return self.right.includes(DelegationRight.ORGANISE)

    @property
    def can_send(self) -> bool:
        return self.right.includes(DelegationRight.SEND_ON_BEHALF)

    @property
    def owner_label(self) -> str:
        return self.owner_display_name or self.mailbox

    @property
    def pool_key(self) -> PoolKey:
        return (self.open_session.record.id, self.mailbox)

    def credentials(self) -> Credentials:
        # Always the actor's own login: a delegate's rights are the ACLs the owner set.
        return Credentials(self.actor, self.open_session.password())

    def folder_path(self, name: str) -> str:
        """The IMAP name of a folder shown as `name`. Other people's shared folders are
        never reachable as one's own (they would bypass the delegation checks)."""
        if name == self.shared_prefix.rstrip("/") or name.startswith(self.shared_prefix):
            raise FolderNotFound(name)
        return self.shared_root + name if self.is_delegate else name

    def folder_name(self, path: str) -> str:
        """The plain name of an IMAP folder path (the reverse of `folder_path`)."""
        if self.is_delegate and path.startswith(self.shared_root):
            return path[len(self.shared_root):]
        return path

    def folder_listing(self) -> Callable[[IMAPClient], list[Folder]]:
        """The operation that lists this mailbox's folders under plain names."""
        if self.is_delegate:
            roles = dict(self.folder_roles)
            return lambda client: list_shared_folders(client, self.shared_root, roles)
        prefix = self.shared_prefix
        return lambda client: [f for f in imap_folders.list_folders(client)
                               if f.name != prefix.rstrip("/") and not f.name.startswith(prefix)]


class RightNotGranted(Forbidden):
    """The person is a delegate here, but without the right this action needs."""

    def __init__(self, access: MailboxAccess, need: DelegationRight,
                 owner_only: bool = False) -> None:
        super().__init__(gettext("Your delegation in this mailbox does not include this "
                                 "action."))
        self.access = access
        self.need = need
        self.owner_only = owner_only


def require_mailbox(address: str, need: DelegationRight | None = None) -> MailboxAccess:
    """Resolve a mailbox from a URL, checking the right the action needs.

    `need` defaults to READ for GET and to ORGANISE for anything that changes something,
    so a route that forgets to ask never lets a read-only delegate change the mailbox.
    """
    open_session = getattr(session, "open_session", None)
    if not current_user.is_authenticated or open_session is None:
        abort(404)
    wanted = address.strip().lower()
    if need is None:
        need = (DelegationRight.READ if request.method in ("GET", "HEAD")
                else DelegationRight.ORGANISE)
    if wanted == current_user.address:
        return MailboxAccess(mailbox=wanted, actor=current_user.address,
                             open_session=open_session, shared_prefix=_prefix())
    access = _delegated_access(wanted, open_session)
    if not access.right.includes(need):
        raise RightNotGranted(access, need)
    return access


def require_own_mailbox(address: str) -> MailboxAccess:
    """For what only the owner may do (managing delegations): 403 for a delegate."""
    access = require_mailbox(address, need=DelegationRight.READ)
    if not access.is_owner:
        raise RightNotGranted(access, DelegationRight.SEND_ON_BEHALF, owner_only=True)
    return access


def _delegated_access(owner: str, open_session: OpenSession) -> MailboxAccess:
    actor = current_user.address
    session_id = open_session.record.id
    now = utcnow()
    row = delegation_server.find(owner, actor) if "@" in owner else None
    if row is None or not row.is_active(now):
        # Revoked or expired: whatever this process still holds for it goes now.
        delegation_server.forget_connections(owner, [session_id])
        if row is not None and row.acl_applied:
            from webmail.services import delegation_expiry  # it files notices, traces

            delegation_expiry.expire_quietly(row, now)
        abort(404)
    delegation_server.use_connections(session_id, owner, f"{row.id}.{row.version}")
    _enter(row, session_id)
    return MailboxAccess(
        mailbox=owner, actor=actor, open_session=open_session, right=row.right,
        owner_display_name=_display_name(owner), shared_prefix=_prefix(),
        shared_root=f"{_prefix()}{owner}/",
        folder_roles=tuple(sorted((row.folder_roles or {}).items())),
    )


def _enter(row: Delegation, session_id: int) -> None:
    """First visit of this session (or first since a change): bring the owner's ACLs up to
    date, folders created since included, and trace the entry into the mailbox."""
    entered = dict(session.get(_ENTERED) or {})
    if entered.get(row.owner) == f"{row.id}.{row.version}":
        return
    first = row.owner not in entered
    owner, delegate = row.owner, row.delegate
    if delegation_server.master_configured():
        try:
            delegation_server.converge(owner, delegate, delegation_server.master_runner(owner))
        except (MailError, DelegationUnavailable) as error:
            # The ACLs set when the owner granted still hold; resync at the next session.
            log.warning("ACL resync %s -> %s failed: %s", owner, delegate, error)
        row = delegation_server.find(owner, delegate)
        if row is None or not row.is_active(utcnow()):
            abort(404)  # revoked while we were syncing
    session[_ENTERED] = {**entered, owner: f"{row.id}.{row.version}"}
    if first:
        delegation_server.trace("delegate_entered", owner, {"delegate": delegate})


def _display_name(address: str) -> str:
    return db.session.scalar(select(Account.display_name).where(Account.address == address)) or ""


def _prefix() -> str:
    return delegation_server.shared_prefix()
