"""The privacy page: what Pli holds about the signed-in person and for how long, the export,
rectification, communications, privacy requests, sign-ins and sessions, and contacts.

Only ever the person's own account. Plain forms with POST-redirect-GET; with htmx a form
swaps its own section, rendered from the same partial the page includes.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from webmail.i18n import current_language
from webmail.models import Account
from webmail.services import (
    account_security,
    privacy,
    privacy_export,
    privacy_requests,
    second_factor,
)
from webmail.services.privacy import Contacts, ProfileError, RetentionTerms
from webmail.services.privacy_requests import RequestError

bp = Blueprint("privacy", __name__, url_prefix="/account/privacy")
SECTIONS = ("profile", "communications", "requests", "security")


@bp.get("/")
@login_required
def page():
    return _render()


@bp.post("/export")
@login_required
def export():
    data = privacy_export.export(_me(), _language())
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{privacy_export.filename()}"')
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/profile")
@login_required
def profile():
    try:
        changed = privacy.update_profile(_me(), request.form)
    except ProfileError as error:
        return _render("profile", errors=error.errors, values=request.form)
    return _done("profile", gettext("Your details were saved.") if changed
                 else gettext("Nothing was changed."))


@bp.post("/communications")
@login_required
def communications():
    form = request.form
    privacy.set_communications(_me(), form.get("newsletter") == "on",
                               form.get("service_messages") == "on")
    return _done("communications", gettext("Your communications choices were saved."))


@bp.post("/requests")
@login_required
def file_request():
    form = request.form
    try:
        privacy_requests.file(_me(), form.get("kind", ""), form.get("details", ""),
                              form.get("trusted_contact", ""))
    except RequestError as error:
        return _render("requests", request_error=str(error), values=form)
    return _done("requests", gettext("Your request was sent. You will find its status and "
                                     "the answer below."))


@bp.post("/requests/<int:request_id>/withdraw")
@login_required
def withdraw_request(request_id: int):
    try:
        row = privacy_requests.withdraw(_me(), request_id)
    except RequestError as error:
        return _render("requests", request_error=str(error))
    if row is None:
        abort(404)
    return _done("requests", gettext("Your request was withdrawn."))


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    if not account_security.end_session(_me(), session_id, _current_session_id()):
        abort(404)
    return _done("security", gettext("The session was signed out."))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    count = account_security.end_other_sessions(_me(), _current_session_id())
    return _done("security", gettext("Other sessions signed out: %(n)s.", n=count))


def _me() -> Account:
    return current_user._get_current_object()


def _language() -> str:
    return current_language() or current_app.config["DEFAULT_LOCALE"]


def _current_session_id() -> int | None:
    open_session = getattr(session, "open_session", None)
    return open_session.record.id if open_session is not None else None


def _done(section: str, message: str):
    """htmx: the section again, with the message in it; otherwise PRG with a flash."""
    if request.htmx:
        return _render(section, notice=message)
    flash(message, section)
    return redirect(url_for(".page", _anchor=f"privacy-{section}"), 303)


def _render(section: str | None = None, **extra):
    """The page, or one section of it for htmx; a refused form is a 400 without htmx
    (htmx swaps only 2xx answers)."""
    me = _me()
    config = current_app.config
    context = {
        "held": privacy.held_data(me), "terms": RetentionTerms.from_config(config),
        "language": _language(),
        "requests": privacy_requests.for_account(me), "kinds": privacy_requests.Kind,
        "kind_labels": privacy_requests.KIND_LABELS,
        "status_labels": privacy_requests.STATUS_LABELS,
        "sign_ins": account_security.recent_sign_ins(me),
        "failed_sign_ins": account_security.failed_sign_ins(me),
        "active_sessions": account_security.active_sessions(me, _current_session_id()),
        "second_factor": second_factor.status(me),
        "contacts": Contacts.from_config(config),
        "errors": {}, "values": {}, "notice": None, **extra,
    }
    refused = "errors" in extra or "request_error" in extra
    if section is not None and request.htmx:
        return render_template(f"privacy/_{section}.html", **context)
    return render_template("privacy/page.html", **context), 400 if refused else 200
