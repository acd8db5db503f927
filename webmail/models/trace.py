"""Traces: functional traces (who did what, where, when) and technical events.

Functional traces are append-only and hash-chained, one chain per mailbox (see
services/trace_chain.py for why per mailbox). Technical events are the WARNING and worse
lines of the application log that Pli keeps itself, so retention can apply to them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webmail.models.base import Base, UtcDateTime, utcnow

# 64-bit keys on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigKey = BigInteger().with_variant(Integer(), "sqlite")


class FunctionalTrace(Base):
    __tablename__ = "functional_trace"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    chain: Mapped[str] = mapped_column(String(320))  # the mailbox (or, without one, the actor)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… within the chain
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(320), index=True)
    mailbox: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    previous_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))


class TraceChain(Base):
    """The head of one chain: its length and last hash, and the row appends lock."""

    __tablename__ = "trace_chain"

    chain: Mapped[str] = mapped_column(String(320), primary_key=True)
    length: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    # When the mailbox was deleted: kept here because the account row goes sooner.
    mailbox_deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class TechnicalEvent(Base):
    __tablename__ = "technical_event"

    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    level: Mapped[str] = mapped_column(String(10))
    logger: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)
