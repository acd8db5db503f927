"""A person's second factor: a TOTP authenticator app, and single-use recovery codes.

The TOTP secret is stored encrypted with a key derived from PLI_SECRET_KEY, so a copy of
the database alone does not let anyone compute codes. Recovery codes are kept only as
SHA-256 hashes (they are random, long enough that a plain hash is not guessable).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from webmail.models.base import Base, UtcDateTime, utcnow


class SecondFactor(Base):
    __tablename__ = "second_factor"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            unique=True)
    # In use once confirmed; `pending_secret` is an app being set up (first or replacement),
    # which takes over only when a code from it has been typed.
    secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    pending_secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The last 30-second step whose code was accepted: a code is never accepted twice.
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    recovery_hashes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
