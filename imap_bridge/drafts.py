"""Drafts and sent copies in IMAP: APPEND with flags, replace, delete, find by Message-ID.

A draft is replaced by appending the new version first and deleting the old one after,
so a failure in between leaves two versions, never none.
"""

from __future__ import annotations

import re
from datetime import date

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from imap_bridge.errors import FolderNotFound, MessageNotFound
from imap_bridge.messages import fetch_raw, select

DRAFT_FLAGS = (b"\\Draft", b"\\Seen")
SENT_FLAGS = (b"\\Seen",)
MDN_SENT = b"$MDNSent"  # RFC 3503: a receipt was sent (or refused) for this message
FORWARDED = b"$Forwarded"
MAX_REPORTS = 50
_APPENDUID = re.compile(rb"APPENDUID \d+ (\d+)")


def append(client: IMAPClient, folder: str, raw: bytes, flags: tuple[bytes, ...],
           message_id: str | None = None) -> int | None:
    """Store a message; its UID from UIDPLUS, else found again by Message-ID."""
    try:
        response = client.append(folder, raw, flags=flags)
    except IMAPClientError as error:
        if "abort" in type(error).__name__.lower():
            raise
        raise FolderNotFound(folder) from error
    found = _APPENDUID.search(response or b"")
    if found:
        return int(found.group(1))
    if message_id:
        uids = find_by_message_id(client, folder, message_id)
        return max(uids) if uids else None
    return None


def save_draft(client: IMAPClient, folder: str, raw: bytes, message_id: str,
               replaces: int | None = None) -> int | None:
    """Store the new version of a draft, then remove the version it replaces."""
    uid = append(client, folder, raw, DRAFT_FLAGS, message_id)
    if replaces is not None and replaces != uid:
        delete(client, folder, [replaces])
    return uid


def fetch_draft(client: IMAPClient, folder: str, uid: int) -> bytes:
    """A draft as stored; MessageNotFound if it is not (or no longer) a draft."""
    raw = fetch_raw(client, folder, uid)
    flags = client.get_flags([uid]).get(uid, ())
    if b"\\Draft" not in flags:
        raise MessageNotFound(f"{folder}/{uid} is not a draft")
    return raw


def delete(client: IMAPClient, folder: str, uids: list[int]) -> None:
    """Remove for good (\\Deleted then UID EXPUNGE of these UIDs only, RFC 4315)."""
    if not uids:
        return
    select(client, folder, readonly=False)
    client.add_flags(uids, [b"\\Deleted"], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


def find_by_message_id(client: IMAPClient, folder: str, message_id: str) -> list[int]:
    select(client, folder)
    return list(client.search(["HEADER", "Message-ID", message_id]))


def add_flags(client: IMAPClient, folder: str, uids: list[int], flags: list[bytes]) -> None:
    if uids:
        select(client, folder, readonly=False)
        client.add_flags(uids, flags, silent=True)


def get_flags(client: IMAPClient, folder: str, uid: int) -> tuple[bytes, ...]:
    select(client, folder)
    return tuple(client.get_flags([uid]).get(uid, ()))


def server_files_sent_mail(client: IMAPClient) -> bool:
    """Whether the server itself puts submitted mail in Sent. No IMAP extension says so;
    Gmail's does (X-GM-EXT-1), and such a server also finds the copy by Message-ID."""
    return client.has_capability("X-GM-EXT-1")


def recent_reports(client: IMAPClient, folder: str, since: date) -> list[bytes]:
    """Delivery reports and read receipts that arrived since a day (newest first, bounded):
    a header search first, so only the few reports themselves are fetched."""
    select(client, folder)
    uids = sorted(client.search(["SINCE", since, "HEADER", "Content-Type", "report"]))
    uids = uids[-MAX_REPORTS:]
    if not uids:
        return []
    fetched = client.fetch(uids, [b"BODY.PEEK[]<0.262144>"])
    return [fetched[uid].get(b"BODY[]<0>", b"") for uid in reversed(uids) if uid in fetched]


def ensure_folder(client: IMAPClient, folder: str) -> None:
    """Create a missing Drafts or Sent folder (a server without special-use folders)."""
    if not client.folder_exists(folder):
        client.create_folder(folder)
        client.subscribe_folder(folder)
