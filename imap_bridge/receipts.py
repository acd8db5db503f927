"""Read receipts (MDN, RFC 8098) and delivery reports (DSN, RFC 3464).

A receipt is only ever built when the reader asks for it; reports that come back are
parsed defensively (they arrive from other servers) into a few plain values.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesHeaderParser
from email.utils import format_datetime

from imap_bridge.compose import (
    SMTP_POLICY,
    check_address,
    header_text,
    mail_address,
    message_ids,
    new_message_id,
    parse_address_list,
    verify_headers,
)
from imap_bridge.headers import one_line, parse_addresses, parse_date
from imap_bridge.models import Address

MAX_REPORT_PARTS = 10
MAX_RECIPIENTS = 50
_ACTIONS = ("delivered", "relayed", "expanded", "delayed", "failed")


@dataclass(frozen=True)
class ReceiptRequest:
    """A received message's request for a read receipt (Disposition-Notification-To)."""

    notify_to: Address
    return_path: str  # the envelope sender Dovecot recorded, "" when absent
    original_message_id: str | None
    original_recipient: str | None

    @property
    def address_differs(self) -> bool:
        """RFC 8098 §2.1: never answer silently when the receipt goes somewhere else than
        the message came from."""
        return self.notify_to.email.lower() != self.return_path.lower()


@dataclass(frozen=True)
class RecipientStatus:
    recipient: str
    action: str  # delivered, relayed, expanded, delayed, failed, or for an MDN: displayed…
    status: str = ""  # the RFC 3463 code, e.g. 5.1.1


@dataclass(frozen=True)
class Report:
    """A returned delivery report or read receipt, reduced to what a sent message shows."""

    kind: str  # "delivery" or "read"
    envelope_id: str | None
    message_ids: tuple[str, ...]  # of the original message, as the report names it
    recipients: tuple[RecipientStatus, ...]
    date: datetime | None


def receipt_request(raw: bytes) -> ReceiptRequest | None:
    """Whether and where a received message asks for a read receipt."""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    return receipt_request_from_headers([(k, str(v)) for k, v in headers.items()])


def receipt_request_from_headers(headers: list[tuple[str, str]]) -> ReceiptRequest | None:
    """The same, from (name, value) pairs already read (the first of each name counts)."""
    fields: dict[str, str] = {}
    for name, value in headers:
        fields.setdefault(name.lower(), str(value)[:2000])
    asked = parse_addresses(fields.get("disposition-notification-to", ""), limit=1)
    if not asked or "@" not in asked[0].email:
        return None
    return_path = parse_addresses(fields.get("return-path", ""), limit=1)
    original_recipient = fields.get("original-recipient", "").partition(";")[2].strip()
    return ReceiptRequest(
        notify_to=asked[0],
        return_path=return_path[0].email if return_path else "",
        original_message_id=next(iter(message_ids(fields.get("message-id", ""))), None),
        original_recipient=original_recipient if "@" in original_recipient else None,
    )


def build_read_receipt(request: ReceiptRequest, *, from_: Address, subject: str,
                       human_text: str, reporting_host: str) -> bytes:
    """RFC 8098 §3: multipart/report with a readable part and the machine-readable one;
    sent by a person's click, so the disposition says manual-action/MDN-sent-manually."""
    to = parse_address_list(str(request.notify_to), "to", limit=1)
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["From"] = mail_address(from_)
    msg["To"] = [mail_address(a) for a in to]
    msg["Subject"] = header_text(subject, "subject", 998)
    msg["Message-ID"] = new_message_id(from_.email)
    if request.original_message_id:
        msg["References"] = request.original_message_id
    msg.set_content(human_text)
    msg.make_mixed()
    fields = [f"Reporting-UA: {header_text(reporting_host, 'host', 200)}; Pli"]
    if request.original_recipient:
        fields.append(f"Original-Recipient: rfc822;"
                      f"{check_address(request.original_recipient, 'recipient')}")
    fields.append(f"Final-Recipient: rfc822;{check_address(from_.email, 'from')}")
    if request.original_message_id:
        fields.append(f"Original-Message-ID: {request.original_message_id}")
    fields.append("Disposition: manual-action/MDN-sent-manually; displayed")
    part = MIMEPart(policy=SMTP_POLICY)
    part.set_content(("\r\n".join(fields) + "\r\n").encode("ascii"), maintype="message",
                     subtype="disposition-notification", cte="7bit")
    msg.attach(part)
    msg.set_param("report-type", "disposition-notification")
    msg.set_type("multipart/report")
    raw = msg.as_bytes(policy=SMTP_POLICY)
    verify_headers(raw, [name.lower() for name in msg])
    return raw


