"""The hash chains under functional traces: append, verify, erase.

Each record's `record_hash` is SHA-256 over a canonical JSON form of its fields, its place
in the chain (`seq`) and the previous record's hash. Editing, removing or reordering a
record therefore breaks the chain at that point, which `verify` reports.

Why one chain per mailbox rather than one for the whole instance: the law erases a
mailbox's traces as a whole (10 years after the mailbox is deleted) while other mailboxes'
traces stay. With a single chain that erasure would cut holes in the middle of it, and
telling a legitimate hole from tampering would need tombstones kept forever. With a chain
per mailbox, retention removes one chain entirely, head included, and nothing left refers
to it; the erasure itself is appended to the "pli" system chain (how many records, the last
hash) so it stays provable without keeping any personal data. A record without a mailbox
(e.g. a privacy request) goes to the actor's chain.

Appends are serialised per chain: the first statement of an append updates the chain's
head row, which takes a row lock on PostgreSQL and the database write lock on SQLite, so
two writers can never both extend the same head. Other chains are not blocked.

The hashes are not keyed: someone able to rewrite the database can rewrite a whole chain.
`flask traces verify` prints each chain's head; keeping that output elsewhere (the
journal of a daily timer) anchors the chains outside the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, select, update

from webmail.models import FunctionalTrace, TraceChain
from webmail.services.upsert import insert_or_ignore

GENESIS = "0" * 64  # the "previous hash" of a chain's first record
SYSTEM_CHAIN = "pli"  # actions of the service itself (retention), with no mailbox
_traces = FunctionalTrace.__table__
_heads = TraceChain.__table__


@dataclass(frozen=True)
class ChainReport:
    """What `verify` found; `first_broken_id` is the first record that does not fit."""

    ok: bool
    count: int
    chains: int
    first_broken_id: int | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChainHead:
    chain: str
    length: int
    head_hash: str


def append(connection: Connection, *, chain: str, action: str, actor: str,
           mailbox: str | None, ip: str | None, detail: dict | None,
           occurred_at: datetime) -> int:
    """Add one record at the end of `chain`, inside the caller's transaction; its id."""
    insert_or_ignore(connection, _heads, ["chain"],
                     {"chain": chain, "length": 0, "head_hash": GENESIS})
    connection.execute(update(_heads).where(_heads.c.chain == chain)
                       .values(length=_heads.c.length + 1))  # the lock: see module doc
    seq, previous = connection.execute(
        select(_heads.c.length, _heads.c.head_hash).where(_heads.c.chain == chain)).one()
    fields = {"chain": chain, "seq": seq, "occurred_at": occurred_at, "action": action,
              "actor": actor, "mailbox": mailbox, "ip": ip, "detail": detail,
              "previous_hash": previous}
    digest = record_hash(fields)
    result = connection.execute(_traces.insert().values(**fields, record_hash=digest))
    connection.execute(update(_heads).where(_heads.c.chain == chain).values(head_hash=digest))
    return result.inserted_primary_key[0]


def record_hash(fields: dict) -> str:
    """SHA-256 of the canonical form: sorted keys, UTC time to the microsecond."""
    canonical = {
        "chain": fields["chain"], "seq": int(fields["seq"]),
        "occurred_at": fields["occurred_at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "action": fields["action"], "actor": fields["actor"], "mailbox": fields["mailbox"],
        "ip": fields["ip"], "detail": fields["detail"] or None,
        "previous_hash": fields["previous_hash"],
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def verify(connection: Connection) -> ChainReport:
    """Walk every chain in order and check each link, and each head against its chain."""
    heads = {row.chain: row for row in connection.execute(select(_heads))}
    rows = connection.execution_options(yield_per=2000).execute(
        select(_traces).order_by(_traces.c.chain, _traces.c.seq))
    problems: list[str] = []
    broken_ids: list[int] = []
    count = 0
    walk: _ChainWalk | None = None
    for row in rows:
        count += 1
        if walk is None or walk.chain != row.chain:
            if walk is not None:
                walk.finish(heads.pop(walk.chain, None), problems)
            walk = _ChainWalk(row.chain)
        broken = walk.check(row._mapping)
        if broken:
            problems.append(broken)
            broken_ids.append(row.id)
    if walk is not None:
        walk.finish(heads.pop(walk.chain, None), problems)
    for chain, head in heads.items():
        if head.length:
            problems.append(f"chain {chain}: all {head.length} records are missing")
    chain_count = connection.scalar(select(func.count()).select_from(_heads)) or 0
    return ChainReport(ok=not problems, count=count, chains=chain_count,
                       first_broken_id=min(broken_ids) if broken_ids else None,
                       problems=tuple(problems))


def list_heads(connection: Connection) -> list[ChainHead]:
    rows = connection.execute(select(_heads).order_by(_heads.c.chain))
    return [ChainHead(row.chain, row.length, row.head_hash) for row in rows]


def erase(connection: Connection, chain: str) -> tuple[int, str]:
    """Remove a whole chain and its head (retention); (records removed, last hash)."""
    connection.execute(update(_heads).where(_heads.c.chain == chain)
                       .values(length=_heads.c.length))  # wait for appends in flight
    head = connection.execute(select(_heads.c.head_hash).where(_heads.c.chain == chain)).scalar()
    removed = connection.execute(delete(_traces).where(_traces.c.chain == chain)).rowcount
    connection.execute(delete(_heads).where(_heads.c.chain == chain))
    return removed, head or GENESIS


def set_mailbox_deleted(connection: Connection, chain: str, at: datetime | None) -> None:
    """Note (or clear) when the mailbox was deleted; it outlives the account row."""
    insert_or_ignore(connection, _heads, ["chain"],
                     {"chain": chain, "length": 0, "head_hash": GENESIS})
    connection.execute(update(_heads).where(_heads.c.chain == chain)
                       .values(mailbox_deleted_at=at))


class _ChainWalk:
    """The state of one chain while `verify` reads it."""

    def __init__(self, chain: str) -> None:
        self.chain = chain
        self.seq = 0
        self.last_hash = GENESIS
        self.last_id = 0
        self.ok = True

    def check(self, row) -> str | None:
        """Why this record does not fit (edited, missing predecessor, out of order)."""
        expected_seq, expected_previous, last_id = self.seq + 1, self.last_hash, self.last_id
        self.seq, self.last_hash, self.last_id = row["seq"], row["record_hash"], row["id"]
        if not self.ok:
            return None  # one problem per chain: what follows a break cannot be judged
        problem = None
        if record_hash(row) != row["record_hash"]:
            problem = "its content does not match its hash (edited)"
        elif row["seq"] != expected_seq or row["previous_hash"] != expected_previous:
            problem = "it does not follow the record before it (a record removed or moved)"
        elif row["id"] <= last_id:
            problem = "it is stored before the record it follows (reordered)"
        if problem is None:
            return None
        self.ok = False
        return f"chain {self.chain}, record {row['id']}: {problem}"

    def finish(self, head, problems: list[str]) -> None:
        if not self.ok:
            return
        if head is None:
            problems.append(f"chain {self.chain}: its head is missing")
        elif head.length != self.seq or head.head_hash != self.last_hash:
            problems.append(f"chain {self.chain}: it ends at record {self.seq} but its head "
                            f"says {head.length} (records removed at the end)")
