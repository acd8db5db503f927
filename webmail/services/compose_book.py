"""What compose remembers: a signature per identity, and recent correspondents for
address suggestions (the last few hundred per mailbox, nothing older)."""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from imap_bridge.models import Address
from webmail.db import db
from webmail.models import RecentCorrespondent, Signature
from webmail.models.base import utcnow
from webmail.services.access import MailboxAccess

MAX_SIGNATURE_CHARS = 2000
KEEP_CORRESPONDENTS = 300
SUGGESTIONS = 8


def signature(access: MailboxAccess) -> str:
    """The signature of the person writing, for the mailbox they write from."""
    return db.session.scalar(select(Signature.text).where(
        Signature.actor == access.actor, Signature.identity == access.mailbox)) or ""


def save_signature(access: MailboxAccess, text: str) -> None:
    text = text.replace("\r\n", "\n").replace("\r", "\n")[:MAX_SIGNATURE_CHARS]
    row = db.session.scalar(select(Signature).where(
        Signature.actor == access.actor, Signature.identity == access.mailbox))
    if row is None:
        row = Signature(actor=access.actor, identity=access.mailbox)
        db.session.add(row)
    row.text = text
    row.updated_at = utcnow()
    db.session.commit()


def remember(access: MailboxAccess, addresses: list[Address]) -> None:
    """Count these recipients as used now; forget the oldest beyond the bound."""
    now = utcnow()
    for address in {a.email.lower(): a for a in addresses}.values():
        row = db.session.scalar(select(RecentCorrespondent).where(
            RecentCorrespondent.mailbox == access.mailbox,
            RecentCorrespondent.address == address.email.lower()))
        if row is None:
            row = RecentCorrespondent(mailbox=access.mailbox, address=address.email.lower(),
                                      uses=0)
            db.session.add(row)
        row.uses = (row.uses or 0) + 1
        row.last_used_at = now
        if address.name:
            row.name = address.name[:200]
        elif row.name is None:
            row.name = ""
    try:
        db.session.commit()
    except IntegrityError:  # the same address remembered by a concurrent send
        db.session.rollback()
        return
    _trim(access.mailbox)


def suggestions(access: MailboxAccess, query: str) -> list[Address]:
    """Recent correspondents whose address or name contains the query, most recent first."""
    query = query.strip().lower()[:100]
    if len(query) < 1:
        return []
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = db.session.scalars(
        select(RecentCorrespondent)
        .where(RecentCorrespondent.mailbox == access.mailbox,
               or_(RecentCorrespondent.address.like(pattern, escape="\\"),
                   func.lower(RecentCorrespondent.name).like(pattern, escape="\\")))
        .order_by(RecentCorrespondent.last_used_at.desc())
        .limit(SUGGESTIONS))
    return [Address(name=row.name or "", email=row.address) for row in rows]


def _trim(mailbox: str) -> None:
    cutoff = db.session.scalar(
        select(RecentCorrespondent.last_used_at)
        .where(RecentCorrespondent.mailbox == mailbox)
        .order_by(RecentCorrespondent.last_used_at.desc())
        .offset(KEEP_CORRESPONDENTS).limit(1))
    if cutoff is not None:
        db.session.execute(delete(RecentCorrespondent).where(
            RecentCorrespondent.mailbox == mailbox,
            RecentCorrespondent.last_used_at <= cutoff))
        db.session.commit()
