"""Delegation in a real browser: the owner grants from the settings page, the delegate
switches mailboxes in two tabs and works in each without mixing, with JavaScript on and off."""

from __future__ import annotations

import re

import pytest

from tests.browser import AXE, axe_violations, browser_sign_in
from tests.delegation_support import SECRET_SUBJECT, Trio, trio_fixture  # noqa: F401
from tests.mailfactory import message

pytestmark = pytest.mark.browser
OWN_SUBJECT = "Planning du secrétariat"


def _grant_in_browser(browser, live_server: str, trio: Trio, rights: str, javascript: bool):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    browser_sign_in(page, live_server, trio.owner)
    page.click("a.delegations-link")
    page.wait_for_url(f"**/b/{trio.owner.address}/delegations/")
    page.fill("#delegate", trio.delegate.address)
    page.check(f"input[name=rights][value={rights}]")
    page.click("text=Ajouter le délégué")
    page.wait_for_selector(f"tr[data-delegate='{trio.delegate.address}']")
    assert "peut désormais travailler dans votre boîte" in page.content()
    context.close()


def _switch_to(page, address: str) -> None:
    page.click("details.switcher summary")
    page.click(f"#mailbox-switcher a[data-mailbox='{address}']")
    page.wait_for_url(f"**/b/{address}/INBOX/")


def test_a_delegate_works_in_two_mailboxes_in_two_tabs_without_mixing(
        browser, live_server, trio: Trio, mail_backend):
    mail_backend.append(trio.delegate.address, "INBOX", message(OWN_SUBJECT,
                                                                to=trio.delegate.address))
    _grant_in_browser(browser, live_server, trio, "organise", javascript=True)
    context = browser.new_context()
    own_tab = context.new_page()
    browser_sign_in(own_tab, live_server, trio.delegate)
    their_tab = context.new_page()
    their_tab.goto(f"{live_server}/b/{trio.delegate.address}/INBOX/")
    _switch_to(their_tab, trio.owner.address)

    marker = their_tab.locator("#delegate-marker")
    assert f"Vous travaillez dans la boîte de {trio.owner.address}" in marker.inner_text()
    assert "Lecture et classement" in marker.inner_text()
    assert own_tab.locator("#delegate-marker").count() == 0

    # Interleaved work: each tab stays in its own mailbox.
    own_tab.click(f"text={OWN_SUBJECT}")
    their_tab.click(f"text={SECRET_SUBJECT}")
    assert own_tab.locator("h1").inner_text() == OWN_SUBJECT
    assert their_tab.locator("h1").inner_text() == SECRET_SUBJECT
    assert their_tab.locator("#delegate-marker").is_visible()
    own_tab.click("#folders >> text=Boîte de réception")
    their_tab.click("#folders >> text=Suivi")
    their_tab.wait_for_selector("text=Suivi patient")
    assert SECRET_SUBJECT not in own_tab.content() and "Suivi patient" not in own_tab.content()
    assert OWN_SUBJECT not in their_tab.content()
    for tab, address in ((own_tab, trio.delegate.address), (their_tab, trio.owner.address)):
        assert re.search(f"/b/{re.escape(address)}/", tab.url)
        poll = tab.locator("#folders").get_attribute("hx-get")
        assert poll.startswith(f"/b/{address}/_folders")
    # The owner's message was read by the delegate, in the owner's mailbox, for the delegate
    # only: it stays unread for the owner; the delegate's own message is read in theirs.
    with mail_backend.imap(trio.owner.address) as imap:
        imap.select_folder("INBOX", readonly=True)
        assert imap.search(["SUBJECT", "Compte rendu", "UNSEEN"])
    with mail_backend.imap(trio.delegate.address, trio.delegate.password) as imap:
        imap.select_folder(f"shared/{trio.owner.address}/INBOX", readonly=True)
        assert imap.search(["SUBJECT", "Compte rendu", "SEEN"])
        imap.select_folder("INBOX", readonly=True)
        assert imap.search(["SEEN"]) == imap.search(["SUBJECT", "Planning"])
    context.close()


def test_granting_and_switching_work_with_javascript_off(browser, live_server, trio: Trio):
    _grant_in_browser(browser, live_server, trio, "read", javascript=False)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_sign_in(page, live_server, trio.delegate)
    _switch_to(page, trio.owner.address)
    assert "Lecture seule" in page.locator("#delegate-marker").inner_text()
    page.click(f"text={SECRET_SUBJECT}")
    assert page.locator("h1").inner_text() == SECRET_SUBJECT
    page.click("#delegate-marker >> text=Revenir à ma boîte")
    page.wait_for_url(f"**/b/{trio.delegate.address}/INBOX/")
    assert page.locator("#delegate-marker").count() == 0
    context.close()


def test_delegation_pages_have_no_accessibility_violations(browser, live_server, trio: Trio):
    _grant_in_browser(browser, live_server, trio, "send", javascript=True)
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    browser_sign_in(page, live_server, trio.owner)
    page.goto(f"{live_server}/b/{trio.owner.address}/delegations/")
    assert axe_violations(page) == []
    page.click("text=Modifier, voir l’activité")
    assert axe_violations(page) == []
    page.context.clear_cookies()
    browser_sign_in(page, live_server, trio.delegate)
    page.click("details.switcher summary")
    assert axe_violations(page) == []
    page.click(f"#mailbox-switcher a[data-mailbox='{trio.owner.address}']")
    page.wait_for_url(f"**/b/{trio.owner.address}/INBOX/")
    assert _axe_on(page, ["#delegate-marker", ".switcher", ".topbar"]) == []
    context.close()


def _axe_on(page, selectors: list[str]) -> list[dict]:
    """axe-core on the delegation parts of a mailbox page only (the rest has its own test)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async (include) => (await axe.run({include: include.map(s => [s])},"
        " {resultTypes: ['violations']})).violations.map(v => ({id: v.id, nodes: v.nodes"
        ".map(n => n.target)}))", selectors)
