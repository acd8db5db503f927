"""Reading speed against its floor, measured in one run (run by hand: `make bench`).

Seeds 5,000 messages in a private Dovecot (ports 13100 + n), then compares the server
time of the inbox page and of a message page with the raw imapclient commands that
fetch the same data, and sums the gzip size of a cold inbox load (HTML + CSS + JS).
"""

from __future__ import annotations

import gzip
import re

from harness import (
    LIST_FETCH,
    PASSWORD,
    imap_settings,
    ok,
    p50_interleaved,
    private_rig,
    signed_in_client,
)

from imap_bridge.connection import open_imap
from imap_bridge.folders import list_folders
from tests.mailfactory import message

USER = "bench@pli.test"
PORT_BASE = 13100
MESSAGES = 5000
ROUNDS = 40


def main() -> None:
    with private_rig(PORT_BASE) as (backend, tmp):
        backend.add_user(USER, PASSWORD)
        raw_client = open_imap(imap_settings(backend), USER, PASSWORD)
        seed(raw_client)
        inbox_url = f"/b/{USER}/INBOX/"
        uid = max(raw_client.search("ALL"))
        message_url = f"/b/{USER}/INBOX/{uid}"
        client = signed_in_client(backend, tmp, USER, FOLDER_CACHE_SECONDS=20)
        uncached = signed_in_client(backend, tmp, USER, FOLDER_CACHE_SECONDS=0)
        inbox, inbox_uncached, inbox_floor = p50_interleaved(
            ROUNDS, lambda: ok(client.get(inbox_url)), lambda: ok(uncached.get(inbox_url)),
            lambda: floor_inbox(raw_client))
        page, page_floor = p50_interleaved(
            ROUNDS, lambda: ok(client.get(message_url)), lambda: floor_message(raw_client, uid))
        cold = cold_bytes(client, inbox_url)
    print(f"inbox page (5,000 messages): p50 {inbox * 1000:.1f} ms, floor {inbox_floor * 1000:.1f}"
          f" ms, ratio {inbox / inbox_floor:.2f} (target <= 1.5)")
    print(f"  same without the folder-list cache: p50 {inbox_uncached * 1000:.1f} ms, "
          f"ratio {inbox_uncached / inbox_floor:.2f}")
    print(f"message page: p50 {page * 1000:.1f} ms, floor {page_floor * 1000:.1f} ms, "
          f"ratio {page / page_floor:.2f}")
    print(f"cold inbox load, gzip: {cold / 1000:.1f} KB (target <= 40 KB)")


def seed(client) -> None:
    client.select_folder("INBOX")
    if client.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"] >= MESSAGES:
        return
    html = "<p>Bonjour,</p><p>Veuillez trouver <b>le compte rendu</b>.</p>" * 5
    for n in range(MESSAGES):
        client.append("INBOX", message(f"Compte rendu n°{n}", html=html),
                      flags=[b"\\Seen"] if n % 3 else [])


def floor_inbox(client) -> None:
    """What the inbox page needs from IMAP, done with imapclient directly: the folder
    list with counts, then the newest 50 by sequence range (what the app fetches)."""
    list_folders(client)
    exists = client.select_folder("INBOX", readonly=True)[b"EXISTS"]
    client.use_uid = False
    try:
        client.fetch(list(range(max(1, exists - 49), exists + 1)), [b"UID", *LIST_FETCH])
    finally:
        client.use_uid = True


def floor_message(client, uid: int) -> None:
    list_folders(client)
    client.select_folder("INBOX")
    client.fetch([uid], [b"BODY.PEEK[]"])
    client.add_flags([uid], [b"\\Seen"], silent=True)


def cold_bytes(client, url: str) -> int:
    html = client.get(url).data
    total = len(gzip.compress(html))
    for asset in re.findall(rb'(?:href|src)="(/static/[^"]+)"', html):
        total += len(gzip.compress(client.get(asset.decode()).data))
    return total


if __name__ == "__main__":
    main()
