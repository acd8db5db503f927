"""Technical traces: the application log as JSON lines, and the part Pli keeps itself.

Every record goes to stderr as one JSON object per line, for journald or the container
runtime; keeping those at most a year is the host's job (README "Traces and retention").
WARNING and worse are also written to the `technical_event` table, from a background
thread (a request never waits on it, nor deadlocks on SQLite's single writer), and
`flask retention run` deletes those after 12 months. Both paths pass through
log_scrub.ScrubFilter first. Each request adds one line naming its route (the URL rule,
not the path, whose query string may hold search words), status and duration.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request, session
from sqlalchemy.exc import SQLAlchemyError

from webmail.db import db
from webmail.log_scrub import PROTOCOL_LOGGERS, ScrubFilter
from webmail.models import TechnicalEvent

MAX_MESSAGE = 2000
MAX_TRACEBACK = 8000
_MARK = "pli_handler"  # on our handlers, so a second create_app replaces them
_listener: logging.handlers.QueueListener | None = None
_writing = threading.local()
request_log = logging.getLogger("webmail.request")


def init_app(app: Flask) -> None:
    """Install (or reinstall) the handlers on the root logger, and the request line."""
    global _listener
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
    if _listener is not None:
        _listener.stop()
    secrets = tuple(str(app.config.get(key) or "")
                    for key in ("SECRET_KEY", "IMAP_MASTER_PASSWORD"))
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(JsonFormatter())
    events: queue.Queue = queue.Queue()
    keeper = _EventQueueHandler(events)
    keeper.setLevel(logging.WARNING)
    for handler in (stream, keeper):
        handler.addFilter(ScrubFilter(secrets))
        handler.addFilter(_RequestIdFilter())
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    _listener = logging.handlers.QueueListener(events, DatabaseHandler())
    _listener.start()
    root.setLevel(str(app.config["LOG_LEVEL"]).upper())
    for name in PROTOCOL_LOGGERS:  # the filter drops their chatter; do not even build it
        logging.getLogger(name).setLevel(logging.WARNING)
    app.before_request(_start_request)
    app.after_request(_log_request)


def json_handler() -> logging.StreamHandler | None:
    """The stderr handler (tests point it at a buffer with `setStream`)."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, _MARK, False) and isinstance(handler, logging.StreamHandler):
            return handler
    return None


def flush_events() -> None:
    """Wait until every queued technical event is in the database."""
    if _listener is not None:
        _listener.queue.join()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request, extras."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line = {"ts": moment.isoformat(timespec="milliseconds"), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        line.update(_context(record))
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class DatabaseHandler(logging.Handler):
    """Writes one technical event per record, from the queue listener's thread."""

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(_writing, "active", False) or db.engine is None:
            return
        _writing.active = True
        try:
            detail = _context(record)
            if record.exc_text:
                detail["exception"] = record.exc_text[:MAX_TRACEBACK]
            with db.engine.begin() as connection:
                connection.execute(TechnicalEvent.__table__.insert().values(
                    occurred_at=datetime.fromtimestamp(record.created, UTC),
                    level=record.levelname[:10], logger=record.name[:100],
                    message=record.getMessage()[:MAX_MESSAGE], detail=detail or None))
        except SQLAlchemyError as error:  # no table yet, database down: stderr still has it
            sys.stderr.write(f"technical event not stored: {type(error).__name__}\n")
        finally:
            _writing.active = False


class _EventQueueHandler(logging.handlers.QueueHandler):
    """Hands the already-scrubbed record over as it is (QueueHandler would reformat it),
    except what the database writer itself logs, which would loop."""

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(_writing, "active", False):
            super().emit(record)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.exc_info = None
        return record


class _RequestIdFilter(logging.Filter):
    """Ties every line logged during a request to that request's line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and "pli_request_id" in g and not hasattr(record,
                                                                           "request_id"):
            record.request_id = g.pli_request_id
        return True


_NOT_EXTRA = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "pli_scrubbed"}


def _context(record: logging.LogRecord) -> dict:
    """The request facts and other extras set on the record (already scrubbed)."""
    return {name: value for name, value in vars(record).items()
            if name not in _NOT_EXTRA and not name.startswith("_")}


def _start_request() -> None:
    g.pli_request_id = uuid.uuid4().hex[:16]
    g.pli_request_started = time.monotonic()


def _log_request(response):
    started = g.get("pli_request_started")
    if started is not None:
        request_log.info("%s %s %s", request.method, _route(), response.status_code,
                         extra={"request_id": g.pli_request_id, "method": request.method,
                                "route": _route(), "endpoint": request.endpoint,
                                "status": response.status_code,
                                "duration_ms": round((time.monotonic() - started) * 1000),
                                "account": _account_id()})
    return response


def _route() -> str:
    return request.url_rule.rule if request.url_rule is not None else "(no route)"


def _account_id() -> int | None:
    """A pseudonymous number rather than the address."""
    open_session = getattr(session, "open_session", None) if has_request_context() else None
    return open_session.record.account_id if open_session is not None else None


atexit.register(lambda: _listener.stop() if _listener is not None else None)
