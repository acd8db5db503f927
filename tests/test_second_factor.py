"""The second factor: setting up an authenticator app, signing in with its codes or a
recovery code, the limits on wrong codes, and the "required" policy."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import MailUser, app_config, csrf_token, sign_in
from webmail import create_app
from webmail.db import db
from webmail.models import Account, SecondFactor, UserSession
from webmail.services import traces

SETTINGS = "/account/second-factor/"


def _token(client, url: str = SETTINGS) -> str:
    return csrf_token(client.get(url).get_data(as_text=True))


def _enrol(client) -> tuple[str, list[str]]:
    """Set up a factor for the signed-in person; its secret and recovery codes."""
    token = _token(client)
    assert client.post(SETTINGS + "start", data={"csrf_token": token}).status_code == 303
    page = client.get(SETTINGS)
    secret = _secret(page.get_data(as_text=True))
    response = client.post(SETTINGS + "confirm", data={
        "csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return secret, _recovery_codes(response.get_data(as_text=True))


def _secret(html: str) -> str:
    match = re.search(r'id="totp-key">([A-Z2-7 ]+)</code>', html)
    assert match, "no key on the page"
    return match.group(1).replace(" ", "")


def _recovery_codes(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", html)


def _next_code(secret: str) -> str:
    """The code of the next 30-second step: accepted (clock drift), and never used yet."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _password_step(client, user: MailUser):
    page = client.get("/login")
    return client.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                       "username": user.address, "password": user.password})


def _code_step(client, code: str):
    token = csrf_token(client.get("/login/code").get_data(as_text=True))
    return client.post("/login/code", data={"csrf_token": token, "code": code})


def _actions(app, address: str) -> list[tuple[str, dict | None]]:
    with app.app_context():
        return [(e.action, e.detail) for e in reversed(traces.traces_for_mailbox(address))]


def _factor(app, address: str) -> SecondFactor | None:
    with app.app_context():
        return db.session.scalar(select(SecondFactor).join(
            Account, Account.id == SecondFactor.account_id).where(Account.address == address))


