"""Language choice: French unless the person picked English (a strictly necessary cookie)."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import get_locale

from webmail.config import LANGUAGES
from webmail.cookie_policy import LANGUAGE_COOKIE_NAME
from webmail.extensions import babel


def current_language() -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE_NAME, "")
    return chosen if chosen in LANGUAGES else ""


def init_app(app: Flask) -> None:
    def select_locale() -> str:
        return current_language() or app.config["DEFAULT_LOCALE"]

    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
