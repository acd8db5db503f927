"""Receipts around a message: sending a read receipt when one is asked for (only ever on
the reader's click), and showing the delivery reports and receipts a sent message got."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import request
from flask_babel import gettext

from imap_bridge import drafts as imap_drafts
from imap_bridge import messages as imap_messages
from imap_bridge import smtp
from imap_bridge.errors import AuthenticationFailed, MailError, MailServerUnavailable
from imap_bridge.mime import parse_message
from imap_bridge.models import Address, ParsedMessage
from imap_bridge.receipts import (
    Report,
    build_read_receipt,
    parse_report,
    receipt_request,
    receipt_request_from_headers,
)
from webmail.services import delegation
from webmail.services.access import MailboxAccess
from webmail.services.compose_folders import run, sent_folder
from webmail.services.compose_send import envelope_id, smtp_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceiptOffer:
    notify_to: Address
    address_differs: bool
    already_sent: bool


@dataclass(frozen=True)
class RecipientReceipt:
    recipient: str
    state: str  # delivered, relayed, delayed, failed, read
    kind: str  # "delivery" or "read"


class ReceiptFailed(Exception):
    """The receipt could not be sent; the message says why, already translated."""


def offer(access: MailboxAccess, folder: str, message: ParsedMessage) -> ReceiptOffer | None:
    """What the message view offers when the sender asked for a read receipt."""
    asked = receipt_request_from_headers(list(message.headers))
    if asked is None:
        return None
    path = access.folder_path(folder)
    try:
        flags = run(access, lambda c: imap_drafts.get_flags(c, path, message.uid))
    except MailError:
        flags = ()
    return ReceiptOffer(asked.notify_to, asked.address_differs,
                        imap_drafts.MDN_SENT in flags)


def send_read_receipt(access: MailboxAccess, folder: str, uid: int) -> str:
    """Send an RFC 8098 receipt for a stored message, once; returns the address it went to."""
    path = access.folder_path(folder)
    raw = run(access, lambda c: imap_messages.fetch_raw(c, path, uid))
    asked = receipt_request(raw)
    if asked is None:
        raise ReceiptFailed(gettext("This message does not ask for a read receipt."))
    flags = run(access, lambda c: imap_drafts.get_flags(c, path, uid))
    if imap_drafts.MDN_SENT in flags:
        return asked.notify_to.email
    identity = delegation.sender_identity(access)
    subject = parse_message(uid, raw).subject
    receipt = build_read_receipt(
        asked, from_=Address(identity.from_name, identity.from_address),
        subject=gettext("Read: %(subject)s", subject=subject)[:900],
        human_text=gettext("Your message to %(address)s was displayed. This does not "
                           "mean it was read or understood.", address=identity.from_address),
        reporting_host=request.host.split(":")[0] or "pli")
    envelope = smtp.Envelope("", (asked.notify_to.email,))  # RFC 8098 §2.1: null sender
    try:
        smtp.submit(smtp_settings(), access.credentials(), envelope, receipt)
    except (MailServerUnavailable, AuthenticationFailed, smtp.SubmissionRefused,
            smtp.RecipientsRefused) as error:
        log.warning("read receipt failed for %s: %s", access.mailbox, type(error).__name__)
        raise ReceiptFailed(gettext("The read receipt could not be sent. Please try again "
                                    "later.")) from error
    run(access, lambda c: imap_drafts.add_flags(c, path, [uid], [imap_drafts.MDN_SENT]))
    return asked.notify_to.email


def receipts_for(access: MailboxAccess, folder: str, message: ParsedMessage
                 ) -> list[RecipientReceipt] | None:
    """The delivery reports and read receipts that came back for a message of the Sent
    folder (None elsewhere): looked up in INBOX, matched by envelope id or Message-ID."""
    if not message.message_id or not _is_sent_folder(access, folder):
        return None
    since = (message.date or datetime.now()).date() - timedelta(days=1)
    inbox = access.folder_path("INBOX")
    try:
        reports = run(access, lambda c: imap_drafts.recent_reports(c, inbox, since))
    except MailError:
        return None
    wanted_id = message.message_id.strip()
    wanted_envelope = envelope_id(wanted_id)
    latest: dict[tuple[str, str], RecipientReceipt] = {}
    for raw in reversed(reports):  # oldest first, so later reports win
        report = parse_report(raw)
        if report is None or not _matches(report, wanted_id, wanted_envelope):
            continue
        for status in report.recipients:
            state = "read" if report.kind == "read" else status.action
            key = (status.recipient.lower(), report.kind)
            latest[key] = RecipientReceipt(status.recipient, state, report.kind)
    return sorted(latest.values(), key=lambda r: (r.recipient.lower(), r.kind))


def _matches(report: Report, message_id: str, envelope: str) -> bool:
    return report.envelope_id == envelope or message_id in report.message_ids


def _is_sent_folder(access: MailboxAccess, folder: str) -> bool:
    try:
        return access.folder_name(sent_folder(access)) == folder
    except MailError:
        return False