def test_setting_up_an_app_then_signing_in_asks_for_its_code(app, client, mail_user):
    sign_in(client, mail_user)
    assert f'href="{SETTINGS}"' in client.get("/account/privacy/").get_data(as_text=True)
    token = _token(client)
    client.post(SETTINGS + "start", data={"csrf_token": token})
    page = client.get(SETTINGS)
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"  # the page shows the secret key
    assert "<svg" in html and "<title>Code QR à scanner" in html
    secret = _secret(html)
    wrong = client.post(SETTINGS + "confirm", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 400 and 'role="alert"' in wrong.get_data(as_text=True)
    assert _factor(app, mail_user.address).secret is None  # not on until a right code

    shown = client.post(SETTINGS + "confirm", data={"csrf_token": token,
                                                    "code": pyotp.TOTP(secret).now()})
    codes = _recovery_codes(shown.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert shown.headers["Cache-Control"] == "no-store"
    client.post("/logout", data={"csrf_token": token})

    response = _password_step(client, mail_user)
    assert response.headers["Location"] == "/login/code"
    inbox = f"/b/{mail_user.address}/INBOX/"
    assert client.get(inbox).status_code == 302  # a right password alone opens nothing
    refused = _code_step(client, "123456")
    assert refused.status_code == 401
    assert client.get(inbox).status_code == 302
    signed_in = _code_step(client, _next_code(secret))
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == inbox
    assert client.get(inbox).status_code == 200
    actions = _actions(app, mail_user.address)
    assert ("second_factor_enabled", None) in actions
    assert ("sign_in_failed", {"reason": "second_factor"}) in actions
    assert actions[-1] == ("sign_in", {"second_factor": "totp"})


def test_the_secret_is_stored_encrypted(app, client, mail_user):
    sign_in(client, mail_user)
    secret, codes = _enrol(client)
    row = _factor(app, mail_user.address)
    assert secret.encode() not in row.secret
    assert not any(code in repr(row.recovery_hashes) for code in codes)


def test_a_code_is_accepted_once_only(app, client, mail_user):
    sign_in(client, mail_user)
    secret, _ = _enrol(client)
    code = _next_code(secret)
    client.post("/logout", data={"csrf_token": _token(client)})
    _password_step(client, mail_user)
    assert _code_step(client, code).status_code == 302
    client.post("/logout", data={"csrf_token": _token(client)})
    _password_step(client, mail_user)
    assert _code_step(client, code).status_code == 401  # seen once, over a shoulder maybe


def test_a_recovery_code_signs_in_once(app, client, mail_user):
    sign_in(client, mail_user)
    _, codes = _enrol(client)
    client.post("/logout", data={"csrf_token": _token(client)})
    _password_step(client, mail_user)
    assert _code_step(client, codes[3].upper().replace("-", " ")).status_code == 302
    assert "9 codes de secours restants" in client.get(SETTINGS).get_data(as_text=True)
    client.post("/logout", data={"csrf_token": _token(client)})
    _password_step(client, mail_user)
    assert _code_step(client, codes[3]).status_code == 401
    assert _actions(app, mail_user.address)[-1] == ("sign_in_failed",
                                                    {"reason": "second_factor"})


def test_five_wrong_codes_end_the_attempt(app, client, mail_user):
    sign_in(client, mail_user)
    _enrol(client)
    client.post("/logout", data={"csrf_token": _token(client)})
    _password_step(client, mail_user)
    for _ in range(4):
        assert _code_step(client, "111111").status_code == 401
    last = _code_step(client, "111111")
    assert last.status_code == 401
    assert "Veuillez vous reconnecter" in last.get_data(as_text=True)
    assert client.get("/login/code").headers["Location"] == "/login"
    with app.app_context():
        record = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
        assert record.end_reason == "code_attempts" and record.secret is None


def test_an_attempt_left_waiting_ends_after_five_minutes(app, client, mail_user):
    sign_in(client, mail_user)
    _enrol(client)
    client.post("/logout", data={"csrf_token": _token(client)})
    _password_step(client, mail_user)
    with app.app_context():
        record = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
        assert record.awaiting_code
        record.created_at -= timedelta(minutes=6)
        db.session.commit()
    assert client.get("/login/code").headers["Location"] == "/login"


def test_sessions_waiting_for_a_code_are_not_listed_as_open(app, mail_user):
    first, second = app.test_client(), app.test_client()
    sign_in(first, mail_user)
    _enrol(first)
    _password_step(second, mail_user)
    page = first.get("/account/privacy/").get_data(as_text=True)
    assert page.count("data-session=") == 1


def test_renewed_recovery_codes_replace_the_old_ones(app, client, mail_user):
    sign_in(client, mail_user)
    secret, old = _enrol(client)
    response = client.post(SETTINGS + "recovery-codes", data={
        "csrf_token": _token(client), "code": _next_code(secret)})
    new = _recovery_codes(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/logout", data={"csrf_token": _token(client)})
    _password_step(client, mail_user)
    assert _code_step(client, old[0]).status_code == 401
    assert _code_step(client, new[0]).status_code == 302


def test_turning_it_off_needs_a_code_and_then_the_password_is_enough(app, client, mail_user):
    sign_in(client, mail_user)
    secret, _ = _enrol(client)
    token = _token(client)
    assert client.post(SETTINGS + "disable", data={"csrf_token": token,
                                                   "code": "222222"}).status_code == 400
    assert client.post(SETTINGS + "disable", data={"csrf_token": token,
                                                   "code": _next_code(secret)}).status_code == 303
    assert _factor(app, mail_user.address) is None
    client.post("/logout", data={"csrf_token": token})
    response = _password_step(client, mail_user)
    assert response.headers["Location"] == f"/b/{mail_user.address}/INBOX/"
    assert ("second_factor_disabled", None) in _actions(app, mail_user.address)


@pytest.fixture
def strict_app(mail_backend, database_url):
    return create_app(app_config(mail_backend, database_url, SECOND_FACTOR="required"))


def test_required_policy_sends_everyone_to_set_up_first(strict_app, mail_user):
    client = strict_app.test_client()
    response = _password_step(client, mail_user)
    assert response.headers["Location"] == SETTINGS
    inbox = f"/b/{mail_user.address}/INBOX/"
    assert client.get(inbox).headers["Location"] == SETTINGS
    htmx = client.get(f"/b/{mail_user.address}/_folders", headers={"HX-Request": "true"})
    assert htmx.headers.get("HX-Redirect") == SETTINGS
    token = _token(client)
    moved = client.post(f"/b/{mail_user.address}/_messages",
                        data={"csrf_token": token, "folder": "INBOX", "action": "flag",
                              "uid": "1"})
    assert moved.status_code == 303 and moved.headers["Location"] == SETTINGS
    assert "Votre organisation demande" in client.get(SETTINGS).get_data(as_text=True)

    secret, _ = _enrol(client)
    assert client.get(inbox).status_code == 200
    refused = client.post(SETTINGS + "disable", data={"csrf_token": token,
                                                      "code": _next_code(secret)})
    assert refused.status_code == 403
    assert _factor(strict_app, mail_user.address).secret is not None


def test_an_administrator_resets_a_lost_factor(app, client, mail_user):
    sign_in(client, mail_user)
    _enrol(client)
    result = app.test_cli_runner().invoke(args=["admin", "reset-second-factor",
                                                mail_user.address])
    assert result.exit_code == 0, result.output
    assert _factor(app, mail_user.address) is None
    assert client.get(f"/b/{mail_user.address}/INBOX/").status_code == 302  # signed out
    again = app.test_cli_runner().invoke(args=["admin", "reset-second-factor",
                                               mail_user.address])
    assert again.exit_code == 1 and "no second factor" in again.output
    assert ("second_factor_reset", None) in _actions(app, mail_user.address)


def test_new_recovery_codes_need_an_app_code_and_do_not_use_up_a_recovery_code(app, client,
                                                                              mail_user):
    sign_in(client, mail_user)
    _, codes = _enrol(client)
    refused = client.post(SETTINGS + "recovery-codes", data={"csrf_token": _token(client),
                                                             "code": codes[0]})
    assert refused.status_code == 400
    client.post("/logout", data={"csrf_token": _token(client)})
    _password_step(client, mail_user)
    assert _code_step(client, codes[0]).status_code == 302  # still usable
