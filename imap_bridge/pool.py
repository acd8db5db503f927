"""A per-process, thread-safe pool of logged-in IMAP connections.

Logging in costs several round trips and a TLS handshake; a webmail page needs one
or two commands. Connections are keyed by (session, mailbox) so that no request can
ever borrow another person's login, and each is lent to one thread at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from imapclient import IMAPClient

from imap_bridge.connection import CONNECTION_ERRORS, ServerSettings, close_quietly, open_imap
from imap_bridge.errors import MailServerUnavailable

T = TypeVar("T")
PoolKey = tuple[Hashable, str]  # (session id, mailbox address)


@dataclass(frozen=True)
class Credentials:
    """What the server needs to log in for one mailbox (its own login or a master login)."""

    username: str
    password: str = field(repr=False)


@dataclass
class _Idle:
    client: IMAPClient
    since: float


class ConnectionPool:
    """Lend authenticated connections, reconnect once when one has died, close idle ones."""

    def __init__(self, settings: ServerSettings, idle_seconds: float = 300.0,
                 max_idle_per_key: int = 2, max_idle_total: int = 64) -> None:
        self.settings = settings
        self.idle_seconds = idle_seconds
        self.max_idle_per_key = max_idle_per_key
        # IMAP servers cap processes per host; sessions left open (closed tabs) must not
        # hold connections up to that cap, so the least recently used idle one goes.
        self.max_idle_total = max_idle_total
        self._idle: dict[PoolKey, list[_Idle]] = {}
        self._lock = threading.Lock()

    def run(self, key: PoolKey, credentials: Callable[[], Credentials],
            operation: Callable[[IMAPClient], T]) -> T:
        """Run `operation` on a pooled connection; on a dropped connection retry once afresh.

        `credentials` is called only when a new login is needed, so a password is decrypted
        no more often than necessary.
        """
        client = self._borrow(key) or self._login(credentials)
        try:
            result = operation(client)
        except CONNECTION_ERRORS:
            close_quietly(client)
            client = self._login(credentials)
            try:
                result = operation(client)
            except CONNECTION_ERRORS as error:
                close_quietly(client)
                raise MailServerUnavailable(f"IMAP connection lost: {error}") from error
            except BaseException:
                self._give_back(key, client)
                raise
        except BaseException:
            self._give_back(key, client)
            raise
        self._give_back(key, client)
        return result

    def adopt(self, key: PoolKey, client: IMAPClient) -> None:
        """Keep a connection that was opened elsewhere (the sign-in check) for later use."""
        self._give_back(key, client)

    def discard(self, predicate: Callable[[PoolKey], bool]) -> int:
        """Close every idle connection whose key matches (sign-out, revoked access)."""
        with self._lock:
            doomed = [key for key in self._idle if predicate(key)]
            clients = [entry.client for key in doomed for entry in self._idle.pop(key)]
        for client in clients:
            close_quietly(client)
        return len(clients)

    def close_all(self) -> None:
        self.discard(lambda _key: True)

    def size(self) -> int:
        with self._lock:
            return sum(len(entries) for entries in self._idle.values())

    def _login(self, credentials: Callable[[], Credentials]) -> IMAPClient:
        login = credentials()
        return open_imap(self.settings, login.username, login.password)

    def _borrow(self, key: PoolKey) -> IMAPClient | None:
        now = time.monotonic()
        expired: list[IMAPClient] = []
        borrowed = None
        with self._lock:
            for pool_key in list(self._idle):
                fresh = [e for e in self._idle[pool_key] if now - e.since < self.idle_seconds]
                expired += [e.client for e in self._idle[pool_key] if e not in fresh]
                if fresh:
                    self._idle[pool_key] = fresh
                else:
                    del self._idle[pool_key]
            entries = self._idle.get(key)
            if entries:
                borrowed = entries.pop().client
        for client in expired:
            close_quietly(client)
        return borrowed

    def _give_back(self, key: PoolKey, client: IMAPClient) -> None:
        evicted: IMAPClient | None = None
        with self._lock:
            entries = self._idle.setdefault(key, [])
            if len(entries) >= self.max_idle_per_key:
                evicted = client
            else:
                entries.append(_Idle(client, time.monotonic()))
                if sum(len(kept) for kept in self._idle.values()) > self.max_idle_total:
                    evicted = self._pop_least_recently_used()
        if evicted is not None:
            close_quietly(evicted)

    def _pop_least_recently_used(self) -> IMAPClient:
        """Remove and return the idle connection given back longest ago (lock held)."""
        oldest_key = min(self._idle, key=lambda k: min(e.since for e in self._idle[k]))
        entries = self._idle[oldest_key]
        oldest = min(entries, key=lambda e: e.since)
        entries.remove(oldest)
        if not entries:
            del self._idle[oldest_key]
        return oldest.client
