"""Setting up the second factor and signing in with it, in a real browser."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.browser import axe_violations, browser_sign_in, follow

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
def test_set_up_an_app_then_sign_in_with_its_code(browser, live_server, mail_user, javascript):
    context = browser.new_context(java_script_enabled=javascript, bypass_csp=javascript)
    page = context.new_page()
    browser_sign_in(page, live_server, mail_user)
    follow(page, "header >> text=Confidentialité")
    follow(page, "#privacy-security >> text=Gérer le second facteur")
    follow(page, "text=Configurer une application d’authentification")
    assert page.locator("figure.qr svg").is_visible()
    secret = page.inner_text("#totp-key").replace(" ", "")
    if javascript:
        assert axe_violations(page) == []
    page.fill("#confirm-code", pyotp.TOTP(secret).now())
    follow(page, "text=Activer le second facteur")
    assert page.locator(".recovery-codes li").count() == 10
    if javascript:
        assert axe_violations(page) == []
    follow(page, "button.signout")

    page.fill("#username", mail_user.address)
    page.fill("#password", mail_user.password)
    follow(page, "button[type=submit]")
    assert page.locator("h1").inner_text() == "Confirmez votre identité"
    if javascript:
        assert axe_violations(page) == []
    page.fill("#code", "000000")
    follow(page, "text=Continuer")
    assert "Ce code est erroné" in page.inner_text("#code-error")
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))
    follow(page, "text=Continuer")
    page.wait_for_url(f"**/b/{mail_user.address}/INBOX/")
    context.close()
