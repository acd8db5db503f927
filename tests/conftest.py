"""Real components for every test: Dovecot + Postfix (started once), SQLite or PostgreSQL,
the Flask app, and a live HTTP server for the browser tests."""

from __future__ import annotations

import itertools
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from werkzeug.serving import make_server

from devmail.backend import BackendConfig, MailBackend
from webmail import create_app
from webmail.mail_pool import pool
from webmail.migrate import upgrade

PASSWORD = "Test-Pli-2026!"
_counter = itertools.count(1)


@dataclass(frozen=True)
class MailUser:
    address: str
    password: str


@pytest.fixture(scope="session")
def mail_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailBackend]:
    root = tmp_path_factory.mktemp("devmail")
    base = int(os.environ.get("PLI_TEST_PORT_BASE", "11000"))
    backend = MailBackend(BackendConfig(
        root=root, imap_port=base + 143, lmtp_port=base + 24, smtp_port=base + 25,
        submission_port=base + 587,
    ))
    backend.start()
    yield backend
    backend.stop()


@pytest.fixture
def mail_user(mail_backend: MailBackend) -> MailUser:
    """A fresh, empty mailbox for one test, so tests never see each other's mail."""
    address = f"user{os.getpid()}x{next(_counter)}@pli.test"
    mail_backend.add_user(address, PASSWORD)
    return MailUser(address, PASSWORD)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'pli.sqlite3'}"
    _empty_database(url)
    return url


def _empty_database(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in inspect(connection).get_table_names():
            connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()


def app_config(mail_backend: MailBackend, database_url: str, **extra: object) -> dict:
    config = {
        "IMAP_HOST": "127.0.0.1",
        "IMAP_PORT": mail_backend.config.imap_port,
        "IMAP_SECURITY": "starttls",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": mail_backend.config.submission_port,
        "TLS_CA_FILE": str(mail_backend.ca_file),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "RATELIMIT_STORAGE_URI": "memory://",
        # Most tests sign in with a password alone; test_second_factor.py asks for a code.
        "SECOND_FACTOR": "optional",
        # Delegation: the rig's master user, and Pli's sender-login map loaded into its Postfix.
        "IMAP_MASTER_USER": mail_backend.config.master_user,
        "IMAP_MASTER_PASSWORD": mail_backend.config.master_password,
        "SENDER_LOGIN_MAP": str(mail_backend.config.root / "pli_sender_logins"),
        "SENDER_LOGIN_COMMAND": ["env", f"PLI_DEV_ROOT={mail_backend.config.root}",
                                 sys.executable, "-m", "devmail", "load-sender-logins", "{map}"],
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def app(mail_backend: MailBackend, database_url: str):
    app = create_app(app_config(mail_backend, database_url))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(autouse=True)
def _close_pooled_connections(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test signs in afresh: close its pooled IMAP connections when it ends, as a
    person signing out would, rather than leave them to the pool's idle timeout."""
    yield
    if "app" in request.fixturenames:
        with request.getfixturevalue("app").app_context():
            pool().close_all()


@pytest.fixture
def client(app):
    with app.test_client() as client:
        yield client


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client, user: MailUser) -> None:
    page = client.get("/login")
    response = client.post("/login", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "username": user.address, "password": user.password,
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@contextmanager
def served(app) -> Iterator[str]:
    """The app on a free loopback port, for the browser; stopped afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    with served(app) as url:
        yield url


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield browser
        browser.close()


CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "public"
