"""Every hostile message of the shared corpus, opened in headless Chromium.

For each: no dialog, no request to any host but the app, no navigation away, no server
error, and a page that still shows the message.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import browser_sign_in
from tests.conftest import CORPUS, PASSWORD, MailUser

pytestmark = pytest.mark.browser

CORPUS_DIR = Path(os.environ.get("PLI_CORPUS_DIR", CORPUS))
CASES = sorted(CORPUS_DIR.glob("*.eml"))


@pytest.fixture(scope="module")
def corpus_user(mail_backend) -> MailUser:
    user = MailUser(f"corpus{os.getpid()}@pli.test", PASSWORD)
    mail_backend.add_user(user.address, user.password)
    for path in CASES:  # a fresh folder numbers them 1, 2, 3… in this order
        mail_backend.append(user.address, "Corpus", path.read_bytes())
    return user


@pytest.fixture(scope="module")
def corpus_page(browser, live_server, corpus_user):
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, live_server, corpus_user)
    yield page
    context.close()


def test_corpus_is_present():
    assert len(CASES) >= 40, f"corpus not found in {CORPUS_DIR}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_hostile_message_is_shown_safely(corpus_page, live_server, corpus_user, path: Path):
    page = corpus_page
    uid = CASES.index(path) + 1
    url = f"{live_server}/b/{corpus_user.address}/Corpus/{uid}"
    dialogs, foreign, errors, console = [], [], [], []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request) -> None:
        if not _ours(request.url, live_server):
            foreign.append(request.url)

    def on_error(error) -> None:
        errors.append(error)

    def on_console(message) -> None:
        console.append(message.text)

    handlers = {"dialog": on_dialog, "request": on_request, "pageerror": on_error,
                "console": on_console}
    for event, handler in handlers.items():
        page.on(event, handler)
    try:
        response = page.goto(url, wait_until="load")
        page.wait_for_timeout(300)  # let any delayed refresh or lazy load fire
        assert response.status == 200
        assert page.url == url, "the page navigated away"
        assert page.locator("h1#message-subject").count() == 1
        assert dialogs == [] and foreign == [] and errors == []
        assert not [text for text in console if "CORPUS" in text], "a script ran"
        shown = page.locator("main").inner_text()
        for frame in page.frames[1:]:
            assert frame.url.startswith(f"{live_server}/b/"), frame.url
            assert frame.title() != "CORPUS-XSS"
            shown += frame.locator("body").inner_text()
        assert page.title() != "CORPUS-XSS"
        case = path.name.split("_")[0]
        assert f"Corpus {case}" in shown, "the message is not shown"
    finally:
        for event, handler in handlers.items():
            page.remove_listener(event, handler)


def _ours(url: str, base: str) -> bool:
    return url.startswith((base + "/", "data:", "about:", "blob:"))
