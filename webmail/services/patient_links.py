"""Secure links for patients: create, open with the one-time code, read, answer, revoke,
and forget them when they expire.

A professional writes to a patient's ordinary address. The patient receives a link (no
health data in that email) and, in a separate email, a six-digit code; the message opens
only with both (PGSSI-S asks two factors of patients). The link carries a random token
and the key that decrypts the stored message and checks the code, so neither the
database nor a leaked code alone reveals anything. Links expire (PLI_PATIENT_LINK_DAYS,
at most 28 days); five wrong codes lock one for good. Every open, failed code and answer
is traced in the professional's mailbox; the patient is named only by the link number,
and the counts are anonymous from the start.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.utils import make_msgid

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import force_locale, format_datetime, gettext
from sqlalchemy import delete, select, update

from imap_bridge.compose import check_address, message_ids, reply_subject
from imap_bridge.mime import parse_message
from imap_bridge.models import ParsedMessage
from imap_bridge.notice import build_answer, file_notice
from webmail.db import db
from webmail.models import PatientLink
from webmail.models.base import utcnow
from webmail.services import delegation_server, traces

MAX_DAYS = 28  # the longest a link may live (DOMAIN: at most four weeks)
MAX_FAILED_CODES = 5
MAX_REPLY = 20_000  # characters of an answer
PATIENT_ACTOR = "patient"  # how traces name the person who opened a link: never the address
MARKER = "X-Pli-Patient-Link"  # on answers Pli files: "<link number>; <signature>"


class LinkUnavailable(Exception):
    """Unknown, expired, revoked or locked: the patient is told the same in every case."""


class WrongCode(Exception):
    def __init__(self, attempts_left: int) -> None:
        super().__init__("wrong code")
        self.attempts_left = attempts_left


@dataclass(frozen=True)
class NewLink:
    link: PatientLink
    url_token: str  # goes in the link: the lookup token and the key, never stored
    code: str  # goes to the patient separately, never stored


@dataclass(frozen=True)
class OpenLink:
    link: PatientLink
    key: bytes


def link_days() -> int:
    return max(1, min(MAX_DAYS, int(current_app.config["PATIENT_LINK_DAYS"])))


def available() -> bool:
    """Answers are filed into the professional's INBOX with the master login."""
    return delegation_server.master_configured()


def create(mailbox: str, created_by: str, sender_name: str, patient_address: str, raw: bytes,
           message_id: str, now: datetime | None = None) -> NewLink:
    """Keep the message for the patient; returns what the two emails must carry."""
    now = now or utcnow()
    token = secrets.token_urlsafe(24)
    key = Fernet.generate_key()
    code = f"{secrets.randbelow(1_000_000):06d}"
    link = PatientLink(
        token_hash=_hash(token), mailbox=mailbox.lower(), created_by=created_by.lower(),
        sender_name=sender_name[:200],
        patient_address=patient_address.lower(), message_id=message_id[:250],
        content=Fernet(key).encrypt(raw), code_check=_code_check(key, code),
        failed_codes=0, replies=0, created_at=now,
        expires_at=now + timedelta(days=link_days()))
    db.session.add(link)
    db.session.commit()
    traces.record("patient_link_created", actor=created_by, mailbox=mailbox,
                  detail={"link": link.id, "days": link_days()})
    return NewLink(link, f"{token}.{key.decode()}", code)


def professional(link: PatientLink) -> str:
    """How the patient sees who wrote: the name and the address."""
    return f"{link.sender_name} <{link.mailbox}>" if link.sender_name else link.mailbox


def emails(new: NewLink, sender: str, url: str) -> list[tuple[str, str]]:
    """The two emails the patient receives, link first, then code: subjects and bodies
    that say who wrote and how to read, and nothing of what was written. In the
    service's default language, since the patient has chosen none."""
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        until = format_datetime(new.link.expires_at, "d MMMM y")
        link = (
            gettext("Secure message from %(name)s", name=sender),
            gettext("Hello,\n\n%(name)s has sent you a message through a secure health "
                    "messaging service.\n\nTo read it, open this link:\n%(url)s\n\n"
                    "You will be asked for an access code, sent to you in a separate "
                    "email. The link can be opened until %(date)s.\n\nThis email contains "
                    "no health information. If you were not expecting it, you can ignore "
                    "it.\n", name=sender, url=url, date=until))
        code = (
            gettext("Your access code for the message from %(name)s", name=sender),
            gettext("Hello,\n\nYour access code is: %(code)s\n\nType it on the page the "
                    "link in the other email opens. Do not share it.\n", code=new.code))
    return [link, code]


def withdraw(link: PatientLink) -> None:
    """Forget a link whose emails could not be sent (the send failed as a whole)."""
    db.session.delete(link)
    db.session.commit()


def find(url_token: str, now: datetime | None = None) -> OpenLink:
    """The live link a URL names, or LinkUnavailable."""
    token, _, key = url_token.partition(".")
    if not token or not key or len(url_token) > 200:
        raise LinkUnavailable("malformed")
    link = db.session.scalar(select(PatientLink).where(PatientLink.token_hash == _hash(token)))
    now = now or utcnow()
    if (link is None or link.content is None or link.revoked_at is not None
            or link.expires_at <= now or link.failed_codes >= MAX_FAILED_CODES):
        raise LinkUnavailable("not live")
    open_link = OpenLink(link, key.encode())
    try:
        Fernet(open_link.key)
    except ValueError:
        raise LinkUnavailable("bad key") from None
    return open_link


