"""Sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from imap_bridge.errors import AuthenticationFailed, MailServerUnavailable
from webmail.blueprints import second_factor
from webmail.extensions import limiter
from webmail.forms import LoginForm
from webmail.services.auth import InvalidCredentials, MailboxClosed, sign_in, sign_out

bp = Blueprint("auth", __name__)


def _failed(response: Response) -> bool:
    """Only refused credentials count against the limits, not successful sign-ins."""
    return response.status_code == 401


def _account_key() -> str:
    return "account:" + request.form.get("username", "").strip().lower()[:320]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
               deduct_when=_failed, scope="login-address")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               deduct_when=_failed, key_func=_account_key, scope="login-account")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            checked = sign_in(form.username.data, form.password.data,
                              request.remote_addr or "", request.user_agent.string)
        except (AuthenticationFailed, InvalidCredentials):
            error, status = gettext("Wrong address or password."), 401
        except MailboxClosed:
            error, status = gettext("This mailbox has been closed. Please contact your "
                                    "administrator."), 403
        except MailServerUnavailable:
            error, status = gettext("The mail server cannot be reached right now. "
                                    "Please try again in a moment."), 503
        else:
            return second_factor.after_password(checked, request.args.get("next"))
    elif request.method == "POST":
        error, status = gettext("Please enter your address and your password."), 400
    if getattr(g, "session_expired", False) and error is None:
        error = gettext("Your session has ended. Please sign in again.")
    form.password.data = ""
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    sign_out()
    return redirect(url_for("auth.login", bye=1))
