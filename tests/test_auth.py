"""Signing in against the real IMAP server, sessions, throttling and security headers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.conftest import MailUser, app_config, csrf_token, sign_in
from webmail import create_app
from webmail.db import db
from webmail.models import UserSession
from webmail.models.base import utcnow


def _post_login(client, address: str, password: str):
    page = client.get("/login")
    return client.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                       "username": address, "password": password})


def test_sign_in_with_mailbox_password_lands_in_inbox(client, mail_user: MailUser):
    response = _post_login(client, mail_user.address, mail_user.password)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/b/{mail_user.address}/INBOX/"
    inbox = client.get(response.headers["Location"])
    assert inbox.status_code == 200
    assert mail_user.address in inbox.get_data(as_text=True)


def test_wrong_password_shows_the_form_again_with_an_error(client, mail_user: MailUser):
    response = _post_login(client, mail_user.address, "not-the-password")
    body = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'role="alert"' in body
    assert f'value="{mail_user.address}"' in body  # the address is kept
    assert "not-the-password" not in body


def test_session_cookie_is_opaque_httponly_lax_and_ends_with_the_browser(client, mail_user):
    response = _post_login(client, mail_user.address, mail_user.password)
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("pli_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie
    assert mail_user.password not in cookie
    assert mail_user.address not in cookie


def test_password_is_stored_only_encrypted_with_a_key_the_database_lacks(app, client, mail_user):
    sign_in(client, mail_user)
    cookie = client.get_cookie("pli_session").value
    with app.app_context():
        record = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
        stored = repr(record.secret) + record.token_hash + repr(record.data)
    assert mail_user.password.encode() not in record.secret
    assert mail_user.password not in stored
    token, key = cookie.removeprefix("s.").split(".", 1)
    assert token not in stored and key not in stored  # only a hash of the token is kept


def test_sign_out_destroys_the_server_side_session(app, client, mail_user):
    sign_in(client, mail_user)
    cookie = client.get_cookie("pli_session").value
    inbox = client.get(f"/b/{mail_user.address}/INBOX/")
    response = client.post("/logout", data={"csrf_token": csrf_token(inbox.get_data(as_text=True))})
    assert response.status_code == 302
    client.set_cookie("pli_session", cookie)  # replaying the old cookie gets nowhere
    again = client.get(f"/b/{mail_user.address}/INBOX/")
    assert again.status_code == 302 and "/login" in again.headers["Location"]
    with app.app_context():
        ended = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
        assert ended.ended_at is not None and ended.secret is None


def _age_session(app, **delta: float) -> None:
    with app.app_context():
        record = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
        if "idle_minutes" in delta:
            record.last_seen_at = utcnow() - timedelta(minutes=delta["idle_minutes"])
        if "age_hours" in delta:
            record.created_at = utcnow() - timedelta(hours=delta["age_hours"])
        db.session.commit()


def test_session_ends_after_thirty_idle_minutes(app, client, mail_user):
    sign_in(client, mail_user)
    _age_session(app, idle_minutes=29)
    assert client.get(f"/b/{mail_user.address}/INBOX/").status_code == 200
    _age_session(app, idle_minutes=31)
    response = client.get(f"/b/{mail_user.address}/INBOX/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_ends_after_twelve_hours_even_when_active(app, client, mail_user):
    sign_in(client, mail_user)
    _age_session(app, age_hours=12.1)
    response = client.get(f"/b/{mail_user.address}/INBOX/")
    assert response.status_code == 302


def test_failed_sign_ins_are_limited_per_account_with_a_clear_message(client, mail_user):
    for _ in range(5):
        assert _post_login(client, mail_user.address, "wrong").status_code == 401
    blocked = _post_login(client, mail_user.address, mail_user.password)
    assert blocked.status_code == 429
    assert 'role="alert"' in blocked.get_data(as_text=True)


def test_successful_sign_ins_do_not_count_against_the_limit(app, mail_user):
    for _ in range(7):
        with app.test_client() as fresh:
            assert _post_login(fresh, mail_user.address, mail_user.password).status_code == 302


def test_forms_without_csrf_token_are_refused(client, mail_user):
    response = client.post("/login", data={"username": mail_user.address,
                                           "password": mail_user.password})
    assert response.status_code == 400
    sign_in(client, mail_user)
    assert client.post("/logout").status_code == 400


def test_pages_carry_strict_security_headers(client):
    headers = client.get("/login").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert "frame-ancestors 'none'" in csp
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"


def test_sign_in_when_imap_is_down_says_so_without_a_stack_trace(mail_backend, database_url):
    app = create_app(app_config(mail_backend, database_url, IMAP_PORT=1))
    with app.test_client() as client:
        response = _post_login(client, "someone@pli.test", "whatever")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and 'role="alert"' in body


def test_unknown_mailbox_in_the_url_is_not_found(client, mail_user, mail_backend):
    sign_in(client, mail_user)
    assert client.get("/b/someone-else@pli.test/INBOX/").status_code == 404
