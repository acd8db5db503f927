"""Cookies and consent: the notice on a first visit, its dismissal (plain form and htmx), the
cookie page generated from the declaration, and, when an administrator turns audience
measurement on, consent that is asked before anything optional is set, recorded, asked again
for a new policy version and withdrawable."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from flask import Response
from sqlalchemy import select

from tests.conftest import MailUser, app_config, csrf_token, sign_in
from tests.mailfactory import message
from webmail import create_app
from webmail.cookie_policy import (
    AUDIENCE_COOKIE_NAME,
    CHOICE_COOKIE_NAME,
    UndeclaredCookie,
    declared_cookies,
    set_cookie,
)
from webmail.db import db
from webmail.models import Account, AnonymousCounter, ConsentRecord
from webmail.services import audience, statistics
from webmail.services.consent import current_choice

BANNER = re.compile(r'<section class="cookie-banner".*?</section>', re.S)


@pytest.fixture(scope="session")
def audience_app(app, mail_backend, database_url):
    """The same instance with Pli's own audience measurement turned on (same database)."""
    return create_app(app_config(mail_backend, database_url, AUDIENCE_MEASUREMENT=True))


@pytest.fixture
def audience_client(audience_app):
    with audience_app.test_client() as client:
        yield client


def _banner(html: str) -> str | None:
    found = BANNER.search(html)
    return found.group(0) if found else None


def _set_cookies(response, name: str) -> list[str]:
    return [v for v in response.headers.getlist("Set-Cookie") if v.startswith(f"{name}=")]


def _choose(client, choice: str, page: str = "/login", **headers: str):
    html = client.get(page).get_data(as_text=True)
    return client.post("/cookies", data={"csrf_token": csrf_token(html), "choice": choice,
                                         "next": page}, headers=headers)


def _counters(app) -> dict[str, int]:
    with app.app_context():
        today = statistics.local_day(datetime.now(UTC))
        rows = db.session.execute(
            select(AnonymousCounter.metric, AnonymousCounter.amount)
            .where(AnonymousCounter.day == today,
                   AnonymousCounter.metric.in_([audience.VISITORS, audience.PAGE_VIEWS])))
        found = dict(rows.all())
    return {metric: found.get(metric, 0) for metric in (audience.VISITORS, audience.PAGE_VIEWS)}


def _records(app, subject: str) -> list[ConsentRecord]:
    with app.app_context():
        rows = db.session.scalars(select(ConsentRecord).where(ConsentRecord.subject == subject)
                                  .order_by(ConsentRecord.id)).all()
        db.session.expunge_all()
        return list(rows)


def _subject(app, client) -> str:
    with app.test_request_context():
        choice = current_choice(client.get_cookie(CHOICE_COOKIE_NAME).value)
    assert choice is not None and choice.subject
    return choice.subject


# The informative notice (only necessary cookies: the default).

def test_first_visit_signed_out_shows_an_informative_notice(client):
    banner = _banner(client.get("/login").get_data(as_text=True))
    assert banner is not None
    assert "Pli n’utilise que les cookies nécessaires au service" in banner
    assert 'href="/cookies"' in banner
    assert re.findall(r'<button name="choice" value="(\w+)"', banner) == ["dismiss"]
    assert "Compris" in banner and "Accepter" not in banner and "Refuser" not in banner


def test_first_visit_signed_in_shows_the_notice_too(client, mail_user: MailUser):
    sign_in(client, mail_user)
    html = client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)
    assert _banner(html) is not None


def test_got_it_as_a_plain_form_goes_back_and_is_remembered(client, mail_user: MailUser):
    response = _choose(client, "dismiss", page="/login?bye=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?bye=1"
    (cookie,) = _set_cookies(response, CHOICE_COOKIE_NAME)
    assert "Max-Age=15552000" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert _banner(client.get("/login").get_data(as_text=True)) is None
    sign_in(client, mail_user)
    assert _banner(client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)) is None


