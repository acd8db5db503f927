"""Usage statistics: identifiable per person for three months, anonymous after that.

Counters are per day (in the service's time zone). Per-person counters answer "how much
does this person use the service" while that is still useful; `anonymise_before` (run by
`flask retention run`) folds the old ones into per-day totals with no person in them, plus
the number of distinct active people that day. Figures about patients (secure links) are
never tied to anyone: they go to the anonymous table from the start.

Most counters follow from functional traces (`count_for_action`), so a module that traces
"message_sent" is counted without a second call.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import Connection, delete, select

from webmail.db import db
from webmail.models import AnonymousCounter, UsageCounter
from webmail.models.base import utcnow
from webmail.services.upsert import insert_or_add

ACTIVE_USERS = "active_users"  # distinct people with any counter on a day
# Functional trace actions that count for the person who acted, and under which metric.
ACTION_METRICS = {
    "sign_in": "sign_ins",
    "message_opened": "messages_opened",
    "message_sent": "messages_sent",
    "message_moved": "messages_moved",
    "message_deleted": "messages_deleted",
}
PATIENT_PREFIX = "patient_"  # patient_link_* actions: anonymous from the start
_METRIC = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")
_usage = UsageCounter.__table__
_anonymous = AnonymousCounter.__table__


@dataclass(frozen=True)
class Indicator:
    day: date
    metric: str
    value: int


@dataclass(frozen=True)
class Anonymisation:
    rows: int  # per-person rows folded (or that would be)
    people: int
    days: int


def count_usage(actor: str, metric: str, amount: int = 1, *, at: datetime | None = None) -> None:
    """Add `amount` to today's `metric` for `actor` (its own short transaction)."""
    with db.engine.begin() as connection:
        add_usage(connection, actor, metric, amount, at or utcnow())


def count_anonymous(metric: str, amount: int = 1, *, at: datetime | None = None) -> None:
    """Add to today's anonymous `metric`: for anything about patients."""
    with db.engine.begin() as connection:
        add_anonymous(connection, metric, amount, at or utcnow())


def count_for_action(connection: Connection, actor: str, action: str, detail: dict | None,
                     at: datetime) -> None:
    """The counters a traced action moves, in the trace's own transaction."""
    detail = detail or {}
    if action.startswith(PATIENT_PREFIX):
        add_anonymous(connection, action[:40], 1, at)
        return
    metric = ACTION_METRICS.get(action)
    if metric is None:
        return
    add_usage(connection, actor, metric, _whole(detail.get("count"), 1), at)
    if action == "message_sent" and _whole(detail.get("size"), 0):
        add_usage(connection, actor, "bytes_sent", _whole(detail["size"], 0), at)


def add_usage(connection: Connection, actor: str, metric: str, amount: int,
              at: datetime) -> None:
    _check(metric, amount)
    insert_or_add(connection, _usage, ["day", "actor", "metric"],
                  {"day": local_day(at), "actor": actor.strip().lower()[:320],
                   "metric": metric, "amount": amount}, "amount")


def add_anonymous(connection: Connection, metric: str, amount: int, at: datetime) -> None:
    _check(metric, amount)
    insert_or_add(connection, _anonymous, ["day", "metric"],
                  {"day": local_day(at), "metric": metric, "amount": amount}, "amount")


def anonymise_before(cutoff: date, dry_run: bool = False) -> Anonymisation:
    """Fold every per-person counter of a day before `cutoff` into anonymous totals."""
    where = _usage.c.day < cutoff
    columns = (_usage.c.day, _usage.c.actor, _usage.c.metric, _usage.c.amount)
    with db.engine.begin() as connection:
        if dry_run:
            rows = connection.execute(select(*columns).where(where)).all()
        else:  # DELETE … RETURNING: what is folded is exactly what is removed
            rows = connection.execute(delete(_usage).where(where).returning(*columns)).all()
        totals, people = _fold(rows)
        if not dry_run:
            for (day, metric), amount in totals.items():
                insert_or_add(connection, _anonymous, ["day", "metric"],
                              {"day": day, "metric": metric, "amount": amount}, "amount")
    return Anonymisation(rows=len(rows), people=len({row.actor for row in rows}),
                         days=len(people))


def indicators_since(since: date) -> list[Indicator]:
    """Anonymous indicators from `since` on: the anonymous table plus, for the recent
    months still kept per person, the same totals computed on the fly (no person in them)."""
    with db.engine.connect() as connection:
        stored = connection.execute(
            select(_anonymous.c.day, _anonymous.c.metric, _anonymous.c.amount)
            .where(_anonymous.c.day >= since)).all()
        recent = connection.execute(
            select(_usage.c.day, _usage.c.actor, _usage.c.metric, _usage.c.amount)
            .where(_usage.c.day >= since)).all()
    totals, _ = _fold(recent)
    for day, metric, amount in stored:
        totals[(day, metric)] += amount
    return [Indicator(day, metric, value) for (day, metric), value in sorted(totals.items())]


def write_csv(indicators: list[Indicator], stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["day", "metric", "value"])
    for item in indicators:
        writer.writerow([item.day.isoformat(), item.metric, item.value])


def usage_for(actor: str) -> list[Indicator]:
    """One person's own counters still kept (for the privacy page and export)."""
    rows = db.session.execute(
        select(UsageCounter.day, UsageCounter.metric, UsageCounter.amount)
        .where(UsageCounter.actor == actor).order_by(UsageCounter.day, UsageCounter.metric))
    return [Indicator(day, metric, amount) for day, metric, amount in rows]


def local_day(at: datetime) -> date:
    zone = current_app.config["TIMEZONE"] if has_app_context() else "UTC"
    return at.astimezone(ZoneInfo(zone) if zone != "UTC" else UTC).date()


def _fold(rows) -> tuple[defaultdict[tuple[date, str], int], dict[date, set[str]]]:
    totals: defaultdict[tuple[date, str], int] = defaultdict(int)
    people: dict[date, set[str]] = defaultdict(set)
    for row in rows:
        totals[(row.day, row.metric)] += row.amount
        people[row.day].add(row.actor)
    for day, actors in people.items():
        totals[(day, ACTIVE_USERS)] += len(actors)
    return totals, people


def _check(metric: str, amount: int) -> None:
    if not _METRIC.match(metric) or metric == ACTIVE_USERS:
        raise ValueError(f"invalid metric name {metric!r}")
    if not isinstance(amount, int) or amount < 0:
        raise ValueError("a counter only grows")


def _whole(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else default
