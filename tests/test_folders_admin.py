"""Folder management against the real Dovecot: create, rename, delete with confirmation,
subscribe, and the special folders that no request, crafted or not, may touch."""

from __future__ import annotations

import pytest

from tests.conftest import MailUser, csrf_token, sign_in
from tests.mailfactory import message


def _names(mail_backend, user: MailUser) -> set[str]:
    with mail_backend.imap(user.address) as imap:
        return {name for _flags, _delimiter, name in imap.list_folders()}


def _subscribed(mail_backend, user: MailUser) -> set[str]:
    with mail_backend.imap(user.address) as imap:
        return {name for _flags, _delimiter, name in imap.list_sub_folders()}


def _post(client, user: MailUser, action: str, **data):
    page = client.get(f"/b/{user.address}/_folder-admin/").get_data(as_text=True)
    return client.post(f"/b/{user.address}/_folder-admin/{action}",
                       data={"csrf_token": csrf_token(page), **data})


def _notice(client, user: MailUser) -> str:
    page = client.get(f"/b/{user.address}/_folder-admin/").get_data(as_text=True)
    start = page.find('class="organise-notice')
    return page[start:page.find("</div>", start)] if start >= 0 else ""


def test_management_page_lists_folders_and_protects_special_ones(client, mail_user):
    sign_in(client, mail_user)
    response = client.get(f"/b/{mail_user.address}/_folder-admin/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Gérer les dossiers" in page and "Corbeille" in page
    assert page.count("dossier spécial") == 6  # INBOX, Drafts, Sent, Archive, Junk, Trash
    assert "_folder-admin/rename" not in page and "_folder-admin/delete" not in page
    listing = client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)
    assert f'href="/b/{mail_user.address}/_folder-admin/"' in listing


def test_create_nested_and_accented_folders(client, mail_user, mail_backend):
    sign_in(client, mail_user)
    assert _post(client, mail_user, "create", name="Patients", parent="").status_code == 302
    _post(client, mail_user, "create", name="Suivi été 2026", parent="Patients")
    assert {"Patients", "Patients/Suivi été 2026"} <= _names(mail_backend, mail_user)
    assert "Patients/Suivi été 2026" in _subscribed(mail_backend, mail_user)
    assert "Dossier « Patients/Suivi été 2026 » créé." in _notice(client, mail_user)
    sidebar = client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)
    assert "Suivi été 2026" in sidebar  # the folder cache was dropped by the change


@pytest.mark.parametrize("name", ["", "   ", "a/b", "..", ".cache", "~root", "x*", "50%",
                                  "bell\x07here", "bidi\u202eevil", "n" * 101, "INBOX", "Trash"])
def test_bad_or_taken_names_are_refused_clearly(client, mail_user, mail_backend, name):
    sign_in(client, mail_user)
    before = _names(mail_backend, mail_user)
    response = _post(client, mail_user, "create", name=name, parent="")
    assert response.status_code == 302
    assert "is-error" in _notice(client, mail_user)
    assert _names(mail_backend, mail_user) == before


def test_create_in_a_missing_or_foreign_parent_is_refused(client, mail_user, mail_backend):
    sign_in(client, mail_user)
    _post(client, mail_user, "create", name="x", parent="shared")
    assert "n’existe plus" in _notice(client, mail_user)
    _post(client, mail_user, "create", name="x", parent="Nope")
    assert "x" not in {n.rsplit("/", 1)[-1] for n in _names(mail_backend, mail_user)}


def test_rename_keeps_messages_subfolders_and_subscription(client, mail_user, mail_backend):
    mail_backend.append(mail_user.address, "Cabinet/Factures", message("Facture"))
    mail_backend.append(mail_user.address, "Cabinet", message("Note"))
    sign_in(client, mail_user)
    _post(client, mail_user, "rename", folder="Cabinet", name="Cabinet médical")
    names = _names(mail_backend, mail_user)
    assert {"Cabinet médical", "Cabinet médical/Factures"} <= names and "Cabinet" not in names
    assert "Cabinet médical" in _subscribed(mail_backend, mail_user)
    with mail_backend.imap(mail_user.address) as imap:
        assert imap.folder_status("Cabinet médical/Factures", [b"MESSAGES"])[b"MESSAGES"] == 1
    _post(client, mail_user, "rename", folder="Cabinet médical", name="Inbox")
    assert "Cabinet médical" in _names(mail_backend, mail_user)


