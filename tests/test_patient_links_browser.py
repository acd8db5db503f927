"""A patient opens a secure link in a real browser: code, message, answer."""

from __future__ import annotations

import pytest

from tests.browser import axe_violations, browser_sign_in, follow
from tests.compose_support import another_user, text_of, wait_for_messages
from tests.test_patient_links import _link_and_code

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
def test_a_patient_reads_and_answers_a_secure_message(browser, live_server, mail_user,
                                                     mail_backend, javascript):
    patient = another_user(mail_backend, "patient")
    context = browser.new_context(java_script_enabled=javascript, bypass_csp=javascript)
    page = context.new_page()
    browser_sign_in(page, live_server, mail_user)
    follow(page, "text=Nouveau message")
    page.fill("#to", patient.address)
    page.fill("#subject", "Compte rendu")
    page.fill("#body", "Le compte rendu est rassurant.")
    page.check("#patient_link")
    follow(page, "button.primary[value=send]")
    assert "Un lien sécurisé a été envoyé" in page.inner_text("main")
    if javascript:
        assert axe_violations(page) == []
    link, code, _ = _link_and_code(mail_backend, patient)
    context.close()

    context = browser.new_context(java_script_enabled=javascript, bypass_csp=javascript)
    page = context.new_page()
    page.goto(live_server + link)
    assert page.locator("h1").inner_text() == "Un message sécurisé vous attend"
    assert "rassurant" not in page.content()
    if javascript:
        assert axe_violations(page) == []
    page.fill("#code", code)
    follow(page, "text=Ouvrir le message")
    assert page.locator("h1").inner_text() == "Compte rendu"
    assert "Le compte rendu est rassurant." in page.inner_text(".text-body")
    if javascript:
        assert axe_violations(page) == []
    page.fill("#answer-text", "Merci, bonne journée.")
    follow(page, "text=Envoyer ma réponse")
    assert "Votre réponse a été envoyée" in page.inner_text("main")
    [(_, answer, _)] = wait_for_messages(mail_backend, mail_user, "INBOX")
    assert text_of(answer).startswith("Merci, bonne journée.")
    context.close()