def test_got_it_through_htmx_answers_with_the_partial(client):
    response = _choose(client, "dismiss", **{"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'role="status"' in body and "<button" not in body
    assert _set_cookies(response, CHOICE_COOKIE_NAME)
    assert _banner(client.get("/login").get_data(as_text=True)) is None


def test_the_notice_form_needs_its_csrf_token(client):
    client.get("/login")
    response = client.post("/cookies", data={"choice": "dismiss"})
    assert response.status_code == 400
    assert not _set_cookies(response, CHOICE_COOKIE_NAME)


def test_going_back_never_leaves_the_site(client):
    html = client.get("/login").get_data(as_text=True)
    response = client.post("/cookies", data={"csrf_token": csrf_token(html), "choice": "dismiss",
                                             "next": "//evil.test/"})
    assert response.headers["Location"] == "/cookies"


def test_accept_is_refused_when_there_is_nothing_to_consent_to(client):
    response = _choose(client, "accept")
    assert not _set_cookies(response, CHOICE_COOKIE_NAME)
    assert not _set_cookies(response, AUDIENCE_COOKIE_NAME)


def test_cookie_page_lists_exactly_the_declared_cookies(app, client):
    response = client.get("/cookies")  # signed out
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app.test_request_context():
        declared = declared_cookies()
        expected = [(c.name, str(c.party_label), str(c.purpose), str(c.lifetime))
                    for c in declared]
    rows = re.findall(r'<tr data-cookie="([^"]+)">\s*<td><code>[^<]*</code></td>\s*'
                      r"<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", html)
    assert [tuple(unescape(cell) for cell in row) for row in rows] == expected
    assert [c.name for c in declared] == ["pli_session", "pli_lang", "pli_shortcuts",
                                          "pli_cookies"]
    assert "Interne" in html and "Finalité" in html and "Durée de conservation" in html
    assert AUDIENCE_COOKIE_NAME not in html and "Accepter" not in html


def test_an_audience_cookie_left_from_before_is_deleted_when_the_category_is_off(client):
    client.set_cookie(AUDIENCE_COOKIE_NAME, "leftover.1796284810.20261203")
    (deleted,) = _set_cookies(client.get("/login"), AUDIENCE_COOKIE_NAME)
    assert "Max-Age=0" in deleted
    assert client.get_cookie(AUDIENCE_COOKIE_NAME) is None


def test_the_footer_links_to_the_cookie_page(client):
    html = client.get("/login").get_data(as_text=True)
    footer = html[html.index("<footer"):html.index("</footer>")]
    assert 'href="/cookies"' in footer


def test_the_helper_refuses_a_cookie_that_is_not_declared(app):
    with app.test_request_context():
        with pytest.raises(UndeclaredCookie):
            set_cookie(Response(), "tracker", "1")
        with pytest.raises(UndeclaredCookie):  # declared, but its category is off here
            set_cookie(Response(), AUDIENCE_COOKIE_NAME, "1")
        with pytest.raises(ValueError):  # longer than declared
            set_cookie(Response(), "pli_lang", "fr", max_age=timedelta(days=400))
        response = Response()
        set_cookie(response, "pli_lang", "en")
        assert "Max-Age=31536000" in response.headers["Set-Cookie"]


def test_language_and_shortcut_cookies_carry_their_declared_lifetime(client, mail_user):
    html = client.get("/login").get_data(as_text=True)
    response = client.post("/language", data={"csrf_token": csrf_token(html), "language": "en"})
    (language,) = _set_cookies(response, "pli_lang")
    assert "Max-Age=31536000" in language
    sign_in(client, mail_user)
    shortcuts = f"/b/{mail_user.address}/_shortcuts"
    page = client.get(shortcuts).get_data(as_text=True)
    response = client.post(shortcuts, data={"csrf_token": csrf_token(page), "enabled": "1"})
    (cookie,) = _set_cookies(response, "pli_shortcuts")
    assert "Max-Age=31536000" in cookie


# Consent, when audience measurement is on.

def test_with_audience_measurement_nothing_optional_is_set_before_a_choice(
        audience_app, audience_client, mail_user):
    before = _counters(audience_app)
    html = audience_client.get("/login").get_data(as_text=True)
    banner = _banner(html)
    assert banner is not None
    buttons = re.findall(r'<button name="choice" value="(\w+)" class="([^"]+)">', banner)
    assert buttons == [("accept", "cookie-choice"), ("refuse", "cookie-choice")]
    sign_in(audience_client, mail_user)
    response = audience_client.get(f"/b/{mail_user.address}/INBOX/")
    assert _banner(response.get_data(as_text=True)) is not None
    assert audience_client.get_cookie(AUDIENCE_COOKIE_NAME) is None
    assert audience_client.get_cookie(CHOICE_COOKIE_NAME) is None
    assert _counters(audience_app) == before


def test_got_it_does_not_count_as_an_answer_when_consent_is_asked(audience_client):
    response = _choose(audience_client, "dismiss")
    assert not _set_cookies(response, CHOICE_COOKIE_NAME)
    assert _banner(audience_client.get("/login").get_data(as_text=True)) is not None


def test_refusing_sets_no_audience_cookie_and_is_recorded(audience_app, audience_client):
    before = _counters(audience_app)
    response = _choose(audience_client, "refuse")
    assert _set_cookies(response, CHOICE_COOKIE_NAME)
    assert not _set_cookies(response, AUDIENCE_COOKIE_NAME)
    html = audience_client.get("/login").get_data(as_text=True)
    assert _banner(html) is None
    assert audience_client.get_cookie(AUDIENCE_COOKIE_NAME) is None
    assert _counters(audience_app) == before
    (record,) = _records(audience_app, _subject(audience_app, audience_client))
    assert (record.category, record.granted, record.policy_version) == \
        ("audience", False, "2026-12")
    assert record.account_id is None


def test_accepting_sets_the_cookie_records_consent_and_counts_the_visit(
        audience_app, audience_client, mail_user):
    sign_in(audience_client, mail_user)
    inbox = f"/b/{mail_user.address}/INBOX/"
    before = _counters(audience_app)
    response = _choose(audience_client, "accept", page=inbox)
    assert response.headers["Location"] == inbox
    (cookie,) = _set_cookies(response, AUDIENCE_COOKIE_NAME)
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))
    assert 390 * 86400 - 5 <= max_age <= 390 * 86400
    with audience_app.app_context():
        account_id = db.session.scalar(select(Account.id).where(
            Account.address == mail_user.address))
    (record,) = _records(audience_app, _subject(audience_app, audience_client))
    assert (record.category, record.granted, record.policy_version, record.account_id) == \
        ("audience", True, "2026-12", account_id)
    assert record.recorded_at > datetime.now(UTC) - timedelta(minutes=1)
    counted = _counters(audience_app)
    assert counted[audience.VISITORS] == before[audience.VISITORS] + 1

    page = audience_client.get(inbox)
    assert _banner(page.get_data(as_text=True)) is None
    assert not _set_cookies(page, AUDIENCE_COOKIE_NAME)  # never extended
    audience_client.get(inbox)
    after = _counters(audience_app)
    assert after[audience.VISITORS] == counted[audience.VISITORS]  # one visitor a day
    assert after[audience.PAGE_VIEWS] == counted[audience.PAGE_VIEWS] + 2


