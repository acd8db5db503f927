"""Short messages Pli writes itself: information filed into a mailbox (delegation added,
changed, removed; a patient's answer to a secure link) and the emails that tell a patient
a secure message is waiting.

They are built like any mail (RFC 5322, UTF-8 plain text) by the email library; filed ones
are stored with APPEND, so the record stays in the mailbox whatever happens to Pli.
"""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from imapclient import IMAPClient

_POLICY = policy.SMTP.clone(max_line_length=78)


def build_notice(sender: Address, recipient: str, subject: str, body: str,
                 date: datetime, on_behalf: Address | None = None) -> bytes:
    """A plain-text UTF-8 message; header values come from the email library, so no
    caller-supplied text can inject a header. `on_behalf` is the Sender when someone
    writes for the From (a delegate)."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    if on_behalf is not None:
        message["Sender"] = on_behalf
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = make_msgid(domain=sender.domain or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(body, charset="utf-8")
    return message.as_bytes()


def file_notice(client: IMAPClient, folder: str, raw: bytes, date: datetime) -> None:
    """Store the notice, unread, in `folder` (normally INBOX)."""
    client.append(folder, raw, flags=(), msg_time=date)


def build_answer(sender: Address, recipient: str, subject: str, body: str, date: datetime,
                 in_reply_to: str | None, message_id: str, marker: str) -> bytes:
    """An answer written on Pli's web page by someone without a mailbox here (a patient),
    threaded under the message it answers; `marker` (X-Pli-Patient-Link) says where it
    came from, so the reader can show it apart from professional mail."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message["X-Pli-Patient-Link"] = marker
    message.set_content(body, charset="utf-8")
    return message.as_bytes()
