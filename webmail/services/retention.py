"""Legal retention, applied by `flask retention run` (a daily timer).

- technical events (the WARNING+ log lines Pli keeps) are deleted after 12 months;
- per-person usage statistics are anonymised after 3 months;
- account data (the account row, its sessions, privacy requests, consent records,
  signatures, recent correspondents, and delegations given or received) is deleted
  12 months after the mailbox was marked deleted;
- functional traces are deleted 120 months after the mailbox was marked deleted, a whole
  mailbox chain at a time (see trace_chain.py), and the erasure is itself traced. A chain
  for an address that never had an account (failed sign-ins with a made-up address) is
  deleted 120 months after its last record.

Every period is a number of months from configuration (PLI_RETENTION_*). Nothing younger
than its period is touched; with `dry_run` nothing at all is, and the report says what
would go.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, or_, select

from webmail.db import db
from webmail.models import (
    Account,
    ConsentRecord,
    Delegation,
    FunctionalTrace,
    RecentCorrespondent,
    Signature,
    TechnicalEvent,
    TraceChain,
)
from webmail.services import patient_links, statistics, trace_chain
from webmail.services.trace_chain import SYSTEM_CHAIN


@dataclass(frozen=True)
class RetentionPolicy:
    technical_months: int
    statistics_months: int
    account_months: int
    functional_months: int
    patient_link_keep_days: int = 30  # a link's status after it expired (its message: 0)

    @classmethod
    def from_config(cls, config) -> RetentionPolicy:
        """The four periods, each a whole number of months of at least one."""
        months = []
        for key in ("RETENTION_TECHNICAL_MONTHS", "RETENTION_STATISTICS_MONTHS",
                    "RETENTION_ACCOUNT_MONTHS", "RETENTION_FUNCTIONAL_MONTHS"):
            value = config[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"PLI_{key} must be a whole number of months (at least 1), "
                                 f"not {value!r}")
            months.append(value)
        return cls(*months, patient_link_keep_days=max(0, int(config.get(
            "PATIENT_LINK_KEEP_DAYS", 30))))


@dataclass
class RetentionReport:
    now: datetime
    dry_run: bool
    lines: list[str] = field(default_factory=list)

    def add(self, done: str, would: str, count: int, rule: str) -> None:
        self.lines.append(f"{would if self.dry_run else done} {count} {rule}")


def run(policy: RetentionPolicy, now: datetime, dry_run: bool = False) -> RetentionReport:
    """Apply every rule as of `now`, each in its own transaction."""
    report = RetentionReport(now, dry_run)
    _technical_events(report, months_before(now, policy.technical_months))
    _statistics(report, months_before(now, policy.statistics_months))
    _accounts(report, months_before(now, policy.account_months))
    _functional_traces(report, months_before(now, policy.functional_months))
    _patient_links(report, policy.patient_link_keep_days)
    return report


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (31 March - 1 = 28/29 Feb)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    return moment.replace(year=year, month=month,
                          day=min(moment.day, calendar.monthrange(year, month)[1]))


def _technical_events(report: RetentionReport, cutoff: datetime) -> None:
    where = TechnicalEvent.occurred_at < cutoff
    with db.engine.begin() as connection:
        if report.dry_run:
            count = connection.scalar(select(func.count()).where(where)) or 0
        else:
            count = connection.execute(delete(TechnicalEvent).where(where)).rowcount
    report.add("deleted", "would delete", count,
               f"technical events from before {_day(cutoff)}")


def _statistics(report: RetentionReport, cutoff: datetime) -> None:
    result = statistics.anonymise_before(statistics.local_day(cutoff), report.dry_run)
    report.add("anonymised", "would anonymise", result.rows,
               f"per-person statistics rows ({result.people} people, {result.days} days) "
               f"from days before {statistics.local_day(cutoff).isoformat()}")


def _patient_links(report: RetentionReport, keep_days: int) -> None:
    emptied, deleted = patient_links.purge(report.now, keep_days, report.dry_run)
    report.add("erased", "would erase", emptied,
               "messages kept for patients behind links that have expired")
    report.add("deleted", "would delete", deleted,
               f"patient links expired more than {keep_days} days ago")


def _accounts(report: RetentionReport, cutoff: datetime) -> None:
    items = []
    with db.engine.begin() as connection:
        due = connection.execute(select(Account.id, Account.address, Account.deleted_at)
                                 .where(Account.deleted_at <= cutoff)
                                 .order_by(Account.address)).all()
        for account_id, address, deleted_at in due:
            extra = _erase_related(connection, account_id, address, report.dry_run)
            if not report.dry_run:
                connection.execute(delete(Account).where(Account.id == account_id))
            items.append(f"  {address} (mailbox deleted {_day(deleted_at)}; "
                         f"{extra} related rows)")
    report.add("deleted", "would delete", len(due),
               f"accounts whose mailbox was deleted before {_day(cutoff)}")
    report.lines.extend(items)


def _erase_related(connection: Connection, account_id: int, address: str,
                   dry_run: bool) -> int:
    """Rows about the person that do not cascade from the account row: what they wrote
    and chose, and delegations given or received. (Sessions, privacy requests and the
    second factor cascade.)"""
    wheres = [
        (Signature, or_(Signature.actor == address, Signature.identity == address)),
        (RecentCorrespondent, RecentCorrespondent.mailbox == address),
        (Delegation, or_(Delegation.owner == address, Delegation.delegate == address)),
        (ConsentRecord, ConsentRecord.account_id == account_id),
    ]
    if dry_run:
        return sum(connection.scalar(select(func.count()).select_from(table).where(where)) or 0
                   for table, where in wheres)
    return sum(connection.execute(delete(table).where(where)).rowcount
               for table, where in wheres)


def _functional_traces(report: RetentionReport, cutoff: datetime) -> None:
    due = _chains_due(cutoff)
    items, erased = [], 0
    for chain, reason in due:
        with db.engine.begin() as connection:
            if report.dry_run:
                count = connection.scalar(select(func.count())
                                          .where(FunctionalTrace.chain == chain)) or 0
            else:
                count, last_hash = trace_chain.erase(connection, chain)
                trace_chain.append(connection, chain=SYSTEM_CHAIN, action="traces_erased",
                                   actor=SYSTEM_CHAIN, mailbox=None, ip=None,
                                   detail={"records": count, "last_hash": last_hash,
                                           "reason": reason},
                                   occurred_at=datetime.now(UTC))
        erased += count
        items.append(f"  {chain} ({reason}): {count} traces")
    report.add("deleted", "would delete", erased,
               f"functional traces of {len(due)} mailboxes deleted before {_day(cutoff)} "
               "(or of addresses without an account, silent since)")
    report.lines.extend(items)


def _chains_due(cutoff: datetime) -> list[tuple[str, str]]:
    """Chains whose mailbox was deleted before `cutoff`, and chains of addresses that
    never had an account and whose last record is older than `cutoff`."""
    with db.engine.connect() as connection:
        deleted = connection.scalars(select(TraceChain.chain)
                                     .where(TraceChain.mailbox_deleted_at <= cutoff)).all()
        silent = connection.scalars(
            select(TraceChain.chain)
            .where(TraceChain.mailbox_deleted_at.is_(None), TraceChain.chain != SYSTEM_CHAIN,
                   ~select(Account.id).where(Account.address == TraceChain.chain).exists(),
                   ~select(FunctionalTrace.id).where(FunctionalTrace.chain == TraceChain.chain,
                                                     FunctionalTrace.occurred_at >= cutoff)
                   .exists())).all()
    return ([(chain, "mailbox_deleted") for chain in sorted(deleted)]
            + [(chain, "no_account") for chain in sorted(silent)])


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

