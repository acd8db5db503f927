"""An owner's folders as a delegate sees them, through the shared namespace.

A delegate logs in with their own credentials and reaches the owner's folders as
`<prefix><owner>/<folder>` (RFC 2342 "other users" namespace), so the server applies the
owner's ACLs. These functions take that root and hand back plain folder names.
"""

from __future__ import annotations

from collections.abc import Mapping

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from imap_bridge import folders as imap_folders
from imap_bridge.models import Folder, SpecialUse

# When the owner's roles are unknown (never synced), the names Pli's servers use.
_CONVENTIONAL = {"Drafts": SpecialUse.DRAFTS, "Sent": SpecialUse.SENT,
                 "Archive": SpecialUse.ARCHIVE, "Junk": SpecialUse.JUNK,
                 "Trash": SpecialUse.TRASH}


def list_shared_folders(client: IMAPClient, root: str, roles: Mapping[str, str],
                        with_counts: bool = True) -> list[Folder]:
    """The owner's folders this login may see, under plain names, special ones labelled
    from `roles` ({name: special use}), sorted like the owner's own list."""
    if with_counts and client._imap.state == "SELECTED":
        client.unselect_folder()  # STATUS on the selected folder would be stale
    found: dict[str, Folder] = {}
    for flags, delimiter, path in client.list_folders(directory=root, pattern="*"):
        if isinstance(path, bytes):
            path = path.decode("utf-8", "replace")
        if not path.startswith(root) or path == root:
            continue
        name = path[len(root):]
        selectable = b"\\Noselect" not in flags and b"\\NonExistent" not in flags
        if name in found and (found[name].selectable or not selectable):
            continue  # Dovecot may list a parent twice, once as \Noselect
        delimiter = delimiter.decode() if isinstance(delimiter, bytes) else (delimiter or "/")
        found[name] = Folder(name=name, delimiter=delimiter, selectable=selectable,
                             special_use=_role(name, roles))
    if "INBOX" not in found or not found["INBOX"].selectable:
        found.pop("INBOX", None)
        if _status(client, root + "INBOX") is not None:  # fs layouts do not list it
            found["INBOX"] = Folder(name="INBOX", delimiter="/", special_use=SpecialUse.INBOX)
    folders = list(found.values())
    if with_counts:
        folders = [_counted(client, root, folder) for folder in folders]
    return sorted(folders, key=imap_folders._sort_key)


def _role(name: str, roles: Mapping[str, str]) -> SpecialUse | None:
    if name.upper() == "INBOX":
        return SpecialUse.INBOX
    if roles:
        role = roles.get(name)
        return SpecialUse(role) if role in SpecialUse._value2member_map_ else None
    return _CONVENTIONAL.get(name)


def _counted(client: IMAPClient, root: str, folder: Folder) -> Folder:
    if not folder.selectable:
        return folder
    status = _status(client, root + folder.name) or {}
    return Folder(name=folder.name, delimiter=folder.delimiter,
                  special_use=folder.special_use, selectable=True,
                  unread=status.get(b"UNSEEN", 0), total=status.get(b"MESSAGES", 0))


def _status(client: IMAPClient, path: str) -> dict[bytes, int] | None:
    try:
        return client.folder_status(path, [b"MESSAGES", b"UNSEEN"])
    except IMAPClientAbortError:
        raise
    except IMAPClientError:
        return None


def unread_counts(client: IMAPClient, paths: list[str]) -> dict[str, int | None]:
    """UNSEEN of several folders on one connection (the mailbox switcher); None where the
    folder cannot be read (a revoked share not yet noticed by the server's ACL cache)."""
    if client._imap.state == "SELECTED":
        client.unselect_folder()
    counts: dict[str, int | None] = {}
    for path in paths:
        status = _status(client, path)
        counts[path] = None if status is None else status.get(b"UNSEEN", 0)
    return counts
