"""Secure links for patients, end to end on the real Dovecot and Postfix: a professional
writes to a patient's ordinary address, the patient receives a link and a code in two
emails without any health data, opens the message with both, and answers into the
professional's inbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.compose_support import (
    another_user,
    attachments_of,
    folder_messages,
    parse,
    post_compose,
    text_of,
    wait_for_messages,
)
from tests.conftest import app_config, csrf_token, sign_in
from tests.delegation_support import client_for, grant, trio_fixture  # noqa: F401
from webmail import create_app
from webmail.db import db
from webmail.models import AnonymousCounter, PatientLink
from webmail.models.base import utcnow
from webmail.services import retention, traces

SUBJECT = "Résultats d'analyse"
BODY = "Votre glycémie est normale.\nÀ bientôt."
REPORT = b"%PDF-1.4 bilan sanguin\n" * 50
LINK = re.compile(r"http://[a-z0-9.:]+(/p/[A-Za-z0-9_.=-]+)")


def _send_link(client, professional, patient, **fields):
    return post_compose(client, professional, files=[(_file(), "bilan.pdf")],
                        to=patient.address, subject=SUBJECT, body=BODY, action="send",
                        patient_link="y", **fields)


def _file():
    import io

    return io.BytesIO(REPORT)


def _link_and_code(mail_backend, patient) -> tuple[str, str, list[bytes]]:
    found = wait_for_messages(mail_backend, patient, "INBOX", count=2)
    raws = [raw for _, raw, _ in found]
    assert len(raws) == 2, "the link and the code come as two emails"
    [link_text] = [text_of(raw) for raw in raws if LINK.search(text_of(raw))]
    [code_text] = [text_of(raw) for raw in raws if not LINK.search(text_of(raw))]
    link = LINK.search(link_text).group(1)
    code = re.search(r"\b(\d{6})\b", code_text).group(1)
    return link, code, raws


@pytest.fixture
def professional(app, mail_user):
    """`mail_user` signed in. Its own client, not the `client` fixture, whose preserved
    request context would share flask-wtf's CSRF token with the patient's client."""
    client = app.test_client()
    sign_in(client, mail_user)
    return client


@pytest.fixture
def sent(professional, mail_user, mail_backend):
    """A secure link sent by `mail_user` to a patient; (patient, link path, code, raws)."""
    patient = another_user(mail_backend, "patient")
    response = _send_link(professional, mail_user, patient)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert f"patient={patient.address}" in response.headers["Location"]
    link, code, raws = _link_and_code(mail_backend, patient)
    return patient, link, code, raws


def _open(app, link: str, code: str):
    browser = app.test_client()
    page = browser.get(link)
    response = browser.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                        "code": code})
    return browser, response


def test_the_emails_carry_no_health_data_and_sent_keeps_the_message(
        app, mail_user, mail_backend, sent):
    patient, _, _, raws = sent
    for raw in raws:
        assert SUBJECT.encode() not in raw and b"glyc" not in raw
        assert attachments_of(raw) == {}
        assert parse(raw)["From"].addresses[0].addr_spec == mail_user.address
    [(_, copy, _)] = folder_messages(mail_backend, mail_user, "Sent")
    assert parse(copy)["To"].addresses[0].addr_spec == patient.address
    assert attachments_of(copy) == {"bilan.pdf": REPORT}
    with app.app_context():
        row = db.session.scalar(select(PatientLink).order_by(PatientLink.id.desc()))
        assert b"glyc" not in row.content and SUBJECT.encode() not in row.content
        assert row.expires_at - row.created_at == timedelta(days=28)


def test_the_patient_reads_with_the_code_and_answers_into_the_inbox(
        app, professional, mail_user, mail_backend, sent):
    patient, link, code, _ = sent
    stranger = app.test_client()
    first = stranger.get(link)
    assert first.status_code == 200 and "glyc" not in first.get_data(as_text=True)
    assert first.headers["X-Robots-Tag"].startswith("noindex")
    wrong = stranger.post(link, data={"csrf_token": csrf_token(first.get_data(as_text=True)),
                                      "code": "0" if code != "0" * 6 else "1"})
    assert wrong.status_code == 401 and "Tentatives restantes : 4" in wrong.get_data(
        as_text=True)

    browser, opened = _open(app, link, code)
    assert opened.status_code == 303
    page = browser.get(link).get_data(as_text=True)
    assert "Votre glycémie est normale." in page and SUBJECT.replace("'", "&#39;") in page
    part = re.search(r'href="(/p/[^"]+/parts/[^"]+)"', page).group(1)
    assert browser.get(part).data == REPORT
    assert stranger.get(part).status_code == 302  # the code opens one browser only

    token = csrf_token(page)
    assert browser.post(link + "/answer", data={"csrf_token": token,
                                                "text": "  "}).status_code == 400
    answered = browser.post(link + "/answer", data={"csrf_token": token,
                                                    "text": "Merci docteur."})
    assert answered.status_code == 303
    [(uid, reply, _)] = wait_for_messages(mail_backend, mail_user, "INBOX")
    [(_, original, _)] = folder_messages(mail_backend, mail_user, "Sent")
    shown = professional.get(f"/b/{mail_user.address}/INBOX/{uid}").get_data(as_text=True)
    assert "Réponse d’un patient, écrite sur la page sécurisée de Pli" in shown
    assert parse(reply)["From"].addresses[0].addr_spec == patient.address
    assert parse(reply)["In-Reply-To"] == parse(original)["Message-ID"]
    assert parse(reply)["Subject"] == f"Re: {SUBJECT}"
    assert text_of(reply).startswith("Merci docteur.")

    with app.app_context():
        entries = [e for e in reversed(traces.traces_for_mailbox(mail_user.address))
                   if e.action.startswith("patient_link")]
        counted = {row.metric for row in db.session.scalars(select(AnonymousCounter))}
    assert [e.action for e in entries] == ["patient_link_created", "patient_link_code_failed",
                                           "patient_link_opened", "patient_link_replied"]
    assert all(patient.address not in repr(e.as_dict()) for e in entries)
    assert {"patient_link_opened", "patient_link_replied"} <= counted


def test_five_wrong_codes_lock_the_link(app, sent):
    _, link, code, _ = sent
    browser = app.test_client()
    token = csrf_token(browser.get(link).get_data(as_text=True))
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(4):
        assert browser.post(link, data={"csrf_token": token, "code": wrong}).status_code == 401
    assert browser.post(link, data={"csrf_token": token, "code": wrong}).status_code == 404
    _, late = _open(app, link, code)
    assert late.status_code == 404


def test_the_professional_sees_the_status_and_can_withdraw(app, professional, mail_user,
                                                           sent):
    client = professional
    patient, link, code, _ = sent
    page = f"/b/{mail_user.address}/patient-links/"
    listed = client.get(page).get_data(as_text=True)
    assert patient.address in listed and "pas encore ouvert" in listed
    _open(app, link, code)
    assert "ouvert" in client.get(page).get_data(as_text=True)
    link_id = int(re.search(r'data-link="(\d+)"', listed).group(1))
    withdrawn = client.post(f"{page}{link_id}/revoke", data={"csrf_token": csrf_token(listed)})
    assert withdrawn.status_code == 303
    assert "retiré" in client.get(page).get_data(as_text=True)
    assert app.test_client().get(link).status_code == 404
    with app.app_context():
        assert db.session.get(PatientLink, link_id).content is None


def test_expired_links_close_and_retention_erases_them(app, sent):
    _, link, code, _ = sent
    with app.app_context():
        row = db.session.scalar(select(PatientLink).order_by(PatientLink.id.desc()))
        link_id, expires = row.id, row.expires_at
    _, before = _open(app, link, code)
    assert before.status_code == 303
    policy = retention.RetentionPolicy(12, 3, 12, 120, patient_link_keep_days=30)
    with app.app_context():
        retention.run(policy, expires + timedelta(minutes=1))
        assert db.session.get(PatientLink, link_id).content is None
    assert app.test_client().get(link).status_code == 404
    with app.app_context():
        retention.run(policy, expires + timedelta(days=30, minutes=1))
        assert db.session.get(PatientLink, link_id) is None


def test_a_secure_link_goes_to_one_patient_only(app, client, mail_user, mail_backend):
    first, second = another_user(mail_backend, "patient"), another_user(mail_backend, "patient")
    sign_in(client, mail_user)
    response = post_compose(client, mail_user, to=f"{first.address}, {second.address}",
                            subject=SUBJECT, body=BODY, action="send", patient_link="y")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "un seul patient" in page
    assert "Votre glycémie est normale." in page  # the form comes back as it was typed
    assert folder_messages(mail_backend, first, "INBOX") == []


def test_without_a_master_login_the_option_says_it_is_not_set_up(app, mail_backend,
                                                                   database_url, mail_user):
    bare = create_app(app_config(mail_backend, database_url, IMAP_MASTER_USER="",
                                 IMAP_MASTER_PASSWORD=""))
    client = bare.test_client()
    patient = another_user(mail_backend, "patient")
    sign_in(client, mail_user)
    form = client.get(f"/b/{mail_user.address}/compose/new").get_data(as_text=True)
    assert 'id="patient_link"' not in form  # not offered where it cannot work
    response = post_compose(client, mail_user, to=patient.address, subject=SUBJECT, body=BODY,
                            action="send", patient_link="y")
    assert response.status_code == 422
    assert "pas configurés sur ce serveur" in response.get_data(as_text=True)
    assert folder_messages(mail_backend, patient, "INBOX") == []


def test_a_link_left_unused_expires(app, sent):
    _, link, code, _ = sent
    with app.app_context():
        row = db.session.scalar(select(PatientLink).order_by(PatientLink.id.desc()))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    _, response = _open(app, link, code)
    assert response.status_code == 404


def test_a_formatted_message_shows_in_the_sandboxed_frame(app, professional, mail_user,
                                                          mail_backend):
    patient = another_user(mail_backend, "patient")
    response = post_compose(professional, mail_user, to=patient.address, subject=SUBJECT,
                            body="**Important** : à jeun.", rich="y", action="send",
                            patient_link="y")
    assert response.status_code == 302
    link, code, _ = _link_and_code(mail_backend, patient)
    assert app.test_client().get(link + "/body").status_code == 302  # the code comes first
    browser, _ = _open(app, link, code)
    page = browser.get(link).get_data(as_text=True)
    assert 'class="message-frame"' in page and 'sandbox="' in page
    frame = browser.get(link + "/body")
    assert frame.status_code == 200
    assert frame.headers["Content-Security-Policy"].startswith("default-src 'none'; img-src data:;")
    assert "<strong>Important</strong>" in frame.get_data(as_text=True)


def test_mail_from_elsewhere_cannot_pose_as_a_patient_answer(app, professional, mail_user,
                                                             mail_backend):
    from tests.mailfactory import message

    forged = b"X-Pli-Patient-Link: 1; " + b"0" * 64 + b"\n" + message(
        "Re: Résultats", sender="someone@elsewhere.test", to=mail_user.address,
        body="Cliquez ici.")
    mail_backend.deliver(mail_user.address, forged)
    [(uid, raw, _)] = wait_for_messages(mail_backend, mail_user, "INBOX")
    assert b"X-Pli-Patient-Link: 1;" in raw
    shown = professional.get(f"/b/{mail_user.address}/INBOX/{uid}").get_data(as_text=True)
    assert "Réponse d’un patient" not in shown


def test_with_smtp_down_the_link_is_withdrawn_and_the_draft_kept(app, mail_backend,
                                                                 database_url, mail_user):
    closed = create_app(app_config(mail_backend, database_url, SMTP_PORT=1))
    patient = another_user(mail_backend, "patient")
    client = closed.test_client()
    sign_in(client, mail_user)
    response = _send_link(client, mail_user, patient)
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "Le serveur d’envoi est injoignable" in page
    [(_, draft, _)] = folder_messages(mail_backend, mail_user, "Drafts")
    assert attachments_of(draft) == {"bilan.pdf": REPORT}
    with closed.app_context():
        assert db.session.scalars(select(PatientLink).where(
            PatientLink.patient_address == patient.address)).all() == []
    assert folder_messages(mail_backend, patient, "INBOX") == []


def test_an_answer_that_cannot_be_filed_is_kept_on_the_page(app, mail_backend, database_url,
                                                            sent):
    _, link, code, _ = sent
    imap_down = create_app(app_config(mail_backend, database_url, IMAP_PORT=1))
    browser, _ = _open(imap_down, link, code)
    token = csrf_token(browser.get(link).get_data(as_text=True))
    response = browser.post(link + "/answer", data={"csrf_token": token,
                                                    "text": "Question sur le dosage."})
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "n’a pas pu être transmise" in page
    assert "Question sur le dosage." in page


def test_a_delegate_sends_a_secure_link_on_the_owners_behalf(app, mail_backend, trio):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "send")
    delegate = client_for(app, trio.delegate)
    patient = another_user(mail_backend, "patient")
    response = _send_link(delegate, trio.owner, patient)  # in the owner's mailbox
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    _, _, raws = _link_and_code(mail_backend, patient)
    for raw in raws:
        assert parse(raw)["From"].addresses[0].addr_spec == trio.owner.address
        assert parse(raw)["Sender"].addresses[0].addr_spec == trio.delegate.address
    listed = owner.get(f"/b/{trio.owner.address}/patient-links/").get_data(as_text=True)
    assert f"envoyé par {trio.delegate.address}" in listed
