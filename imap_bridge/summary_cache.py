"""Row summaries of messages already listed, so a list shows again with a FLAGS fetch.

In a folder, (UIDVALIDITY, UID) names one message whose content never changes
(RFC 3501 §2.3.1.1): its headers, size and arrival date can be kept; only its flags
change, and those are always fetched afresh. Entries are scoped by the caller (Pli uses
the session and mailbox), bounded in number, least recently used first out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

from imap_bridge.models import MessageSummary

FolderKey = tuple[Hashable, str, int]  # (scope, folder, UIDVALIDITY)


class SummaryCache:
    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[FolderKey, int], MessageSummary] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, folder: FolderKey, uids: Iterable[int]) -> dict[int, MessageSummary]:
        found = {}
        with self._lock:
            for uid in uids:
                summary = self._entries.get((folder, uid))
                if summary is not None:
                    self._entries.move_to_end((folder, uid))
                    found[uid] = summary
        return found

    def put_many(self, folder: FolderKey, summaries: Iterable[MessageSummary]) -> None:
        with self._lock:
            for summary in summaries:
                self._entries[(folder, summary.uid)] = summary
                self._entries.move_to_end((folder, summary.uid))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, scope_matches: Callable[[Hashable], bool]) -> None:
        """Drop every entry whose scope matches (sign-out, revoked access)."""
        with self._lock:
            for key in [key for key in self._entries if scope_matches(key[0][0])]:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
