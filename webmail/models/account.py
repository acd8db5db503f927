"""A person who signs in: one row per mailbox address seen at a successful sign-in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from webmail.models.base import Base, UtcDateTime, utcnow


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Set by `flask admin mark-deleted`: the retention clock for this person's data starts here.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Professional details the person can rectify on their privacy page.
    profession: Mapped[str] = mapped_column(String(120), default="", server_default="")
    rpps: Mapped[str] = mapped_column(String(11), default="", server_default="")
    organisation: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Communications: the newsletter is opt-in, service messages opt-out.
    newsletter: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    service_messages: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    # Flask-Login's user protocol, kept explicit rather than through a mixin.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)
