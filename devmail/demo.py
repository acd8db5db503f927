"""Demo accounts and a lived-in mailbox for Dr Claire Martin, so the webmail can be shown
and tried on realistic French health messaging without any real person's data.

Accounts (password `demo-Pli-2026` for all): dr.martin@pli.test (Dr Claire Martin,
médecin généraliste), secretariat.martin@pli.test (her secretary), dr.durand@pli.test
(Dr Paul Durand, cardiologue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from devmail import demo_messages as texts
from devmail.backend import MailBackend, ensure_folder

DEMO_PASSWORD = "demo-Pli-2026"
DEMO_ACCOUNTS = (
    ("dr.martin@pli.test", "Dr Claire Martin"),
    ("secretariat.martin@pli.test", "Secrétariat du Dr Martin"),
    ("dr.durand@pli.test", "Dr Paul Durand"),
)
OWNER = texts.MARTIN


@dataclass(frozen=True)
class DemoMessage:
    folder: str
    raw: bytes
    flags: tuple[str, ...]
    date: datetime


def seed_demo(backend: MailBackend, now: datetime | None = None) -> int:
    """Create the demo accounts if missing and fill dr.martin's mailbox once; returns how
    many messages were added (0 when her INBOX already holds mail)."""
    known = set(backend.users())
    for address, name in DEMO_ACCOUNTS:
        if address not in known:
            backend.add_user(address, DEMO_PASSWORD, name)
    with backend.imap(OWNER[1]) as client:
        if client.select_folder("INBOX", readonly=True)[b"EXISTS"]:
            return 0
        count = 0
        for message in demo_messages(now or datetime.now(UTC)):
            ensure_folder(client, message.folder)
            client.append(message.folder, message.raw, flags=message.flags,
                          msg_time=message.date)
            count += 1
    return count


def demo_messages(now: datetime) -> list[DemoMessage]:
    """Every demo message, in date order (so UIDs grow with time, as in a real mailbox)."""
    messages = [_plain("INBOX", sender, OWNER, subject, body, now, days, flags)
                for sender, subject, body, days, flags in texts.INBOX]
    sender, subject, body, days = texts.URGENT
    urgent = _plain("INBOX", sender, OWNER, subject, body, now, days, ("\\Flagged",))
    messages.append(DemoMessage(urgent.folder, urgent.raw, urgent.flags,
                                now - timedelta(hours=2)))
    messages += [_discharge_letter(now), _newsletter(now)]
    messages += [_plain("Patients/Suivi", sender, OWNER, subject, body, now, days, flags)
                 for sender, subject, body, days, flags in texts.SUIVI]
    messages += [_plain("Sent", OWNER, recipient, subject, body, now, days, ("\\Seen",))
                 for recipient, subject, body, days in texts.SENT]
    return sorted(messages, key=lambda message: message.date)


def _base(sender: tuple[str, str], recipient: tuple[str, str], subject: str,
          date: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = _address(sender)
    message["To"] = _address(recipient)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = make_msgid(domain=sender[1].rpartition("@")[2])
    return message


def _address(person: tuple[str, str]) -> Address:
    local, _, domain = person[1].partition("@")
    return Address(person[0], local, domain)


def _when(now: datetime, days: int) -> datetime:
    """Office hours, `days` before now, varied so the list does not look generated."""
    day = now - timedelta(days=days)
    return day.replace(hour=8 + (days * 5) % 10, minute=(days * 17) % 60, second=0,
                       microsecond=0)


def _plain(folder: str, sender: tuple[str, str], recipient: tuple[str, str], subject: str,
           body: str, now: datetime, days: int, flags: tuple[str, ...]) -> DemoMessage:
    date = _when(now, days)
    message = _base(sender, recipient, subject, date)
    message.set_content(body)
    return DemoMessage(folder, message.as_bytes(policy=policy.SMTP), flags, date)


def _discharge_letter(now: datetime) -> DemoMessage:
    sender, subject, body, days = texts.DISCHARGE
    date = _when(now, days)
    message = _base(sender, OWNER, subject, date)
    message.set_content(body)
    message.add_attachment(minimal_pdf(texts.DISCHARGE_PDF_LINES), maintype="application",
                           subtype="pdf", filename="CRH_Morel_J.pdf")
    return DemoMessage("INBOX", message.as_bytes(policy=policy.SMTP), ("\\Seen",), date)


def _newsletter(now: datetime) -> DemoMessage:
    sender, subject, days = texts.NEWSLETTER
    date = _when(now, days)
    message = _base(sender, OWNER, subject, date)
    message["List-Unsubscribe"] = "<https://actu-sante.example/desinscription>"
    message.set_content(texts.NEWSLETTER_TEXT)
    message.add_alternative(texts.NEWSLETTER_HTML, subtype="html")
    return DemoMessage("INBOX", message.as_bytes(policy=policy.SMTP), ("\\Seen",), date)


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page, valid PDF (Helvetica, WinAnsi so French accents render)."""
    text = ["BT /F1 11 Tf 14 TL 56 790 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text.append(f"({escaped}) Tj T*")
    text.append("ET")
    stream = "\n".join(text).encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)
