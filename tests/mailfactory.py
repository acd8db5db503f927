"""Build test messages with the standard library, as a real client would send them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

PARIS_WINTER = timezone(timedelta(hours=1))


def message(subject: str = "Compte rendu", sender: str = "Dr Anne Leroy <anne.leroy@pli.test>",
            to: str = "patient@pli.test", body: str = "Bonjour,\nvoici le compte rendu.\n",
            html: str | None = None, date: datetime | None = None,
            attachments: list[tuple[str, str, bytes]] = ()) -> bytes:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(date or datetime(2026, 11, 20, 9, 30, tzinfo=PARIS_WINTER))
    msg["Message-ID"] = make_msgid(domain="pli.test")
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
