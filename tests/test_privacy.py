"""The privacy page and the administrators' side of privacy requests, through the web and
the command line, against the real Dovecot and database: what is shown, what is exported,
what a person can change or ask, and who can end which session."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import re
import zipfile

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, MailUser, csrf_token, sign_in
from tests.delegation_support import Trio, client_for, grant, trio_fixture  # noqa: F401
from webmail.db import db
from webmail.models import Account, ConsentRecord, FunctionalTrace, PrivacyRequest, UserSession
from webmail.services import traces
from webmail.services.user_agents import describe_device

PAGE = "/account/privacy/"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SECRET_WORDS = "Mon épouse, Mme Quiroga, décidera"  # free text that must stay out of traces
_counter = itertools.count(1)


def _user(mail_backend, name: str = "privacy") -> MailUser:
    user = MailUser(f"{name}{os.getpid()}x{next(_counter)}@pli.test", PASSWORD)
    mail_backend.add_user(user.address, user.password)
    return user


def _signed_in(app, mail_backend, name: str = "privacy", user_agent: str = ""):
    user = _user(mail_backend, name)
    client = app.test_client()
    if user_agent:
        client.environ_base["HTTP_USER_AGENT"] = user_agent
    sign_in(client, user)
    return user, client


def _post(client, path: str, data: dict | None = None, htmx: bool = False):
    page = client.get(PAGE).get_data(as_text=True)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data={"csrf_token": csrf_token(page), **(data or {})},
                       headers=headers)


def _account(app, address: str) -> Account:
    with app.app_context():
        return db.session.scalar(select(Account).where(Account.address == address))


def _traces(app, mailbox: str) -> list[traces.TraceEntry]:
    with app.app_context():
        return list(reversed(traces.traces_for_mailbox(mailbox, limit=200)))


def _stored_traces(app) -> str:
    with app.app_context():
        return " ".join(repr((row.action, row.detail))
                        for row in db.session.scalars(select(FunctionalTrace)))


def _requests(app, address: str) -> list[PrivacyRequest]:
    with app.app_context():
        return list(db.session.scalars(select(PrivacyRequest)
                                       .where(PrivacyRequest.address == address)
                                       .order_by(PrivacyRequest.id)))


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_the_page_is_for_signed_in_people_only(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for path in ("export", "profile", "communications", "requests", "sessions/end-others"):
        response = client.post(f"{PAGE}{path}", data={"csrf_token": token})
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_shows_what_is_held_for_how_long_and_whom_to_contact(app, mail_backend,
                                                                      monkeypatch):
    user, client = _signed_in(app, mail_backend)
    inbox = client.get(f"/b/{user.address}/INBOX/").get_data(as_text=True)
    assert f'href="{PAGE}"' in inbox and "Confidentialité" in inbox  # the header link

    page = client.get(PAGE).get_data(as_text=True)
    assert "Confidentialité et données personnelles" in page
    assert user.address in page
    for period in ("durée de vie de la boîte + 1 an", "10 ans après la suppression de la boîte",
                   "3 mois puis anonymisées", "jusqu’à ce que vous les supprimiez"):
        assert period in page, period
    assert "Les traces techniques du service sont conservées 1 an." in page
    for heading in ("Délégations", "Choix de cookies", "Sessions de connexion",
                    "Traces fonctionnelles", "Statistiques d’utilisation"):
        assert heading in page, heading
    # No DPO configured: said plainly, no invented address.
    assert "n’a pas encore communiqué les coordonnées du délégué" in page
    assert "mailto:" not in page
    assert 'href="https://www.cnil.fr/fr/adresser-une-plainte" target="_blank" ' \
           'rel="noopener noreferrer"' in page
    assert "3 place de Fontenoy" in page

    monkeypatch.setitem(app.config, "DPO_NAME", "Délégué à la protection des données")
    monkeypatch.setitem(app.config, "DPO_EMAIL", "dpo@cabinet.test")
    monkeypatch.setitem(app.config, "DPO_POSTAL_ADDRESS", "2 rue des Lilas, 75015 Paris")
    monkeypatch.setitem(app.config, "CONTROLLER_NAME", "Cabinet médical des Lilas")
    monkeypatch.setitem(app.config, "RETENTION_ACCOUNT_MONTHS", 18)
    page = client.get(PAGE).get_data(as_text=True)
    assert '<a href="mailto:dpo@cabinet.test">dpo@cabinet.test</a>' in page
    assert "2 rue des Lilas, 75015 Paris" in page and "Cabinet médical des Lilas" in page
    assert "n’a pas encore communiqué" not in page
    assert "durée de vie de la boîte + 18 mois" in page

    client.set_cookie("pli_lang", "en")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Privacy and personal data" in page
    assert "life of the mailbox + 18 months" in page
    assert "10 years after the mailbox is deleted" in page


def test_the_export_holds_the_persons_data_and_nothing_of_others_or_secrets(app, trio: Trio):
    owner = client_for(app, trio.owner)
    assert grant(owner, trio.owner, trio.delegate.address, "read").status_code == 303
    delegate = client_for(app, trio.delegate)
    assert delegate.get(f"/b/{trio.owner.address}/INBOX/1").status_code == 200  # their trace
    owner_id = _account(app, trio.owner.address).id
    with app.app_context():
        db.session.add(ConsentRecord(subject="c" * 32, account_id=owner_id,
                                     category="audience", granted=False,
                                     policy_version="2026-12"))
        db.session.commit()
    assert _post(owner, f"{PAGE}requests", {"kind": "objection",
                                            "details": "Pas de statistiques"}).status_code == 303

    response = _post(owner, f"{PAGE}export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"README.txt", "account.json", "professional.json", "preferences.json",
            "delegations_given.json", "delegations_received.json", "consent_records.json",
            "privacy_requests.json", "sessions.json", "second_factor.json", "traces.json",
            "usage_statistics.json"} == names
    data = {name: json.loads(archive.read(name)) for name in names if name.endswith(".json")}
    readme = archive.read("README.txt").decode()
    assert "traces.json" in readme and "Vos messages ne sont pas dans cet export" in readme

    assert data["account.json"]["address"] == trio.owner.address
    assert [d["delegate"] for d in data["delegations_given.json"]] == [trio.delegate.address]
    assert data["consent_records.json"] == [{
        "category": "audience", "granted": False, "policy_version": "2026-12",
        "recorded_at": data["consent_records.json"][0]["recorded_at"]}]
    assert [(r["kind"], r["details"], r["status"]) for r in data["privacy_requests.json"]] == [
        ("objection", "Pas de statistiques", "pending")]
    actions = [t["action"] for t in data["traces.json"]]
    assert "sign_in" in actions and "delegation_granted" in actions
    assert {t["actor"] for t in data["traces.json"]} == {trio.owner.address}
    assert "message_opened" not in actions  # the delegate's, in the owner's mailbox
    assert data["usage_statistics.json"][0]["metric"] == "sign_ins"
    assert data["sessions.json"] and "ip_address" in data["sessions.json"][0]

    everything = b"".join(archive.read(name) for name in names).decode()
    cookie = owner.get_cookie("pli_session").value
    token = cookie.removeprefix("s.").split(".")[0]
    for secret in (token, hashlib.sha256(token.encode()).hexdigest(), "c" * 32,
                   "token_hash", "secret", "csrf", trio.owner.password):
        assert secret not in everything, secret
    assert trio.outsider.address not in everything
    assert _traces(app, trio.owner.address)[-1].action == "privacy_export"

    # The delegate's export says which mailbox they work in.
    archive = zipfile.ZipFile(io.BytesIO(_post(delegate, f"{PAGE}export").data))
    received = json.loads(archive.read("delegations_received.json"))
    assert [(d["owner"], d["rights"]) for d in received] == [(trio.owner.address, "read")]
    assert "message_opened" in archive.read("traces.json").decode()


def test_rectification_refuses_a_bad_rpps_keeps_what_was_typed_and_changes_nothing(
        app, mail_backend):
    user, client = _signed_in(app, mail_backend)
    form = {"display_name": "Dr Claire Martin", "profession": "Médecin généraliste",
            "rpps": "12345", "organisation": "Cabinet des Lilas"}
    response = _post(client, f"{PAGE}profile", form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Un numéro RPPS a exactement 11 chiffres." in page
    assert 'id="profile-rpps" name="rpps" value="12345"' in page
    assert 'aria-invalid="true" aria-describedby="profile-rpps-error"' in page
    for value in ("Dr Claire Martin", "Médecin généraliste", "Cabinet des Lilas"):
        assert f'value="{value}"' in page
    account = _account(app, user.address)
    assert (account.display_name, account.rpps, account.profession) == ("", "", "")

    htmx = _post(client, f"{PAGE}profile", {**form, "rpps": "1234567890a"}, htmx=True)
    assert htmx.status_code == 200 and "<html" not in htmx.get_data(as_text=True)
    assert "11 chiffres" in htmx.get_data(as_text=True)

    response = _post(client, f"{PAGE}profile", {**form, "rpps": "10003456789"})
    assert response.status_code == 303
    account = _account(app, user.address)
    assert (account.display_name, account.rpps, account.organisation) == (
        "Dr Claire Martin", "10003456789", "Cabinet des Lilas")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Vos informations ont été enregistrées." in page
    last = _traces(app, user.address)[-1]
    assert last.action == "profile_changed"
    assert last.detail == {"fields": ["display_name", "profession", "rpps", "organisation"]}
    assert "10003456789" not in _stored_traces(app) and "Lilas" not in _stored_traces(app)


def test_newsletter_choice_takes_effect_at_once_for_the_recipients_command(app, mail_backend):
    user, client = _signed_in(app, mail_backend)
    assert user.address not in _cli(app, "admin", "newsletter-recipients").output  # opt-in

    assert _post(client, f"{PAGE}communications",
                 {"newsletter": "on", "service_messages": "on"}).status_code == 303
    assert _account(app, user.address).newsletter is True
    result = _cli(app, "admin", "newsletter-recipients")
    assert result.exit_code == 0 and user.address in result.output.split()

    response = _post(client, f"{PAGE}communications", {"service_messages": "on"}, htmx=True)
    assert response.status_code == 200
    assert "Vos choix de communication ont été enregistrés." in response.get_data(as_text=True)
    account = _account(app, user.address)
    assert (account.newsletter, account.service_messages) == (False, True)
    assert user.address not in _cli(app, "admin", "newsletter-recipients").output
    last = _traces(app, user.address)[-1]
    assert (last.action, last.detail) == ("communications_changed",
                                          {"newsletter": False, "service_messages": True})


@pytest.mark.parametrize("kind, label", [
    ("erasure", "Effacement de mes données"),
    ("restriction", "Limitation du traitement"),
    ("objection", "Opposition au traitement"),
    ("post_mortem", "Directives pour après mon décès"),
])
def test_each_kind_of_request_is_filed_listed_and_withdrawn(app, mail_backend, kind, label):
    user, client = _signed_in(app, mail_backend)
    extra = {"trusted_contact": "Mme Quiroga, 06 12 34 56 78"} if kind == "post_mortem" else {}
    response = _post(client, f"{PAGE}requests", {"kind": kind, "details": SECRET_WORDS,
                                                 **extra})
    assert response.status_code == 303
    [row] = _requests(app, user.address)
    assert (row.kind, row.status) == (kind, "pending") and SECRET_WORDS in row.details
    if kind == "post_mortem":
        assert "Tiers de confiance : Mme Quiroga, 06 12 34 56 78" in row.details
    page = client.get(PAGE).get_data(as_text=True)
    listed = page[page.index(f'data-request="{row.id}"'):]
    listed = listed[:listed.index("</tr>")]
    assert label in listed and "En attente" in listed and SECRET_WORDS in listed
    assert "Votre demande a été envoyée." in page

    response = _post(client, f"{PAGE}requests/{row.id}/withdraw", htmx=True)
    assert response.status_code == 200 and "Retirée" in response.get_data(as_text=True)
    assert _requests(app, user.address)[0].status == "withdrawn"
    again = _post(client, f"{PAGE}requests/{row.id}/withdraw")
    assert again.status_code == 400
    assert "Seule une demande en attente peut être retirée." in again.get_data(as_text=True)

    entries = [e for e in _traces(app, user.address) if e.action.startswith("privacy_request")]
    assert [(e.action, e.detail) for e in entries] == [
        ("privacy_request", {"kind": kind, "request": row.id}),
        ("privacy_request_withdrawn", {"kind": kind, "request": row.id})]
    stored = _stored_traces(app)
    assert "Quiroga" not in stored and "décidera" not in stored


def test_directives_need_text_and_nobody_withdraws_anothers_request(app, mail_backend):
    user, client = _signed_in(app, mail_backend)
    response = _post(client, f"{PAGE}requests", {"kind": "post_mortem", "details": " ",
                                                 "trusted_contact": "Mme Quiroga"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Veuillez écrire vos directives." in page and 'value="Mme Quiroga"' in page
    assert _post(client, f"{PAGE}requests", {"kind": "forget_me"}).status_code == 400
    assert _requests(app, user.address) == []

    _post(client, f"{PAGE}requests", {"kind": "erasure"})
    [row] = _requests(app, user.address)
    _other, stranger = _signed_in(app, mail_backend, "stranger")
    assert _post(stranger, f"{PAGE}requests/{row.id}/withdraw").status_code == 404
    assert _requests(app, user.address)[0].status == "pending"


def test_administrators_answer_requests_and_the_person_sees_status_and_answer(app,
                                                                              mail_backend):
    user, client = _signed_in(app, mail_backend)
    _post(client, f"{PAGE}requests", {"kind": "erasure", "details": SECRET_WORDS})
    [row] = _requests(app, user.address)
    boss, boss_client = _signed_in(app, mail_backend, "dpo")
    url = f"/admin/privacy-requests/{row.id}"
    assert app.test_client().get("/admin/privacy-requests").status_code == 404
    assert boss_client.get("/admin/privacy-requests").status_code == 404  # not an admin yet
    token = csrf_token(boss_client.get(PAGE).get_data(as_text=True))
    assert boss_client.post(url, data={"csrf_token": token, "status": "done"}).status_code == 404
    assert _requests(app, user.address)[0].status == "pending"

    assert _cli(app, "admin", "grant", boss.address).exit_code == 0
    listing = boss_client.get("/admin/privacy-requests").get_data(as_text=True)
    assert f'data-request="{row.id}"' in listing and user.address in listing
    assert SECRET_WORDS in listing
    refused = boss_client.post(url, data={"csrf_token": token, "status": "refused"})
    assert refused.status_code == 400
    assert "Un refus doit être motivé dans la réponse." in refused.get_data(as_text=True)

    answer = "Compte supprimé. Les traces restent 10 ans (responsabilité médicale)."
    response = boss_client.post(url, data={"csrf_token": token, "status": "in_progress",
                                           "response": answer})
    assert response.status_code == 303
    stored = _requests(app, user.address)[0]
    assert (stored.status, stored.response, stored.handled_by) == ("in_progress", answer,
                                                                   boss.address)
    page = client.get(PAGE).get_data(as_text=True)
    listed = page[page.index(f'data-request="{row.id}"'):]
    assert "En cours" in listed[:listed.index("</tr>")] and answer in listed
    assert f'action="{PAGE}requests/{row.id}/withdraw"' not in page  # no longer pending
    done = boss_client.get("/admin/privacy-requests?status=done").get_data(as_text=True)
    assert f'data-request="{row.id}"' not in done

    handled = _traces(app, user.address)[-1]
    assert (handled.action, handled.actor, handled.mailbox) == (
        "privacy_request_handled", boss.address, user.address)
    assert handled.detail == {"kind": "erasure", "request": row.id, "status": "in_progress"}
    assert "responsabilité" not in _stored_traces(app)


def test_the_command_line_lists_and_answers_requests(app, mail_backend):
    user, client = _signed_in(app, mail_backend)
    _post(client, f"{PAGE}requests", {"kind": "restriction", "details": "Le temps d'un litige"})
    [row] = _requests(app, user.address)
    listing = _cli(app, "admin", "requests")
    assert listing.exit_code == 0
    assert re.search(rf"^{row.id}\t.*\trestriction\tpending\t{re.escape(user.address)}$",
                     listing.output, re.M)
    assert "details: Le temps d'un litige" in listing.output

    result = _cli(app, "admin", "request", str(row.id), "done", "--response",
                  "Traitement limité.")
    assert result.exit_code == 0, result.output
    stored = _requests(app, user.address)[0]
    assert (stored.status, stored.response) == ("done", "Traitement limité.")
    assert stored.handled_by.startswith("cli:")
    pending = _cli(app, "admin", "requests", "--status", "pending").output
    assert not re.search(rf"^{row.id}\t", pending, re.M)
    assert re.search(rf"^{row.id}\t", _cli(app, "admin", "requests", "--status", "done").output,
                     re.M)
    last = _traces(app, user.address)[-1]
    assert (last.action, last.actor[:4]) == ("privacy_request_handled", "cli:")

    refused = _cli(app, "admin", "request", str(row.id), "refused", "--response", " ")
    assert refused.exit_code == 1 and "A refusal needs a reason" in refused.output
    assert _cli(app, "admin", "request", "999999", "done").exit_code == 1
    assert _requests(app, user.address)[0].status == "done"


def _live_session_ids(app, address: str) -> list[int]:
    with app.app_context():
        account_id = _account(app, address).id
        return list(db.session.scalars(select(UserSession.id).where(
            UserSession.account_id == account_id, UserSession.ended_at.is_(None))
            .order_by(UserSession.id)))


def test_ending_another_session_signs_it_out_at_its_next_request(app, mail_backend):
    user = _user(mail_backend)
    here, there = app.test_client(), app.test_client()
    there.environ_base["HTTP_USER_AGENT"] = FIREFOX_LINUX
    sign_in(here, user)
    sign_in(there, user)
    here_id, there_id = _live_session_ids(app, user.address)
    page = here.get(PAGE).get_data(as_text=True)
    assert f'data-session="{there_id}"' in page and "Firefox sur Linux" in page
    current = page[page.index(f'data-session="{here_id}"'):]
    current = current[:current.index("</tr>")]
    assert "(cette session)" in current and "Déconnecter cette session" not in current
    assert _post(here, f"{PAGE}sessions/{here_id}/end").status_code == 404  # sign out instead

    response = _post(here, f"{PAGE}sessions/{there_id}/end", htmx=True)
    assert response.status_code == 200 and "La session a été déconnectée." in response.get_data(
        as_text=True)
    assert f'data-session="{there_id}"' not in response.get_data(as_text=True)
    after = there.get(f"/b/{user.address}/INBOX/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    assert here.get(f"/b/{user.address}/INBOX/").status_code == 200
    assert _live_session_ids(app, user.address) == [here_id]
    last = _traces(app, user.address)[-1]
    assert (last.action, last.detail) == ("session_revoked", {"session": there_id})

    _other, stranger = _signed_in(app, mail_backend, "stranger")
    assert _post(stranger, f"{PAGE}sessions/{here_id}/end").status_code == 404
    assert here.get(PAGE).status_code == 200


def test_signing_out_all_other_sessions_keeps_the_current_one(app, mail_backend):
    user = _user(mail_backend)
    clients = [app.test_client() for _ in range(3)]
    for each in clients:
        sign_in(each, user)
    keep = _live_session_ids(app, user.address)[0]
    assert _post(clients[0], f"{PAGE}sessions/end-others").status_code == 303
    assert "Sessions déconnectées : 2." in clients[0].get(PAGE).get_data(as_text=True)
    assert _live_session_ids(app, user.address) == [keep]
    for other in clients[1:]:
        assert "/login" in other.get(PAGE).headers["Location"]
    assert clients[0].get(f"/b/{user.address}/INBOX/").status_code == 200
    last = _traces(app, user.address)[-1]
    assert (last.action, last.detail) == ("session_revoked", {"sessions": 2, "others": True})


def test_recent_sign_ins_name_the_device_and_failed_ones_are_listed(app, mail_backend):
    user = _user(mail_backend)
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = FIREFOX_LINUX
    page = client.get("/login").get_data(as_text=True)
    refused = client.post("/login", data={"csrf_token": csrf_token(page),
                                          "username": user.address, "password": "Wrong-42"})
    assert refused.status_code == 401
    sign_in(client, user)
    page = client.get(PAGE).get_data(as_text=True)
    recent = page[page.index('id="sign-ins-title"'):page.index('id="failed-title"')]
    assert "Firefox sur Linux" in recent and "127.0.0.1" in recent
    failed = page[page.index('id="failed-title"'):]
    assert failed.count("<tr>") == 2 and "127.0.0.1" in failed  # header row + the attempt


@pytest.mark.parametrize("user_agent, device", [
    (FIREFOX_LINUX, "Firefox sur Linux"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge sur Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15", "Safari sur macOS"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Mobile Safari/537.36", "Chrome sur Android"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari sur iOS"),
    ("curl/8.5.0", "Appareil inconnu"),
    ("", "Appareil inconnu"),
])
def test_devices_are_named_from_the_user_agent(app, user_agent, device):
    with app.test_request_context():
        assert describe_device(user_agent) == device
