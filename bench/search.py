"""Body search speed against its floor, measured in one run (run by hand: `make bench`).

Seeds 5,000 messages in a private Dovecot (ports 13700 + n), then compares the server
time of the search results page for a body search with the raw imapclient SEARCH that
finds the same messages, and with that SEARCH plus the FETCH of the first page of rows
(what any client must do to show results). Figures are ratios, so they mean the same on
a slow or a fast machine.
"""

from __future__ import annotations

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
from tests.mailfactory import message

USER = "bench-search@pli.test"
PORT_BASE = 13700
MESSAGES = 5000
EVERY = 50  # one message in fifty mentions the searched word: 100 results, two pages
NEEDLE = "ferritine"
ROUNDS = 15


def main() -> None:
    with private_rig(PORT_BASE) as (backend, tmp):
        backend.add_user(USER, PASSWORD)
        raw_client = open_imap(imap_settings(backend), USER, PASSWORD)
        seed(raw_client)
        client = signed_in_client(backend, tmp, USER)
        url = f"/b/{USER}/_search?body={NEEDLE}&folder=INBOX&scope=folder"
        hits = len(floor_search(raw_client))
        page_html = client.get(url).get_data(as_text=True)
        assert f"{hits} messages trouvés" in page_html, "the page must find what SEARCH finds"
        app_time, floor, floor_rows = p50_interleaved(
            ROUNDS, lambda: ok(client.get(url)), lambda: floor_search(raw_client),
            lambda: floor_search_and_rows(raw_client))
    print(f"body search over {MESSAGES:,} messages ({hits} results): results page p50 "
          f"{app_time * 1000:.1f} ms")
    print(f"  raw imapclient SEARCH: p50 {floor * 1000:.1f} ms, ratio {app_time / floor:.2f}")
    print(f"  raw SEARCH + FETCH of the 50 rows shown: p50 {floor_rows * 1000:.1f} ms, "
          f"ratio {app_time / floor_rows:.2f} (target <= 1.5)")


def seed(client) -> None:
    if client.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"] >= MESSAGES:
        return
    filler = ("Bonjour,\nveuillez trouver ci-joint le compte rendu de la consultation. "
              "Examen clinique sans particularité.\n") * 6
    for n in range(MESSAGES):
        extra = f"Bilan : {NEEDLE} à surveiller.\n" if n % EVERY == 0 else ""
        client.append("INBOX", message(f"Compte rendu n°{n}", body=filler + extra),
                      flags=[b"\\Seen"] if n % 3 else [])


def floor_search(client) -> list[int]:
    """What any client must ask the server: select the folder, then UID SEARCH BODY."""
    client.select_folder("INBOX", readonly=True)
    return client.search([b"BODY", NEEDLE.encode()], charset="UTF-8")


def floor_search_and_rows(client) -> None:
    uids = sorted(floor_search(client), reverse=True)[:50]
    client.fetch(uids, LIST_FETCH)


if __name__ == "__main__":
    main()
