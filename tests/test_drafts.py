"""Drafts in the IMAP Drafts folder: saved on demand and by htmx, reopened with their
attachments, replaced rather than piled up, removed after sending."""

from __future__ import annotations

import io
import re

from tests.compose_support import (
    another_user,
    attachments_of,
    compose_url,
    draft_uid_of,
    folder_messages,
    parse,
    post_compose,
    text_of,
)
from tests.conftest import app_config, sign_in
from tests.mailfactory import message
from webmail import create_app

REPORT = b"%PDF-1.4 compte rendu\n" * 500
PHOTO = bytes(range(256)) * 64


def _body(response) -> str:
    return response.get_data(as_text=True)


def test_a_draft_round_trips_with_its_attachments(client, mail_user, mail_backend):
    sign_in(client, mail_user)
    response = post_compose(
        client, mail_user, action="attach", to="Dr Pair <dr.pair@pli.test>",
        cc="secretariat@pli.test", bcc="archives@pli.test", subject="Brouillon é",
        body="Première version\n\nà finir.", read_receipt="y", delivery_receipt="y",
        files=[(io.BytesIO(REPORT), "compte-rendu été.pdf"), (io.BytesIO(PHOTO), "plaie.jpg")])
    assert response.status_code == 302 and "/compose/draft/" in response.location
    [(uid, raw, flags)] = folder_messages(mail_backend, mail_user, "Drafts")
    assert b"\\Draft" in flags
    assert attachments_of(raw) == {"compte-rendu été.pdf": REPORT, "plaie.jpg": PHOTO}
    assert parse(raw)["Bcc"] == "archives@pli.test"
    page = _body(client.get(compose_url(mail_user, f"/draft/{uid}")))
    assert 'value="Dr Pair &lt;dr.pair@pli.test&gt;"' in page
    assert 'value="secretariat@pli.test"' in page and 'value="archives@pli.test"' in page
    assert 'value="Brouillon é"' in page and "Première version\n\nà finir." in page
    assert 'id="read_receipt" name="read_receipt" value="y" checked' in page
    assert 'id="delivery_receipt" name="delivery_receipt" value="y" checked' in page
    assert "compte-rendu été.pdf" in page and "plaie.jpg" in page


def test_saving_again_replaces_the_draft_and_keeps_or_removes_attachments(
        client, mail_user, mail_backend):
    sign_in(client, mail_user)
    post_compose(client, mail_user, action="attach", subject="Version 1", body="v1",
                 files=[(io.BytesIO(REPORT), "a.pdf"), (io.BytesIO(PHOTO), "b.jpg")])
    [(uid, raw, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    part_of_b = re.search(r'name="remove" value="(\d+)"[^>]*>[^<]*<span[^>]*> b\.jpg',
                          _body(client.get(compose_url(mail_user, f"/draft/{uid}")))).group(1)
    response = post_compose(client, mail_user, subject="Version 2", body="v2",
                            draft_uid=str(uid), remove=part_of_b, action=None)
    assert response.status_code == 302
    [(new_uid, raw, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    assert new_uid != uid and parse(raw)["Subject"] == "Version 2"
    assert attachments_of(raw) == {"a.pdf": REPORT}


def test_htmx_autosave_answers_with_the_draft_fragment(client, mail_user, mail_backend):
    sign_in(client, mail_user)
    first = post_compose(client, mail_user, subject="Autosave", body="début",
                         headers={"HX-Request": "true"})
    fragment = _body(first)
    assert fragment.lstrip().startswith('<div id="draft-state"') and "<html" not in fragment
    assert "Brouillon enregistré" in fragment
    uid = draft_uid_of(first)
    assert first.headers["HX-Replace-Url"].endswith(f"/compose/draft/{uid}")
    second = post_compose(client, mail_user, subject="Autosave", body="début et suite",
                          draft_uid=str(uid), headers={"HX-Request": "true"})
    [(latest, raw, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    assert latest == draft_uid_of(second) and text_of(raw).startswith("début et suite")


def test_a_draft_is_removed_once_sent(client, mail_user, mail_backend):
    peer = another_user(mail_backend)
    sign_in(client, mail_user)
    post_compose(client, mail_user, to=peer.address, subject="À envoyer", body="Texte",
                 files=[(io.BytesIO(REPORT), "a.pdf")], action="attach")
    [(uid, _, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    response = post_compose(client, mail_user, action="send", to=peer.address,
                            subject="À envoyer", body="Texte", draft_uid=str(uid))
    assert response.status_code == 302
    assert folder_messages(mail_backend, mail_user, "Drafts") == []
    [(_, sent, _)] = folder_messages(mail_backend, mail_user, "Sent")
    assert attachments_of(sent) == {"a.pdf": REPORT}


def test_a_draft_can_be_deleted_from_the_form(client, mail_user, mail_backend):
    sign_in(client, mail_user)
    saved = post_compose(client, mail_user, subject="À jeter", body="x",
                         headers={"HX-Request": "true"})
    response = post_compose(client, mail_user, action="discard",
                            draft_uid=str(draft_uid_of(saved)))
    assert response.status_code == 302
    assert folder_messages(mail_backend, mail_user, "Drafts") == []


def test_a_message_of_the_inbox_is_not_a_draft(client, mail_user, mail_backend):
    mail_backend.append(mail_user.address, "Drafts", message("Pas un brouillon"))
    sign_in(client, mail_user)
    [(uid, _, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    assert client.get(compose_url(mail_user, f"/draft/{uid}")).status_code == 404


def test_the_drafts_folder_offers_to_edit_a_draft(client, mail_user, mail_backend):
    sign_in(client, mail_user)
    post_compose(client, mail_user, subject="Ouvrir", body="x", action="save")
    [(uid, _, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    page = _body(client.get(f"/b/{mail_user.address}/Drafts/{uid}"))
    assert f'href="/b/{mail_user.address}/compose/draft/{uid}"' in page


def test_a_file_over_the_limit_is_refused_and_the_text_kept(
        mail_backend, database_url, mail_user):
    small = create_app(app_config(mail_backend, database_url, MAX_MESSAGE_BYTES=20_000))
    with small.test_client() as client:
        sign_in(client, mail_user)
        page = _body(client.get(compose_url(mail_user, "/new")))
        assert "20 Ko" in page  # the limit is said before anything is uploaded
        fits = post_compose(client, mail_user, subject="Limite", body="Texte gardé",
                            action="attach", files=[(io.BytesIO(b"x" * 15_000), "ok.pdf")])
        uid = int(fits.location.rsplit("/", 1)[1].split("#")[0])
        # Over what is left of the limit, but within the request size: refused by Pli.
        refused = post_compose(client, mail_user, subject="Limite", body="Texte gardé 2",
                               action="attach", draft_uid=str(uid),
                               files=[(io.BytesIO(b"y" * 10_000), "trop.pdf")])
        text = _body(refused)
        assert refused.status_code == 200 and "« trop.pdf » n’a pas été joint" in text
        assert "Texte gardé 2" in text
        # Over the request size: the text is recovered from the refused request.
        huge = post_compose(client, mail_user, subject="Limite", body="Texte gardé 3",
                            action="attach", draft_uid=str(draft_uid_of(refused)),
                            files=[(io.BytesIO(b"z" * 3_000_000), "énorme.pdf")])
        text = _body(huge)
        assert huge.status_code == 413 and "Texte gardé 3" in text
        assert "« énorme.pdf »" in text and "20 Ko" in text
    [(_, raw, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    assert text_of(raw).startswith("Texte gardé 3")
    assert attachments_of(raw) == {"ok.pdf": b"x" * 15_000}
