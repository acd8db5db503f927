"""Organising mail through the web against the real Dovecot: flags, moves, archive,
deletion (with confirmation in the Trash), undo, .eml download and the print view."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from imap_bridge import actions
from imap_bridge.headers import decode_words
from tests.conftest import MailUser, csrf_token, sign_in
from tests.delegation_support import (
    SECRET_SUBJECT,
    client_for,
    grant,
    trio_fixture,  # noqa: F401 - the `trio` fixture
)
from tests.mailfactory import message


def _seed(mail_backend, user: MailUser, count: int, folder: str = "INBOX",
          flags=()) -> list[int]:
    return [mail_backend.append(user.address, folder, message(f"Dossier {n:03d}"), flags=flags)
            for n in range(count)]


def _flags(mail_backend, user: MailUser, folder: str) -> dict[int, tuple[bytes, ...]]:
    with mail_backend.imap(user.address) as imap:
        imap.select_folder(folder, readonly=True)
        uids = imap.search(["ALL"])
        return {uid: data[b"FLAGS"] for uid, data in imap.fetch(uids, [b"FLAGS"]).items()}


def _subjects(mail_backend, user: MailUser, folder: str) -> list[str]:
    with mail_backend.imap(user.address) as imap:
        imap.select_folder(folder, readonly=True)
        fetched = imap.fetch(imap.search(["ALL"]), [b"BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        return sorted(decode_words(data[b"BODY[HEADER.FIELDS (SUBJECT)]"].split(b":", 1)[1])
                      for data in fetched.values())


def _token(client, user: MailUser) -> str:
    return csrf_token(client.get(f"/b/{user.address}/INBOX/").get_data(as_text=True))


def _act(client, user: MailUser, uids, action: str, folder: str = "INBOX", htmx: bool = False,
         **extra):
    data = {"csrf_token": _token(client, user), "folder": folder, "action": action,
            "uid": [str(uid) for uid in uids], "origin": "list", **extra}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/b/{user.address}/_messages", data=data, headers=headers)


def test_read_unread_flag_unflag_change_flags_on_the_server(client, mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 3)
    sign_in(client, mail_user)
    assert _act(client, mail_user, uids[:2], "read").status_code == 302
    assert _act(client, mail_user, uids[1:], "flag").status_code == 302
    flags = _flags(mail_backend, mail_user, "INBOX")
    assert [b"\\Seen" in flags[uid] for uid in uids] == [True, True, False]
    assert [b"\\Flagged" in flags[uid] for uid in uids] == [False, True, True]
    _act(client, mail_user, uids, "unread")
    _act(client, mail_user, [uids[2]], "unflag")
    flags = _flags(mail_backend, mail_user, "INBOX")
    assert not any(b"\\Seen" in flags[uid] for uid in uids)
    assert [b"\\Flagged" in flags[uid] for uid in uids] == [False, True, False]
    page = client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)
    assert "1 message n’est plus suivi." in page


def test_notice_after_an_action_is_shown_once(client, mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 2)
    sign_in(client, mail_user)
    response = _act(client, mail_user, uids, "flag")
    assert response.headers["Location"].endswith(f"/b/{mail_user.address}/INBOX/")
    first = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 messages suivis." in first
    assert 'class="organise-notice' in first
    assert 'class="organise-notice' not in client.get(
        f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)


def test_mark_unread_from_the_message_view_stays_unread(client, mail_user, mail_backend):
    uid = mail_backend.append(mail_user.address, "INBOX", message("À relire"))
    sign_in(client, mail_user)
    page = client.get(f"/b/{mail_user.address}/INBOX/{uid}").get_data(as_text=True)
    assert b"\\Seen" in _flags(mail_backend, mail_user, "INBOX")[uid]
    assert 'name="action" value="unread"' in page
    response = client.post(f"/b/{mail_user.address}/_messages", data={
        "csrf_token": csrf_token(page), "folder": "INBOX", "uid": str(uid),
        "action": "unread", "origin": "message"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/INBOX/")  # not back to the message
    assert b"\\Seen" not in _flags(mail_backend, mail_user, "INBOX")[uid]
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="unread' in listing


def test_flag_from_the_message_view_returns_to_the_message(client, mail_user, mail_backend):
    uid = mail_backend.append(mail_user.address, "INBOX", message("Important"))
    sign_in(client, mail_user)
    page = client.get(f"/b/{mail_user.address}/INBOX/{uid}").get_data(as_text=True)
    response = client.post(f"/b/{mail_user.address}/_messages", data={
        "csrf_token": csrf_token(page), "folder": "INBOX", "uid": str(uid),
        "action": "flag", "origin": "message"})
    assert response.headers["Location"].endswith(f"/INBOX/{uid}")
    assert b"\\Flagged" in _flags(mail_backend, mail_user, "INBOX")[uid]
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="organise-notice' in shown


def test_bulk_move_of_many_messages_lands_every_one(client, mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 230)
    mail_backend.append(mail_user.address, "Patients", message("Déjà là"))
    sign_in(client, mail_user)
    response = _act(client, mail_user, uids[:200], "move", target="Patients")
    assert response.status_code == 302
    moved = _subjects(mail_backend, mail_user, "Patients")
    assert len(moved) == 201
    assert moved[:200] == [f"Dossier {n:03d}" for n in range(200)]
    assert _subjects(mail_backend, mail_user, "INBOX") == [
        f"Dossier {n:03d}" for n in range(200, 230)]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "200 messages déplacés" in page


def test_select_all_on_a_page_checks_its_fifty_boxes(client, mail_user, mail_backend):
    _seed(mail_backend, mail_user, 60)
    sign_in(client, mail_user)
    plain = client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)
    assert plain.count('name="uid"') == 50 and " checked>" not in plain
    page = client.get(f"/b/{mail_user.address}/INBOX/?select=all").get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox" name="uid" value="(\d+)"[^>]*?( checked)?>', page)
    assert len(boxes) == 50 and all(checked for _uid, checked in boxes)
    response = client.post(f"/b/{mail_user.address}/_messages", data={
        "csrf_token": csrf_token(page), "folder": "INBOX", "action": "archive",
        "uid": [uid for uid, _ in boxes], "origin": "list"})
    assert response.status_code == 302
    assert len(_subjects(mail_backend, mail_user, "Archive")) == 50
    assert _subjects(mail_backend, mail_user, "INBOX") == [f"Dossier {n:03d}" for n in range(10)]


def test_htmx_action_returns_the_refreshed_list_and_refreshes_the_folders(
        client, mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 3)
    sign_in(client, mail_user)
    response = _act(client, mail_user, uids[:1], "delete", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="message-list"') and "<html" not in body
    assert response.headers["HX-Trigger"] == "pli-folders-changed"
    assert "Dossier 000" not in body and "Dossier 001" in body
    assert "déplacé dans la corbeille" in body and 'name="token"' in body
    assert _subjects(mail_backend, mail_user, "Trash") == ["Dossier 000"]


def test_undo_puts_moved_messages_back_in_their_folder(client, mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 5)
    sign_in(client, mail_user)
    response = _act(client, mail_user, uids[1:4], "move", target="Archive")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert len(_subjects(mail_backend, mail_user, "Archive")) == 3
    undone = client.post(f"/b/{mail_user.address}/_undo", data={
        "csrf_token": csrf_token(page), "token": token, "folder": "INBOX"})
    assert undone.status_code == 302
    assert _subjects(mail_backend, mail_user, "Archive") == []
    assert _subjects(mail_backend, mail_user, "INBOX") == [f"Dossier {n:03d}" for n in range(5)]
    again = client.post(f"/b/{mail_user.address}/_undo", data={
        "csrf_token": csrf_token(page), "token": token, "folder": "INBOX"})
    assert "Plus rien à annuler" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_delete_goes_to_trash_and_can_be_undone(client, mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 2)
    sign_in(client, mail_user)
    response = _act(client, mail_user, uids, "delete")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _subjects(mail_backend, mail_user, "Trash") == ["Dossier 000", "Dossier 001"]
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    client.post(f"/b/{mail_user.address}/_undo", data={
        "csrf_token": csrf_token(page), "token": token, "folder": "INBOX"})
    assert _subjects(mail_backend, mail_user, "INBOX") == ["Dossier 000", "Dossier 001"]
    assert _subjects(mail_backend, mail_user, "Trash") == []


def test_delete_in_trash_asks_first_then_expunges(client, mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 3, folder="Trash")
    sign_in(client, mail_user)
    asked = _act(client, mail_user, uids[:2], "delete", folder="Trash")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Supprimer définitivement 2 messages" in page and 'name="confirm" value="1"' in page
    assert "hx-confirm" not in page
    assert len(_subjects(mail_backend, mail_user, "Trash")) == 3  # nothing happened yet
    done = client.post(f"/b/{mail_user.address}/_messages", data={
        "csrf_token": csrf_token(page), "folder": "Trash", "action": "delete", "confirm": "1",
        "uid": [str(uid) for uid in uids[:2]], "origin": "list"})
    assert done.status_code == 302
    assert _subjects(mail_backend, mail_user, "Trash") == ["Dossier 002"]
    with mail_backend.imap(mail_user.address) as imap:  # expunged, not just flagged
        imap.select_folder("Trash", readonly=True)
        assert imap.search(["DELETED"]) == [] and len(imap.search(["ALL"])) == 1


def test_delete_in_trash_with_htmx_answers_an_inline_confirmation(
        client, mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 1, folder="Trash")
    sign_in(client, mail_user)
    response = _act(client, mail_user, uids, "delete", folder="Trash", htmx=True)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="message-list"')
    assert 'hx-post="/b/' in body and 'name="confirm" value="1"' in body
    assert "hx-confirm" not in body
    assert len(_subjects(mail_backend, mail_user, "Trash")) == 1


def test_moved_message_is_not_served_again_from_the_cache(client, mail_user, mail_backend):
    uid = mail_backend.append(mail_user.address, "INBOX", message(
        "Avec pièce", attachments=[("cr.pdf", "application/pdf", b"%PDF-1.4 cr")]))
    sign_in(client, mail_user)
    page = client.get(f"/b/{mail_user.address}/INBOX/{uid}").get_data(as_text=True)
    part = re.search(r'href="(/b/[^"]+/parts/[^"]+)"', page).group(1)
    assert client.get(part).status_code == 200  # now in the raw-message cache
    _act(client, mail_user, [uid], "move", target="Archive")
    assert client.get(part).status_code == 404
    assert client.get(f"/b/{mail_user.address}/INBOX/{uid}").status_code == 404


def test_archive_without_an_archive_folder_or_target_explains(client, mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 1)
    sign_in(client, mail_user)
    response = _act(client, mail_user, uids, "move", target="")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choisissez le dossier" in page
    response = _act(client, mail_user, uids, "move", target="N'existe pas")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ce dossier n’existe plus." in page
    assert _subjects(mail_backend, mail_user, "INBOX") == ["Dossier 000"]


@pytest.mark.parametrize("uids,action", [
    (["abc"], "read"), (["-1"], "flag"), ([], "delete"), (["1"], "explode"),
    (["99999999999"], "read"), ([str(n) for n in range(1, 1100)], "read"),
])
def test_bad_requests_get_a_clear_message_and_never_a_500(client, mail_user, mail_backend,
                                                          uids, action):
    _seed(mail_backend, mail_user, 1)
    sign_in(client, mail_user)
    response = _act(client, mail_user, uids, action)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "organise-notice is-error" in page
    assert b"\\Seen" not in _flags(mail_backend, mail_user, "INBOX")[1]


def test_actions_need_the_csrf_token_and_the_right_mailbox(client, mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 1)
    sign_in(client, mail_user)
    refused = client.post(f"/b/{mail_user.address}/_messages", data={
        "folder": "INBOX", "action": "delete", "uid": str(uids[0])})
    assert refused.status_code == 400
    other = client.post("/b/someone.else@pli.test/_messages", data={
        "csrf_token": _token(client, mail_user), "folder": "INBOX", "action": "delete",
        "uid": "1"})
    assert other.status_code == 404
    assert _subjects(mail_backend, mail_user, "INBOX") == ["Dossier 000"]


def test_eml_download_is_the_stored_message_byte_for_byte(client, mail_user, mail_backend):
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = "Compte rendu: résultats / biologie"
    msg["From"] = "Labo <labo@pli.test>"
    msg["To"] = mail_user.address
    msg.set_content("Bonjour,\r\nvoir pièce jointe.\r\n")
    msg.add_attachment(bytes(range(256)) * 8, maintype="application", subtype="pdf",
                       filename="cr.pdf")
    raw = msg.as_bytes()
    uid = mail_backend.append(mail_user.address, "INBOX", raw)
    sign_in(client, mail_user)
    page = client.get(f"/b/{mail_user.address}/INBOX/{uid}").get_data(as_text=True)
    link = re.search(r'href="(/b/[^"]+/download)"', page).group(1)
    response = client.get(link)
    assert response.status_code == 200
    assert response.data == raw
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".eml" in disposition
    assert disposition.endswith(
        "filename*=UTF-8''Compte%20rendu%20r%C3%A9sultats%20-%20biologie.eml")


def test_print_view_shows_headers_and_the_whole_text(client, mail_user, mail_backend):
    uid = mail_backend.append(mail_user.address, "INBOX", message(
        "Ordonnance", body="Ligne un\nLigne deux <b>pas du html</b>\n",
        html="<p>Version HTML</p>"))
    sign_in(client, mail_user)
    response = client.get(f"/b/{mail_user.address}/INBOX/{uid}/print")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ordonnance" in page and "anne.leroy@pli.test" in page
    assert "Ligne deux &lt;b&gt;pas du html&lt;/b&gt;" in page
    assert 'class="sidebar"' not in page and "data-print hidden" in page


def test_shortcuts_are_documented_and_off_until_turned_on(client, mail_user):
    sign_in(client, mail_user)
    help_page = client.get(f"/b/{mail_user.address}/_shortcuts").get_data(as_text=True)
    assert "<kbd>j</kbd>" in help_page and "Archiver" in help_page
    listing = client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)
    assert 'data-shortcuts="on"' not in listing
    client.post(f"/b/{mail_user.address}/_shortcuts", data={
        "csrf_token": csrf_token(help_page), "enabled": "1"})
    listing = client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)
    assert 'data-shortcuts="on"' in listing
    client.post(f"/b/{mail_user.address}/_shortcuts", data={
        "csrf_token": csrf_token(help_page), "enabled": "0"})
    assert 'data-shortcuts="on"' not in client.get(
        f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)


def test_move_without_the_move_extension_copies_then_expunges(mail_user, mail_backend):
    uids = _seed(mail_backend, mail_user, 4)
    with mail_backend.imap(mail_user.address) as imap:
        imap.select_folder("INBOX")
        imap.add_flags([uids[3]], [b"\\Deleted"])  # another client's pending deletion
        result = actions.move_messages(imap, "INBOX", uids[:2], "Archive", use_move=False)
        assert result.moved == 2 and result.undoable
        imap.select_folder("INBOX", readonly=True)
        assert sorted(imap.search(["ALL"])) == uids[2:]  # only ours were expunged
        back = actions.move_back(imap, "Archive", result.uid_validity, result.new_uids,
                                 "INBOX")
        assert back.moved == 2
    assert _subjects(mail_backend, mail_user, "Archive") == []


def test_uid_sets_are_compact_and_round_trip():
    uids = [1, 2, 3, 7, 9, 10, 11, 40]
    assert actions.uid_set(uids) == "1:3,7,9:11,40"
    assert actions.parse_uid_set("1:3,7,9:11,40") == uids
    assert actions.parse_uid_set("5:3") == [5, 4, 3]


def test_the_organise_interface_speaks_english_on_request(client, mail_user, mail_backend):
    uid = mail_backend.append(mail_user.address, "INBOX", message("Hello"))
    sign_in(client, mail_user)
    client.set_cookie("pli_lang", "en")
    listing = client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)
    assert ">Mark unread</button>" in listing and ">Archive</button>" in listing
    assert ">Delete</button>" in listing and "Advanced search" in listing
    page = client.get(f"/b/{mail_user.address}/INBOX/{uid}").get_data(as_text=True)
    assert "Download (.eml)" in page
    response = _act(client, mail_user, [uid], "archive")
    assert "1 message archived." in client.get(response.headers["Location"]).get_data(
        as_text=True)


def test_a_delegate_who_may_organise_moves_and_undoes_in_the_owners_mailbox(
        app, trio, mail_backend):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "organise")
    delegate = client_for(app, trio.delegate)
    mailbox = trio.owner.address
    listing = delegate.get(f"/b/{mailbox}/INBOX/").get_data(as_text=True)
    assert 'name="uid" value="1"' in listing
    response = delegate.post(f"/b/{mailbox}/_messages", data={
        "csrf_token": csrf_token(listing), "folder": "INBOX", "action": "archive", "uid": "1",
        "origin": "list"})
    page = delegate.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 message archivé." in page
    assert _subjects(mail_backend, trio.owner, "Archive") == [SECRET_SUBJECT]
    found = delegate.get(f"/b/{mailbox}/_search?text=confidentiel&scope=all").get_data(
        as_text=True)
    assert f'href="/b/{mailbox}/Archive/' in found and "shared/" not in found
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    delegate.post(f"/b/{mailbox}/_undo", data={"csrf_token": csrf_token(page),
                                               "token": token, "folder": "INBOX"})
    assert SECRET_SUBJECT in _subjects(mail_backend, trio.owner, "INBOX")
    assert _subjects(mail_backend, trio.owner, "Archive") == []
    assert delegate.get(f"/b/{mailbox}/_folder-admin/").status_code == 403


def test_a_read_only_delegate_gets_no_organise_controls(app, trio):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "read")
    delegate = client_for(app, trio.delegate)
    listing = delegate.get(f"/b/{trio.owner.address}/INBOX/").get_data(as_text=True)
    assert 'name="uid"' not in listing and 'id="message-form"' not in listing
    assert "_folder-admin" not in listing
    message_page = delegate.get(f"/b/{trio.owner.address}/INBOX/1").get_data(as_text=True)
    assert 'name="action"' not in message_page and "Télécharger (.eml)" in message_page
