"""Bulk actions, undo, confirmation, search and shortcuts in Chromium, JavaScript on and off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser import axe_violations, browser_sign_in, follow
from tests.mailfactory import message

pytestmark = pytest.mark.browser


def _count(mail_backend, user, folder: str) -> int:
    with mail_backend.imap(user.address) as imap:
        return imap.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"]


@pytest.fixture
def inbox_user(mail_user, mail_backend):
    for n in range(55):
        mail_backend.append(mail_user.address, "INBOX", message(f"Examen n°{n:02d}"))
    return mail_user


def _check(page, subject: str) -> None:
    page.locator("tr", has_text=subject).locator('input[name="uid"]').check()


def test_bulk_move_and_undo_with_javascript_off(browser, live_server, inbox_user, mail_backend):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_sign_in(page, live_server, inbox_user)
    for n in (54, 53, 52):
        _check(page, f"Examen n°{n}")
    page.select_option("#bulk-target", "Archive")
    page.click("button[name=action][value=move]")
    assert page.locator(".organise-notice").inner_text().startswith(
        "3 messages déplacés dans Archives.")
    assert _count(mail_backend, inbox_user, "Archive") == 3
    assert page.locator("text=Examen n°54").count() == 0
    page.click("text=Annuler l’action")
    assert "sont de retour dans Boîte de réception" in page.locator(".organise-notice").inner_text()
    assert _count(mail_backend, inbox_user, "Archive") == 0
    page.click("a.select-all")
    assert page.locator('input[name="uid"]:checked').count() == 50
    page.click("button[name=action][value=delete]")
    notice = page.locator(".organise-notice").inner_text()
    assert "50 messages déplacés dans la corbeille." in notice
    assert _count(mail_backend, inbox_user, "Trash") == 50
    assert _count(mail_backend, inbox_user, "INBOX") == 5
    context.close()


def test_bulk_actions_with_javascript_swap_the_list_in_place(browser, live_server, inbox_user,
                                                             mail_backend):
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, live_server, inbox_user)
    page.evaluate("window.__notReloaded = true")
    url = page.url
    page.click("a.select-all")  # toggled by the script, no navigation
    assert page.locator('input[name="uid"]:checked').count() == 50
    assert page.url == url
    page.click("a.select-all")
    assert page.locator('input[name="uid"]:checked').count() == 0
    _check(page, "Examen n°54")
    _check(page, "Examen n°50")
    page.click("button[name=action][value=archive]")
    page.wait_for_selector(".organise-notice >> text=2 messages archivés.")
    page.wait_for_selector("#folders .special-archive .count >> text=2")  # sidebar refreshed
    assert page.locator("text=Examen n°54").count() == 0
    assert _count(mail_backend, inbox_user, "Archive") == 2
    _check(page, "Examen n°53")
    page.click("button[name=action][value=flag]")
    page.wait_for_selector(".organise-notice >> text=1 message suivi.")
    assert page.locator("tr.flagged", has_text="Examen n°53").count() == 1
    page.goto(f"{live_server}/b/{inbox_user.address}/INBOX/")
    page.evaluate("window.__notReloaded = true")
    _check(page, "Examen n°52")
    page.click("button[name=action][value=delete]")
    page.wait_for_selector(".organise-notice >> text=1 message déplacé dans la corbeille.")
    page.click("text=Annuler l’action")
    page.wait_for_selector(".organise-notice >> text=Annulé")
    assert page.locator("text=Examen n°52").count() == 1
    assert _count(mail_backend, inbox_user, "Trash") == 0
    assert page.evaluate("window.__notReloaded") is True
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_deleting_from_trash_asks_before_erasing(browser, live_server, mail_user, mail_backend,
                                                 javascript):
    for n in range(3):
        mail_backend.append(mail_user.address, "Trash", message(f"Jeté {n}"))
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog), dialog.dismiss()))
    browser_sign_in(page, live_server, mail_user)
    page.goto(f"{live_server}/b/{mail_user.address}/Trash/")
    _check(page, "Jeté 0")
    _check(page, "Jeté 2")
    page.click("button[name=action][value=delete]")
    page.wait_for_selector("text=Supprimer définitivement 2 messages ?")
    assert _count(mail_backend, mail_user, "Trash") == 3
    page.click(".confirm-step button.danger")
    page.wait_for_selector(".organise-notice >> text=2 messages supprimés définitivement.")
    assert _count(mail_backend, mail_user, "Trash") == 1
    assert dialogs == []
    context.close()


def test_message_view_actions_and_eml_download(browser, live_server, mail_user, mail_backend):
    raw = message("Lettre de liaison").replace(b"\n", b"\r\n")
    mail_backend.append(mail_user.address, "INBOX", raw)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_sign_in(page, live_server, mail_user)
    follow(page, "text=Lettre de liaison")
    page.click(".organise-actions button[value=flag]")
    assert "1 message suivi." in page.locator(".organise-notice").inner_text()
    with page.expect_download() as download_info:
        page.click("text=Télécharger (.eml)")
    download = download_info.value
    assert download.suggested_filename == "Lettre de liaison.eml"
    assert Path(download.path()).read_bytes() == raw
    page.click(".organise-actions button[value=unread]")
    assert page.locator("tr.unread", has_text="Lettre de liaison").count() == 1
    context.close()


def test_search_from_the_top_bar_and_page_through_results(browser, live_server, inbox_user):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_sign_in(page, live_server, inbox_user)
    page.fill("#search-text", "Examen")
    page.press("#search-text", "Enter")
    page.wait_for_selector("text=55 messages trouvés")
    assert page.locator("#search-results tbody tr").count() == 50
    page.click("a[rel=next]")
    assert page.locator("#search-results tbody tr").count() == 5
    context.close()


def test_keyboard_shortcuts_once_turned_on(browser, live_server, inbox_user, mail_backend):
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, live_server, inbox_user)
    page.keyboard.press("j")  # off by default: nothing happens
    assert page.evaluate("document.activeElement.tagName") == "BODY"
    page.goto(f"{live_server}/b/{inbox_user.address}/_shortcuts")
    follow(page, "text=Activer les raccourcis clavier")
    page.goto(f"{live_server}/b/{inbox_user.address}/INBOX/")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.textContent").strip().endswith("Examen n°53")
    page.keyboard.press("e")  # archive the message that has the focus
    page.wait_for_selector(".organise-notice >> text=1 message archivé.")
    assert _count(mail_backend, inbox_user, "Archive") == 1
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-text"
    page.keyboard.press("Escape")
    page.locator("h1").click()
    page.keyboard.press("?")
    page.wait_for_url(re.compile(r".*/_shortcuts$"))
    context.close()


def test_organise_pages_have_no_accessibility_violations(browser, live_server, mail_user,
                                                         mail_backend):
    mail_backend.append(mail_user.address, "INBOX", message(
        "Bilan", attachments=[("bilan.pdf", "application/pdf", b"%PDF-1.4")]),
        flags=[b"\\Flagged", b"\\Answered"])
    mail_backend.append(mail_user.address, "Trash", message("Vieux"))
    mail_backend.append(mail_user.address, "Patients", message("Suivi"))
    context = browser.new_context(bypass_csp=True, java_script_enabled=True)
    page = context.new_page()
    browser_sign_in(page, live_server, mail_user)
    base = f"{live_server}/b/{mail_user.address}"
    for url in (f"{base}/INBOX/", f"{base}/INBOX/1", f"{base}/_search?text=Bilan&scope=all",
                f"{base}/_search?advanced=1", f"{base}/_folder-admin/", f"{base}/_shortcuts",
                f"{base}/INBOX/1/print"):
        page.goto(url)
        assert axe_violations(page) == [], url
    page.goto(f"{base}/Trash/")
    page.locator('input[name="uid"]').first.check()
    page.click("button[name=action][value=delete]")
    page.wait_for_selector(".confirm-step")
    assert axe_violations(page) == []
    context.close()
