"""Searching a folder or the whole mailbox on the server, from the search form's fields.

Typed values only leave this module as a SearchCriteria; the bridge turns them into
IMAP SEARCH keys. Searching every folder is bounded: at most SEARCH_MAX_FOLDERS folders
and the SEARCH_RESULT_CAP newest results, and the page says when a bound was reached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext

from imap_bridge import search as imap_search
from imap_bridge.search import SearchCriteria, SearchPage
from webmail.mail_pool import pool
from webmail.services import mail
from webmail.services.access import MailboxAccess

RESULT_CAP = 1000
MAX_FOLDERS = 50
TEXT_FIELDS = {"text": "text", "from": "sender", "to": "recipient", "subject": "subject",
               "body": "body"}
FLAG_FIELDS = {"unread": "unread", "flagged": "flagged", "attachment": "has_attachment"}
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class SearchQuery:
    """The form as understood: criteria, where to look, which page, what was wrong."""

    criteria: SearchCriteria
    folder: str = "INBOX"
    everywhere: bool = False
    page: int = 1
    values: dict[str, str] = field(default_factory=dict)  # as typed, to refill the form
    errors: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.errors and not self.criteria.is_empty()

    def link_args(self, page: int) -> dict[str, str | int]:
        """Query-string arguments that reproduce this search on another page."""
        args: dict[str, str | int] = {k: v for k, v in self.values.items() if v}
        args.update(folder=self.folder, scope="all" if self.everywhere else "folder", page=page)
        return args


def parse_query(args: Mapping[str, str]) -> SearchQuery:
    """Read the search form (GET arguments); bad values give messages, never errors."""
    values: dict[str, str] = {}
    fields: dict[str, object] = {}
    errors: list[str] = []
    for name, attribute in TEXT_FIELDS.items():
        values[name] = imap_search.clean_term(args.get(name, ""))
        fields[attribute] = values[name]
    for name, attribute in FLAG_FIELDS.items():
        values[name] = "1" if args.get(name) in ("1", "on", "true") else ""
        fields[attribute] = bool(values[name])
    for name in ("since", "until"):
        values[name] = args.get(name, "").strip()[:20]
        fields[name] = _parse_date(values[name], errors)
    since, until = fields["since"], fields["until"]
    if isinstance(since, date) and isinstance(until, date) and since > until:
        errors.append(gettext("The start date is after the end date."))
    page = args.get("page", "1")
    return SearchQuery(
        criteria=SearchCriteria(**fields),  # type: ignore[arg-type]
        folder=(args.get("folder") or "INBOX")[:1000],
        everywhere=args.get("scope") == "all",
        page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
        values=values,
        errors=tuple(errors),
    )


def run(access: MailboxAccess, query: SearchQuery) -> SearchPage:
    """One page of results, newest first, 50 a page like a folder."""
    config = current_app.config
    size = int(config["PAGE_SIZE"])
    cap = int(config.get("SEARCH_RESULT_CAP", RESULT_CAP))
    if not query.everywhere:
        path = access.folder_path(query.folder)
        found = _run(access, lambda c: imap_search.search_folder(
            c, path, query.criteria, query.page, size, cap))
    else:
        paths = [access.folder_path(f.name) for f in mail.list_folders(access) if f.selectable]
        max_folders = int(config.get("SEARCH_MAX_FOLDERS", MAX_FOLDERS))
        found = _run(access, lambda c: imap_search.search_folders(
            c, paths, query.criteria, query.page, size, cap, max_folders))
    # Results name folders as the pages do (a delegate's paths start "shared/<owner>/").
    hits = tuple(replace(hit, folder=access.folder_name(hit.folder)) for hit in found.hits)
    return replace(found, hits=hits)


def _parse_date(text: str, errors: list[str]) -> date | None:
    if not text:
        return None
    french = _FRENCH_DATE.match(text)
    try:
        if french:
            day, month, year = (int(part) for part in french.groups())
            parsed = date(year, month, day)
        else:
            parsed = datetime.strptime(text, "%Y-%m-%d").date()
        if 1900 <= parsed.year <= 2999:
            return parsed
    except ValueError:
        pass
    errors.append(gettext("“%(value)s” is not a date: use the form 31/12/2026.", value=text))
    return None


def _run(access: MailboxAccess, operation):
    return pool().run(access.pool_key, access.credentials, operation)
