"""Reading mail in a mailbox the person may act in; every call goes through the pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from flask import Flask, current_app, g, request, session
from imapclient import IMAPClient

from imap_bridge import messages as imap_messages
from imap_bridge.mime import get_part, inline_images, parse_message
from imap_bridge.models import Attachment, Folder, MessagePage, ParsedMessage
from imap_bridge.sanitize import SanitizedHtml, sanitize_html
from imap_bridge.summary_cache import SummaryCache
from imap_bridge.text import text_to_html
from webmail.mail_pool import pool
from webmail.services.access import MailboxAccess
from webmail.services.message_cache import FolderListCache, RawMessageCache

T = TypeVar("T")
_EXTENSION = "pli_mail_caches"


@dataclass(frozen=True)
class MailCaches:
    """One app's caches: raw messages, folder lists, list rows (see message_cache.py and
    imap_bridge/summary_cache.py). Per app, so that two apps in one process (tests,
    benchmarks) never share entries or settings."""

    raw: RawMessageCache
    folders: FolderListCache
    rows: SummaryCache


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = MailCaches(
        raw=RawMessageCache(),
        folders=FolderListCache(ttl=float(app.config["FOLDER_CACHE_SECONDS"])),
        rows=SummaryCache(max_entries=app.config["LIST_CACHE_ENTRIES"]),
    )
    app.before_request(_forget_counts_before_changes)


def caches() -> MailCaches:
    return current_app.extensions[_EXTENSION]


def _forget_counts_before_changes() -> None:
    """Every change goes through a POST: whatever it does, the counts are fetched afresh."""
    if request.method != "GET":
        open_session = getattr(session, "open_session", None)
        if open_session is not None:
            session_id = open_session.record.id
            caches().folders.forget(lambda key: key[0] == session_id)


@dataclass(frozen=True)
class ReadableMessage:
    """A parsed message with the body already made safe to show."""

    message: ParsedMessage
    html: SanitizedHtml | None  # for the sandboxed frame
    text_html: str | None  # escaped text with links, when there is no HTML body


def list_folders(access: MailboxAccess, fresh: bool = False) -> list[Folder]:
    """Folders with counts, cached a few seconds per session and mailbox (see init_app);
    `fresh` for the periodic refresh, whose whole point is to see new mail."""
    cache = caches().folders
    # A page asks several times (sidebar, move menu, search form): once per request is
    # enough, even with the cache off, unless something changed meanwhile.
    memo = g.setdefault("folder_lists", {})
    kept = memo.get(access.pool_key)
    if not fresh and kept is not None and kept[0] == cache.generation:
        return kept[1]
    folders = None if fresh else cache.get(access.pool_key)
    if folders is None:
        folders = _run(access, access.folder_listing())  # plain names, a delegate's too
        cache.put(access.pool_key, folders)
    memo[access.pool_key] = (cache.generation, folders)
    return folders


def list_messages(access: MailboxAccess, folder: str, page: int) -> MessagePage:
    size = current_app.config["PAGE_SIZE"]
    path = access.folder_path(folder)
    rows = caches().rows
    cache = rows if rows.max_entries > 0 else None
    listing = _run(access, lambda c: imap_messages.list_messages(
        c, path, page, size, cache=cache, scope=access.pool_key))
    return replace(listing, folder=folder)


def read_message(access: MailboxAccess, folder: str, uid: int,
                 allow_remote: bool) -> ReadableMessage:
    """Fetch, parse and sanitise a message once; opening it marks it read."""
    path = access.folder_path(folder)
    raw, newly_seen = _run(access, lambda c: imap_messages.open_message(c, path, uid))
    caches().raw.put(_cache_key(access, folder, uid), raw)
    if newly_seen:
        caches().folders.forget(lambda key: key == access.pool_key)  # one unread fewer
    parsed = parse_message(uid, raw)
    if parsed.html_body is not None:
        html = sanitize_html(parsed.html_body, allow_remote=allow_remote,
                             cid_images=inline_images(raw))
        return ReadableMessage(parsed, html, None)
    text = text_to_html(parsed.text_body) if parsed.text_body else None
    return ReadableMessage(parsed, None, text)


def message_html(access: MailboxAccess, folder: str, uid: int,
                 allow_remote: bool) -> SanitizedHtml | None:
    """The sanitised HTML body for the message frame, with cid: images inlined."""
    raw = _raw(access, folder, uid)
    parsed = parse_message(uid, raw)
    if parsed.html_body is None:
        return None
    return sanitize_html(parsed.html_body, allow_remote=allow_remote,
                         cid_images=inline_images(raw))


def attachment(access: MailboxAccess, folder: str, uid: int,
               part_id: str) -> tuple[Attachment, bytes]:
    return get_part(_raw(access, folder, uid), part_id)


def forget_session(session_id: int) -> None:
    """Drop everything this process holds for a session (sign-out, revocation)."""
    forget_scopes(lambda key: key[0] == session_id)


def forget_scopes(matches: Callable[[tuple], bool]) -> None:
    """Close pooled connections and drop cached mail of every (session, mailbox) that
    matches: sign-out, revoked or expired delegation."""
    pool().discard(matches)
    mail_caches = caches()
    mail_caches.raw.forget(lambda key: matches(key[0]))
    mail_caches.folders.forget(matches)
    mail_caches.rows.forget(matches)


def _raw(access: MailboxAccess, folder: str, uid: int) -> bytes:
    key = _cache_key(access, folder, uid)
    raw = caches().raw.get(key)
    if raw is None:
        path = access.folder_path(folder)
        raw = _run(access, lambda c: imap_messages.fetch_raw(c, path, uid))
        caches().raw.put(key, raw)
    return raw


def _cache_key(access: MailboxAccess, folder: str, uid: int) -> tuple:
    return (access.pool_key, folder, uid)


def _run(access: MailboxAccess, operation: Callable[[IMAPClient], T]) -> T:
    return pool().run(access.pool_key, access.credentials, operation)
