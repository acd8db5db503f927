"""Usage statistics: per-person daily counters, and anonymous daily aggregates.

Per-person rows are kept three months (configurable), then folded into the anonymous
table by the retention job. Patient-related figures go straight to the anonymous table.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webmail.models.base import Base
from webmail.models.trace import BigKey


class UsageCounter(Base):
    __tablename__ = "usage_counter"
    __table_args__ = (UniqueConstraint("day", "actor", "metric"),)

    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # in the service's time zone
    actor: Mapped[str] = mapped_column(String(320), index=True)
    metric: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)


class AnonymousCounter(Base):
    __tablename__ = "anonymous_counter"
    __table_args__ = (UniqueConstraint("day", "metric"),)

    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    metric: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
