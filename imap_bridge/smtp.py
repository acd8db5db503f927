"""Submitting a message over SMTP (RFC 6409) with the person's own credentials.

Recipients are offered one by one and the message is only handed over when every one of
them was accepted: a refused recipient never leads to a partial send. DSN (RFC 3461) is
asked for only when the server advertises it.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

from imap_bridge.connection import ServerSettings, tls_context
from imap_bridge.errors import AuthenticationFailed, MailError, MailServerUnavailable
from imap_bridge.pool import Credentials


class SubmissionRefused(MailError):
    """The server said no to this message; `code` and `reply` are the server's words."""

    def __init__(self, code: int, reply: str) -> None:
        super().__init__(f"{code} {reply}")
        self.code = code
        self.reply = reply


class SenderRefused(SubmissionRefused):
    """This login may not send as this address (Postfix reject_sender_login_mismatch)."""


class RecipientsRefused(MailError):
    """Some recipients were refused; nothing was sent. {address: (code, reply)}."""

    def __init__(self, refused: dict[str, tuple[int, str]]) -> None:
        super().__init__(", ".join(refused))
        self.refused = refused


@dataclass(frozen=True)
class Envelope:
    sender: str  # MAIL FROM; "" for a report (RFC 8098 §2.1 null return path)
    recipients: tuple[str, ...]
    envelope_id: str | None = None  # asks for delivery reports when set


@dataclass(frozen=True)
class Submitted:
    delivery_reports: bool  # whether DSN was requested from a server that offers it


def submit(settings: ServerSettings, credentials: Credentials, envelope: Envelope,
           raw: bytes) -> Submitted:
    """Connect, secure, authenticate, then MAIL/RCPT/DATA; map failures to bridge errors."""
    try:
        with _connect(settings) as smtp:
            _login(smtp, credentials)
            return _transaction(smtp, envelope, raw)
    except (SubmissionRefused, RecipientsRefused, AuthenticationFailed):
        raise
    except smtplib.SMTPServerDisconnected as error:
        raise MailServerUnavailable(f"SMTP connection lost: {error}") from error
    except smtplib.SMTPResponseException as error:
        raise SubmissionRefused(error.smtp_code, _text(error.smtp_error)) from error
    except (OSError, smtplib.SMTPException) as error:
        raise MailServerUnavailable(
            f"cannot reach SMTP server {settings.host}:{settings.port}: {error}") from error


def _connect(settings: ServerSettings) -> smtplib.SMTP:
    context = tls_context(settings)
    if settings.security == "tls":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=context)
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.security == "starttls":
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def _login(smtp: smtplib.SMTP, credentials: Credentials) -> None:
    try:
        smtp.login(credentials.username, credentials.password)
    except smtplib.SMTPAuthenticationError as error:
        raise AuthenticationFailed(_text(error.smtp_error)) from None


def _transaction(smtp: smtplib.SMTP, envelope: Envelope, raw: bytes) -> Submitted:
    mail_options, rcpt_options = [], []
    if smtp.has_extn("size"):
        mail_options.append(f"SIZE={len(raw)}")
    reports = bool(envelope.envelope_id) and smtp.has_extn("dsn")
    if reports:
        # The id is ours (the Message-ID's inside), printable ASCII without "+" or "=",
        # so it needs no xtext escaping (RFC 3461 §4).
        mail_options += ["RET=HDRS", f"ENVID={envelope.envelope_id}"]
        rcpt_options.append("NOTIFY=SUCCESS,FAILURE")
    code, reply = smtp.mail(envelope.sender, mail_options)
    if code != 250:
        smtp.rset()
        raise SenderRefused(code, _text(reply))
    refused = {}
    for recipient in envelope.recipients:
        code, reply = smtp.rcpt(recipient, rcpt_options)
        if code not in (250, 251):
            refused[recipient] = (code, _text(reply))
    if refused:
        smtp.rset()
        sender_problem = [r for r in refused.values() if "sender" in r[1].lower()]
        if sender_problem and len(sender_problem) == len(refused):
            raise SenderRefused(*sender_problem[0])
        raise RecipientsRefused(refused)
    code, reply = smtp.data(raw)  # dot-stuffs and makes every line end CRLF
    if code != 250:
        raise SubmissionRefused(code, _text(reply))
    return Submitted(delivery_reports=reports)


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]
