"""Pli's own audience measurement, for visitors who accepted it: distinct visitors and pages
viewed per day, added to the anonymous statistics table and nowhere else.

The audience cookie holds only when it was first set and the last day it was counted: a
visitor counts once a day because that day is compared with today's. It carries no
identifier at all, so nothing, in the cookie or on the server, can tie a count to a browser.
Rewriting the cookie keeps its first expiry: the CNIL's 13 months run from the first visit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from webmail.cookie_policy import AUDIENCE_COOKIE
from webmail.db import db
from webmail.models.base import utcnow
from webmail.services.statistics import add_anonymous, local_day

VISITORS = "audience_visitors"
PAGE_VIEWS = "audience_page_views"


@dataclass(frozen=True)
class AudienceMark:
    """What the audience cookie says about this browser."""

    first_set: datetime
    last_counted: date

    def encode(self) -> str:
        return f"{int(self.first_set.timestamp())}.{self.last_counted:%Y%m%d}"

    def remaining(self, now: datetime | None = None) -> timedelta:
        """The cookie's lifetime left: never more than declared, counted from the first set."""
        return self.first_set + AUDIENCE_COOKIE.max_age - (now or utcnow())


def count_visit(raw: str | None, page_view: bool, now: datetime | None = None
                ) -> AudienceMark | None:
    """Count this request for a consenting visitor; return the mark to write back into the
    cookie, or None when the cookie already says everything (counted today)."""
    now = now or utcnow()
    today = local_day(now)
    mark = parse(raw, now)
    new_today = mark is None or mark.last_counted != today
    if mark is None:
        mark = AudienceMark(now.replace(microsecond=0), today)
    if new_today or page_view:
        with db.engine.begin() as connection:
            if new_today:
                add_anonymous(connection, VISITORS, 1, now)
            if page_view:
                add_anonymous(connection, PAGE_VIEWS, 1, now)
    return replace(mark, last_counted=today) if new_today else None


def parse(raw: str | None, now: datetime) -> AudienceMark | None:
    """The mark in a cookie value, or None if absent, malformed or past its lifetime."""
    parts = (raw or "").split(".")
    if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    try:
        mark = AudienceMark(datetime.fromtimestamp(int(parts[0]), UTC),
                            datetime.strptime(parts[1], "%Y%m%d").date())
    except (ValueError, OverflowError):
        return None
    if mark.first_set > now or mark.remaining(now) <= timedelta(0):
        return None
    return mark
