"""Cookies: the notice every page shows until answered, the public cookie page generated
from the declaration, the choice form, and the audience count for those who accepted it.

The choice is a plain form (POST then redirect back); from the banner, htmx swaps the
banner away instead, with no reload.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from webmail.cookie_policy import (
    AUDIENCE,
    AUDIENCE_COOKIE_NAME,
    CHOICE_COOKIE_NAME,
    declared_cookies,
    delete_cookie,
    enabled_categories,
    optional_categories,
    set_cookie,
)
from webmail.navigation import safe_next
from webmail.services import audience, consent

bp = Blueprint("consent", __name__)

# Documents that are not pages a person navigates to: the framed message body.
_NOT_PAGES = {"mail.message_body"}


@bp.get("/cookies")
def cookies():
    categories, optional = enabled_categories(), optional_categories()
    records = consent.latest_records(request.cookies.get(CHOICE_COOKIE_NAME)) if optional else []
    return render_template(
        "consent/cookies.html", categories=categories, cookies=declared_cookies(),
        labels={category.id: category.label for category in categories}, optional=optional,
        records=records, policy_version=current_app.config["COOKIE_POLICY_VERSION"],
        controller=current_app.config["CONTROLLER_NAME"],
        hide_cookie_banner=bool(optional))


@bp.post("/cookies")
def choose():
    """"Got it" when every cookie is necessary; accept or refuse when there is a choice."""
    decision = request.form.get("choice", "")
    raw = request.cookies.get(CHOICE_COOKIE_NAME)
    choice = None
    if decision == "dismiss" and not optional_categories():
        choice = consent.dismissal()
    elif decision in ("accept", "refuse") and optional_categories():
        account_id = current_user.id if current_user.is_authenticated else None
        choice = consent.record_choice(decision == "accept", raw, account_id)
    if request.htmx:
        response = make_response(render_template("consent/_banner.html", saved=choice))
    else:
        response = redirect(safe_next(request.form.get("next"), url_for(".cookies")))
    if choice is not None:
        set_cookie(response, CHOICE_COOKIE_NAME, consent.encode(choice))
        _follow_audience_choice(response, AUDIENCE in choice.granted)
    return response


@bp.app_template_global()
def cookie_question_pending() -> bool:
    return consent.question_pending(request.cookies.get(CHOICE_COOKIE_NAME))


@bp.app_template_global()
def cookie_choice_offered() -> bool:
    return bool(optional_categories())


@bp.after_app_request
def measure_audience(response: Response) -> Response:
    """Count a page seen by a consenting visitor; drop the audience cookie of anyone else."""
    if request.method != "GET" or request.endpoint == "static":
        return response
    raw = request.cookies.get(AUDIENCE_COOKIE_NAME)
    if not consent.granted(request.cookies.get(CHOICE_COOKIE_NAME), AUDIENCE):
        if raw is not None:
            delete_cookie(response, AUDIENCE_COOKIE_NAME)
        return response
    if _is_page_view(response):
        _write_mark(response, audience.count_visit(raw, page_view=True))
    return response


def _follow_audience_choice(response: Response, accepted: bool) -> None:
    raw = request.cookies.get(AUDIENCE_COOKIE_NAME)
    if accepted:
        _write_mark(response, audience.count_visit(raw, page_view=False))
    elif raw is not None:
        delete_cookie(response, AUDIENCE_COOKIE_NAME)


def _write_mark(response: Response, mark: audience.AudienceMark | None) -> None:
    if mark is not None:
        set_cookie(response, AUDIENCE_COOKIE_NAME, mark.encode(), max_age=mark.remaining())


def _is_page_view(response: Response) -> bool:
    partial = request.htmx and not request.htmx.boosted
    return (response.status_code == 200 and response.mimetype == "text/html" and not partial
            and request.endpoint not in _NOT_PAGES)
