"""Bridge failures and HTTP errors mapped to pages, once, for every view."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request, session, url_for
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from imap_bridge.errors import (
    AuthenticationFailed,
    FolderNotFound,
    MailServerUnavailable,
    MessageNotFound,
)
from webmail.services.sessions import SessionEnded

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(MailServerUnavailable, _mail_server_unavailable)
    app.register_error_handler(MessageNotFound, _not_found)
    app.register_error_handler(FolderNotFound, _not_found)
    app.register_error_handler(AuthenticationFailed, _credentials_rejected)
    app.register_error_handler(SessionEnded, _credentials_rejected)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _mail_server_unavailable(error: MailServerUnavailable):
    log.warning("mail server unavailable: %s", error)
    return render_template("errors/mail_unavailable.html", retry_url=request.full_path), 503


def _not_found(_error: Exception):
    return render_template("errors/error.html", code=404,
                           title=gettext("Not found"),
                           message=gettext("This message or folder no longer exists. "
                                           "It may have been moved or deleted.")), 404


def _credentials_rejected(_error: Exception):
    # The password changed on the server, or the session lost its key: sign in again.
    from webmail.services.auth import sign_out

    if getattr(session, "open_session", None) is not None:
        sign_out()
    return render_template("errors/error.html", code=401,
                           title=gettext("Please sign in again"),
                           message=gettext("The mail server no longer accepts this session."),
                           link=url_for("auth.login")), 401


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    if error.code == 429 and request.endpoint == "auth.login":
        return _too_many_sign_ins()
    titles = {
        400: gettext("Bad request"),
        403: gettext("Not allowed"),
        404: gettext("Not found"),
        405: gettext("Not allowed"),
        413: gettext("Too large"),
    }
    title = titles.get(error.code, gettext("Error"))
    message = _message_for(error)
    return render_template("errors/error.html", code=error.code, title=title,
                           message=message), error.code


def _too_many_sign_ins():
    from webmail.forms import LoginForm

    form = LoginForm()
    form.password.data = ""
    message = gettext("Too many failed sign-in attempts. For your security, please wait "
                      "15 minutes before trying again.")
    return render_template("auth/login.html", form=form, error=message), 429


def _message_for(error: HTTPException) -> str:
    if error.code == 400 and "CSRF" in (error.description or ""):
        return gettext("The form expired. Please go back, reload the page and try again.")
    if error.code == 404:
        return gettext("There is nothing at this address.")
    return gettext("The request could not be handled.")


def _unexpected(error: Exception):
    log.exception("unexpected error on %s %s", request.method, request.path)
    return render_template("errors/error.html", code=500,
                           title=gettext("Something went wrong"),
                           message=gettext("The error has been logged. Please try again.")), 500
