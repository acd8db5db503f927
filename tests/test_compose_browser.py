"""Writing mail in a real browser, with and without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.browser import axe_violations, browser_sign_in, follow
from tests.compose_support import (
    another_user,
    attachments_of,
    folder_messages,
    parse,
    text_of,
    wait_for_messages,
)
from tests.mailfactory import message

pytestmark = pytest.mark.browser
REPORT = b"%PDF-1.4 bilan\n" * 2000


def _file(name: str, data: bytes, mime: str = "application/pdf") -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
def test_write_attach_and_send(browser, live_server, mail_user, mail_backend, javascript):
    peer = another_user(mail_backend)
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    browser_sign_in(page, live_server, mail_user)
    follow(page, "text=Nouveau message")
    assert "10 Mo" in page.inner_text(".compose-files")  # the limit, before any upload
    page.fill("#to", f"Dr Pair <{peer.address}>")
    page.fill("#subject", "Bilan sanguin")
    page.fill("#body", "Bonjour,\nvoici le bilan.")
    page.set_input_files("#attachments", [_file("bilan été.pdf", REPORT)])
    if not javascript:
        page.click("button[value=attach]")
    page.wait_for_selector(".compose-attachments >> text=bilan été.pdf")
    if javascript:
        assert page.is_hidden("button[value=attach]")
        assert page.input_value("#body") == "Bonjour,\nvoici le bilan."
    page.click("button.primary[value=send]")
    page.wait_for_selector("h1:has-text('Message envoyé')")
    [(_, raw, _)] = wait_for_messages(mail_backend, peer, "INBOX")
    assert parse(raw)["Subject"] == "Bilan sanguin"
    assert text_of(raw).startswith("Bonjour,\nvoici le bilan.")
    assert attachments_of(raw) == {"bilan été.pdf": REPORT}
    assert folder_messages(mail_backend, mail_user, "Drafts") == []
    context.close()


@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
def test_reply_from_the_message_view(browser, live_server, mail_user, mail_backend,
                                     javascript):
    peer = another_user(mail_backend)
    mail_backend.deliver(mail_user.address, message(
        "Demande d'avis", sender=f"Dr Pair <{peer.address}>", to=mail_user.address,
        body="Qu'en pensez-vous ?\n"))
    [(uid, original, _)] = wait_for_messages(mail_backend, mail_user, "INBOX")
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    browser_sign_in(page, live_server, mail_user)
    page.goto(f"{live_server}/b/{mail_user.address}/INBOX/{uid}")
    follow(page, ".compose-actions >> text=Répondre")
    assert page.input_value("#subject") == "Re: Demande d'avis"
    assert peer.address in page.input_value("#to")
    assert "> Qu'en pensez-vous ?" in page.input_value("#body")
    page.fill("#body", "Favorable.\n\n" + page.input_value("#body"))
    page.click("button.primary[value=send]")
    page.wait_for_selector("h1:has-text('Message envoyé')")
    [(_, reply, _)] = wait_for_messages(mail_backend, peer, "INBOX")
    assert parse(reply)["In-Reply-To"] == parse(original)["Message-ID"]
    assert text_of(reply).startswith("Favorable.")
    context.close()


def test_typing_saves_the_draft_without_a_click(browser, live_server, mail_user, mail_backend):
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, live_server, mail_user)
    follow(page, "text=Nouveau message")
    page.fill("#subject", "Brouillon automatique")
    page.wait_for_selector(".draft-status:has-text('Brouillon enregistré')")
    page.wait_for_url(re.compile(r".*/compose/draft/\d+$"))
    [(_, raw, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    assert parse(raw)["Subject"] == "Brouillon automatique"
    page.reload()  # the address now opens the draft
    assert page.input_value("#subject") == "Brouillon automatique"
    context.close()


def test_a_file_too_big_is_refused_before_upload(browser, live_server, mail_user,
                                                  mail_backend):
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, live_server, mail_user)
    follow(page, "text=Nouveau message")
    page.fill("#body", "Texte à garder")
    requests = []
    page.on("request", lambda r: requests.append(r) if r.method == "POST" else None)
    page.wait_for_selector(".draft-status:has-text('Brouillon enregistré')")
    requests.clear()
    page.set_input_files("#attachments", [_file("scanner.pdf", b"x" * 10_500_000)])
    page.wait_for_selector("#upload-note:has-text('10 Mo')")
    assert not [r for r in requests if "compose" in r.url]
    assert page.input_value("#body") == "Texte à garder"
    [(_, raw, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    assert attachments_of(raw) == {}
    context.close()


def test_compose_page_has_no_accessibility_violations(browser, live_server, mail_user):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    browser_sign_in(page, live_server, mail_user)
    follow(page, "text=Nouveau message")
    page.wait_for_selector("#compose-form")
    assert axe_violations(page) == []
    context.close()
