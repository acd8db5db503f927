"""Folder listing with RFC 6154 special-use attributes and unread counts."""

from __future__ import annotations

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from imap_bridge.errors import FolderNotFound
from imap_bridge.models import Folder, SpecialUse

# RFC 6154 attributes of the folders a person's mail client treats specially.
SPECIAL_USE_FLAGS = {
    b"\\Drafts": SpecialUse.DRAFTS,
    b"\\Sent": SpecialUse.SENT,
    b"\\Archive": SpecialUse.ARCHIVE,
    b"\\Junk": SpecialUse.JUNK,
    b"\\Trash": SpecialUse.TRASH,
    b"\\All": SpecialUse.ALL,
    b"\\Flagged": SpecialUse.FLAGGED,
}
# Where special folders go in the sidebar, as every mail client people know does it.
_ORDER = [SpecialUse.INBOX, SpecialUse.DRAFTS, SpecialUse.SENT, SpecialUse.ARCHIVE,
          SpecialUse.JUNK, SpecialUse.TRASH]
_STATUS_ITEMS = [b"MESSAGES", b"UNSEEN"]


def list_folders(client: IMAPClient, with_counts: bool = True) -> list[Folder]:
    """Subscribed-or-not, every folder of the personal namespace, special ones first."""
    if with_counts and client._imap.state == "SELECTED":
        # STATUS on the selected folder reports the session's view, which misses mail
        # delivered since (RFC 3501 §6.3.10): leave it first.
        client.unselect_folder()
    folders = []
    for flags, delimiter, name in client.list_folders():
        if isinstance(name, bytes):  # undecodable modified UTF-7 from a broken server
            name = name.decode("utf-8", "replace")
        delimiter = delimiter.decode() if isinstance(delimiter, bytes) else (delimiter or "")
        selectable = b"\\Noselect" not in flags and b"\\NonExistent" not in flags
        special = _special_use(name, flags)
        unread = total = 0
        if with_counts and selectable:
            status = _status(client, name)
            unread, total = status.get(b"UNSEEN", 0), status.get(b"MESSAGES", 0)
        folders.append(Folder(name=name, delimiter=delimiter, special_use=special,
                              selectable=selectable, unread=unread, total=total))
    return sorted(folders, key=_sort_key)


def folder_exists(client: IMAPClient, name: str) -> bool:
    return bool(client.list_folders(directory="", pattern=_literal_pattern(name)))


def _status(client: IMAPClient, name: str) -> dict[bytes, int]:
    try:
        return client.folder_status(name, _STATUS_ITEMS)
    except IMAPClientError:
        return {}  # a folder that vanished meanwhile or refuses STATUS shows no count


def _special_use(name: str, flags: tuple[bytes, ...]) -> SpecialUse | None:
    if name.upper() == "INBOX":
        return SpecialUse.INBOX
    for flag in flags:
        if flag in SPECIAL_USE_FLAGS:
            return SPECIAL_USE_FLAGS[flag]
    return None


def _sort_key(folder: Folder) -> tuple[int, str]:
    # Special folders keep their conventional order; the rest sort by name so that
    # children follow their parent ("Patients", "Patients/Suivi").
    top = folder.name.split(folder.delimiter)[0] if folder.delimiter else folder.name
    if folder.special_use in _ORDER and folder.depth == 0:
        return (_ORDER.index(folder.special_use), "")
    return (len(_ORDER), f"{top.casefold()}\x00{folder.name.casefold()}")


def _literal_pattern(name: str) -> str:
    # LIST wildcards (RFC 3501 §6.3.8) inside a real name must not widen the match.
    if "*" in name or "%" in name:
        raise FolderNotFound(name)
    return name
