"""Changing messages: flags, moves that report the UIDs they created, deletion for good.

A move keeps the destination UIDs the server announces (RFC 4315 COPYUID), so the web
layer can undo it exactly: the same messages go back, not look-alikes found by search.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from imapclient import IMAPClient

from imap_bridge import folders as imap_folders
from imap_bridge.errors import MessageNotFound
from imap_bridge.messages import select
from imap_bridge.models import SpecialUse

# "uidvalidity source-set destination-set" (RFC 4315 §3), with or without its code name.
_COPYUID = re.compile(rb"^(?:\[?COPYUID )?(\d+) ([\d:,]+) ([\d:,]+)")
MAX_UIDS = 100_000  # far above any selection a person can make; bounds a crafted request


class Flag(enum.StrEnum):
    """The two flags a person sets by hand (RFC 3501 §2.3.2)."""

    SEEN = "\\Seen"
    FLAGGED = "\\Flagged"


@dataclass(frozen=True)
class MoveResult:
    """What a move did, and what undoing it needs."""

    source: str
    destination: str
    moved: int
    uid_validity: int | None = None  # of the destination, when the server announced it
    new_uids: tuple[int, ...] = ()  # in the destination; empty when the server did not say

    @property
    def undoable(self) -> bool:
        return self.uid_validity is not None and len(self.new_uids) == self.moved > 0


def set_flag(client: IMAPClient, folder: str, uids: Iterable[int], flag: Flag,
             on: bool) -> int:
    """Add or remove a flag on messages of a folder; returns how many exist."""
    select(client, folder, readonly=False)
    present = existing_uids(client, uids)
    if present:
        change = client.add_flags if on else client.remove_flags
        change(uid_set(present), [flag.value.encode()], silent=True)
    return len(present)


def move_messages(client: IMAPClient, folder: str, uids: Iterable[int], destination: str,
                  use_move: bool | None = None) -> MoveResult:
    """Move messages with UID MOVE (RFC 6851), or COPY + delete where MOVE is missing."""
    select(client, folder, readonly=False)
    present = existing_uids(client, uids)
    if not present:
        raise MessageNotFound(f"{folder}: none of the selected messages")
    _take_copyuid(client)  # forget any code left over from an earlier command
    if use_move is None:
        use_move = client.has_capability("MOVE")
    if use_move:
        client.move(uid_set(present), destination)
        codes = _take_copyuid(client)
    else:
        answer = client.copy(uid_set(present), destination)
        codes = _take_copyuid(client) or _copyuid_in(answer)
        client.add_flags(uid_set(present), [b"\\Deleted"], silent=True)
        _expunge(client, present)
    mapping = _mapping(codes, present)
    if mapping is None:
        return MoveResult(folder, destination, len(present))
    validity, new_uids = mapping
    return MoveResult(folder, destination, len(present), validity, new_uids)


def delete_permanently(client: IMAPClient, folder: str, uids: Iterable[int]) -> int:
    """Flag \\Deleted and expunge exactly these messages; nothing else in the folder."""
    select(client, folder, readonly=False)
    present = existing_uids(client, uids)
    if present:
        client.add_flags(uid_set(present), [b"\\Deleted"], silent=True)
        _expunge(client, present)
    return len(present)


def move_back(client: IMAPClient, folder: str, uid_validity: int, uids: Iterable[int],
              original: str) -> MoveResult:
    """Undo a move: the messages a MoveResult named go back where they came from.

    A different UIDVALIDITY means the folder was recreated and the UIDs name other
    messages (RFC 3501 §2.3.1.1): then nothing is touched.
    """
    status = select(client, folder, readonly=True)
    if int(status.get(b"UIDVALIDITY", 0)) != uid_validity:
        raise MessageNotFound(f"{folder}: the folder changed since the move")
    return move_messages(client, folder, uids, original)


def special_folders(client: IMAPClient) -> dict[SpecialUse, str]:
    """Where the server keeps Trash, Archive, Sent…: the first folder carrying each flag."""
    found: dict[SpecialUse, str] = {}
    for folder in imap_folders.list_folders(client, with_counts=False):
        if folder.special_use is not None and folder.selectable:
            found.setdefault(folder.special_use, folder.name)
    return found


def existing_uids(client: IMAPClient, uids: Iterable[int]) -> list[int]:
    """Which of these UIDs are in the selected folder (STORE and MOVE ignore the others)."""
    wanted = sorted({int(uid) for uid in uids if 0 < int(uid) < 2**32})
    if not wanted:
        return []
    if len(wanted) > MAX_UIDS:
        raise ValueError(f"at most {MAX_UIDS} messages at once")
    found = set(client.search([b"UID", uid_set(wanted).encode()]))
    return [uid for uid in wanted if uid in found]


def uid_set(uids: Iterable[int]) -> str:
    """A compact RFC 3501 sequence set ("1:5,9,12:14"), so a long selection stays short."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    start = previous = None
    for uid in ordered:
        if previous is not None and uid == previous + 1:
            previous = uid
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}:{previous}")
        start = previous = uid
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}:{previous}")
    return ",".join(parts)


def parse_uid_set(text: str) -> list[int]:
    """The UIDs of a sequence set, in its order (COPYUID pairs them position by position)."""
    result: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition(":")
        first, last = int(low), int(high or low)
        step = 1 if last >= first else -1
        result.extend(range(first, last + step, step))
    return result


def _expunge(client: IMAPClient, uids: list[int]) -> None:
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uid_set(uids))  # only these, never another client's \Deleted
    else:
        client.expunge()


def _take_copyuid(client: IMAPClient) -> list[bytes]:
    # imaplib files response codes such as COPYUID under their name until read; reading
    # clears them. MOVE sends COPYUID in an untagged OK before its EXPUNGEs (RFC 6851 §4.3).
    _name, data = client._imap.response("COPYUID")
    return [item for item in data if item]


def _copyuid_in(answer: bytes | str | None) -> list[bytes]:
    if isinstance(answer, str):
        answer = answer.encode()
    return [answer] if answer and answer.startswith(b"[COPYUID") else []


def _mapping(codes: list[bytes], present: list[int]) -> tuple[int, tuple[int, ...]] | None:
    """Destination UIDs in the order of `present`, from one or several COPYUID codes."""
    validity = None
    pairs: dict[int, int] = {}
    for code in codes:
        match = _COPYUID.match(code.strip())
        if not match:
            continue
        validity = int(match.group(1))
        sources = parse_uid_set(match.group(2).decode())
        targets = parse_uid_set(match.group(3).decode())
        pairs.update(zip(sources, targets, strict=False))
    if validity is None or any(uid not in pairs for uid in present):
        return None
    return validity, tuple(pairs[uid] for uid in present)
