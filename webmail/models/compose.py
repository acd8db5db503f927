"""What compose remembers between messages: signatures and recent correspondents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webmail.models.base import Base, UtcDateTime, utcnow


class Signature(Base):
    """The text a person appends when writing as an identity (their own mailbox, or one
    they send on behalf of: a secretariat signs differently for each doctor)."""

    __tablename__ = "compose_signature"
    __table_args__ = (UniqueConstraint("actor", "identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(320))  # who writes
    identity: Mapped[str] = mapped_column(String(320))  # the From address
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class RecentCorrespondent(Base):
    """An address a mailbox sent to, for suggestions; bounded per mailbox."""

    __tablename__ = "compose_correspondent"
    __table_args__ = (UniqueConstraint("mailbox", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    uses: Mapped[int] = mapped_column(Integer, default=1)
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
