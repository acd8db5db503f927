"""Reading mail through the web: folders, pages, messages, attachments, failures."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest

from imap_bridge.connection import CONNECTION_ERRORS
from imap_bridge.pool import ConnectionPool, Credentials
from tests.conftest import MailUser, app_config, csrf_token, sign_in
from tests.mailfactory import PARIS_WINTER, message
from webmail import create_app
from webmail.mail_pool import pool
from webmail.services.mail import caches


def _get(client, url: str, **kwargs):
    response = client.get(url, **kwargs)
    return response, response.get_data(as_text=True)


def test_folder_list_names_special_folders_in_french_with_unread_counts(
        client, mail_user: MailUser, mail_backend):
    mail_backend.append(mail_user.address, "INBOX", message("Non lu 1"))
    mail_backend.append(mail_user.address, "INBOX", message("Non lu 2"))
    mail_backend.append(mail_user.address, "INBOX", message("Lu"), flags=[b"\\Seen"])
    sign_in(client, mail_user)
    _, body = _get(client, f"/b/{mail_user.address}/INBOX/")
    nav = body[body.index('id="folders"'):body.index("</nav>")]
    for label in ("Boîte de réception", "Brouillons", "Envoyés", "Corbeille"):
        assert label in nav
    assert re.search(r"Boîte de réception</span>\s*<span class=\"count\"[^>]*>.*?2", nav, re.S)


def _inbox_unread(client, user) -> int:
    _, body = _get(client, f"/b/{user.address}/INBOX/")
    nav = body[body.index('id="folders"'):body.index("</nav>")]
    found = re.search(r"Boîte de réception</span>\s*<span class=\"count\"[^>]*>.*?(\d+)", nav, re.S)
    return int(found.group(1)) if found else 0


def test_counts_follow_what_pli_changes_at_once(app, client, mail_user, mail_backend):
    """The folder list is cached a few seconds, but never across a change made in Pli."""
    for n in range(2):
        mail_backend.append(mail_user.address, "INBOX", message(f"Non lu {n}"))
    sign_in(client, mail_user)
    assert _inbox_unread(client, mail_user) == 2
    _get(client, f"/b/{mail_user.address}/INBOX/1")  # opening marks it read
    assert _inbox_unread(client, mail_user) == 1
    with app.app_context():
        folders = caches().folders
    mine = [key for key in folders._entries if key[1] == mail_user.address]
    _get(client, f"/b/{mail_user.address}/INBOX/1")  # already read: nothing changes …
    assert [key for key in folders._entries if key in mine] == mine  # … the list stays


def test_the_folder_poll_always_asks_the_server(client, mail_user, mail_backend):
    sign_in(client, mail_user)
    assert _inbox_unread(client, mail_user) == 0
    mail_backend.append(mail_user.address, "INBOX", message("Nouveau"))
    _, nav = _get(client, f"/b/{mail_user.address}/_folders")
    assert re.search(r"Boîte de réception</span>\s*<span class=\"count\"[^>]*>.*?1", nav, re.S)


def test_messages_are_paged_fifty_at_a_time_newest_first(client, mail_user, mail_backend):
    start = datetime(2026, 10, 1, 8, 0, tzinfo=PARIS_WINTER)
    for n in range(120):
        date = start + timedelta(hours=n)
        mail_backend.append(mail_user.address, "INBOX", message(f"Message n°{n:03d}", date=date),
                            date=date)
    sign_in(client, mail_user)
    _, first = _get(client, f"/b/{mail_user.address}/INBOX/")
    subjects = re.findall(r"Message n°(\d{3})", first)
    assert subjects[:2] == ["119", "118"] and len(subjects) == 50
    assert "120 messages" in first
    _, last = _get(client, f"/b/{mail_user.address}/INBOX/?page=3")
    assert re.findall(r"Message n°(\d{3})", last)[-1] == "000"
    assert len(re.findall(r"Message n°(\d{3})", last)) == 20


def test_htmx_pagination_returns_only_the_list_fragment(client, mail_user, mail_backend):
    for n in range(55):
        mail_backend.append(mail_user.address, "INBOX", message(f"Sujet {n}"))
    sign_in(client, mail_user)
    response, body = _get(client, f"/b/{mail_user.address}/INBOX/?page=2",
                          headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="message-list"')
    assert "<html" not in body


def test_list_shows_decoded_subject_sender_and_attachment_mark(client, mail_user, mail_backend):
    sender = "=?utf-8?q?Laboratoire_B=C3=A9ranger?= <labo@pli.test>"
    raw = message("Résultats d'analyse", sender=sender,
                  attachments=[("résultats.pdf", "application/pdf", b"%PDF-1.4 test")])
    mail_backend.append(mail_user.address, "INBOX", raw)
    sign_in(client, mail_user)
    _, body = _get(client, f"/b/{mail_user.address}/INBOX/")
    assert "Résultats d&#39;analyse" in body
    assert "Laboratoire Béranger" in body and "labo@pli.test" in body
    assert 'class="mark clip"' in body
    assert 'class="unread' in body


def test_opening_a_message_shows_real_address_and_marks_it_read(client, mail_user, mail_backend):
    mail_backend.append(mail_user.address, "INBOX", message(
        "Courrier", sender='"secretariat@hopital.example" <phish@evil.example>'))
    sign_in(client, mail_user)
    _, listing = _get(client, f"/b/{mail_user.address}/INBOX/")
    url = re.search(r'href="(/b/[^"]+/INBOX/\d+)"', listing).group(1)
    response, page = _get(client, url)
    assert response.status_code == 200
    assert "&lt;phish@evil.example&gt;" in page
    assert "voici le compte rendu" in page
    _, listing = _get(client, f"/b/{mail_user.address}/INBOX/")
    assert 'class="unread' not in listing


def test_plain_text_links_are_clickable_and_safe(client, mail_user, mail_backend):
    mail_backend.append(mail_user.address, "INBOX", message(
        body='Voir https://example.org/a?b=1&c=2 et <script>alert(1)</script>\n'))
    sign_in(client, mail_user)
    _, page = _get(client, f"/b/{mail_user.address}/INBOX/1")
    assert 'href="https://example.org/a?b=1&amp;c=2"' in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_html_is_shown_in_a_sandboxed_frame_with_its_own_csp(client, mail_user, mail_backend):
    html = ('<p onclick="x()">Bonjour</p><img src="https://tracker.example/p.gif">'
            '<script>alert(1)</script>')
    mail_backend.append(mail_user.address, "INBOX", message(html=html))
    sign_in(client, mail_user)
    _, page = _get(client, f"/b/{mail_user.address}/INBOX/1")
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert "Afficher le contenu distant" in page
    frame, body = _get(client, f"/b/{mail_user.address}/INBOX/1/body")
    assert "Bonjour" in body
    assert "tracker.example" not in body and "onclick" not in body and "<script" not in body
    csp = frame.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "script-src" not in csp and "default-src 'none'" in csp
    _, remote = _get(client, f"/b/{mail_user.address}/INBOX/1/body?remote=1")
    assert "https://tracker.example/p.gif" in remote


def test_attachments_download_as_attachments_with_safe_names(client, mail_user, mail_backend):
    data = bytes(range(256)) * 40
    mail_backend.append(mail_user.address, "INBOX", message(
        attachments=[("../../compte\u202erendu.pdf", "text/html", data)]))
    sign_in(client, mail_user)
    _, page = _get(client, f"/b/{mail_user.address}/INBOX/1")
    link = re.search(r'href="(/b/[^"]+/parts/[^"]+)"', page).group(1)
    response = client.get(link)
    assert response.status_code == 200
    assert response.data == data
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".." not in disposition
    assert "\u202e" not in disposition and "%E2%80%AE" not in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/octet-stream"


def test_nested_and_accented_folders_are_listed_and_opened(client, mail_user, mail_backend):
    mail_backend.append(mail_user.address, "Patients/Suivi été", message("Suivi"))
    sign_in(client, mail_user)
    _, body = _get(client, f"/b/{mail_user.address}/INBOX/")
    assert "Patients" in body and "Suivi été" in body
    href = re.search(r'href="([^"]*Suivi%20%C3%A9t%C3%A9/)"', body).group(1)
    response, listing = _get(client, href)
    assert response.status_code == 200 and "Suivi" in listing


def test_message_expunged_meanwhile_gives_a_not_found_page(client, mail_user):
    sign_in(client, mail_user)
    response, body = _get(client, f"/b/{mail_user.address}/INBOX/999")
    assert response.status_code == 404 and "Traceback" not in body
    assert _get(client, f"/b/{mail_user.address}/Nope/")[0].status_code == 404


def test_a_dropped_imap_connection_is_reopened_transparently(app, client, mail_user, mail_backend):
    mail_backend.append(mail_user.address, "INBOX", message("Toujours là"))
    sign_in(client, mail_user)
    assert _get(client, f"/b/{mail_user.address}/INBOX/")[0].status_code == 200
    with app.app_context():
        for entries in pool()._idle.values():  # cut the sockets under the pool's feet
            for entry in entries:
                entry.client._imap.sock.close()
    response, body = _get(client, f"/b/{mail_user.address}/INBOX/")
    assert response.status_code == 200 and "Toujours là" in body


def test_imap_server_down_mid_session_gives_a_friendly_retry_page(app, client, mail_user):
    sign_in(client, mail_user)
    with app.app_context():
        the_pool = pool()
    the_pool.close_all()
    settings = the_pool.settings
    the_pool.settings = type(settings)(host=settings.host, port=1, security=settings.security)
    try:
        response, body = _get(client, f"/b/{mail_user.address}/INBOX/")
    finally:
        the_pool.settings = settings
    assert response.status_code == 503
    assert "Réessayer" in body and "Traceback" not in body


def test_the_pool_closes_the_least_recently_used_connection_past_its_cap(app, mail_user):
    with app.app_context():
        settings = pool().settings
    small = ConnectionPool(settings, max_idle_total=2)
    login = Credentials(mail_user.address, mail_user.password)
    clients = []
    for session_id in (1, 2, 3):  # three sessions, each leaving one idle connection behind
        clients.append(small.run((session_id, mail_user.address), lambda: login,
                                 lambda client: client))
    assert small.size() == 2
    with pytest.raises(CONNECTION_ERRORS):
        clients[0].noop()  # the oldest was logged out and closed
    assert clients[2].noop()  # the newest is still usable
    small.close_all()


def test_a_list_shown_again_fetches_only_flags_and_shows_them_as_they_are_now(
        app, client, mail_user, mail_backend):
    mail_backend.append(mail_user.address, "INBOX", message("Bilan sanguin"))
    sign_in(client, mail_user)
    url = f"/b/{mail_user.address}/INBOX/"
    assert 'class="unread"' in _get(client, url)[1]
    with mail_backend.imap(mail_user.address) as imap:  # read on another device
        imap.select_folder("INBOX")
        imap.add_flags(imap.search("ALL"), [b"\\Seen", b"\\Flagged"])
    with app.app_context():
        rows = caches().rows
    cached = len(rows)
    body = _get(client, url)[1]
    assert len(rows) == cached  # the row came from the cache …
    assert "Bilan sanguin" in body and 'class="unread' not in body  # … with today's flags
    assert 'class=" flagged"' in body


def test_a_folder_recreated_under_the_same_name_never_shows_the_old_rows(
        client, mail_user, mail_backend):
    mail_backend.append(mail_user.address, "Patients", message("Ancien dossier"))
    sign_in(client, mail_user)
    url = f"/b/{mail_user.address}/Patients/"
    assert "Ancien dossier" in _get(client, url)[1]
    with mail_backend.imap(mail_user.address) as imap:
        imap.delete_folder("Patients")
    time.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
    mail_backend.append(mail_user.address, "Patients", message("Nouveau dossier"))
    body = _get(client, url)[1]  # the same UID 1, in a folder with a new UIDVALIDITY
    assert "Nouveau dossier" in body and "Ancien dossier" not in body


def test_signing_out_drops_the_rows_kept_for_that_session(app, client, mail_user,
                                                          mail_backend):
    mail_backend.append(mail_user.address, "INBOX", message("Compte rendu"))
    sign_in(client, mail_user)
    _get(client, f"/b/{mail_user.address}/INBOX/")
    with app.app_context():
        rows = caches().rows
    mine = [key for key in rows._entries if key[0][0][1] == mail_user.address]
    assert mine
    client.post("/logout", data={"csrf_token": csrf_token(
        client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True))})
    assert not [key for key in rows._entries if key in mine]


def test_a_page_lists_the_folders_once_even_with_the_cache_off(
        mail_backend, database_url, mail_user, monkeypatch):
    from imap_bridge import folders as imap_folders

    uncached = create_app(app_config(mail_backend, database_url, FOLDER_CACHE_SECONDS=0))
    calls = []
    real = imap_folders.list_folders
    monkeypatch.setattr(imap_folders, "list_folders",
                        lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    mail_backend.append(mail_user.address, "INBOX", message("Un"))
    with uncached.test_client() as client:
        sign_in(client, mail_user)
        calls.clear()
        body = _get(client, f"/b/{mail_user.address}/INBOX/")[1]
        assert len(calls) == 1  # sidebar, move menu and search form share one LIST
        assert "Un" in body
        _get(client, f"/b/{mail_user.address}/INBOX/1")  # marks it read …
        assert _inbox_unread(client, mail_user) == 0  # … and the next page knows
