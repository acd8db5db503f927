"""Cookies in a real browser: the notice goes away with and without JavaScript, and, the
check that keeps the cookie page honest, every cookie the browser holds after a visit of the
pages people see is declared, with the declared lifetime."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from tests.browser import axe_violations, browser_sign_in
from tests.conftest import MailUser, app_config, served
from tests.mailfactory import message
from webmail import create_app
from webmail.cookie_policy import AUDIENCE_COOKIE_NAME, CHOICE_COOKIE_NAME, declared_cookies

pytestmark = pytest.mark.browser

BANNER = "section.cookie-banner"


@pytest.fixture(scope="session")
def audience_app(app, mail_backend, database_url):
    return create_app(app_config(mail_backend, database_url, AUDIENCE_MEASUREMENT=True))


@pytest.fixture(scope="session")
def audience_server(audience_app) -> Iterator[str]:
    with served(audience_app) as url:
        yield url


@pytest.fixture
def reader(mail_user: MailUser, mail_backend) -> MailUser:
    mail_backend.append(mail_user.address, "INBOX", message(
        "Compte rendu de consultation", html="<p>Bonjour, voici le <b>compte rendu</b>.</p>"))
    return mail_user


def test_got_it_without_javascript_reloads_the_page_without_the_notice(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/login?bye=1")
    assert page.locator(BANNER).is_visible()
    page.click(f"{BANNER} button[value=dismiss]")
    page.wait_for_url("**/login?bye=1")
    assert page.locator(BANNER).count() == 0
    assert CHOICE_COOKIE_NAME in {c["name"] for c in context.cookies()}
    page.goto(f"{live_server}/cookies")
    assert page.locator(BANNER).count() == 0
    context.close()


def test_got_it_with_htmx_swaps_the_notice_away_without_a_reload(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.evaluate("window.__notReloaded = true")
    page.click(f"{BANNER} button[value=dismiss]")
    page.wait_for_selector(f"{BANNER} [role=status]")
    assert page.locator(f"{BANNER} button").count() == 0
    assert page.evaluate("window.__notReloaded") is True
    page.reload()
    assert page.locator(BANNER).count() == 0
    context.close()


def test_accepting_with_htmx_sets_the_audience_cookie_only_then(browser, audience_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{audience_server}/login")
    accept = page.locator(f"{BANNER} button[value=accept]")
    refuse = page.locator(f"{BANNER} button[value=refuse]")
    assert accept.bounding_box()["height"] == refuse.bounding_box()["height"]
    assert accept.get_attribute("class") == refuse.get_attribute("class")
    assert AUDIENCE_COOKIE_NAME not in {c["name"] for c in context.cookies()}
    page.evaluate("window.__notReloaded = true")
    accept.click()
    page.wait_for_selector(f"{BANNER} [role=status]")
    assert page.evaluate("window.__notReloaded") is True
    assert AUDIENCE_COOKIE_NAME in {c["name"] for c in context.cookies()}
    context.close()


@pytest.mark.parametrize("server, choice", [
    ("live_server", None), ("live_server", "dismiss"), ("audience_server", None),
    ("audience_server", "accept"), ("audience_server", "refuse"),
])
def test_every_cookie_a_visit_leaves_is_declared_with_its_lifetime(
        request, browser, server, choice, reader, app, audience_app):
    base = request.getfixturevalue(server)
    flask_app = audience_app if server == "audience_server" else app
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.goto(f"{base}/cookies")
    if choice:
        page.click(f"{BANNER} button[value={choice}]" if choice == "dismiss"
                   else f"#your-choice ~ form button[value={choice}]")
        page.wait_for_load_state()
    page.click("button[name=language]")  # the language cookie, too
    page.wait_for_load_state()
    browser_sign_in(page, base, reader)
    mailbox = f"{base}/b/{reader.address}"
    for path in ("/INBOX/", "/INBOX/1", "/compose/new", "/delegations/", "/_search?text=compte",
                 "/INBOX/1/body"):
        response = page.goto(mailbox + path)
        assert response.status == 200, path
    assert page.goto(f"{base}/account/privacy/").status == 200
    page.goto(f"{base}/cookies")
    page.click("button.signout")
    page.wait_for_url("**/login?bye=1")

    with flask_app.test_request_context():
        declared = {cookie.name: cookie for cookie in declared_cookies()}
    now = time.time()
    held = context.cookies()
    assert {c["name"] for c in held} <= set(declared), held
    for cookie in held:
        spec = declared[cookie["name"]]
        if spec.max_age is None:
            assert cookie["expires"] == -1, cookie
        else:
            assert abs(cookie["expires"] - (now + spec.max_age.total_seconds())) < 300, cookie
    names = {c["name"] for c in held}
    assert (AUDIENCE_COOKIE_NAME in names) == (choice == "accept")
    assert (CHOICE_COOKIE_NAME in names) == (choice is not None)
    context.close()


def test_cookie_page_and_notices_have_no_accessibility_violations(
        browser, live_server, audience_server, reader):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    for base in (live_server, audience_server):
        page.goto(f"{base}/login")
        assert page.locator(BANNER).count() == 1
        assert axe_violations(page) == []
        page.goto(f"{base}/cookies")
        assert axe_violations(page) == []
    browser_sign_in(page, audience_server, reader)
    assert page.locator(BANNER).count() == 1
    assert axe_violations(page) == []
    page.click(f"{BANNER} button[value=refuse]")
    page.wait_for_selector(f"{BANNER} [role=status]")
    assert axe_violations(page) == []
    page.goto(f"{audience_server}/cookies")
    assert re.search("refusé le", page.locator("#main").inner_text())
    assert axe_violations(page) == []
    context.close()
