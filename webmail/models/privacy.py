"""What the privacy notice promises to record: requests a person files, and cookie choices.

Privacy requests (erasure, restriction, objection, post-mortem directives) are filed by
the person and handled by an administrator; each keeps its status so both can follow it.
Consent records prove, for an optional cookie category, who chose what under which
version of the cookie policy, and when.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webmail.models.base import Base, UtcDateTime, utcnow


class PrivacyRequestKind(enum.StrEnum):
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    POST_MORTEM = "post_mortem"


class PrivacyRequestStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REFUSED = "refused"  # with a reason in `response` (e.g. a legal retention applies)
    WITHDRAWN = "withdrawn"  # by the person, while still pending


class PrivacyRequest(Base):
    __tablename__ = "privacy_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    address: Mapped[str] = mapped_column(String(320), index=True)  # kept for the admin list
    kind: Mapped[str] = mapped_column(String(20))  # a PrivacyRequestKind value
    details: Mapped[str] = mapped_column(Text, default="")  # the person's own words
    status: Mapped[str] = mapped_column(String(20), default=PrivacyRequestStatus.PENDING.value,
                                        index=True)
    response: Mapped[str] = mapped_column(Text, default="")  # the administrator's answer
    handled_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ConsentRecord(Base):
    """One choice about one optional cookie category; the newest per subject counts."""

    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The random id in the visitor's consent cookie: ties a choice to a browser without
    # needing a sign-in. Filled in `account_id` too when someone is signed in.
    subject: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True, index=True)
    category: Mapped[str] = mapped_column(String(40))
    granted: Mapped[bool] = mapped_column(Boolean)
    policy_version: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
