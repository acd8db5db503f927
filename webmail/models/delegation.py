"""Delegations: an owner lets another person of the same server work in their mailbox.

The row is the source of truth; the IMAP ACLs on the owner's folders and the Postfix
sender-login map are kept in step with it (see services/delegation_server.py).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webmail.models.base import Base, UtcDateTime, utcnow


class DelegationRight(enum.StrEnum):
    """The rights ladder an owner chooses from; each step includes the ones before it."""

    READ = "read"
    ORGANISE = "organise"
    SEND_ON_BEHALF = "send"

    def includes(self, other: DelegationRight) -> bool:
        order = list(DelegationRight)
        return order.index(self) >= order.index(other)


class Delegation(Base):
    __tablename__ = "delegation"
    __table_args__ = (UniqueConstraint("owner", "delegate"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(320), index=True)  # the mailbox address
    delegate: Mapped[str] = mapped_column(String(320), index=True)  # who may work in it
    rights: Mapped[str] = mapped_column(String(16))  # a DelegationRight value
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # last day, local time
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Bumped at every change, so each process drops connections opened under old rights.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Whether the ACLs are in place on the server (False once an expiry was cleaned up).
    acl_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    # {folder name: special use} of the owner's mailbox: the shared namespace hides them.
    folder_roles: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def right(self) -> DelegationRight:
        return DelegationRight(self.rights)

    def is_active(self, now: datetime) -> bool:
        return self.ends_at is None or now < self.ends_at
