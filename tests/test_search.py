"""Server-side search against the real Dovecot: every criterion, folder or whole mailbox,
paging like a folder, bounds, and typed values that must be searched for, not obeyed."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode

import pytest

from tests.conftest import MailUser, sign_in
from tests.mailfactory import PARIS_WINTER, message

ROW = re.compile(r'<a href="/b/[^"]+/(\d+)">(?:<span class="visually-hidden">[^<]*</span>)?'
                 r"([^<]*)</a>")


def _search(client, user: MailUser, **args) -> tuple[int, str]:
    response = client.get(f"/b/{user.address}/_search?{urlencode(args)}")
    return response.status_code, response.get_data(as_text=True)


def _found(client, user: MailUser, **args) -> list[str]:
    status, page = _search(client, user, **args)
    assert status == 200
    section = page[page.index('id="search-results"'):]
    return [html.unescape(subject) for _uid, subject in ROW.findall(section)]


def _with_cc(subject: str, cc: str) -> bytes:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"], msg["Cc"] = subject, "a@pli.test", "b@pli.test", cc
    msg["Date"] = "Wed, 11 Mar 2026 09:30:00 +0100"
    msg.set_content("Copie.\n")
    return msg.as_bytes()


@pytest.fixture
def searchable(mail_user, mail_backend) -> MailUser:
    """Six messages in INBOX and one in a folder, each told apart by one criterion."""
    day = datetime(2026, 3, 10, 9, 0, tzinfo=PARIS_WINTER)
    seed = [
        ("INBOX", message("Résultats biologie", sender="Laboratoire <labo@bio.example>",
                          date=day), ()),
        ("INBOX", message("Compte rendu", to="dr.durand@pli.test", date=day + timedelta(days=1),
                          body="Hémoglobine glyquée à 7,2 %.\n"), (b"\\Seen",)),
        ("INBOX", message("Ordonnance", date=day + timedelta(days=30),
                          attachments=[("ordo.pdf", "application/pdf", b"%PDF-1.4")]),
         (b"\\Seen",)),
        ("INBOX", message("Urgent : rappel", date=day + timedelta(days=60)),
         (b"\\Seen", b"\\Flagged")),
        ("INBOX", _with_cc("En copie", "secretariat@pli.test"), (b"\\Seen",)),
        ("INBOX", message("Accolades {5} (x) \"y\" \\z", date=day), (b"\\Seen",)),
        ("Patients/Suivi", message("Suivi biologie", sender="labo@bio.example",
                                   date=day + timedelta(days=90)), (b"\\Seen",)),
    ]
    for folder, raw, flags in seed:
        mail_backend.append(mail_user.address, folder, raw, flags=flags)
    return mail_user


@pytest.mark.parametrize("args,expected", [
    ({"from": "labo@bio"}, ["Résultats biologie"]),
    ({"from": "Laboratoire"}, ["Résultats biologie"]),
    ({"to": "dr.durand"}, ["Compte rendu"]),
    ({"to": "secretariat@pli.test"}, ["En copie"]),
    ({"subject": "ordonnance"}, ["Ordonnance"]),
    ({"body": "hémoglobine glyquée"}, ["Compte rendu"]),
    ({"text": "glyquée"}, ["Compte rendu"]),
    ({"since": "2026-04-01", "until": "2026-05-31"}, ["Urgent : rappel", "Ordonnance"]),
    ({"since": "09/05/2026"}, ["Urgent : rappel"]),
    ({"until": "10/03/2026"}, ["Accolades {5} (x) \"y\" \\z", "Résultats biologie"]),
    ({"unread": "1"}, ["Résultats biologie"]),
    ({"flagged": "1"}, ["Urgent : rappel"]),
    ({"attachment": "1"}, ["Ordonnance"]),
    ({"subject": "{5}"}, ["Accolades {5} (x) \"y\" \\z"]),
    ({"subject": "(x)"}, ["Accolades {5} (x) \"y\" \\z"]),
    ({"subject": '"y" \\z'}, ["Accolades {5} (x) \"y\" \\z"]),
    ({"subject": ")"}, ["Accolades {5} (x) \"y\" \\z"]),
    ({"subject": "OR ALL"}, []),
    ({"subject": "x\r\nA1 LOGOUT"}, []),
    ({"subject": "biologie", "unread": "1", "from": "labo"}, ["Résultats biologie"]),
])
def test_each_criterion_finds_exactly_its_messages(client, searchable, args, expected):
    sign_in(client, searchable)
    found = _found(client, searchable, folder="INBOX", **args)
    if args.get("since") or args.get("until"):
        assert sorted(found) == sorted(expected)
    else:
        assert found == expected


def test_all_folders_merges_results_newest_first(client, searchable):
    sign_in(client, searchable)
    assert _found(client, searchable, subject="biologie", folder="INBOX") == [
        "Résultats biologie"]
    status, page = _search(client, searchable, subject="biologie", scope="all")
    assert status == 200
    section = page[page.index('id="search-results"'):]
    assert [html.unescape(s) for _u, s in ROW.findall(section)] == [
        "Suivi biologie", "Résultats biologie"]
    assert "Suivi</span>" in section  # the folder of each result is shown
    assert f"/b/{searchable.address}/Patients/Suivi/1" in section


def test_results_are_paged_fifty_at_a_time_newest_first(client, mail_user, mail_backend):
    for n in range(120):
        mail_backend.append(mail_user.address, "INBOX", message(f"Bilan n°{n:03d}"))
    mail_backend.append(mail_user.address, "INBOX", message("Autre chose"))
    sign_in(client, mail_user)
    first = _found(client, mail_user, subject="Bilan", folder="INBOX")
    assert len(first) == 50 and first[:2] == ["Bilan n°119", "Bilan n°118"]
    _status, page = _search(client, mail_user, subject="Bilan", folder="INBOX")
    assert "120 messages trouvés" in page and "Page 1 sur 3" in page
    older = re.search(r'rel="next" href="([^"]+)"', page).group(1)
    assert "subject=Bilan" in html.unescape(older)
    third = _found(client, mail_user, subject="Bilan", folder="INBOX", page="3")
    assert len(third) == 20 and third[-1] == "Bilan n°000"
    partial = client.get(f"/b/{mail_user.address}/_search?subject=Bilan&page=2",
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert partial.lstrip().startswith('<section id="search-results"') and "<html" not in partial


def test_searching_everywhere_is_bounded_and_says_so(app, client, mail_user, mail_backend):
    for n in range(12):
        mail_backend.append(mail_user.address, "INBOX", message(f"Note {n}"))
    mail_backend.append(mail_user.address, "Zeta", message("Note ailleurs"))
    sign_in(client, mail_user)
    saved = dict(app.config)
    app.config.update(SEARCH_RESULT_CAP=10, SEARCH_MAX_FOLDERS=2)
    try:
        status, page = _search(client, mail_user, subject="Note", scope="all")
    finally:
        app.config.clear()
        app.config.update(saved)
    assert status == 200
    assert "seuls les 10 plus récents sont affichés" in page
    assert "n’ont pas été parcourus" in page
    assert len(ROW.findall(page[page.index('id="search-results"'):])) == 10


def test_bad_dates_and_empty_searches_explain_instead_of_failing(client, searchable):
    sign_in(client, searchable)
    status, page = _search(client, searchable, since="31/02/2026", folder="INBOX")
    assert status == 200 and "n’est pas une date" in page and "messages trouvés" not in page
    status, page = _search(client, searchable, since="2026-05-01", until="2026-01-01")
    assert status == 200 and "postérieure à la date de fin" in page
    status, page = _search(client, searchable, since="9999-12-31")
    assert status == 200 and "n’est pas une date" in page
    status, page = _search(client, searchable, folder="INBOX")
    assert status == 200 and "trouvé" not in page and 'id="q-text"' in page
    assert _search(client, searchable, subject="x", folder="N'existe pas")[0] == 404
    assert _search(client, searchable, subject="x" * 5000, page="-3")[0] == 200


def test_quick_search_box_is_on_every_mail_page(client, searchable):
    sign_in(client, searchable)
    page = client.get(f"/b/{searchable.address}/Patients/Suivi/").get_data(as_text=True)
    form = page[page.index('class="search-box"'):page.index("</form>", page.index(
        'class="search-box"'))]
    assert 'name="text"' in form and 'name="folder" value="Patients/Suivi"' in form
    assert _found(client, searchable, text="Suivi", folder="Patients/Suivi") == [
        "Suivi biologie"]


def test_search_of_another_mailbox_is_not_found(client, searchable):
    sign_in(client, searchable)
    assert client.get("/b/autre@pli.test/_search?text=x").status_code == 404
