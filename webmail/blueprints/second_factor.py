"""The second factor: the code step of sign-in, and the page where a person sets up an
authenticator app, renews recovery codes or turns the factor off.

When PLI_SECOND_FACTOR is "required", a person signed in without one is sent to the
set-up page before anything else (`require_enrolment`).
"""

from __future__ import annotations

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required, login_user

from webmail.extensions import limiter
from webmail.forms import CodeForm, LoginForm
from webmail.navigation import safe_next
from webmail.services import auth, second_factor, traces
from webmail.services.second_factor import InvalidCode
from webmail.services.sessions import SessionEnded

bp = Blueprint("second_factor", __name__)
MUST_ENROL = "pli_must_enrol"  # in the session: signed in by password alone, under "required"
NEXT = "pli_next"  # in the session: where to go once the code is right
# What a person who must set up a second factor can still reach.
_OPEN_TO_UNENROLLED = frozenset({
    "static", "auth.logout", "site.choose_language", "consent.cookies", "consent.choose",
    "second_factor.settings", "second_factor.start", "second_factor.confirm",
    "patient.open_link", "patient.body", "patient.attachment", "patient.answer",
})


def _waiting_key() -> str:
    account = auth.waiting_for_code()
    return f"code:{account.id}" if account is not None else f"code-ip:{request.remote_addr}"


def _refused(response) -> bool:
    return response.status_code == 401


def after_password(checked: auth.PasswordChecked, next_url: str | None):
    """Where the sign-in form sends a person whose password was right."""
    if checked.awaiting_code:
        session[NEXT] = next_url or ""
        return redirect(url_for("second_factor.code"))
    login_user(checked.account)
    if second_factor.required():
        session[MUST_ENROL] = True
        return redirect(url_for("second_factor.settings"))
    default = url_for("mail.folder", mailbox=checked.account.address, folder="INBOX")
    return redirect(safe_next(next_url, default))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               deduct_when=_refused, key_func=_waiting_key, scope="login-code")
def code():
    account = auth.waiting_for_code()
    if account is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    error, status = None, 200
    if form.validate_on_submit():
        next_url = session.get(NEXT) or None
        try:
            account = auth.complete_with_code(form.code.data, request.remote_addr or "")
        except SessionEnded:
            return render_template("auth/login.html", form=LoginForm(formdata=None),
                                   error=gettext("Too many wrong codes. Please sign in "
                                                 "again.")), 401
        except InvalidCode:
            error, status = gettext("This code is wrong or has expired. Type the code your "
                                    "app shows now, or one of your recovery codes."), 401
        else:
            session.pop(NEXT, None)
            login_user(account)
            default = url_for("mail.folder", mailbox=account.address, folder="INBOX")
            return redirect(safe_next(next_url, default))
    elif request.method == "POST":
        error, status = gettext("Please type the code."), 400
    form.code.data = ""
    return render_template("second_factor/code.html", form=form, account=account,
                           error=error), status


@bp.get("/account/second-factor/")
@login_required
def settings():
    factor = second_factor.status(current_user)
    enrolment = second_factor.pending_enrolment(current_user)
    return _settings_page(factor, enrolment)


@bp.post("/account/second-factor/start")
@login_required
def start():
    second_factor.start_enrolment(current_user)
    return redirect(url_for(".settings", _anchor="set-up"), 303)


@bp.post("/account/second-factor/confirm")
@login_required
def confirm():
    form = CodeForm()
    enrolment = second_factor.pending_enrolment(current_user)
    if enrolment is None:
        return redirect(url_for(".settings"), 303)
    try:
        codes = second_factor.confirm_enrolment(current_user, form.code.data or "")
    except InvalidCode:
        return _settings_page(second_factor.status(current_user), enrolment, status=400,
                              error=gettext("This code is wrong or has expired. Type the "
                                            "code your app shows now."))
    session.pop(MUST_ENROL, None)
    traces.record_request_action("second_factor_enabled", mailbox=current_user.address)
    return _recovery_codes_page(codes, first_time=True)


@bp.post("/account/second-factor/recovery-codes")
@login_required
def renew_codes():
    form = CodeForm()
    try:
        codes = second_factor.renew_recovery_codes(current_user, form.code.data or "")
    except InvalidCode:
        return _settings_page(second_factor.status(current_user), None, status=400,
                              error=gettext("This code is wrong or has expired. Type the "
                                            "code your app shows now."))
    traces.record_request_action("recovery_codes_renewed", mailbox=current_user.address)
    return _recovery_codes_page(codes, first_time=False)


@bp.post("/account/second-factor/disable")
@login_required
def disable():
    if second_factor.required():
        return _settings_page(second_factor.status(current_user), None, status=403,
                              error=gettext("Your organisation requires a second factor: "
                                            "it cannot be turned off."))
    form = CodeForm()
    try:
        second_factor.disable(current_user, form.code.data or "")
    except InvalidCode:
        return _settings_page(second_factor.status(current_user), None, status=400,
                              error=gettext("This code is wrong or has expired. Type the "
                                            "code your app shows now."))
    traces.record_request_action("second_factor_disabled", mailbox=current_user.address)
    flash(gettext("The second factor is turned off. Only your password now protects "
                  "your mailbox."), "second-factor")
    return redirect(url_for(".settings"), 303)


def require_enrolment():
    """Before each request: under "required", no mail until a second factor is set up."""
    if not session.get(MUST_ENROL) or request.endpoint in _OPEN_TO_UNENROLLED:
        return None
    if not current_user.is_authenticated or second_factor.is_enabled(current_user):
        session.pop(MUST_ENROL, None)
        return None
    target = url_for("second_factor.settings")
    if request.headers.get("HX-Request"):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303 if request.method != "GET" else 302)


def _settings_page(factor: second_factor.FactorStatus,
                   enrolment: second_factor.Enrolment | None, status: int = 200,
                   error: str | None = None):
    qr_svg = None
    if enrolment is not None:
        qr_svg = segno.make(enrolment.uri, error="m").svg_inline(
            scale=4, border=4, dark="#000", light="#fff",
            title=gettext("QR code to scan with your authenticator app"))
    response = make_response(render_template(
        "second_factor/settings.html", factor=factor, enrolment=enrolment, qr_svg=qr_svg,
        error=error, must_enrol=bool(session.get(MUST_ENROL)),
        required=second_factor.required()), status)
    if enrolment is not None:
        response.headers["Cache-Control"] = "no-store"  # the page holds the secret key
    return response


def _recovery_codes_page(codes: list[str], first_time: bool):
    response = make_response(render_template("second_factor/recovery_codes.html",
                                             codes=codes, first_time=first_time))
    response.headers["Cache-Control"] = "no-store"
    return response