def test_partials_and_message_frames_are_not_page_views(audience_app, audience_client,
                                                        mail_user, mail_backend):
    mail_backend.append(mail_user.address, "INBOX", message("Bilan", html="<p>Bonjour</p>"))
    sign_in(audience_client, mail_user)
    _choose(audience_client, "accept", page=f"/b/{mail_user.address}/INBOX/")
    before = _counters(audience_app)
    htmx = {"HX-Request": "true"}
    assert audience_client.get(f"/b/{mail_user.address}/INBOX/", headers=htmx).status_code == 200
    assert audience_client.get(f"/b/{mail_user.address}/_folders", headers=htmx).status_code == 200
    assert audience_client.get(f"/b/{mail_user.address}/INBOX/1/body").status_code == 200
    assert _counters(audience_app) == before
    audience_client.get(f"/b/{mail_user.address}/INBOX/1")
    assert _counters(audience_app)[audience.PAGE_VIEWS] == before[audience.PAGE_VIEWS] + 1


def test_a_new_policy_version_asks_again(audience_app, audience_client, mail_backend,
                                         database_url):
    _choose(audience_client, "accept")
    newer = create_app(app_config(mail_backend, database_url, AUDIENCE_MEASUREMENT=True,
                                  COOKIE_POLICY_VERSION="2027-06"))
    with newer.test_client() as client:
        for name in (CHOICE_COOKIE_NAME, AUDIENCE_COOKIE_NAME):
            client.set_cookie(name, audience_client.get_cookie(name).value)
        before = _counters(newer)
        response = client.get("/login")
        banner = _banner(response.get_data(as_text=True))
        assert banner is not None and "Accepter" in banner and "Refuser" in banner
        (deleted,) = _set_cookies(response, AUDIENCE_COOKIE_NAME)
        assert "Max-Age=0" in deleted
        assert client.get_cookie(AUDIENCE_COOKIE_NAME) is None
        assert _counters(newer) == before