def check_code(open_link: OpenLink, code: str, ip: str | None,
               now: datetime | None = None) -> None:
    """Accept the one-time code, or count a failure (WrongCode, then LinkUnavailable)."""
    link = open_link.link
    typed = "".join(code.split())
    if hmac.compare_digest(_code_check(open_link.key, typed), link.code_check):
        first = link.first_opened_at is None
        if first:
            link.first_opened_at = now or utcnow()
        db.session.commit()
        traces.record("patient_link_opened", actor=PATIENT_ACTOR, mailbox=link.mailbox, ip=ip,
                      detail={"link": link.id, "first": first})
        return
    # One statement, so two tabs guessing at once cannot both get the last attempt.
    db.session.execute(update(PatientLink).where(PatientLink.id == link.id)
                       .values(failed_codes=PatientLink.failed_codes + 1))
    db.session.commit()
    db.session.refresh(link)
    traces.record("patient_link_code_failed", actor=PATIENT_ACTOR, mailbox=link.mailbox, ip=ip,
                  detail={"link": link.id, "failures": link.failed_codes})
    left = MAX_FAILED_CODES - link.failed_codes
    if left <= 0:
        raise LinkUnavailable("locked")
    raise WrongCode(left)


def message(open_link: OpenLink) -> tuple[ParsedMessage, bytes]:
    """The message as sent, decoded for display (and raw, for attachments)."""
    try:
        raw = Fernet(open_link.key).decrypt(open_link.link.content)
    except InvalidToken:
        raise LinkUnavailable("the key does not open this message") from None
    return parse_message(0, raw), raw


def reply(open_link: OpenLink, text: str, ip: str | None, now: datetime | None = None) -> None:
    """File the patient's answer in the professional's INBOX, threaded under the message.
    Raises ValueError for an empty or oversized answer."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ValueError("empty")
    if len(text) > MAX_REPLY:
        raise ValueError("too long")
    link = open_link.link
    parsed, _ = message(open_link)
    now = now or utcnow()
    parent = next(iter(message_ids(link.message_id)), None)
    message_id = make_msgid(domain=link.mailbox.rpartition("@")[2] or None)
    raw = build_answer(Address(addr_spec=check_address(link.patient_address, "to")),
                       link.mailbox, reply_subject(parsed.subject), text, now, parent,
                       message_id, f"{link.id}; {_marker_signature(link.id, message_id)}")
    delegation_server.master_runner(link.mailbox)(
        lambda client: file_notice(client, "INBOX", raw, now))
    db.session.execute(update(PatientLink).where(PatientLink.id == link.id)
                       .values(replies=PatientLink.replies + 1))
    db.session.commit()
    traces.record("patient_link_replied", actor=PATIENT_ACTOR, mailbox=link.mailbox, ip=ip,
                  detail={"link": link.id})


def answer_link(message: ParsedMessage) -> int | None:
    """The link number an answer in a mailbox came through, if Pli filed it: the marker
    is signed with the service's key, so mail from elsewhere cannot pretend to be one."""
    values = [value for name, value in message.headers if name.lower() == MARKER.lower()]
    if len(values) != 1 or not message.message_id:
        return None
    number, _, signature = values[0].partition(";")
    if not number.strip().isdigit():
        return None
    expected = _marker_signature(int(number), message.message_id)
    return int(number) if hmac.compare_digest(signature.strip(), expected) else None


def for_mailbox(mailbox: str) -> list[PatientLink]:
    """The links sent from a mailbox, newest first (expired ones until they are purged)."""
    return list(db.session.scalars(select(PatientLink)
                                   .where(PatientLink.mailbox == mailbox.lower())
                                   .order_by(PatientLink.created_at.desc(),
                                             PatientLink.id.desc())))


def revoke(mailbox: str, link_id: int, actor: str, now: datetime | None = None) -> bool:
    """Close a link at once (wrong address, sent too early); its content is erased."""
    link = db.session.get(PatientLink, link_id)
    if link is None or link.mailbox != mailbox.lower() or link.revoked_at is not None:
        return False
    link.revoked_at = now or utcnow()
    link.content = None
    db.session.commit()
    traces.record("patient_link_revoked", actor=actor, mailbox=mailbox,
                  detail={"link": link.id})
    return True


def purge(now: datetime, keep_days: int, dry_run: bool = False) -> tuple[int, int]:
    """At expiry the message goes; `keep_days` later the rest of the row (the patient's
    address, the status the professional saw). Returns (emptied, deleted)."""
    ended = (PatientLink.expires_at <= now) & PatientLink.content.is_not(None)
    old = PatientLink.expires_at <= now - timedelta(days=keep_days)
    if dry_run:
        return (len(db.session.scalars(select(PatientLink.id).where(ended)).all()),
                len(db.session.scalars(select(PatientLink.id).where(old)).all()))
    emptied = db.session.execute(update(PatientLink).where(ended).values(content=None)).rowcount
    deleted = db.session.execute(delete(PatientLink).where(old)).rowcount
    db.session.commit()
    return emptied, deleted


def status(link: PatientLink, now: datetime | None = None) -> str:
    """"revoked", "locked", "expired", "answered", "opened" or "waiting"."""
    now = now or utcnow()
    if link.revoked_at is not None:
        return "revoked"
    if link.failed_codes >= MAX_FAILED_CODES:
        return "locked"
    if link.expires_at <= now:
        return "expired"
    if link.replies:
        return "answered"
    return "opened" if link.first_opened_at is not None else "waiting"


def _marker_signature(link_id: int, message_id: str) -> str:
    key = hashlib.sha256(b"pli patient answer\0" + current_app.secret_key.encode()).digest()
    return hmac.new(key, f"{link_id}:{message_id}".encode(), hashlib.sha256).hexdigest()


def _code_check(key: bytes, code: str) -> str:
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