def test_delete_asks_first_then_moves_messages_to_trash(client, mail_user, mail_backend):
    for n in range(3):
        mail_backend.append(mail_user.address, "Ancien", message(f"Vieux {n}"))
    sign_in(client, mail_user)
    asked = _post(client, mail_user, "delete", folder="Ancien")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Supprimer le dossier « Ancien » ?" in page
    assert "Ses 3 messages seront d’abord déplacés dans la corbeille." in page
    assert "Ancien" in _names(mail_backend, mail_user)
    done = client.post(f"/b/{mail_user.address}/_folder-admin/delete", data={
        "csrf_token": csrf_token(page), "folder": "Ancien", "confirm": "1"})
    assert done.status_code == 302
    assert "Ancien" not in _names(mail_backend, mail_user)
    with mail_backend.imap(mail_user.address) as imap:
        assert imap.folder_status("Trash", [b"MESSAGES"])[b"MESSAGES"] == 3
    assert "sont dans la corbeille" in _notice(client, mail_user)


def test_folder_with_subfolders_is_not_deleted(client, mail_user, mail_backend):
    mail_backend.append(mail_user.address, "Parent/Enfant", message())
    sign_in(client, mail_user)
    _post(client, mail_user, "delete", folder="Parent", confirm="1")
    assert "sous-dossiers" in _notice(client, mail_user)
    assert {"Parent", "Parent/Enfant"} <= _names(mail_backend, mail_user)


@pytest.mark.parametrize("folder", ["INBOX", "Trash", "Sent", "Drafts", "Archive", "Junk"])
def test_special_folders_cannot_be_deleted_or_renamed_even_by_a_crafted_post(
        client, mail_user, mail_backend, folder):
    mail_backend.append(mail_user.address, folder, message("À garder"))
    sign_in(client, mail_user)
    before = _names(mail_backend, mail_user)
    for action, data in (("delete", {"confirm": "1"}), ("delete", {}),
                         ("rename", {"name": "Autre"})):
        response = _post(client, mail_user, action, folder=folder, **data)
        assert response.status_code == 302
        assert "ne peuvent être ni renommés ni supprimés" in _notice(client, mail_user)
    assert _names(mail_backend, mail_user) == before
    with mail_backend.imap(mail_user.address) as imap:
        assert imap.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"] == 1


def test_a_folder_holding_a_special_folder_is_protected_too():
    """Servers that keep Trash under INBOX ("INBOX.Trash"): renaming INBOX's siblings is
    fine, renaming the parent of a special folder would move it."""
    from imap_bridge.folder_admin import _protected
    from imap_bridge.models import Folder, SpecialUse

    every = [Folder("Cabinet", "."), Folder("Cabinet.Corbeille", ".", SpecialUse.TRASH),
             Folder("Patients", "."), Folder("Patients.Suivi", ".")]
    assert _protected(every[0], every) and _protected(every[1], every)
    assert not _protected(every[2], every) and not _protected(every[3], every)


def test_subscribe_and_unsubscribe_change_the_server_list(client, mail_user, mail_backend):
    mail_backend.append(mail_user.address, "Lettres", message())
    sign_in(client, mail_user)
    assert "Lettres" in _subscribed(mail_backend, mail_user)
    _post(client, mail_user, "subscribe", folder="Lettres", subscribed="0")
    assert "Lettres" not in _subscribed(mail_backend, mail_user)
    assert "Désabonné du dossier « Lettres »." in _notice(client, mail_user)
    page = client.get(f"/b/{mail_user.address}/_folder-admin/").get_data(as_text=True)
    assert "S’abonner à Lettres" in page
    _post(client, mail_user, "subscribe", folder="Lettres", subscribed="1")
    assert "Lettres" in _subscribed(mail_backend, mail_user)


def test_folder_changes_need_csrf_and_a_mailbox_of_ones_own(client, mail_user, mail_backend):
    sign_in(client, mail_user)
    refused = client.post(f"/b/{mail_user.address}/_folder-admin/create",
                          data={"name": "Sans jeton"})
    assert refused.status_code == 400
    page = client.get(f"/b/{mail_user.address}/_folder-admin/").get_data(as_text=True)
    other = client.post("/b/quelquun@pli.test/_folder-admin/create",
                        data={"csrf_token": csrf_token(page), "name": "Intrus"})
    assert other.status_code == 404
    assert "Sans jeton" not in _names(mail_backend, mail_user)
