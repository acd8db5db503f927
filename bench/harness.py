"""What every benchmark needs: a private mail rig, a signed-in app, and fair timing.

Each script compares Pli with the raw protocol work that any client must do for the
same result (the floor), measured in the same run and taking turns, so the ratios mean
the same on a slow or a fast, busy or idle machine.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devmail.backend import BackendConfig, MailBackend  # noqa: E402
from imap_bridge.connection import ServerSettings  # noqa: E402
from webmail import create_app  # noqa: E402
from webmail.migrate import upgrade  # noqa: E402

PASSWORD = "Bench-Pli-2026!"
# What a message list needs of each row: the floor fetches exactly what Pli fetches.
LIST_FETCH = [b"FLAGS", b"RFC822.SIZE", b"INTERNALDATE",
              b"BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE CONTENT-TYPE)]<0.16384>"]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@contextmanager
def private_rig(port_base: int) -> Iterator[tuple[MailBackend, Path]]:
    """A Dovecot + Postfix of its own on loopback ports `port_base` + n, and a scratch
    folder; both gone afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        backend = MailBackend(BackendConfig(
            root=Path(tmp) / "mail", imap_port=port_base + 143, lmtp_port=port_base + 24,
            smtp_port=port_base + 25, submission_port=port_base + 587))
        backend.start()
        try:
            yield backend, Path(tmp)
        finally:
            backend.stop()


def imap_settings(backend: MailBackend) -> ServerSettings:
    return ServerSettings("127.0.0.1", backend.config.imap_port, "starttls",
                          str(backend.ca_file))


def signed_in_client(backend: MailBackend, tmp: Path, address: str, **config: object):
    """A test client of a fresh app on the rig, signed in as `address`."""
    app = create_app({
        "IMAP_PORT": backend.config.imap_port, "SMTP_PORT": backend.config.submission_port,
        "TLS_CA_FILE": str(backend.ca_file), "SECRET_KEY": "bench",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "SECOND_FACTOR": "optional",  # measured: the pages, not the sign-in steps
        **config,
    })
    with app.app_context():
        upgrade()
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "username": address,
                                           "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def ok(response) -> None:
    assert response.status_code == 200, response.status_code


def p50_interleaved(rounds: int, *actions: Callable[[], object]) -> list[float]:
    """Median time of each action, taking turns so that load from elsewhere on the machine
    weighs on all of them alike."""
    timings: list[list[float]] = [[] for _ in actions]
    for action in actions:
        action()  # warm-up: pooled connections, caches
    for _ in range(rounds):
        for index, action in enumerate(actions):
            start = time.perf_counter()
            action()
            timings[index].append(time.perf_counter() - start)
    return [statistics.median(values) for values in timings]
