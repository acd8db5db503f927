"""Server-side IMAP SEARCH (RFC 3501 §6.4.4), built from typed values, paged like a folder.

Safety: every word a person typed travels as an IMAP literal (or a quoted string) made
by imapclient, never as an atom, and never by pasting text into a command: "{5}", ")" or
"OR ALL" in a search box are searched for, not obeyed. The charset is UTF-8.

"Has attachment" is a header search, the same rule as the paperclip of the message
list (a top-level Content-Type of multipart/mixed or application/*): one SEARCH gives
exact totals and pages, where checking BODYSTRUCTURE would mean fetching every hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.imapclient import _literal

from imap_bridge.errors import FolderNotFound
from imap_bridge.headers import summary_from_headers
from imap_bridge.messages import _LIST_FETCH, _LIST_ITEM, select
from imap_bridge.models import MessageSummary

MAX_TERM = 200
_CONTROLS = re.compile("[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class SearchCriteria:
    """What a person asked for; empty strings and None mean "any"."""

    text: str = ""  # anywhere: headers or body (IMAP TEXT)
    sender: str = ""
    recipient: str = ""  # To, Cc or Bcc
    subject: str = ""
    body: str = ""
    since: date | None = None  # sent on or after (Date header)
    until: date | None = None  # sent on or before
    unread: bool = False
    flagged: bool = False
    has_attachment: bool = False

    def is_empty(self) -> bool:
        return self == SearchCriteria()


@dataclass(frozen=True)
class SearchHit:
    folder: str
    summary: MessageSummary


@dataclass(frozen=True)
class SearchPage:
    """One page of results, newest first, with how much was looked at."""

    hits: tuple[SearchHit, ...]
    page: int
    page_size: int
    total: int  # results that can be paged through (at most the cap)
    capped: bool = False  # more matched than the cap: the newest were kept
    folders_searched: int = 1
    folders_skipped: int = 0  # beyond the folder cap, or vanished meanwhile

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))


def imap_criteria(criteria: SearchCriteria) -> list:
    """The SEARCH keys for `criteria`; ALL when nothing was asked."""
    keys: list = []
    for keyword, value in ((b"TEXT", criteria.text), (b"FROM", criteria.sender),
                           (b"SUBJECT", criteria.subject), (b"BODY", criteria.body)):
        if term := clean_term(value):
            keys += [keyword, _term(term)]
    if term := clean_term(criteria.recipient):
        keys += [b"OR", b"TO", _term(term), b"OR", b"CC", _term(term), b"BCC", _term(term)]
    if criteria.since:
        keys += [b"SENTSINCE", criteria.since]
    if criteria.until:  # SENTBEFORE is exclusive; "until" includes its day
        keys += [b"SENTBEFORE", criteria.until + timedelta(days=1)]
    if criteria.unread:
        keys.append(b"UNSEEN")
    if criteria.flagged:
        keys.append(b"FLAGGED")
    if criteria.has_attachment:
        keys += [b"OR", b"HEADER", b"Content-Type", _term("multipart/mixed"),
                 b"HEADER", b"Content-Type", _term("application/")]
    return keys or [b"ALL"]


def clean_term(value: str) -> str:
    """One line of at most MAX_TERM characters: CR, LF or NUL cannot reach the command."""
    return " ".join(_CONTROLS.sub(" ", value or "").split())[:MAX_TERM]


def search_folder(client: IMAPClient, folder: str, criteria: SearchCriteria, page: int,
                  page_size: int, cap: int) -> SearchPage:
    """Matches in one folder, newest arrival first, like the folder list."""
    uids = sorted(_search(client, folder, criteria), reverse=True)
    capped = len(uids) > cap
    uids = uids[:cap]
    page = max(1, page)
    wanted = uids[(page - 1) * page_size: page * page_size]
    summaries = _summaries(client, wanted)
    hits = tuple(SearchHit(folder, summaries[uid]) for uid in wanted if uid in summaries)
    return SearchPage(hits, page, page_size, len(uids), capped)


def search_folders(client: IMAPClient, folders: list[str], criteria: SearchCriteria,
                   page: int, page_size: int, cap: int, max_folders: int) -> SearchPage:
    """Matches in several folders merged by arrival date; bounded by both caps.

    Each folder keeps its `cap` newest matches; their arrival dates (one FETCH per folder)
    order the merge, then only the page shown is fetched in full.
    """
    candidates: list[tuple[datetime, str, int]] = []
    searched = 0
    capped = False
    for folder in folders[:max_folders]:
        try:
            uids = sorted(_search(client, folder, criteria), reverse=True)
        except FolderNotFound:  # deleted meanwhile
            continue
        searched += 1
        capped = capped or len(uids) > cap
        for uid, arrived in _arrival_dates(client, uids[:cap]).items():
            candidates.append((arrived, folder, uid))
    candidates.sort(key=lambda item: (item[0], item[1], item[2]), reverse=True)
    capped = capped or len(candidates) > cap
    candidates = candidates[:cap]
    page = max(1, page)
    shown = candidates[(page - 1) * page_size: page * page_size]
    return SearchPage(_fetch_hits(client, shown), page, page_size, len(candidates), capped,
                      folders_searched=searched, folders_skipped=len(folders) - searched)


def _search(client: IMAPClient, folder: str, criteria: SearchCriteria) -> list[int]:
    select(client, folder)
    keys = imap_criteria(criteria)
    try:
        return list(client.search(keys, charset="UTF-8"))
    except IMAPClientError as error:
        if "abort" in type(error).__name__.lower() or "BADCHARSET" not in str(error).upper():
            raise
        # A server without UTF-8 search (RFC 3501 §6.4.4 only requires US-ASCII).
        if not all(isinstance(k, date) or k.isascii() for k in keys):
            raise
        return list(client.search(keys))


def _term(text: str) -> bytes:
    # A literal can carry any byte; imapclient sends it as one (or quotes it when it must).
    return _literal(text.encode("utf-8"))


def _summaries(client: IMAPClient, uids: list[int]) -> dict[int, MessageSummary]:
    """List rows for UIDs of the selected folder (one UID FETCH)."""
    if not uids:
        return {}
    response = client.fetch(uids, _LIST_FETCH)
    return {uid: summary_from_headers(uid, data.get(_LIST_ITEM, b""),
                                      flags=data.get(b"FLAGS", ()),
                                      size=data.get(b"RFC822.SIZE", 0),
                                      internal_date=data.get(b"INTERNALDATE"))
            for uid, data in response.items()}


def _arrival_dates(client: IMAPClient, uids: list[int]) -> dict[int, datetime]:
    if not uids:
        return {}
    response = client.fetch(uids, [b"INTERNALDATE"])
    return {uid: _aware(data.get(b"INTERNALDATE")) for uid, data in response.items()}


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return datetime.min.replace(tzinfo=datetime.now().astimezone().tzinfo)
    return value if value.tzinfo else value.astimezone()


def _fetch_hits(client: IMAPClient, shown: list[tuple[datetime, str, int]]) -> tuple[
        SearchHit, ...]:
    by_folder: dict[str, list[int]] = {}
    for _arrived, folder, uid in shown:
        by_folder.setdefault(folder, []).append(uid)
    rows: dict[tuple[str, int], MessageSummary] = {}
    for folder, uids in by_folder.items():
        try:
            select(client, folder)
        except FolderNotFound:
            continue
        for uid, summary in _summaries(client, uids).items():
            rows[(folder, uid)] = summary
    return tuple(SearchHit(folder, rows[(folder, uid)]) for _arrived, folder, uid in shown
                 if (folder, uid) in rows)