def parse_report(raw: bytes) -> Report | None:
    """A delivery report or read receipt, or None for anything else or anything broken."""
    try:
        message = email.message_from_bytes(raw, policy=policy.compat32)
    except Exception:
        return None
    if message.get_content_type() != "multipart/report" or not message.is_multipart():
        return None
    kind = str(message.get_param("report-type") or "").lower()
    parts = message.get_payload()[:MAX_REPORT_PARTS]
    if kind == "delivery-status":
        return _delivery_report(parts, message)
    if kind == "disposition-notification":
        return _read_receipt(parts, message)
    return None


def _delivery_report(parts: list[Message], message: Message) -> Report | None:
    blocks = _field_blocks(parts, "message/delivery-status")
    if not blocks:
        return None
    per_message, per_recipient = blocks[0], blocks[1:MAX_RECIPIENTS + 1]
    recipients = []
    for block in per_recipient:
        action = _value(block, "action").lower()
        recipient = _value(block, "final-recipient").partition(";")[2].strip()
        if action in _ACTIONS and recipient:
            recipients.append(RecipientStatus(one_line(recipient, 320), action,
                                              one_line(_value(block, "status"), 20)))
    return Report(kind="delivery", envelope_id=_value(per_message, "original-envelope-id")
                  or None, message_ids=_returned_ids(parts), recipients=tuple(recipients),
                  date=parse_date(str(message.get("date", "")) or None))


def _read_receipt(parts: list[Message], message: Message) -> Report | None:
    blocks = _field_blocks(parts, "message/disposition-notification")
    if not blocks:
        return None
    fields = blocks[0]
    recipient = _value(fields, "final-recipient").partition(";")[2].strip()
    disposition = _value(fields, "disposition").partition(";")[2].strip().lower()
    disposition = disposition.split("/")[0].strip() or "displayed"
    original = message_ids(_value(fields, "original-message-id"))
    return Report(kind="read", envelope_id=None, message_ids=original or _returned_ids(parts),
                  recipients=(RecipientStatus(one_line(recipient, 320), one_line(disposition,
                                                                                 40)),),
                  date=parse_date(str(message.get("date", "")) or None))


def _field_blocks(parts: list[Message], content_type: str) -> list[Message]:
    """The header blocks of a report part (the email package parses each as a Message)."""
    for part in parts:
        if part.get_content_type() != content_type:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            return [block for block in payload if isinstance(block, Message)]
        if isinstance(payload, str):
            return [email.message_from_string(chunk, policy=policy.compat32)
                    for chunk in payload.replace("\r\n", "\n").split("\n\n") if chunk.strip()]
    return []


def _returned_ids(parts: list[Message]) -> tuple[str, ...]:
    """The original's Message-ID from the returned headers (RET=HDRS) or message."""
    for part in parts:
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True) or b""
            headers = email.message_from_bytes(payload[:65536], policy=policy.compat32)
            return message_ids(str(headers.get("message-id", "")))[:1]
        if kind == "message/rfc822" and isinstance(part.get_payload(), list):
            return message_ids(str(part.get_payload()[0].get("message-id", "")))[:1]
    return ()


def _value(block: Message, name: str) -> str:
    return one_line(str(block.get(name, "")), 500)