def test_withdrawing_consent_deletes_the_audience_cookie(audience_app, audience_client):
    _choose(audience_client, "accept")
    subject = _subject(audience_app, audience_client)
    assert audience_client.get_cookie(AUDIENCE_COOKIE_NAME) is not None
    page = audience_client.get("/cookies").get_data(as_text=True)
    assert "Mesure d’audience : accepté le" in page
    response = _choose(audience_client, "refuse", page="/cookies")
    assert response.headers["Location"] == "/cookies"
    (deleted,) = _set_cookies(response, AUDIENCE_COOKIE_NAME)
    assert "Max-Age=0" in deleted
    assert audience_client.get_cookie(AUDIENCE_COOKIE_NAME) is None
    assert [r.granted for r in _records(audience_app, subject)] == [True, False]
    assert "Mesure d’audience : refusé le" in audience_client.get("/cookies").get_data(
        as_text=True)


def test_cookie_page_offers_the_choice_when_a_category_is_optional(audience_app,
                                                                   audience_client):
    html = audience_client.get("/cookies").get_data(as_text=True)
    with audience_app.test_request_context():
        names = [c.name for c in declared_cookies()]
    assert names == ["pli_session", "pli_lang", "pli_shortcuts", "pli_cookies", "pli_audience"]
    assert re.findall(r'<tr data-cookie="([^"]+)">', html) == names
    assert "Vous n’avez pas encore choisi" in html
    form = html[html.index('id="your-choice"'):]
    assert re.findall(r'<button name="choice" value="(\w+)"', form) == ["accept", "refuse"]
    assert _banner(html) is None  # the page's own form is the question


def test_a_visitor_counts_again_the_next_day_without_extending_the_cookie(audience_app):
    with audience_app.app_context():
        first = datetime(2011, 5, 17, 10, 0, tzinfo=UTC)
        mark = audience.count_visit(None, page_view=True, now=first)
        assert mark is not None
        assert audience.count_visit(mark.encode(), page_view=True, now=first) is None
        later = first + timedelta(days=1)
        again = audience.count_visit(mark.encode(), page_view=True, now=later)
        assert again is not None and again.first_set == mark.first_set  # carried, not renewed
        assert again.remaining(later) == mark.remaining(first) - timedelta(days=1)
        expired = first + timedelta(days=391)
        assert audience.parse(mark.encode(), expired) is None
        counts = dict(db.session.execute(
            select(AnonymousCounter.metric, AnonymousCounter.amount)
            .where(AnonymousCounter.day == first.date())).all())
    assert counts[audience.VISITORS] == 1 and counts[audience.PAGE_VIEWS] == 2
