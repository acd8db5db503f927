"""Small, short-lived caches per process, keyed by session so nothing crosses people.

Raw messages: showing a message takes two requests (the page, then its sandboxed body
frame); keeping the bytes for a minute spares the second full IMAP fetch. The cache is
bounded in bytes.

Folder lists: every page shows the folders with their counts, which costs a LIST and a
STATUS per folder; they are kept a few seconds and dropped whenever Pli changes
something in that mailbox.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

TTL_SECONDS = 60.0
MAX_BYTES = 64 * 1024 * 1024


class RawMessageCache:
    def __init__(self, ttl: float = TTL_SECONDS, max_bytes: int = MAX_BYTES) -> None:
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, raw = entry
            if time.monotonic() - stored_at > self.ttl:
                self._drop(key)
                return None
            return raw

    def put(self, key: Hashable, raw: bytes) -> None:
        if len(raw) > self.max_bytes // 4:
            return  # huge messages are not worth evicting everything else for
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (time.monotonic(), raw)
            self._size += len(raw)
            while self._size > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def forget(self, predicate) -> None:
        """Drop entries (sign-out, revoked access)."""
        with self._lock:
            for key in [k for k in self._entries if predicate(k)]:
                self._drop(key)

    def _drop(self, key: Hashable) -> None:
        _, raw = self._entries.pop(key)
        self._size -= len(raw)


class FolderListCache:
    """Folder lists per (session, mailbox) for `ttl` seconds; 0 disables it."""

    def __init__(self, ttl: float = 20.0) -> None:
        self.ttl = ttl
        # Bumped by every forget(): a copy kept for the length of one request is good
        # while the generation it was taken at still holds.
        self.generation = 0
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return None
        return entry[1]

    def put(self, key: Hashable, folders: Any) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (time.monotonic(), folders)
            if len(self._entries) > 10_000:  # expired entries of ended sessions
                now = time.monotonic()
                for stale in [k for k, (at, _) in self._entries.items() if now - at > self.ttl]:
                    del self._entries[stale]

    def forget(self, predicate: Callable[[Hashable], bool]) -> None:
        with self._lock:
            self.generation += 1
            for key in [k for k in self._entries if predicate(k)]:
                del self._entries[key]
