"""Secure links for patients: a message a professional sent to a patient's ordinary
address, kept here so the patient can read and answer it on the web.

The message is stored encrypted with a key that only the link holds (like sessions):
a copy of the database alone reveals no health data, and the link alone opens nothing
without the one-time code, which is checked with the same key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from webmail.models.base import Base, UtcDateTime, utcnow


class PatientLink(Base):
    __tablename__ = "patient_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    mailbox: Mapped[str] = mapped_column(String(320), index=True)  # the professional's
    created_by: Mapped[str] = mapped_column(String(320))  # the owner, or their delegate
    sender_name: Mapped[str] = mapped_column(String(200), default="")  # shown to the patient
    patient_address: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(250), default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # encrypted
    code_check: Mapped[str] = mapped_column(String(64))  # HMAC of the code, keyed by the link
    failed_codes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    first_opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
