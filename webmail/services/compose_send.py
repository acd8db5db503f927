"""Sending what compose built: SMTP submission with the person's own login, then the
copy in Sent, the draft removed and the original marked answered or forwarded.

A refused or unreachable server never loses the message: the draft is saved first and
the error says what happened, so the person can try again.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from email.headerregistry import Address
from typing import TypeVar

from flask import current_app
from flask_babel import gettext

from imap_bridge import drafts as imap_drafts
from imap_bridge import smtp
from imap_bridge.compose import Outgoing
from imap_bridge.connection import ServerSettings
from imap_bridge.errors import AuthenticationFailed, MailError, MailServerUnavailable
from imap_bridge.notice import build_notice
from webmail.models.base import utcnow
from webmail.services import compose_book, delegation, mail, patient_links
from webmail.services.access import MailboxAccess
from webmail.services.compose import (
    ComposeProblem,
    ComposeState,
    NewFile,
    SendFailed,
    SentMessage,
    build_outgoing,
    kept_files,
    save,
    serialise,
    stored_draft,
    within_limits,
)
from webmail.services.compose_folders import drafts_folder, run, sent_folder

log = logging.getLogger(__name__)
T = TypeVar("T")
_ENVID = re.compile(r"[\x21-\x2a\x2c-\x3c\x3e-\x7e]{1,100}")


def send(access: MailboxAccess, state: ComposeState, files: list[NewFile] = ()) -> SentMessage:
    """Send, then file the copy in Sent and remove the draft. On failure the draft is
    saved and SendFailed says what happened."""
    outgoing, raw, files = _prepare(access, state, files)
    identity = delegation.sender_identity(access)
    reports_id = envelope_id(outgoing.message_id) if state.delivery_receipt else None
    envelope = smtp.Envelope(identity.envelope_from, outgoing.recipients, reports_id)
    try:
        submitted = smtp.submit(smtp_settings(), access.credentials(), envelope, raw)
    except (MailServerUnavailable, AuthenticationFailed, smtp.SubmissionRefused,
            smtp.RecipientsRefused) as error:
        log.warning("send failed for %s: %s", access.mailbox, type(error).__name__)
        raise _failed(access, state, files, error) from error
    return _after_send(access, state, outgoing, raw, submitted)


def send_secure_link(access: MailboxAccess, state: ComposeState, files: list[NewFile],
                     link_url: Callable[[str], str]) -> SentMessage:
    """Keep the message for one patient behind a secure link, then email them the link
    and, separately, the one-time code (neither email holds any health data). The copy in
    Sent is the message itself. If either email cannot be sent, the link is withdrawn
    and the draft kept, as for any failed send."""
    outgoing, raw, files = _prepare(access, state, files, patient=True)
    patient = outgoing.recipients[0]
    identity = delegation.sender_identity(access)
    new = patient_links.create(access.mailbox, access.actor, identity.from_name, patient, raw,
                               outgoing.message_id)
    sender = Address(identity.from_name, addr_spec=identity.from_address)
    on_behalf = Address(identity.sender_name, addr_spec=identity.sender_address) \
        if identity.sender_address else None
    envelope = smtp.Envelope(identity.envelope_from, (patient,), None)
    try:
        for subject, body in patient_links.emails(new, identity.from_name
                                                  or identity.from_address,
                                                  link_url(new.url_token)):
            message = build_notice(sender, patient, subject, body, utcnow(), on_behalf)
            submitted = smtp.submit(smtp_settings(), access.credentials(), envelope, message)
    except (MailServerUnavailable, AuthenticationFailed, smtp.SubmissionRefused,
            smtp.RecipientsRefused) as error:
        log.warning("secure link not sent for %s: %s", access.mailbox, type(error).__name__)
        patient_links.withdraw(new.link)
        raise _failed(access, state, files, error) from error
    return _after_send(access, state, outgoing, raw, submitted)


def _prepare(access: MailboxAccess, state: ComposeState, files: list[NewFile],
             patient: bool = False) -> tuple[Outgoing, bytes, list[NewFile]]:
    """The message as it will leave, or ComposeProblem with the uploads kept in the draft."""
    stored = stored_draft(access, state.draft_uid) if state.draft_uid is not None else None
    kept = kept_files(stored, ())
    files = within_limits(state, kept, list(files))
    try:
        if state.errors:
            raise ComposeProblem(state)
        outgoing = build_outgoing(access, state, stored, kept + files, for_draft=False)
        if not outgoing.recipients:
            state.errors["to"] = gettext("Add at least one recipient.")
            raise ComposeProblem(state)
        if patient and (len(outgoing.recipients) != 1 or outgoing.cc or outgoing.bcc):
            state.errors["to"] = gettext("A secure link goes to one patient at a time: put "
                                         "one address in To and none in Cc or Bcc.")
            raise ComposeProblem(state)
        raw = serialise(state, outgoing, with_bcc=False)
    except ComposeProblem as problem:
        raise ComposeProblem(_keep_uploads(access, problem.state, files)) from None
    return outgoing, raw, files


def smtp_settings() -> ServerSettings:
    config = current_app.config
    return ServerSettings(host=config["SMTP_HOST"], port=config["SMTP_PORT"],
                          security=config["SMTP_SECURITY"],
                          ca_file=config["TLS_CA_FILE"] or None,
                          timeout=max(60.0, float(config["IMAP_TIMEOUT"])))


def _after_send(access: MailboxAccess, state: ComposeState, outgoing: Outgoing, raw: bytes,
                submitted: smtp.Submitted) -> SentMessage:
    """The message is gone: every later step is best effort, each on its own."""
    sent_path = _best_effort("find Sent", access, lambda: sent_folder(access))
    sent_uid = None
    if sent_path is not None:
        sent_uid = _best_effort("file in Sent", access, lambda: run(
            access, lambda c: _file_sent(c, sent_path, raw, outgoing.message_id)))
    if state.draft_uid is not None:
        _best_effort("remove the draft", access, lambda: _remove_draft(access, state.draft_uid))
    _best_effort("mark the original", access, lambda: _mark_source(access, state, outgoing))
    mail.caches().folders.forget(lambda key: key == access.pool_key)
    compose_book.remember(access, [*outgoing.to, *outgoing.cc, *outgoing.bcc])
    return SentMessage(outgoing.recipients,
                       access.folder_name(sent_path) if sent_uid is not None else None,
                       sent_uid, submitted.delivery_reports)


def _best_effort(what: str, access: MailboxAccess, step: Callable[[], T]) -> T | None:
    try:
        return step()
    except MailError as error:
        log.warning("sent, but could not %s for %s: %s", what, access.mailbox, error)
        return None


def _remove_draft(access: MailboxAccess, uid: int) -> None:
    path = drafts_folder(access)
    run(access, lambda c: imap_drafts.delete(c, path, [uid]))


def _file_sent(client, folder: str, raw: bytes, message_id: str) -> int | None:
    if imap_drafts.server_files_sent_mail(client):
        found = imap_drafts.find_by_message_id(client, folder, message_id)
        return max(found) if found else None
    imap_drafts.ensure_folder(client, folder)
    return imap_drafts.append(client, folder, raw, imap_drafts.SENT_FLAGS, message_id)


def _mark_source(access: MailboxAccess, state: ComposeState, outgoing: Outgoing) -> None:
    source = state.source
    flag = b"$Forwarded" if source and source.mode == "forward" else b"\\Answered"
    if source is not None:
        path = access.folder_path(source.folder)
        run(access, lambda c: imap_drafts.add_flags(c, path, [source.uid], [flag]))
    elif outgoing.in_reply_to:
        inbox = access.folder_path("INBOX")
        run(access, lambda c: imap_drafts.add_flags(
            c, inbox, imap_drafts.find_by_message_id(c, inbox, outgoing.in_reply_to), [flag]))


def _keep_uploads(access: MailboxAccess, state: ComposeState,
                  files: list[NewFile]) -> ComposeState:
    """A send refused before submission must not lose the files that came with it: they
    go into the draft (which tolerates what sending refuses), and the errors stay."""
    if not files:
        return state
    try:
        saved = save(access, replace(state, errors={}), files)
    except (MailError, ComposeProblem):
        return state
    return replace(saved, errors={**saved.errors, **state.errors})


def _failed(access: MailboxAccess, state: ComposeState, files: list[NewFile],
            error: Exception) -> SendFailed:
    message = _send_error(error)
    try:
        saved = save(access, state, files)
    except (MailError, ComposeProblem):
        return SendFailed(message + " " + gettext("The draft could not be saved either: "
                                                  "copy your text before leaving."), state)
    return SendFailed(message + " " + gettext("Your message was saved in Drafts; you can "
                                              "try again."), saved)


def _send_error(error: Exception) -> str:
    if isinstance(error, smtp.RecipientsRefused):
        return gettext("The mail server refused these recipients: %(list)s. Nothing was sent.",
                       list=", ".join(error.refused))
    if isinstance(error, smtp.SenderRefused):
        return gettext("The mail server does not let you send from this address. Nothing "
                       "was sent.")
    if isinstance(error, smtp.SubmissionRefused):
        return gettext("The mail server refused the message (%(reply)s). Nothing was sent.",
                       reply=f"{error.code} {error.reply}")
    if isinstance(error, AuthenticationFailed):
        return gettext("The mail server refused your sign-in for sending. Nothing was sent.")
    return gettext("The sending server cannot be reached. Nothing was sent.")


def envelope_id(message_id: str) -> str:
    """The DSN envelope id of a message: its Message-ID's inside when that is valid xtext
    without escapes, so reports can be matched to the Sent copy without storing anything."""
    inner = message_id.strip("<>")
    return inner if _ENVID.fullmatch(inner) else secrets.token_hex(16)


