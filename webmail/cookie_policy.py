"""Every cookie Pli can set, declared once: the cookie page is generated from this list and
`set_cookie` refuses any other name, so what people are told cannot drift from what is set.

CNIL guidelines 2020-091: trackers strictly needed for the service (session, language,
remembering the cookie choice) need no consent; anything else is an optional category,
set only after consent and offered only when the administrator turns it on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from flask import Flask, Response, current_app, request
from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString

NECESSARY = "necessary"
AUDIENCE = "audience"

LANGUAGE_COOKIE_NAME = "pli_lang"
SHORTCUTS_COOKIE_NAME = "pli_shortcuts"
CHOICE_COOKIE_NAME = "pli_cookies"
AUDIENCE_COOKIE_NAME = "pli_audience"

PARTY_LABELS = {"first": lazy_gettext("First-party"), "third": lazy_gettext("Third-party")}


class UndeclaredCookie(LookupError):
    """A cookie the declaration does not list (or whose category is off) was about to be set."""


@dataclass(frozen=True)
class CookieSpec:
    name: str
    party: str  # "first" (set by this site) or "third" (set by another site)
    category: str  # NECESSARY, or an optional category such as AUDIENCE
    purpose: LazyString  # translated when shown
    lifetime: LazyString
    max_age: timedelta | None  # None: ends when the browser closes

    @property
    def party_label(self) -> LazyString:
        """As French cookie notices say it: "Interne" or "Tiers"."""
        return PARTY_LABELS[self.party]


@dataclass(frozen=True)
class CookieCategory:
    id: str
    label: LazyString
    description: LazyString

    @property
    def optional(self) -> bool:
        return self.id != NECESSARY


CATEGORIES = (
    CookieCategory(NECESSARY, lazy_gettext("Strictly necessary"), lazy_gettext(
        "Needed for the service you ask for: signing in, security, your settings and your "
        "cookie choice. Exempt from consent under the CNIL guidelines; they cannot be "
        "turned off.")),
    CookieCategory(AUDIENCE, lazy_gettext("Audience measurement"), lazy_gettext(
        "Pli's own visit counting: how many visitors and pages per day. Nothing is shared "
        "with anyone else and only daily totals are kept. Set only if you accept.")),
)

SESSION_COOKIE = CookieSpec(
    name="pli_session", party="first", category=NECESSARY,
    purpose=lazy_gettext(
        "Keeps you signed in: an opaque random token and the key to your session, whose "
        "content stays on the server. Before sign-in it only holds the security token of "
        "the sign-in form."),
    lifetime=lazy_gettext("Until the browser closes (the server ends the session sooner)"),
    max_age=None)
LANGUAGE_COOKIE = CookieSpec(
    name=LANGUAGE_COOKIE_NAME, party="first", category=NECESSARY,
    purpose=lazy_gettext("Remembers the interface language you chose."),
    lifetime=lazy_gettext("1 year"), max_age=timedelta(days=365))
SHORTCUTS_COOKIE = CookieSpec(
    name=SHORTCUTS_COOKIE_NAME, party="first", category=NECESSARY,
    purpose=lazy_gettext("Remembers that you turned keyboard shortcuts on."),
    lifetime=lazy_gettext("1 year"), max_age=timedelta(days=365))
CHOICE_COOKIE = CookieSpec(
    name=CHOICE_COOKIE_NAME, party="first", category=NECESSARY,
    purpose=lazy_gettext("Remembers that you have read the cookie notice, so that it is not "
                         "shown again."),
    lifetime=lazy_gettext("6 months (180 days)"), max_age=timedelta(days=180))
CHOICE_PURPOSE_WITH_CONSENT = lazy_gettext(
    "Remembers your choice about optional cookies (or that you have read the notice), the "
    "cookie policy version it applies to, and a random number tying it to the record of "
    "your choice.")
AUDIENCE_COOKIE = CookieSpec(
    name=AUDIENCE_COOKIE_NAME, party="first", category=AUDIENCE,
    purpose=lazy_gettext(
        "The day of your first and of your last visit, to count distinct visitors and pages "
        "viewed per day. It holds no identifier; only the daily totals are stored."),
    lifetime=lazy_gettext("13 months (390 days), never extended"),
    max_age=timedelta(days=390))


def enabled_categories(app: Flask | None = None) -> tuple[CookieCategory, ...]:
    """The categories this instance uses: the necessary one, plus those turned on."""
    config = (app or current_app).config
    on = {NECESSARY} | ({AUDIENCE} if config["AUDIENCE_MEASUREMENT"] else set())
    return tuple(category for category in CATEGORIES if category.id in on)


def optional_categories(app: Flask | None = None) -> tuple[CookieCategory, ...]:
    return tuple(category for category in enabled_categories(app) if category.optional)


def declared_cookies(app: Flask | None = None) -> tuple[CookieSpec, ...]:
    """Every cookie this instance may set, for its enabled categories only."""
    app = app or current_app
    enabled = {category.id for category in enabled_categories(app)}
    return tuple(cookie for cookie in _catalogue(app, with_consent=len(enabled) > 1)
                 if cookie.category in enabled)


def set_cookie(response: Response, name: str, value: str, *, max_age: timedelta | None = None,
               path: str = "/", domain: str | None = None) -> None:
    """Set a declared cookie with its declared lifetime (or a shorter `max_age`, for a
    cookie whose lifetime must not be extended when it is rewritten)."""
    spec = _declared(name)
    if max_age is not None and (spec.max_age is None or max_age > spec.max_age):
        raise ValueError(f"{name} may live at most {spec.max_age}")
    response.set_cookie(name, value, max_age=spec.max_age if max_age is None else max_age,
                        httponly=True, samesite="Lax", secure=_secure(), path=path,
                        domain=domain)


def delete_cookie(response: Response, name: str, *, path: str = "/",
                  domain: str | None = None) -> None:
    """Remove a cookie of any category, enabled or not (e.g. after consent is withdrawn,
    or once an administrator has turned a category off)."""
    if name not in {cookie.name for cookie in _catalogue(current_app, with_consent=False)}:
        raise UndeclaredCookie(name)
    response.delete_cookie(name, path=path, domain=domain, httponly=True, samesite="Lax",
                           secure=_secure())


def _catalogue(app: Flask, with_consent: bool) -> tuple[CookieSpec, ...]:
    choice = CHOICE_COOKIE
    if with_consent:
        choice = replace(CHOICE_COOKIE, purpose=CHOICE_PURPOSE_WITH_CONSENT)
    return (replace(SESSION_COOKIE, name=app.config["SESSION_COOKIE_NAME"]),
            LANGUAGE_COOKIE, SHORTCUTS_COOKIE, choice, AUDIENCE_COOKIE)


def _declared(name: str) -> CookieSpec:
    for cookie in declared_cookies():
        if cookie.name == name:
            return cookie
    raise UndeclaredCookie(f"{name} is not in the cookie declaration (webmail/cookie_policy.py)")


def _secure() -> bool:
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure
