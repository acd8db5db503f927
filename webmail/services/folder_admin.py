"""Managing folders: create, rename, delete (messages to the Trash), subscribe.

The rules that protect INBOX and special-use folders live in imap_bridge.folder_admin,
so they hold for any request, crafted or not; this module turns refusals into words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask_babel import gettext
from imapclient import IMAPClient

from imap_bridge import folder_admin
from imap_bridge.folder_admin import FolderRefused, ManagedFolder, Refusal
from imap_bridge.models import SpecialUse
from webmail.mail_pool import pool
from webmail.services import mail
from webmail.services.access import MailboxAccess
from webmail.services.organise import OrganiseError

T = TypeVar("T")


def list_managed(access: MailboxAccess) -> list[ManagedFolder]:
    return _run(access, folder_admin.list_managed)


def find_deletable(access: MailboxAccess, name: str) -> ManagedFolder:
    """The folder to name on the confirmation page; the same refusals as the deletion."""
    for managed in list_managed(access):
        if managed.folder.name == name:
            if managed.protected:
                raise OrganiseError(_refusal_text(Refusal.PROTECTED))
            if managed.has_children:
                raise OrganiseError(_refusal_text(Refusal.HAS_CHILDREN))
            return managed
    raise OrganiseError(_refusal_text(Refusal.NOT_FOUND))


def trash_name(access: MailboxAccess) -> str | None:
    return next((m.folder.name for m in list_managed(access)
                 if m.folder.special_use == SpecialUse.TRASH and m.folder.selectable), None)


def create(access: MailboxAccess, parent: str, leaf: str) -> str:
    name = _guarded(access, lambda c: folder_admin.create_folder(c, parent, leaf))
    return gettext("Folder “%(name)s” created.", name=name)


def rename(access: MailboxAccess, name: str, new_leaf: str) -> str:
    new_name = _guarded(access, lambda c: folder_admin.rename_folder(c, name, new_leaf))
    _forget_bodies(access, name)
    return gettext("Folder renamed to “%(name)s”.", name=new_name)


def delete(access: MailboxAccess, name: str) -> str:
    trash = trash_name(access)
    moved = _guarded(access, lambda c: folder_admin.delete_folder(c, name, trash))
    _forget_bodies(access, name)
    if moved:
        return gettext("Folder “%(name)s” deleted; its %(num)s messages are in the Trash.",
                       name=name, num=moved)
    return gettext("Folder “%(name)s” deleted.", name=name)


def subscribe(access: MailboxAccess, name: str, subscribed: bool) -> str:
    _guarded(access, lambda c: folder_admin.set_subscribed(c, name, subscribed))
    if subscribed:
        return gettext("Subscribed to “%(name)s”.", name=name)
    return gettext("Unsubscribed from “%(name)s”.", name=name)


def _guarded(access: MailboxAccess, operation: Callable[[IMAPClient], T]) -> T:
    try:
        return _run(access, operation)
    except FolderRefused as refusal:
        raise OrganiseError(_refusal_text(refusal.reason)) from None


def _refusal_text(reason: Refusal) -> str:
    return {
        Refusal.PROTECTED: gettext("The inbox and the special folders (Drafts, Sent, Archive, "
                                   "Junk, Trash) cannot be renamed or deleted."),
        Refusal.INVALID_NAME: gettext("This name cannot be used. A folder name has at most "
                                      "100 characters, no slash, asterisk, percent sign or "
                                      "control character, and does not start with a dot or "
                                      "a tilde."),
        Refusal.EXISTS: gettext("A folder with this name already exists."),
        Refusal.NOT_FOUND: gettext("This folder does not exist any more."),
        Refusal.HAS_CHILDREN: gettext("This folder has subfolders: delete or move them "
                                      "first."),
        Refusal.SERVER: gettext("The mail server refused this change."),
    }[reason]


def _forget_bodies(access: MailboxAccess, name: str) -> None:
    # Its subfolders too, whatever the delimiter: forgetting a little more costs nothing.
    mail.caches().raw.forget(lambda key: key[0] == access.pool_key and key[1].startswith(name))


def _run(access: MailboxAccess, operation: Callable[[IMAPClient], T]) -> T:
    return pool().run(access.pool_key, access.credentials, operation)
