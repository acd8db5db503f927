"""The privacy page in a real browser: the export download, the newsletter choice with
JavaScript on and off, ending a session opened in another browser, and accessibility."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select

from tests.browser import axe_violations, browser_sign_in
from tests.conftest import MailUser
from webmail.db import db
from webmail.models import Account

pytestmark = pytest.mark.browser
PAGE = "/account/privacy/"


def _account(app, address: str) -> Account:
    with app.app_context():
        return db.session.scalar(select(Account).where(Account.address == address))


def _open_privacy_page(browser, live_server: str, user: MailUser, javascript: bool = True,
                       **options):
    context = browser.new_context(java_script_enabled=javascript, **options)
    page = context.new_page()
    browser_sign_in(page, live_server, user)
    page.click("header >> text=Confidentialité")
    page.wait_for_url(f"**{PAGE}")
    return context, page


def test_the_export_downloads_as_a_zip_of_the_persons_data(browser, live_server,
                                                           mail_user: MailUser):
    context, page = _open_privacy_page(browser, live_server, mail_user)
    with page.expect_download() as download_info:
        page.click("#export-button")
    download = download_info.value
    assert download.suggested_filename.startswith("pli-export-")
    assert download.suggested_filename.endswith(".zip")
    with open(download.path(), "rb") as file:
        archive = zipfile.ZipFile(io.BytesIO(file.read()))
    assert "README.txt" in archive.namelist()
    assert json.loads(archive.read("account.json"))["address"] == mail_user.address
    actions = [t["action"] for t in json.loads(archive.read("traces.json"))]
    assert actions[0] == "sign_in"
    assert page.url.endswith(PAGE)  # still on the page: a download, not a navigation
    context.close()


@pytest.mark.parametrize("javascript", [False, True])
def test_opting_out_of_the_newsletter_works_with_and_without_javascript(
        app, browser, live_server, mail_user: MailUser, javascript: bool):
    context, page = _open_privacy_page(browser, live_server, mail_user, javascript)
    page.check("#newsletter")
    page.click("text=Enregistrer mes choix")
    page.wait_for_selector("text=Vos choix de communication ont été enregistrés.")
    assert _account(app, mail_user.address).newsletter is True
    page.uncheck("#newsletter")
    if javascript:
        page.evaluate("window.__notReloaded = true;"
                      "document.querySelector('#privacy-communications').dataset.old = 'yes'")
        page.click("text=Enregistrer mes choix")
        # Swapped in: the section is the server's new one, with the message.
        page.wait_for_selector("#privacy-communications:not([data-old])")
    else:
        with page.expect_navigation():
            page.click("text=Enregistrer mes choix")
    assert "Vos choix de communication ont été enregistrés." in page.inner_text(
        "#privacy-communications")
    assert _account(app, mail_user.address).newsletter is False
    assert not page.is_checked("#newsletter")
    if javascript:  # htmx swapped the section in place
        assert page.evaluate("window.__notReloaded") is True
    else:
        assert page.url.endswith(f"{PAGE}#privacy-communications")
    output = app.test_cli_runner().invoke(args=["admin", "newsletter-recipients"]).output
    assert mail_user.address not in output
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_session_ended_from_another_browser_lands_on_the_sign_in_page(
        browser, live_server, mail_user: MailUser, javascript: bool):
    elsewhere = browser.new_context()
    other = elsewhere.new_page()
    browser_sign_in(other, live_server, mail_user)
    context, page = _open_privacy_page(browser, live_server, mail_user, javascript)
    rows = page.locator("#privacy-security tr[data-session]")
    assert rows.count() == 2
    assert page.locator("tr.current").inner_text().count("(cette session)") == 1
    page.click("#privacy-security tr:not(.current) >> text=Déconnecter cette session")
    page.wait_for_selector("text=La session a été déconnectée.")
    assert rows.count() == 1

    other.goto(f"{live_server}/b/{mail_user.address}/INBOX/")
    assert "/login" in other.url
    assert other.locator("#password").is_visible()
    page.goto(f"{live_server}/b/{mail_user.address}/INBOX/")  # this one carries on
    assert page.url.endswith(f"/b/{mail_user.address}/INBOX/")
    elsewhere.close()
    context.close()


def test_privacy_pages_have_no_accessibility_violations(app, browser, live_server,
                                                        mail_user: MailUser):
    elsewhere = browser.new_context()
    browser_sign_in(elsewhere.new_page(), live_server, mail_user)  # a second open session
    context, page = _open_privacy_page(browser, live_server, mail_user, bypass_csp=True)
    page.click("summary >> text=Directives pour après mon décès")
    page.fill("#details-post_mortem", "Remettre mes archives à mon associée.")
    page.click("form:has(#details-post_mortem) button")
    page.wait_for_selector("text=Votre demande a été envoyée.")
    page.fill("#profile-rpps", "123")
    page.click("text=Enregistrer mes informations")
    page.wait_for_selector("#profile-rpps-error")
    assert axe_violations(page) == []

    assert app.test_cli_runner().invoke(args=["admin", "grant", mail_user.address]).exit_code == 0
    page.goto(f"{live_server}/admin/privacy-requests")
    assert page.locator("li[data-request]").count() >= 1
    assert axe_violations(page) == []
    elsewhere.close()
    context.close()
