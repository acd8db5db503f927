"""The reading experience in a real browser, with and without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.browser import axe_violations, browser_sign_in
from tests.mailfactory import message

pytestmark = pytest.mark.browser


@pytest.fixture
def filled_user(mail_user, mail_backend):
    for n in range(60):
        mail_backend.append(mail_user.address, "INBOX", message(
            f"Résultat n°{n}", html=f"<p>Bonjour <b>{n}</b></p>",
            attachments=[("analyse.pdf", "application/pdf", b"%PDF-1.4")] if n == 59 else []))
    return mail_user


def test_sign_in_list_and_read_with_javascript_off(browser, live_server, filled_user):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_sign_in(page, live_server, filled_user)
    assert page.locator("tbody tr").count() == 50
    page.click("a[rel=next]")
    assert page.locator("tbody tr").count() == 10
    page.click("text=Résultat n°5")
    assert page.locator("h1").inner_text() == "Résultat n°5"
    frame = page.frame_locator("iframe.message-frame")
    assert frame.locator("b").inner_text() == "5"
    context.close()


def test_htmx_pagination_swaps_the_list_without_a_reload(browser, live_server, filled_user):
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, live_server, filled_user)
    page.evaluate("window.__notReloaded = true")
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r".*page=2$"))
    page.wait_for_selector("text=Résultat n°0")
    assert page.evaluate("window.__notReloaded") is True
    context.close()


def test_pages_have_no_accessibility_violations(browser, live_server, filled_user):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    assert axe_violations(page) == []
    browser_sign_in(page, live_server, filled_user)
    assert axe_violations(page) == []
    page.click("text=Résultat n°59")
    page.wait_for_selector("iframe.message-frame")
    assert axe_violations(page) == []
    context.close()


def test_interface_is_french_by_default_and_english_on_request(browser, live_server):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("button[type=submit]").inner_text() == "Se connecter"
    page.click("button[name=language]")
    assert page.locator("button[type=submit]").inner_text() == "Sign in"
    context.close()
