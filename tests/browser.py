"""Helpers for driving the app in headless Chromium."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import MailUser

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def browser_sign_in(page, base_url: str, user: MailUser) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", user.address)
    page.fill("#password", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/b/{user.address}/INBOX/")


def follow(page, selector: str) -> None:
    """Click a link that loads a new page and wait until that page's scripts have run.

    htmx binds its triggers when the document is ready: typing or choosing a file
    before then is not seen by them, so a test must not act earlier than a person could.
    """
    with page.expect_navigation():
        page.click(selector)


def axe_violations(page) -> list[dict]:
    """Run axe-core in the page (the context must bypass CSP to inject it)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"
    )
