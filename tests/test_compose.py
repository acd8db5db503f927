"""Writing and sending mail through the web, against the real Dovecot and Postfix."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
from pathlib import Path

import pytest

from imap_bridge.compose import Outgoing, build_message
from imap_bridge.models import Address
from tests.compose_support import (
    another_user,
    attachments_of,
    compose_url,
    draft_uid_of,
    folder_messages,
    form_token,
    parse,
    post_compose,
    raw_multipart,
    text_of,
    wait_for_messages,
)
from tests.conftest import app_config, sign_in
from tests.delegation_support import client_for, grant, trio_fixture  # noqa: F401 - `trio`
from tests.mailfactory import message
from webmail import create_app

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
SCAN = bytes(reversed(range(256))) * 100


def _body(response) -> str:
    return response.get_data(as_text=True)


def test_a_message_arrives_in_the_other_inbox_with_its_headers_and_attachments(
        client, mail_user, mail_backend):
    peer = another_user(mail_backend)
    sign_in(client, mail_user)
    response = post_compose(
        client, mail_user, action="send", to=f"Dr Pair <{peer.address}>",
        subject="Résultats d'analyse", body="Bonjour,\n\nci-joint les résultats.\n",
        files=[(io.BytesIO(PDF), "compte rendu é.pdf"), (io.BytesIO(SCAN), "scan.png")])
    assert response.status_code == 302 and "/compose/sent" in response.location
    [(_, raw, _)] = wait_for_messages(mail_backend, peer, "INBOX")
    received = parse(raw)
    assert received["Subject"] == "Résultats d'analyse"
    assert received["From"].addresses[0].addr_spec == mail_user.address
    assert received["To"].addresses[0].display_name == "Dr Pair"
    assert received["Message-ID"] and received["Date"]
    assert "Bcc" not in received and not any(k.lower().startswith("x-pli") for k in received)
    assert text_of(raw).startswith("Bonjour,\n\nci-joint")
    assert attachments_of(raw) == {"compte rendu é.pdf": PDF, "scan.png": SCAN}
    assert b"filename*=utf-8''compte%20rendu%20%C3%A9.pdf" in raw  # RFC 2231
    # The copy in Sent is the message as sent, byte for byte.
    [(_, sent, flags)] = folder_messages(mail_backend, mail_user, "Sent")
    assert raw.replace(b"\r\n", b"\n").endswith(sent.replace(b"\r\n", b"\n"))
    assert b"\\Seen" in flags
    assert folder_messages(mail_backend, mail_user, "Drafts") == []
    page = client.get(response.location)
    assert "Message envoyé" in _body(page)


def test_reply_threads_quotes_and_marks_the_original_answered(client, mail_user, mail_backend):
    peer = another_user(mail_backend)
    original = message("Re: RE: Suivi de Mme Durand", sender=f"Dr Pair <{peer.address}>",
                       to=mail_user.address, body="Pouvez-vous confirmer ?\nMerci.\n")
    mail_backend.deliver(mail_user.address, original)
    [(uid, raw, _)] = wait_for_messages(mail_backend, mail_user, "INBOX")
    original_id = parse(raw)["Message-ID"]
    sign_in(client, mail_user)
    page = _body(client.get(compose_url(mail_user, f"/reply/INBOX/{uid}")))
    assert 'value="Re: Suivi de Mme Durand"' in page
    assert f"Dr Pair &lt;{peer.address}&gt;" in page
    assert "&gt; Pouvez-vous confirmer ?" in page
    response = post_compose(client, mail_user, action="send", to=peer.address,
                            subject="Re: Suivi de Mme Durand", body="Confirmé.\n",
                            source_mode="reply", source_folder="INBOX", source_uid=str(uid),
                            in_reply_to="<forged@evil.test>")
    assert response.status_code == 302
    [(_, reply, _)] = wait_for_messages(mail_backend, peer, "INBOX")
    sent = parse(reply)
    assert sent["In-Reply-To"] == original_id
    assert sent["References"].split()[-1] == original_id
    assert b"forged" not in reply
    flags = folder_messages(mail_backend, mail_user, "INBOX")[0][2]
    assert b"\\Answered" in flags


def test_reply_all_leaves_oneself_out_and_forward_says_fwd_once(client, mail_user, mail_backend):
    colleague = "dr.autre@pli.test"
    mail_backend.deliver(mail_user.address, message(
        "Fwd: Bilan", sender="Dr Pair <pair@pli.test>",
        to=f"{mail_user.address}, {colleague}"))
    [(uid, _, _)] = wait_for_messages(mail_backend, mail_user, "INBOX")
    sign_in(client, mail_user)
    page = _body(client.get(compose_url(mail_user, f"/reply/INBOX/{uid}?all=1")))
    to = re.search(r'id="to" name="to" type="text" value="([^"]*)"', page).group(1)
    cc = re.search(r'id="cc" name="cc" type="text" value="([^"]*)"', page).group(1)
    assert "pair@pli.test" in to and mail_user.address not in to and cc == colleague
    forward = _body(client.get(compose_url(mail_user, f"/forward/INBOX/{uid}")))
    assert 'value="Fwd: Bilan"' in forward
    assert "Message transféré" in forward


def test_forward_with_attachments_keeps_the_files_and_their_mss_headers(
        client, mail_user, mail_backend):
    peer = another_user(mail_backend)
    original = message("Document CDA", to=mail_user.address,
                       attachments=[("IHE_XDM.ZIP", "application/zip", b"PK\x03\x04xdm"),
                                    ("compte-rendu.pdf", "application/pdf", PDF)])
    original = original.replace(b"Subject:", b"X-MSS-CODECDA: 11488-4\r\nX-MSS-INS: O\r\n"
                                b"X-MSS-NIL: LOGICIEL-TIERS\r\nSubject:", 1)
    mail_backend.append(mail_user.address, "INBOX", original)
    sign_in(client, mail_user)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      _body(client.get(compose_url(mail_user, "/new")))).group(1)
    response = client.post(compose_url(mail_user, "/forward/INBOX/1"),
                           data={"csrf_token": token})
    assert response.status_code == 302 and "/compose/draft/" in response.location
    draft = _body(client.get(response.location))
    assert "IHE_XDM.ZIP" in draft and "compte-rendu.pdf" in draft
    uid = int(re.search(r"/draft/(\d+)", response.location).group(1))
    response = post_compose(client, mail_user, action="send", to=peer.address,
                            subject="Fwd: Document CDA", body="Pour information.",
                            draft_uid=str(uid), source_mode="forward", source_folder="INBOX",
                            source_uid="1")
    assert response.status_code == 302
    [(_, raw, _)] = wait_for_messages(mail_backend, peer, "INBOX")
    sent = parse(raw)
    assert attachments_of(raw) == {"IHE_XDM.ZIP": b"PK\x03\x04xdm", "compte-rendu.pdf": PDF}
    assert sent["X-MSS-CODECDA"] == "11488-4" and sent["X-MSS-INS"] == "O"
    assert "X-MSS-NIL" not in sent  # the original's software, not ours
    assert b"$Forwarded" in folder_messages(mail_backend, mail_user, "INBOX")[0][2]


def test_a_reply_never_invents_or_carries_mss_headers(client, mail_user, mail_backend):
    peer = another_user(mail_backend)
    original = message("CDA", sender=peer.address, to=mail_user.address).replace(
        b"Subject:", b"X-MSS-CODECDA: 11488-4\r\nX-MSS-INS: O\r\nSubject:", 1)
    mail_backend.append(mail_user.address, "INBOX", original)
    sign_in(client, mail_user)
    post_compose(client, mail_user, action="send", to=peer.address, subject="Re: CDA",
                 body="Reçu.", source_mode="reply", source_folder="INBOX", source_uid="1")
    [(_, raw, _)] = wait_for_messages(mail_backend, peer, "INBOX")
    assert not any(name.upper().startswith("X-MSS") for name in parse(raw))


def test_a_bad_address_is_refused_clearly_and_nothing_is_lost(client, mail_user, mail_backend):
    sign_in(client, mail_user)
    response = post_compose(client, mail_user, action="send",
                            to="dr.pair@pli.test, pas-une-adresse", subject="Important",
                            body="Texte long et précieux.")
    page = _body(response)
    assert response.status_code == 422
    assert "« pas-une-adresse » n’est pas une adresse valide." in page
    assert "Texte long et précieux." in page and 'value="Important"' in page
    assert mail_backend.captured() == [] or all(
        b"Texte long" not in m.raw for m in mail_backend.captured())


def test_a_file_attached_to_a_refused_send_is_kept_in_the_draft(client, mail_user,
                                                                 mail_backend):
    sign_in(client, mail_user)
    response = post_compose(client, mail_user, action="send", to="pas-une-adresse",
                            subject="Résultats", body="Voir le fichier.",
                            files=[(io.BytesIO(PDF), "bilan.pdf")])
    page = _body(response)
    assert response.status_code == 422 and "n’est pas une adresse valide" in page
    assert "bilan.pdf" in page  # the form offers it again, from the draft
    [(uid, draft, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    assert attachments_of(draft) == {"bilan.pdf": PDF}
    assert draft_uid_of(response) == uid  # a new try sends that draft


def test_bcc_recipients_get_the_message_without_a_bcc_header(client, mail_user, mail_backend):
    peer, hidden = another_user(mail_backend), another_user(mail_backend, "hidden")
    sign_in(client, mail_user)
    post_compose(client, mail_user, action="send", to=peer.address, bcc=hidden.address,
                 subject="Réunion", body="Mardi 10 h.")
    [(_, raw, _)] = wait_for_messages(mail_backend, hidden, "INBOX")
    assert parse(raw)["Subject"] == "Réunion" and b"Bcc" not in raw
    [(_, sent, _)] = folder_messages(mail_backend, mail_user, "Sent")
    assert hidden.address.encode() not in sent


def test_smtp_server_down_keeps_the_draft_and_says_so(app, mail_backend, database_url,
                                                       mail_user):
    closed = create_app(app_config(mail_backend, database_url, SMTP_PORT=1))
    with closed.test_client() as client:
        sign_in(client, mail_user)
        response = post_compose(client, mail_user, action="send", to="dr.pair@pli.test",
                                subject="Ordonnance", body="Texte à ne pas perdre.",
                                files=[(io.BytesIO(PDF), "ordonnance.pdf")])
        page = _body(response)
    assert response.status_code == 503 and "Traceback" not in page
    assert "Le serveur d’envoi est injoignable" in page and "brouillons" in page
    assert "Texte à ne pas perdre." in page
    [(_, draft, flags)] = folder_messages(mail_backend, mail_user, "Drafts")
    assert b"\\Draft" in flags and attachments_of(draft) == {"ordonnance.pdf": PDF}
    assert "Texte à ne pas perdre." in text_of(draft)
    # The server is back: sending the same draft again works.
    with app.test_client() as client:
        sign_in(client, mail_user)
        uid = folder_messages(mail_backend, mail_user, "Drafts")[0][0]
        retry = post_compose(client, mail_user, action="send", to="dr.pair@cabinet.test",
                             subject="Ordonnance", body="Texte à ne pas perdre.",
                             draft_uid=str(uid))
    assert retry.status_code == 302
    assert folder_messages(mail_backend, mail_user, "Drafts") == []


def test_a_refused_recipient_sends_nothing_and_keeps_the_draft(client, mail_user, mail_backend):
    peer = another_user(mail_backend)
    sign_in(client, mail_user)
    response = post_compose(client, mail_user, action="send",
                            to=f"{peer.address}, inconnu-{peer.address}", subject="Essai",
                            body="Bonjour")
    page = _body(response)
    assert response.status_code == 503
    assert f"inconnu-{peer.address}" in page and "Rien n’a été envoyé" in page
    assert len(folder_messages(mail_backend, mail_user, "Drafts")) == 1
    assert folder_messages(mail_backend, peer, "INBOX") == []


def test_simple_formatting_sends_sanitised_html_with_the_text(client, mail_user, mail_backend):
    peer = another_user(mail_backend)
    sign_in(client, mail_user)
    post_compose(client, mail_user, action="send", to=peer.address, subject="Consignes",
                 rich="y", body="**À jeun** la veille.\n\n- prise de sang\n- *urines*\n"
                                "<script>alert(1)</script>")
    [(_, raw, _)] = wait_for_messages(mail_backend, peer, "INBOX")
    received = parse(raw)
    assert received.get_content_type() == "multipart/alternative"
    html = text_of(raw, "html")
    assert "<strong>À jeun</strong>" in html and "<li><em>urines</em></li>" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert text_of(raw).startswith("**À jeun** la veille.")


def test_signature_per_identity_starts_each_new_message(client, mail_user):
    sign_in(client, mail_user)
    page = _body(client.get(compose_url(mail_user, "/signature")))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(compose_url(mail_user, "/signature"),
                data={"csrf_token": token, "text": "Dr Martin\nCabinet de la Gare"})
    page = _body(client.get(compose_url(mail_user, "/new")))
    assert "-- \nDr Martin\nCabinet de la Gare" in page


def test_recent_correspondents_are_suggested(client, mail_user, mail_backend):
    peer = another_user(mail_backend, "durand")
    sign_in(client, mail_user)
    post_compose(client, mail_user, action="send", to=f"Dr Durand <{peer.address}>",
                 subject="Bonjour", body="x")
    options = _body(client.get(compose_url(mail_user, "/suggest"),
                               query_string={"field": "cc", "cc": "a@pli.test, dura"},
                               headers={"HX-Request": "true"}))
    assert f'<option value="a@pli.test, Dr Durand &lt;{peer.address}&gt;">' in options
    assert "<option" not in _body(client.get(compose_url(mail_user, "/suggest"),
                                             query_string={"field": "to", "to": "zzz"}))


def test_a_delegate_without_the_send_right_cannot_open_compose(client, mail_user):
    sign_in(client, mail_user)
    assert client.get("/b/someone-else@pli.test/compose/new").status_code == 404


@pytest.mark.parametrize("uid", ["../../../etc/passwd", "1:*", "-1", "99999999999", "1 2"])
def test_draft_and_message_identifiers_are_validated(client, mail_user, uid):
    sign_in(client, mail_user)
    response = post_compose(client, mail_user, draft_uid=uid, subject="x")
    assert response.status_code == 404
    page = client.get(compose_url(mail_user, f"/draft/{uid}"), follow_redirects=True)
    assert page.status_code == 404


def _sent_uid(mail_backend, user) -> int:
    [(uid, _, _)] = folder_messages(mail_backend, user, "Sent")
    return uid


def test_a_read_receipt_is_offered_sent_once_on_request_and_shown_to_the_sender(
        app, mail_user, mail_backend):
    peer = another_user(mail_backend)
    client = app.test_client()  # two people at once: no request context kept between calls
    sign_in(client, mail_user)
    post_compose(client, mail_user, action="send", to=peer.address, subject="Résultat",
                 body="Merci de confirmer la lecture.", read_receipt="y")
    [(uid, raw, _)] = wait_for_messages(mail_backend, peer, "INBOX")
    assert parse(raw)["Disposition-Notification-To"] == mail_user.address
    reader = app.test_client()
    sign_in(reader, peer)
    page = _body(reader.get(f"/b/{peer.address}/INBOX/{uid}"))
    assert f"L’expéditeur demande un accusé de lecture, à envoyer à {mail_user.address}" \
        in page and "Attention" not in page
    assert len(folder_messages(mail_backend, mail_user, "INBOX")) == 0  # never automatic
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = reader.post(f"/b/{peer.address}/compose/receipt/INBOX/{uid}",
                           data={"csrf_token": token})
    assert response.status_code == 302
    page = _body(reader.get(response.location))
    assert f"Un accusé de lecture a été envoyé à {mail_user.address}." in page
    assert "Envoyer l’accusé de lecture" not in page
    reader.post(f"/b/{peer.address}/compose/receipt/INBOX/{uid}", data={"csrf_token": token})
    assert b"$MDNSent" in folder_messages(mail_backend, peer, "INBOX")[0][2]
    [(_, receipt, _)] = wait_for_messages(mail_backend, mail_user, "INBOX")
    report = parse(receipt)
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "disposition-notification"
    fields = next(p for p in report.walk()
                  if p.get_content_type() == "message/disposition-notification")
    text = fields.as_string()
    assert "Disposition: manual-action/MDN-sent-manually; displayed" in text
    assert f"Original-Message-ID: {parse(raw)['Message-ID']}" in text
    assert f"Final-Recipient: rfc822;{peer.address}" in text
    page = _body(client.get(f"/b/{mail_user.address}/Sent/{_sent_uid(mail_backend, mail_user)}"))
    assert re.search(rf"{re.escape(peer.address)}</span>:\s*lu \(affiché\)", page)


def test_a_receipt_asked_for_another_address_comes_with_a_warning(
        client, mail_user, mail_backend):
    asking = message("Demande", sender="Dr Pair <pair@pli.test>", to=mail_user.address)
    asking = asking.replace(b"Subject:", b"Disposition-Notification-To: collecte@evil.test\r\n"
                            b"Subject:", 1)
    mail_backend.deliver(mail_user.address, asking, sender="pair@pli.test")
    [(uid, _, _)] = wait_for_messages(mail_backend, mail_user, "INBOX")
    sign_in(client, mail_user)
    page = _body(client.get(f"/b/{mail_user.address}/INBOX/{uid}"))
    assert "à envoyer à collecte@evil.test" in page
    assert "n’est pas celle d’où vient le message" in page
    assert mail_backend.captured() == [] or all(
        m.recipient != "collecte@evil.test" for m in mail_backend.captured())


def test_delivery_reports_show_on_the_sent_message(client, mail_user, mail_backend):
    peer = another_user(mail_backend)
    sign_in(client, mail_user)
    response = post_compose(client, mail_user, action="send", subject="Avec accusé",
                            to=f"{peer.address}, absent@cabinet.test", body="x",
                            delivery_receipt="y")
    assert "reports=1" in response.location
    reports = wait_for_messages(mail_backend, mail_user, "INBOX")
    assert reports and parse(reports[0][1]).get_param("report-type") == "delivery-status"
    sent_uid = _sent_uid(mail_backend, mail_user)
    sent_id = parse(folder_messages(mail_backend, mail_user, "Sent")[0][1])["Message-ID"]
    page = _body(client.get(f"/b/{mail_user.address}/Sent/{sent_uid}"))
    assert re.search(rf"{re.escape(peer.address)}</span>:\s*transmis au serveur", page)
    # A remote server's failure report for the other recipient, matched by envelope id.
    mail_backend.deliver(mail_user.address, _failure_report(
        mail_user.address, "absent@cabinet.test", sent_id.strip("<>")), sender="")
    page = _body(client.get(f"/b/{mail_user.address}/Sent/{sent_uid}"))
    assert re.search(r"absent@cabinet.test</span>:\s*échec, non remis", page)
    # Reports show on the sent message only, not on other messages.
    inbox = _body(client.get(f"/b/{mail_user.address}/INBOX/{reports[0][0]}"))
    assert "Accusés de remise et de lecture" not in inbox


def _failure_report(to: str, recipient: str, envelope_id: str) -> bytes:
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@cabinet.test>\r\nTo: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\n"
        "Message-ID: <report-1@cabinet.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nThe recipient does not exist.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.cabinet.test\r\nOriginal-Envelope-Id: {envelope_id}\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--b1--\r\n").encode()


# --- Hostile inputs from the shared corpus ---------------------------------------------

CORPUS_FILE = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" \
    / "compose-injection.json"
CORPUS = json.loads(CORPUS_FILE.read_text(encoding="utf-8"))["cases"]
_markers = itertools.count(1)
_SENT_FIELDS = ("to", "cc", "bcc", "subject", "body", "from", "display_name", "in_reply_to",
                "references", "attachment_name", "attachment_content_type")
# The only header fields a form with To, a subject, a body and files can produce.
_FORM_HEADERS = {"date", "from", "to", "subject", "message-id", "mime-version",
                 "content-type", "content-transfer-encoding"}


@pytest.mark.parametrize("case", CORPUS, ids=[case["id"] for case in CORPUS])
def test_hostile_compose_input_is_refused_or_neutralised(case, app, mail_user, mail_backend):
    client = app.test_client()
    sign_in(client, mail_user)
    marker = f"corpus{os.getpid()}n{next(_markers)}"
    if case["field"] in _SENT_FIELDS:
        _hostile_send(case, client, mail_user, mail_backend, marker)
    else:
        _hostile_parameter(case, client, mail_user, mail_backend, marker)


def _hostile_send(case, client, user, mail_backend, marker) -> None:
    field, value = case["field"], case["value"]
    fields = {"to": "patient@cabinet.test", "subject": f"Objet {marker}",
              "body": f"{marker}\nBonjour"}
    files: list = []
    if field == "subject":
        fields["subject"] = value
    elif field == "body":
        fields["body"] = f"{marker}\n{value}"
    elif field == "attachment_name":
        files = [(io.BytesIO(b"%PDF-1.4 test"), value)]
    elif field != "attachment_content_type":
        fields[field] = value
    if field == "attachment_content_type":
        body, content_type = raw_multipart(
            {"csrf_token": form_token(client, user), "action": "send", **fields},
            [("note.txt", b"texte", value)])
        response = client.post(compose_url(user), data=body, content_type=content_type)
    else:
        response = post_compose(client, user, action="send", files=files, **fields)
    page = _body(response)
    assert response.status_code != 500 and "Traceback" not in page
    mine = [m for m in mail_backend.wait_for_captured(len(mail_backend.captured()) + 1, 5)
            if marker.encode() in m.raw] if response.status_code == 302 else []
    if response.status_code != 302:
        assert 'class="error' in page  # said clearly, on the form shown again
        assert marker in page  # with what was typed
        if "<" in value:
            assert value not in page
        assert not [m for m in mail_backend.captured() if marker.encode() in m.raw]
        return
    assert len(mine) == 1, "exactly one envelope recipient"
    assert mine[0].recipient in ("patient@cabinet.test", "patient@evil.test")
    _check_sent_message(mine[0].raw, mail_backend, user, marker)
    _check_field(field, value, parse(mine[0].raw), client, user)


def _check_sent_message(raw: bytes, mail_backend, user, marker) -> None:
    wire = raw.replace(b"\r\n", b"\n")
    head = wire.split(b"\n\n", 1)[0].decode("ascii")
    names = [line.split(":", 1)[0].lower() for line in head.split("\n")
             if line and line[0] not in " \t"]
    names = [name for name in names if name != "received"]
    assert len(names) == len(set(names)) and set(names) <= _FORM_HEADERS, names
    assert all(len(line) <= 998 for line in wire.split(b"\n"))
    sent = [r for _, r, _ in folder_messages(mail_backend, user, "Sent") if marker.encode() in r]
    assert len(sent) == 1 and wire.endswith(sent[0].replace(b"\r\n", b"\n"))


def _check_field(field, value, sent, client, user) -> None:
    if field == "to":
        assert "\n" not in str(sent["To"]) and "spy" not in sent["To"].addresses[0].addr_spec
    if field == "subject":
        assert "\x00" not in sent["Subject"] and "\x1b" not in sent["Subject"]
    if field == "body":
        text = text_of(sent.as_bytes())
        assert "\x00" not in text and len(list(sent.iter_parts())) == 0
        first_line = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", value).splitlines()[0]
        assert first_line in text
        if "<script" in value:  # the Sent copy shown in Pli: text, nothing runs
            uid = max(folder_messages_uids(client, user))
            page = _body(client.get(f"/b/{user.address}/Sent/{uid}"))
            assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    if field in ("from", "display_name"):
        assert sent["From"].addresses[0].addr_spec == user.address and "spy" not in str(sent)
    if field == "in_reply_to":
        assert "In-Reply-To" not in sent
    if field in ("attachment_name", "attachment_content_type"):
        [part] = list(sent.iter_attachments())
        name = part.get_filename()
        assert name and not set(name) & set('/\\"\u202e\r\n') and not name.startswith(".")
        assert "X-Injected" not in part and len(part.get_params(header="content-disposition")) == 2
        if field == "attachment_name" and value.endswith(".pdf"):
            assert name == value  # shown literally, never evaluated as a template
        if "exe" in value:
            assert name.endswith(".exe")


def folder_messages_uids(client, user) -> list[int]:
    page = _body(client.get(f"/b/{user.address}/Sent/"))
    return [int(uid) for uid in re.findall(rf"/b/{re.escape(user.address)}/Sent/(\d+)", page)]


def test_a_display_name_holding_an_address_is_quoted_and_the_address_kept():
    raw = build_message(Outgoing(
        from_=Address("Dr Martin <dr.martin@cabinet.test>", "owner@pli.test"),
        to=(Address("=?utf-8?q?x=0D=0ABcc=3A_spy=40evil=2Etest?=", "patient@evil.test"),),
        subject="=?utf-8?q?a=0D=0ABcc=3A_spy=40evil=2Etest?=", text="x"))
    sent = parse(raw)
    assert sent["From"].addresses[0].addr_spec == "owner@pli.test"
    assert b'From: "Dr Martin <dr.martin@cabinet.test>" <owner@pli.test>' in raw
    assert "Bcc" not in sent and "\n" not in str(sent["To"]) and "\n" not in sent["Subject"]
    assert [a.addr_spec for a in sent["To"].addresses] == ["patient@evil.test"]


def _hostile_parameter(case, client, user, mail_backend, marker) -> None:
    field, value = case["field"], case["value"]
    mail_backend.append(user.address, "INBOX", message(f"Témoin {marker}"))
    if field == "attachment_count_size":
        files = [(io.BytesIO(b"x"), f"f{n}.txt") for n in range(300)]
        response = post_compose(client, user, action="send", to="patient@cabinet.test",
                                subject=marker, body="texte gardé", files=files)
        page = _body(response)
        assert response.status_code == 422 and "Au plus 50 pièces jointes" in page
        assert "texte gardé" in page and not [m for m in mail_backend.captured()
                                              if marker.encode() in m.raw]
        return
    if field in ("draft_id", "uid"):
        response = post_compose(client, user, draft_uid=value, subject=marker)
        assert response.status_code == 404
        response = post_compose(client, user, action="send", to="patient@cabinet.test",
                                subject=marker, source_mode="reply", source_folder="INBOX",
                                source_uid=value)
        assert response.status_code == 404
    elif field == "folder":
        response = post_compose(client, user, action="send", to="patient@cabinet.test",
                                subject=marker, source_mode="reply", source_folder=value,
                                source_uid="1")
        assert response.status_code == 404
        reply = client.get(compose_url(user, f"/reply/{value}/1"), follow_redirects=True)
        assert reply.status_code == 404
    elif field == "search":
        response = client.get(compose_url(user, "/suggest"), query_string={"to": value})
        assert response.status_code == 200 and "<option" not in _body(response)
    elif field == "redirect_to":
        response = post_compose(client, user, action="send", to="patient@cabinet.test",
                                subject=marker, body="x", redirect_to=value)
        assert response.status_code == 302
        assert response.location.startswith("/") and response.location[1:2] not in "/\\"
    else:
        pytest.fail(f"no check for field {field!r}")
    # Whatever was tried, the mailbox is intact.
    assert any(marker.encode() in raw for _, raw, _ in folder_messages(mail_backend, user,
                                                                        "INBOX"))


def test_a_delegate_sends_on_behalf_of_the_owner(app, trio, mail_backend):
    owner = client_for(app, trio.owner)
    assert grant(owner, trio.owner, trio.delegate.address, "send").status_code in (302, 303)
    delegate = client_for(app, trio.delegate)
    response = post_compose(delegate, trio.owner, action="send", to=trio.outsider.address,
                            subject="Pour le Dr", body="Envoyé par le secrétariat.",
                            files=[(io.BytesIO(PDF), "ordonnance.pdf")])
    assert response.status_code == 302, _body(response)[:300]
    [(_, raw, _)] = wait_for_messages(mail_backend, trio.outsider, "INBOX")
    sent = parse(raw)
    assert sent["From"].addresses[0].addr_spec == trio.owner.address
    assert sent["Sender"].addresses[0].addr_spec == trio.delegate.address
    assert attachments_of(raw) == {"ordonnance.pdf": PDF}
    [(_, copy, _)] = folder_messages(mail_backend, trio.owner, "Sent")
    assert raw.replace(b"\r\n", b"\n").endswith(copy.replace(b"\r\n", b"\n"))
    assert folder_messages(mail_backend, trio.delegate, "Sent") == []


def test_a_delegate_who_may_only_read_cannot_write(app, trio):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "read")
    delegate = client_for(app, trio.delegate)
    assert delegate.get(compose_url(trio.owner, "/new")).status_code == 403
    page = _body(delegate.get(f"/b/{trio.owner.address}/INBOX/1"))
    assert "Répondre" not in page and "Nouveau message" not in page
