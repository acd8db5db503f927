"""Listing a folder page and fetching one message, with as few round trips as possible."""

from __future__ import annotations

from collections.abc import Hashable

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from imap_bridge.errors import FolderNotFound, MessageNotFound
from imap_bridge.headers import summary_from_headers, with_flags
from imap_bridge.models import MessagePage, MessageSummary
from imap_bridge.summary_cache import FolderKey, SummaryCache

# Headers the list shows; fetched partially so a 20 MB header cannot bloat a page (RFC 3501 §6.4.5).
_LIST_HEADERS = b"FROM TO SUBJECT DATE CONTENT-TYPE"
_HEADER_BYTES = 16384
_LIST_ITEM = b"BODY[HEADER.FIELDS (" + _LIST_HEADERS + b")]<0>"
_LIST_FETCH = [b"FLAGS", b"RFC822.SIZE", b"INTERNALDATE",
               b"BODY.PEEK[HEADER.FIELDS (" + _LIST_HEADERS + b")]<0.%d>" % _HEADER_BYTES]


def select(client: IMAPClient, folder: str, readonly: bool = True) -> dict:
    """Select a folder, turning the server's NO into the bridge's FolderNotFound."""
    try:
        return client.select_folder(folder, readonly=readonly)
    except IMAPClientError as error:
        if "abort" in type(error).__name__.lower():
            raise
        raise FolderNotFound(folder) from error


def list_messages(client: IMAPClient, folder: str, page: int, page_size: int,
                  cache: SummaryCache | None = None, scope: Hashable = None) -> MessagePage:
    """One page of a folder, newest first, in one FETCH of that page's sequence range.

    Sequence order is arrival order in the folder (RFC 3501 §2.3.1.2), so the page is
    known from the EXISTS count of SELECT: no SORT or SEARCH over the whole folder, and a
    5,000-message folder costs what a small one does. With a `cache`, rows listed before
    (under `scope`) cost only their FLAGS.
    """
    status = select(client, folder)
    total = int(status.get(b"EXISTS", 0))
    page = max(1, page)
    highest = total - (page - 1) * page_size
    lowest = max(1, highest - page_size + 1)
    if highest < 1:
        summaries = []
    elif cache is None:
        summaries = _fetch_page(client, lowest, highest)
    else:
        key = (scope, folder, int(status.get(b"UIDVALIDITY", 0)))
        summaries = _fetch_page_cached(client, lowest, highest, cache, key)
    return MessagePage(folder=folder, messages=tuple(summaries), page=page,
                       page_size=page_size, total=total)


def fetch_raw(client: IMAPClient, folder: str, uid: int) -> bytes:
    """The whole message as stored, leaving its flags as they are."""
    select(client, folder)
    return _body(client.fetch([uid], [b"BODY.PEEK[]"]), folder, uid)


def open_message(client: IMAPClient, folder: str, uid: int) -> tuple[bytes, bool]:
    """The whole message, flagged \\Seen (opening it counts as reading); also says whether
    that flag is new, so callers only refresh unread counts when they changed."""
    select(client, folder, readonly=False)
    response = client.fetch([uid], [b"BODY.PEEK[]", b"FLAGS"])
    raw = _body(response, folder, uid)
    newly_seen = b"\\Seen" not in response[uid].get(b"FLAGS", ())
    if newly_seen:
        client.add_flags([uid], [b"\\Seen"], silent=True)
    return raw, newly_seen


def _body(response: dict, folder: str, uid: int) -> bytes:
    data = response.get(uid)
    if not data or b"BODY[]" not in data:
        raise MessageNotFound(f"{folder}/{uid}")
    return data[b"BODY[]"]


def _fetch_page(client: IMAPClient, lowest: int, highest: int) -> list[MessageSummary]:
    response = _fetch_sequences(client, lowest, highest, [b"UID", *_LIST_FETCH])
    return [_summary(data[b"UID"], data) for _sequence, data in response]


def _fetch_page_cached(client: IMAPClient, lowest: int, highest: int, cache: SummaryCache,
                       key: FolderKey) -> list[MessageSummary]:
    """FLAGS for the whole page, the rest only for rows the cache has not seen."""
    rows = _fetch_sequences(client, lowest, highest, [b"UID", b"FLAGS"])
    uids = [data[b"UID"] for _sequence, data in rows]
    known = cache.get_many(key, uids)
    missing = [uid for uid in uids if uid not in known]
    if missing:
        fetched = client.fetch(missing, _LIST_FETCH)  # UID FETCH
        fresh = [_summary(uid, data) for uid, data in fetched.items()]
        cache.put_many(key, fresh)
        known.update((summary.uid, summary) for summary in fresh)
    return [with_flags(known[data[b"UID"]], data.get(b"FLAGS", ()))
            for _sequence, data in rows if data[b"UID"] in known]  # absent: expunged meanwhile


def _fetch_sequences(client: IMAPClient, lowest: int, highest: int,
                     items: list[bytes]) -> list[tuple[int, dict]]:
    """FETCH a sequence range, newest first; rows without a UID (expunged meanwhile) skipped."""
    client.use_uid = False  # a sequence range; the connection is ours for this operation
    try:
        response = client.fetch(list(range(lowest, highest + 1)), items)
    finally:
        client.use_uid = True
    return [(sequence, response[sequence]) for sequence in sorted(response, reverse=True)
            if b"UID" in response[sequence]]


def _summary(uid: int, data: dict) -> MessageSummary:
    return summary_from_headers(
        uid,
        data.get(_LIST_ITEM, b""),
        flags=data.get(b"FLAGS", ()),
        size=data.get(b"RFC822.SIZE", 0),
        internal_date=data.get(b"INTERNALDATE"),
    )
