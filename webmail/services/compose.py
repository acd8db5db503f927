"""Writing mail: new messages, replies and forwards, drafts kept in IMAP, sending by SMTP.

The draft in the mailbox's Drafts folder is the only place a message being written is
stored, attachments included: nothing lands on the web server's disk. Threading headers
and kept X-MSS-* fields always come from stored messages (the original, or our own
draft), never from the form. A send that fails saves the draft, so nothing is lost.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace

from flask import current_app
from flask_babel import format_datetime, gettext

from imap_bridge import drafts as imap_drafts
from imap_bridge import messages as imap_messages
from imap_bridge.compose import (
    MAX_SUBJECT,
    ComposeError,
    Outgoing,
    OutgoingAttachment,
    build_message,
    clean_body,
    forward_subject,
    header_text,
    kept_mss_headers,
    message_ids,
    new_message_id,
    parse_address_list,
    quote,
    references_for,
    reply_subject,
)
from imap_bridge.errors import MailError, MailServerUnavailable
from imap_bridge.mime import get_part, parse_message
from imap_bridge.models import Address, Attachment, ParsedMessage
from webmail.services import compose_book, compose_text, delegation, mail
from webmail.services.access import MailboxAccess
from webmail.services.compose_folders import drafts_folder, run

log = logging.getLogger(__name__)
MAX_RECIPIENTS = 100
MAX_ATTACHMENTS = 50
MAX_BODY_CHARS = 1_000_000
MODES = ("new", "reply", "reply_all", "forward")
_OPTIONS = "X-Pli-Draft-Options"  # draft-only: what the form asked for beyond headers
_UNCHECKED = {"to": "X-Pli-Draft-To", "cc": "X-Pli-Draft-Cc", "bcc": "X-Pli-Draft-Bcc"}


@dataclass(frozen=True)
class Source:
    """The message replied to or forwarded (plain folder name, as in URLs)."""

    mode: str
    folder: str
    uid: int


@dataclass
class ComposeState:
    """The form as the person left it, plus where its draft is."""

    to: str = ""
    cc: str = ""
    bcc: str = ""
    subject: str = ""
    body: str = ""
    rich: bool = False
    read_receipt: bool = False
    delivery_receipt: bool = False
    patient_link: bool = False  # send as a secure link to a patient (patient_links.py)
    draft_uid: int | None = None
    source: Source | None = None
    attachments: tuple[Attachment, ...] = ()
    saved: bool = False
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NewFile:
    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class SentMessage:
    recipients: tuple[str, ...]
    sent_folder: str | None
    sent_uid: int | None
    delivery_reports: bool


class ComposeProblem(Exception):
    """The form cannot be sent (or saved) as it is; `state.errors` says why, per field."""

    def __init__(self, state: ComposeState) -> None:
        super().__init__(", ".join(state.errors))
        self.state = state


class SendFailed(Exception):
    """The server did not take the message; the draft was saved (when it could be)."""

    def __init__(self, message: str, state: ComposeState) -> None:
        super().__init__(message)
        self.message = message
        self.state = state


@dataclass(frozen=True)
class _Stored:
    raw: bytes
    parsed: ParsedMessage

    def header(self, name: str) -> str:
        return next((v for k, v in self.parsed.headers if k.lower() == name.lower()), "")


# --- Starting points ------------------------------------------------------------------

def blank(access: MailboxAccess, to: str = "") -> ComposeState:
    to = to if len(to) < 2000 and not re.search("[\r\n\x00]", to) else ""
    return ComposeState(to=to, body=compose_text.with_signature("", compose_book.signature(
        access)))


def answer(access: MailboxAccess, folder: str, uid: int, mode: str,
           original: _Stored | None = None) -> ComposeState:
    """A reply, reply-all or inline forward of a stored message (not saved yet)."""
    parsed = (original or _original(access, folder, uid)).parsed
    signature = compose_book.signature(access)
    state = ComposeState(source=Source(mode, folder, uid))
    if mode == "forward":
        state.subject = forward_subject(parsed.subject)
        intro = gettext("-------- Forwarded message --------")
        lines = [intro, gettext("Subject: %(s)s", s=parsed.subject),
                 gettext("Date: %(d)s", d=_when(parsed)),
                 gettext("From: %(a)s", a=compose_text.format_addresses(parsed.from_)),
                 gettext("To: %(a)s", a=compose_text.format_addresses(parsed.to))]
        quoted = "\n".join(lines) + "\n\n" + clean_body(parsed.text_body or "")
    else:
        state.subject = reply_subject(parsed.subject)
        to, cc = _reply_recipients(access, parsed, everyone=mode == "reply_all")
        state.to, state.cc = compose_text.format_addresses(to), compose_text.format_addresses(cc)
        author = compose_text.format_addresses(parsed.from_[:1]) or gettext("someone")
        quoted = gettext("On %(date)s, %(author)s wrote:", date=_when(parsed), author=author)
        quoted += "\n" + quote(parsed.text_body or "")
    state.body = compose_text.with_signature("", signature) + "\n" + quoted + "\n"
    return state


def forward_with_attachments(access: MailboxAccess, folder: str, uid: int) -> ComposeState:
    """A forward carrying the original's attachments: saved as a draft at once, so the
    files go from the original into the draft without passing through the browser."""
    original = _original(access, folder, uid)
    state = answer(access, folder, uid, "forward", original)
    files = [NewFile(part.filename, data) for part, data in
             (get_part(original.raw, a.part_id) for a in original.parsed.attachments)]
    return save(access, state, files, copy_mss_from=original)


def open_draft(access: MailboxAccess, uid: int) -> ComposeState:
    stored = stored_draft(access, uid)
    parsed = stored.parsed
    state = ComposeState(draft_uid=uid, subject=parsed.subject, saved=True,
                         attachments=_files(parsed))
    state.to = stored.header(_UNCHECKED["to"]) or compose_text.format_addresses(parsed.to)
    state.cc = stored.header(_UNCHECKED["cc"]) or compose_text.format_addresses(parsed.cc)
    state.bcc = stored.header(_UNCHECKED["bcc"]) or stored.header("bcc")
    state.body = clean_body(parsed.text_body or "")
    state.rich = parsed.html_body is not None
    state.read_receipt = bool(stored.header("disposition-notification-to"))
    state.delivery_receipt = "delivery-receipt" in stored.header(_OPTIONS)
    return state


# --- Saving and sending -----------------------------------------------------------------

def save(access: MailboxAccess, state: ComposeState, files: list[NewFile] = (),
         remove: tuple[str, ...] = (), copy_mss_from: _Stored | None = None) -> ComposeState:
    """Store the form as the new version of its draft, with attachments added or removed.
    Files over the limits are refused (said in `errors`), the text is saved anyway."""
    state = replace(state, errors=dict(state.errors))
    stored = None
    if state.draft_uid is not None:
        try:
            stored = stored_draft(access, state.draft_uid)
        except MailError:
            state.errors["attachments"] = gettext(
                "The previous version of this draft was no longer in Drafts (changed in "
                "another window?). Your text was saved as a new draft.")
    kept = kept_files(stored, remove)
    files = within_limits(state, kept, list(files))
    outgoing = build_outgoing(access, state, stored, kept + files, for_draft=True,
                              mss_from=copy_mss_from)
    raw = serialise(state, outgoing, with_bcc=True)
    folder = drafts_folder(access)
    uid = run(access, lambda c: imap_drafts.save_draft(
        c, folder, raw, outgoing.message_id,
        replaces=state.draft_uid if stored is not None else None))
    mail.caches().folders.forget(lambda key: key == access.pool_key)
    if uid is None:
        raise MailServerUnavailable("the draft was stored but could not be found again")
    return replace(state, draft_uid=uid, saved=True,
                   attachments=_files(parse_message(uid, raw)))


def discard(access: MailboxAccess, uid: int) -> None:
    folder = drafts_folder(access)
    stored_draft(access, uid)  # only ever a draft
    run(access, lambda c: imap_drafts.delete(c, folder, [uid]))
    mail.caches().folders.forget(lambda key: key == access.pool_key)


def identity_label(access: MailboxAccess) -> str:
    identity = delegation.sender_identity(access)
    label = str(Address(identity.from_name, identity.from_address))
    if identity.sender_address:
        return gettext("%(owner)s, sent by %(sender)s", owner=label,
                       sender=str(Address(identity.sender_name, identity.sender_address)))
    return label


# --- Helpers ----------------------------------------------------------------------------

def build_outgoing(access: MailboxAccess, state: ComposeState, stored: _Stored | None,
                   files: list[NewFile], *, for_draft: bool,
                   mss_from: _Stored | None = None) -> Outgoing:
    identity = delegation.sender_identity(access)
    errors = state.errors
    recipients: dict[str, tuple[Address, ...]] = {}
    unchecked = []
    for name in ("to", "cc", "bcc"):
        try:
            recipients[name] = parse_address_list(getattr(state, name), name, MAX_RECIPIENTS)
        except ComposeError as error:
            recipients[name] = ()
            if for_draft and error.reason != "line-break":
                unchecked.append((_UNCHECKED[name], getattr(state, name)))
            else:
                errors[name] = _problem(error)
    if sum(len(found) for found in recipients.values()) > MAX_RECIPIENTS and not for_draft:
        errors["to"] = gettext("At most %(n)s recipients per message.", n=MAX_RECIPIENTS)
    try:
        header_text(state.subject, "subject", MAX_SUBJECT)
    except ComposeError as error:
        errors["subject"] = _problem(error)
    if len(state.body) > MAX_BODY_CHARS:
        errors["body"] = gettext("The text is too long.")
    if any(name in errors for name in ("to", "cc", "bcc", "subject", "body")):
        raise ComposeProblem(state)
    thread = stored or (_original(access, state.source.folder, state.source.uid)
                        if state.source and state.source.mode != "forward" else None)
    in_reply_to, references = _threading(thread, is_draft=thread is stored)
    names = [f.filename.upper() for f in files]
    mss_source = mss_from or stored
    mss = kept_mss_headers(list(mss_source.parsed.headers) if mss_source else [],
                           with_documents="IHE_XDM.ZIP" in names)
    options = ("delivery-receipt",) if state.delivery_receipt else ()
    extra = list(mss) + ([(_OPTIONS, " ".join(options))] if for_draft and options else [])
    from_ = Address(identity.from_name, identity.from_address)
    return Outgoing(
        from_=from_, subject=state.subject, text=state.body,
        to=recipients["to"], cc=recipients["cc"], bcc=recipients["bcc"],
        sender=Address(identity.sender_name, identity.sender_address)
        if identity.sender_address else None,
        html=compose_text.rich_html(state.body) if state.rich else None,
        attachments=tuple(OutgoingAttachment(f.filename, "", f.data) for f in files),
        message_id=_stored_id(stored) or new_message_id(from_.email),
        in_reply_to=in_reply_to, references=references,
        read_receipt_to=from_ if state.read_receipt else None,
        extra_headers=tuple(extra + (unchecked if for_draft else [])),
    )


def _threading(thread: _Stored | None, is_draft: bool) -> tuple[str | None, tuple[str, ...]]:
    if thread is None:
        return None, ()
    if is_draft:  # our own draft already holds the right values
        ids = message_ids(thread.header("in-reply-to"))
        return (ids[0] if ids else None), message_ids(thread.header("references"))
    parent = message_ids(thread.header("message-id"))
    refs = references_for(thread.header("message-id"), thread.header("references"),
                          thread.header("in-reply-to"))
    return (parent[0] if parent else None), refs


def _stored_id(stored: _Stored | None) -> str:
    ids = message_ids(stored.header("message-id")) if stored is not None else ()
    return ids[0] if ids else ""


def serialise(state: ComposeState, outgoing: Outgoing, with_bcc: bool) -> bytes:
    try:
        return build_message(outgoing, with_bcc=with_bcc)
    except ComposeError as error:
        state.errors[error.field if error.field in ("to", "cc", "bcc", "subject") else "body"] \
            = _problem(error)
        raise ComposeProblem(state) from error


def within_limits(state: ComposeState, kept: list[NewFile], files: list[NewFile]
                   ) -> list[NewFile]:
    limit = current_app.config["MAX_MESSAGE_BYTES"]
    total = sum(len(f.data) for f in kept)
    accepted = []
    for item in files:
        if len(kept) + len(accepted) >= MAX_ATTACHMENTS:
            state.errors["attachments"] = gettext(
                "At most %(n)s attachments per message.", n=MAX_ATTACHMENTS)
            break
        if total + len(item.data) > limit:
            state.errors["attachments"] = gettext(
                "“%(name)s” was not attached: attachments are limited to %(limit)s per "
                "message.", name=item.filename, limit=size_label(limit))
            continue
        total += len(item.data)
        accepted.append(item)
    return accepted


def size_label(size: int) -> str:
    from webmail.template_filters import file_size

    return file_size(size)


def kept_files(stored: _Stored | None, remove: tuple[str, ...]) -> list[NewFile]:
    if stored is None:
        return []
    kept = []
    for attachment in stored.parsed.attachments:
        if attachment.part_id not in remove:
            _, data = get_part(stored.raw, attachment.part_id)
            kept.append(NewFile(attachment.filename, data))
    return kept


def _files(parsed: ParsedMessage) -> tuple[Attachment, ...]:
    return parsed.attachments


def stored_draft(access: MailboxAccess, uid: int) -> _Stored:
    folder = drafts_folder(access)
    raw = run(access, lambda c: imap_drafts.fetch_draft(c, folder, uid))
    return _Stored(raw, parse_message(uid, raw))


def _original(access: MailboxAccess, folder: str, uid: int) -> _Stored:
    path = access.folder_path(folder)
    raw = run(access, lambda c: imap_messages.fetch_raw(c, path, uid))
    return _Stored(raw, parse_message(uid, raw))


def _reply_recipients(access: MailboxAccess, parsed: ParsedMessage, everyone: bool
                      ) -> tuple[list[Address], list[Address]]:
    own = {access.mailbox.lower(), access.actor.lower()}
    to = list(parsed.reply_to or parsed.from_)
    cc: list[Address] = []
    if everyone:
        cc = [a for a in (*parsed.to, *parsed.cc) if a.email.lower() not in own]
    if all(a.email.lower() in own for a in to) and parsed.to:  # replying to one's own mail
        to = [a for a in parsed.to if a.email.lower() not in own] or to
    seen = {a.email.lower() for a in to}
    cc = [a for a in cc if not (a.email.lower() in seen or seen.add(a.email.lower()))]
    return to, cc


def _when(parsed: ParsedMessage) -> str:
    return format_datetime(parsed.date, "medium") if parsed.date else "?"


def _problem(error: ComposeError) -> str:
    if error.reason == "line-break":
        return gettext("Line breaks and null characters are not allowed here.")
    if error.reason == "too-many":
        return gettext("At most %(n)s recipients per message.", n=MAX_RECIPIENTS)
    return gettext("“%(value)s” is not a valid address.", value=error.value[:200])

