"""Flask's `session`, stored server-side for signed-in people.

Before sign-in the only thing worth keeping is the CSRF token of the sign-in form, held
in a signed cookie, so anonymous visitors create no database rows. After sign-in the
cookie holds only the opaque token and key of a `UserSession` record.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Request, Response, g
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict

from webmail import cookie_policy
from webmail.db import db
from webmail.services import sessions
from webmail.services.sessions import OpenSession, SessionEnded, SessionPolicy

ANONYMOUS_PREFIX = "a."
ANONYMOUS_MAX_AGE = 12 * 3600


class PliSession(CallbackDict, SessionMixin):
    """Session data plus, once signed in, the server record it belongs to."""

    def __init__(self, data: dict | None = None, open_session: OpenSession | None = None) -> None:
        def on_update(_self: PliSession) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.open_session = open_session
        self.modified = False
        self.cookie_value: str | None = None  # set when the browser must get a new cookie
        self.drop_cookie = False

    def bind(self, open_session: OpenSession, cookie_value: str) -> None:
        """Switch to a fresh server record (new id on sign-in: no session fixation)."""
        self.clear()
        self.open_session = open_session
        self.cookie_value = cookie_value

    def unbind(self) -> None:
        self.clear()
        self.open_session = None
        self.drop_cookie = True


class PliSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> PliSession:
        raw = request.cookies.get(self.get_cookie_name(app), "")
        if raw.startswith(sessions.COOKIE_PREFIX):
            try:
                found = sessions.find(raw, _policy(app))
            except SessionEnded:
                g.session_expired = True
                session = PliSession()
                session.drop_cookie = True
                return session
            return PliSession(dict(found.record.data or {}), found)
        if raw.startswith(ANONYMOUS_PREFIX):
            try:
                data = _serializer(app).loads(raw[2:], max_age=ANONYMOUS_MAX_AGE)
            except BadSignature:
                data = {}
            return PliSession(data if isinstance(data, dict) else {})
        return PliSession()

    def save_session(self, app: Flask, session: PliSession, response: Response) -> None:
        name = self.get_cookie_name(app)
        if session.open_session is not None:
            self._save_server_side(session)
            if session.cookie_value:
                self._set_cookie(app, response, session.cookie_value)
        elif session.modified and session:
            value = ANONYMOUS_PREFIX + _serializer(app).dumps(dict(session))
            self._set_cookie(app, response, value)
        elif session.drop_cookie or (session.modified and not session):
            cookie_policy.delete_cookie(response, name, path=self.get_cookie_path(app),
                                        domain=self.get_cookie_domain(app))

    def _save_server_side(self, session: PliSession) -> None:
        record = session.open_session.record
        due = sessions.touch(record)
        if session.modified:
            record.data = dict(session)
        if due or session.modified or session.cookie_value:
            db.session.commit()

    def _set_cookie(self, app: Flask, response: Response, value: str) -> None:
        # Declared without Max-Age: it ends with the browser; the server ends it sooner.
        cookie_policy.set_cookie(response, self.get_cookie_name(app), value,
                                 path=self.get_cookie_path(app),
                                 domain=self.get_cookie_domain(app))


def _policy(app: Flask) -> SessionPolicy:
    return SessionPolicy(idle=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]),
                         absolute=timedelta(hours=app.config["SESSION_MAX_HOURS"]))


def _serializer(app: Flask) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.secret_key, salt="pli-anonymous-session")
