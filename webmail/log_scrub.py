"""What keeps passwords, tokens, cookies, CSRF values and message content out of the logs.

Pli's own code logs ids, uids, folder names and error kinds, never payloads. This filter
makes that a guarantee for every record that reaches Pli's handlers, whoever logged it:

1. the current request's secrets (password, code and CSRF fields, cookies, the
   Authorization header, the session's IMAP password) and the configured secrets are
   replaced by "[redacted]" wherever they appear in the message or the traceback;
2. structured fields (`extra=`) whose name says secret or content are replaced;
3. records below WARNING from protocol and SQL loggers, which echo IMAP commands, message
   lines and query parameters, are dropped whatever the log level;
4. an exception's message is kept only for exception types known to carry no content
   (network, protocol, database, HTTP); any other keeps its type and stack only.
"""

from __future__ import annotations

import logging
import re
import traceback

from flask import has_request_context, request, session

from webmail.services.sessions import SessionEnded

REDACTED = "[redacted]"
WITHHELD = "[message withheld]"
# Loggers that echo protocol lines, message data or SQL parameters at INFO/DEBUG.
# (werkzeug's development-server lines carry the full path with its query string.)
PROTOCOL_LOGGERS = ("imapclient", "imaplib", "smtplib", "sqlalchemy", "urllib3", "authlib",
                    "werkzeug")
_SENSITIVE_NAME = re.compile(
    r"pass|secret|token|cookie|csrf|authori[sz]ation|otp|code|key|subject|body|content"
    r"|text|html|snippet|preview|attachment", re.I)
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "pli_scrubbed"}
_SAFE_EXCEPTION_MODULES = ("imap_bridge.errors", "werkzeug.exceptions", "sqlalchemy.exc",
                           "imapclient.exceptions", "imaplib", "smtplib", "ssl", "socket",
                           "webmail.services.sessions")
_PARAMETERS = re.compile(r"\[parameters: .*?\]$", re.S | re.M)  # SQLAlchemy's bound values
MIN_SECRET = 3  # shorter values would blank out ordinary words
MIN_OPAQUE = 16  # cookies and headers: only long values are secrets, not "fr" or "1"


class ScrubFilter(logging.Filter):
    """Attach to every handler: records are scrubbed in place before any formatting."""

    def __init__(self, static_secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.static_secrets = tuple(s for s in static_secrets if len(s) >= MIN_SECRET)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".")[0] in PROTOCOL_LOGGERS and record.levelno < logging.WARNING:
            return False
        if getattr(record, "pli_scrubbed", False):
            return True
        secrets = self.static_secrets + request_secrets()
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = scrub(message, secrets), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(safe_exception_text(record.exc_info[1]), secrets)
        elif record.exc_text:
            record.exc_text = WITHHELD  # formatted elsewhere, from an unknown exception
        record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, secrets)
        for name in set(vars(record)) - _STANDARD:
            setattr(record, name, _scrub_field(name, getattr(record, name), secrets))
        record.pli_scrubbed = True
        return True


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Replace each secret value, longest first (one may contain another)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _scrub_field(name: str, value: object, secrets: tuple[str, ...]) -> object:
    """A structured field made safe, down through dicts and lists; plain JSON types out."""
    if _SENSITIVE_NAME.search(name):
        return REDACTED
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): _scrub_field(str(k), v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_scrub_field("", item, secrets) for item in value]
    return scrub(str(value), secrets)


def request_secrets() -> tuple[str, ...]:
    """The secret values the current request carries, if there is one."""
    if not has_request_context():
        return ()
    found: set[str] = set()
    if "form" in request.__dict__:  # only if already parsed: never consume a body here
        for name, value in request.form.items(multi=True):
            if _SENSITIVE_NAME.search(name):
                found.add(value)
    opaque = list(request.cookies.values())
    opaque += [request.headers.get(name, "") for name in ("Authorization", "Cookie",
                                                          "X-CSRFToken")]
    for value in opaque:
        found.update(part for part in [*re.split(r"[\s.;=]+", value), value]
                     if len(part) >= MIN_OPAQUE)
    found.update(_session_password())
    return tuple(value for value in found if len(value) >= MIN_SECRET)


def safe_exception_text(error: BaseException) -> str:
    """The stack of an exception chain; messages only for types that carry no content."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and len(chain) < 5:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__
                                        else current.__context__)
    blocks = []
    for exception in reversed(chain):
        kind = type(exception)
        message = _PARAMETERS.sub("[parameters withheld]", str(exception)) \
            if _safe_type(kind) else WITHHELD
        blocks.append("Traceback (most recent call last):\n"
                      + "".join(traceback.format_tb(exception.__traceback__))
                      + f"{kind.__module__}.{kind.__qualname__}: {message}")
    return "\n\nThe above exception led to the next one:\n\n".join(blocks)


def _safe_type(kind: type) -> bool:
    if issubclass(kind, OSError | TimeoutError | ConnectionError):
        return True
    return any(base.__module__.startswith(_SAFE_EXCEPTION_MODULES) for base in kind.__mro__
               if base not in (Exception, BaseException, object))


def _session_password() -> tuple[str, ...]:
    open_session = getattr(session, "open_session", None) if has_request_context() else None
    if open_session is None:
        return ()
    try:
        return (open_session.password(),)
    except SessionEnded:  # ended, or a key that no longer fits: no password left
        return ()
