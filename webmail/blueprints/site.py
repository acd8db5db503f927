"""Pages that are not about one mailbox: home and language choice."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from webmail.config import LANGUAGES
from webmail.cookie_policy import LANGUAGE_COOKIE_NAME, set_cookie
from webmail.navigation import safe_next

bp = Blueprint("site", __name__)


@bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("mail.folder", mailbox=current_user.address, folder="INBOX"))
    return redirect(url_for("auth.login"))


@bp.post("/language")
def choose_language():
    """Remember the interface language; works as a plain form without JavaScript."""
    language = request.form.get("language", "")
    response = redirect(safe_next(request.form.get("next"), url_for("site.home")))
    if language in LANGUAGES:
        set_cookie(response, LANGUAGE_COOKIE_NAME, language)
    return response
