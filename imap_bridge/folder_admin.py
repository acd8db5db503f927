"""Creating, renaming, deleting and subscribing folders, with the checks servers skip.

Dovecot, like many servers, lets a client delete or rename its Trash or Sent folder;
this module refuses it for every special-use folder (RFC 6154) and INBOX, whatever the
request says, and refuses names that would land in another namespace.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from imap_bridge import folders as imap_folders
from imap_bridge.actions import move_messages
from imap_bridge.errors import MailError
from imap_bridge.messages import select
from imap_bridge.models import Folder

log = logging.getLogger(__name__)

MAX_NAME = 100
# Controls, bidi and line separators, and LIST wildcards (RFC 3501 §6.3.8).
_REFUSED_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069*%]")


class Refusal(enum.StrEnum):
    PROTECTED = "protected"  # INBOX or a special-use folder (or one containing it)
    INVALID_NAME = "invalid_name"
    EXISTS = "exists"
    NOT_FOUND = "not_found"
    HAS_CHILDREN = "has_children"
    SERVER = "server"  # the server said NO


class FolderRefused(MailError):
    """A folder change that is not allowed or that the server refused."""

    def __init__(self, reason: Refusal, name: str) -> None:
        super().__init__(f"{reason.value}: {name}")
        self.reason = reason
        self.name = name


@dataclass(frozen=True)
class ManagedFolder:
    """A folder as the management page shows it."""

    folder: Folder
    subscribed: bool
    protected: bool
    has_children: bool


def list_managed(client: IMAPClient) -> list[ManagedFolder]:
    """Personal folders with subscription state; special ones are marked protected."""
    foreign = _foreign_prefixes(client)
    every = [f for f in imap_folders.list_folders(client) if _is_personal(f.name, foreign)]
    subscribed = {_name(item[2]) for item in client.list_sub_folders()}
    return [ManagedFolder(folder=f, subscribed=f.name in subscribed,
                          protected=_protected(f, every),
                          has_children=any(_is_below(o.name, f) for o in every))
            for f in every]


def create_folder(client: IMAPClient, parent: str, leaf: str) -> str:
    """Create and subscribe `parent/leaf` (or a top-level folder when parent is "")."""
    every = _personal(client)
    delimiter = _delimiter(every)
    if parent and not any(f.name == parent for f in every):
        raise FolderRefused(Refusal.NOT_FOUND, parent)
    leaf = check_leaf_name(leaf, delimiter)
    name = f"{parent}{delimiter}{leaf}" if parent else leaf
    if not _is_personal(name, _foreign_prefixes(client)):
        raise FolderRefused(Refusal.INVALID_NAME, name)
    if name.upper() == "INBOX" or any(f.name.casefold() == name.casefold() for f in every):
        raise FolderRefused(Refusal.EXISTS, name)
    _server(lambda: client.create_folder(name), name)
    _server(lambda: client.subscribe_folder(name), name)
    return name


def rename_folder(client: IMAPClient, name: str, new_leaf: str) -> str:
    """Give a folder a new name in the same parent; its subfolders follow it."""
    every = _personal(client)
    folder = _find(every, name)
    if _protected(folder, every):
        raise FolderRefused(Refusal.PROTECTED, name)
    new_leaf = check_leaf_name(new_leaf, folder.delimiter)
    parent = name[: -len(folder.leaf_name)]
    new_name = parent + new_leaf
    if new_name == name:
        return name
    if not _is_personal(new_name, _foreign_prefixes(client)):
        raise FolderRefused(Refusal.INVALID_NAME, new_name)
    if any(f.name.casefold() == new_name.casefold() and f.name != name for f in every):
        raise FolderRefused(Refusal.EXISTS, new_name)
    was_subscribed = name in {_name(item[2]) for item in client.list_sub_folders()}
    _server(lambda: client.rename_folder(name, new_name), name)
    if was_subscribed:  # subscriptions are by name (RFC 3501 §6.3.6) and do not follow
        _server(lambda: client.subscribe_folder(new_name), new_name)
        _quietly(lambda: client.unsubscribe_folder(name))
    return new_name


def delete_folder(client: IMAPClient, name: str, trash: str | None) -> int:
    """Delete an ordinary, childless folder; its messages go to `trash` first when given.

    Returns how many messages were moved to the trash.
    """
    every = _personal(client)
    folder = _find(every, name)
    if _protected(folder, every):
        raise FolderRefused(Refusal.PROTECTED, name)
    if any(_is_below(other.name, folder) for other in every):
        raise FolderRefused(Refusal.HAS_CHILDREN, name)
    moved = 0
    if folder.selectable and trash and trash != name:
        select(client, name, readonly=True)
        uids = client.search([b"ALL"])
        if uids:
            moved = _server(lambda: move_messages(client, name, uids, trash), name).moved
        if client.has_capability("UNSELECT"):
            client.unselect_folder()  # some servers refuse to delete the selected folder
    _server(lambda: client.delete_folder(name), name)
    _quietly(lambda: client.unsubscribe_folder(name))
    return moved


def set_subscribed(client: IMAPClient, name: str, subscribed: bool) -> None:
    """Subscribe or unsubscribe; other mail programs show only subscribed folders."""
    _find(_personal(client), name)
    change = client.subscribe_folder if subscribed else client.unsubscribe_folder
    _server(lambda: change(name), name)


def check_leaf_name(leaf: str, delimiter: str) -> str:
    """One level of a folder name, as typed: no hierarchy tricks, wildcards or controls."""
    leaf = " ".join((leaf or "").split())
    if (not leaf or len(leaf) > MAX_NAME or _REFUSED_CHARS.search(leaf)
            or (delimiter and delimiter in leaf) or "/" in leaf or "\\" in leaf
            or leaf in (".", "..") or leaf.startswith(("~", "."))):
        raise FolderRefused(Refusal.INVALID_NAME, leaf)
    return leaf


def _personal(client: IMAPClient) -> list[Folder]:
    foreign = _foreign_prefixes(client)
    return [f for f in imap_folders.list_folders(client, with_counts=False)
            if _is_personal(f.name, foreign)]


def _find(every: list[Folder], name: str) -> Folder:
    for folder in every:
        if folder.name == name:
            return folder
    raise FolderRefused(Refusal.NOT_FOUND, name)


def _protected(folder: Folder, every: list[Folder]) -> bool:
    """INBOX and special-use folders, and any folder holding one (a rename would move it)."""
    if folder.special_use is not None or folder.name.upper() == "INBOX":
        return True
    return any(_is_below(other.name, folder) and other.special_use is not None
               for other in every)


def _is_below(name: str, folder: Folder) -> bool:
    return bool(folder.delimiter) and name.startswith(folder.name + folder.delimiter)


def _foreign_prefixes(client: IMAPClient) -> tuple[str, ...]:
    """Prefixes of the other-users and shared namespaces (RFC 2342), e.g. "shared/"."""
    if not client.has_capability("NAMESPACE"):
        return ()
    namespaces = client.namespace()
    return tuple(_name(prefix) for group in (namespaces.other or (), namespaces.shared or ())
                 for prefix, _delimiter in group if prefix)


def _is_personal(name: str, foreign: tuple[str, ...]) -> bool:
    return not any(name.startswith(prefix) or name == prefix[:-1] for prefix in foreign)


def _delimiter(every: list[Folder]) -> str:
    return next((f.delimiter for f in every if f.delimiter), "/")


def _name(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _server(action, name: str):
    try:
        return action()
    except IMAPClientError as error:
        if "abort" in type(error).__name__.lower():
            raise
        log.info("server refused a folder change on %r: %s", name, error)
        raise FolderRefused(Refusal.SERVER, name) from error


def _quietly(action) -> None:
    """For tidying up (an old subscription): a refusal here changes nothing that matters."""
    try:
        action()
    except IMAPClientError as error:
        if "abort" in type(error).__name__.lower():
            raise
        log.info("ignored: %s", error)
