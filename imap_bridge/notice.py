"""Information messages Pli files into a mailbox itself (delegation added, changed, removed).

They are built like any mail (RFC 5322, UTF-8 plain text) and stored with APPEND, so the
record stays in the mailbox, where the person reads it, whatever happens to Pli.
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
                 date: datetime) -> bytes:
    """A plain-text UTF-8 message; header values come from the email library, so no
    caller-supplied text can inject a header."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
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
