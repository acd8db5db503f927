"""IMAP ACL rights (RFC 4314) on a mailbox owner's folders, for delegation.

Run on a connection that has the owner's authority (the owner's own login, or a master
login acting as the owner): only the owner holds the `a` right needed to change ACLs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from imap_bridge.folders import SPECIAL_USE_FLAGS

log = logging.getLogger(__name__)


def owner_folders(client: IMAPClient, shared_prefix: str) -> tuple[list[str], dict[str, str]]:
    """The owner's own selectable folders (never other people's shared ones), and the
    special-use role of those that have one ({name: role}), which delegates cannot see."""
    names: list[str] = []
    roles: dict[str, str] = {}
    root = shared_prefix.rstrip("/")
    for flags, _delimiter, name in client.list_folders():
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        if name == root or name.startswith(shared_prefix):
            continue
        if b"\\Noselect" in flags or b"\\NonExistent" in flags:
            continue
        names.append(name)
        role = next((SPECIAL_USE_FLAGS[f] for f in flags if f in SPECIAL_USE_FLAGS), None)
        if role is not None:
            roles.setdefault(name, role.value)
    if not any(name.upper() == "INBOX" for name in names):
        names.insert(0, "INBOX")
    return names, roles


def grant(client: IMAPClient, folders: Iterable[str], identifier: str, rights: str) -> None:
    """SETACL on every folder (RFC 4314 §3.1); a folder deleted meanwhile is skipped."""
    for folder in folders:
        try:
            client.setacl(folder, identifier, rights)
        except IMAPClientAbortError:
            raise
        except IMAPClientError as error:
            log.warning("SETACL %s on %s refused: %s", identifier, folder, error)


def revoke(client: IMAPClient, folders: Iterable[str], identifier: str) -> None:
    """DELETEACL on every folder (RFC 4314 §3.2); removing an absent entry is harmless."""
    for folder in folders:
        # imapclient's setacl(…, "") sends no argument at all; DELETEACL says what we mean.
        typ, data = client._imap.deleteacl(client._normalise_folder(folder), identifier)
        if typ != "OK":
            log.warning("DELETEACL %s on %s refused: %s", identifier, folder, data)

