"""Retention with a moved clock (`flask retention run --now`), and the administrator CLI.

Deletion dates and `--now` are set years in the past on purpose: the rules then reach only
what each test arranged, never the rest of the shared test database.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, MailUser, csrf_token, sign_in
from webmail import logging_setup
from webmail.db import db
from webmail.models import (
    Account,
    ConsentRecord,
    Delegation,
    FunctionalTrace,
    PrivacyRequest,
    RecentCorrespondent,
    SecondFactor,
    Signature,
    TechnicalEvent,
    TraceChain,
    UserSession,
)
from webmail.services import traces
from webmail.services.retention import months_before

DELETED = datetime(2012, 3, 10, 9, 0, tzinfo=UTC)  # when the first mailbox was deleted
MINUTE = timedelta(minutes=1)
_counter = itertools.count(1)


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _retention(app, now: datetime, *extra: str):
    result = _cli(app, "retention", "run", "--now", now.isoformat(), *extra)
    assert result.exit_code == 0, result.output
    return result.output


def _signed_in_user(app, mail_backend, name: str) -> tuple[MailUser, object]:
    user = MailUser(f"{name}{os.getpid()}x{next(_counter)}@pli.test", PASSWORD)
    mail_backend.add_user(user.address, user.password)
    client = app.test_client()
    sign_in(client, user)
    return user, client


def _mark_deleted(app, user: MailUser, at: datetime) -> None:
    result = _cli(app, "admin", "mark-deleted", user.address, "--at", at.isoformat())
    assert result.exit_code == 0, result.output


def _account(app, address: str) -> Account | None:
    with app.app_context():
        return db.session.scalar(select(Account).where(Account.address == address))


def _trace_count(app, chain: str) -> int:
    with app.app_context():
        return len(db.session.scalars(select(FunctionalTrace.id)
                                      .where(FunctionalTrace.chain == chain)).all())


def _state(app, *addresses: str) -> tuple:
    """Everything the rules could touch for these people, to compare before and after."""
    with app.app_context():
        return (tuple(_account(app, a) is not None for a in addresses),
                tuple(_trace_count(app, a) for a in addresses),
                db.session.scalar(select(TraceChain.length).where(TraceChain.chain == "pli")),
                len(db.session.scalars(select(TechnicalEvent.id)).all()))


def test_functional_traces_go_ten_years_after_the_mailbox_deletion_not_sooner(
        app, mail_backend):
    gone, _ = _signed_in_user(app, mail_backend, "gone")
    later, _ = _signed_in_user(app, mail_backend, "later")
    live, _ = _signed_in_user(app, mail_backend, "live")
    _mark_deleted(app, gone, DELETED)
    _mark_deleted(app, later, DELETED + timedelta(days=2))
    before = {u.address: _trace_count(app, u.address) for u in (gone, later, live)}
    assert before[gone.address] == 2  # sign_in, mailbox_deleted

    ten_years = months_before(DELETED, -120)
    _retention(app, ten_years - MINUTE)
    assert {u.address: _trace_count(app, u.address) for u in (gone, later, live)} == before

    output = _retention(app, ten_years + MINUTE)
    assert f"{gone.address} (mailbox_deleted): {before[gone.address]} traces" in output
    assert _trace_count(app, gone.address) == 0
    assert _trace_count(app, later.address) == before[later.address]
    assert _trace_count(app, live.address) == before[live.address]
    with app.app_context():
        checkpoint = traces.traces_for_actor("pli")[-1]
        assert checkpoint.action == "traces_erased"
        assert checkpoint.detail["records"] == before[gone.address]
        assert gone.address not in repr(checkpoint)  # the proof keeps no personal data
        assert traces.verify_chain().ok


def test_account_data_goes_a_year_after_the_mailbox_deletion_not_sooner(app, mail_backend):
    gone, _ = _signed_in_user(app, mail_backend, "closed")
    later, _ = _signed_in_user(app, mail_backend, "closedlater")
    live, _ = _signed_in_user(app, mail_backend, "stays")
    _mark_deleted(app, gone, DELETED)
    _mark_deleted(app, later, DELETED + timedelta(days=1))
    gone_id = _account(app, gone.address).id
    related = _arrange_related_rows(app, gone_id, gone.address, live.address)

    one_year = months_before(DELETED, -12)
    _retention(app, one_year - MINUTE)
    assert _account(app, gone.address) is not None
    assert _related_rows(app, related) == {name: 1 for name in related}

    output = _retention(app, one_year + MINUTE)
    assert gone.address in output
    assert _account(app, gone.address) is None
    assert _related_rows(app, related) == {name: 0 for name in related}
    with app.app_context():
        assert db.session.scalars(select(UserSession)
                                  .where(UserSession.account_id == gone_id)).all() == []
        # the other person's own rows stay
        assert db.session.scalar(select(Signature).where(Signature.actor == live.address))
    assert _account(app, later.address) is not None
    assert _account(app, live.address).deleted_at is None
    assert _trace_count(app, gone.address) > 0  # traces stay ten years


def _arrange_related_rows(app, account_id: int, address: str, other: str) -> dict:
    """One row of each kind that belongs to `address`, plus a row of `other`'s own."""
    with app.app_context():
        db.session.add_all([
            Signature(actor=address, identity=address, text="Dr X"),
            Signature(actor=other, identity=other, text="Dr Y"),
            RecentCorrespondent(mailbox=address, address="labo@pli.test"),
            Delegation(owner=address, delegate=other, rights="read"),
            Delegation(owner=other, delegate=address, rights="read"),
            ConsentRecord(subject="s" * 32, account_id=account_id, category="audience",
                          granted=True, policy_version="1"),
            PrivacyRequest(account_id=account_id, address=address, kind="erasure"),
            SecondFactor(account_id=account_id, secret=b"encrypted", last_step=1,
                         recovery_hashes=["0" * 64]),
        ])
        db.session.commit()
    return {
        "signature": select(Signature).where(Signature.actor == address),
        "correspondent": select(RecentCorrespondent).where(
            RecentCorrespondent.mailbox == address),
        "given": select(Delegation).where(Delegation.owner == address),
        "received": select(Delegation).where(Delegation.delegate == address),
        "consent": select(ConsentRecord).where(ConsentRecord.subject == "s" * 32),
        "request": select(PrivacyRequest).where(PrivacyRequest.address == address),
        "second factor": select(SecondFactor).where(SecondFactor.account_id == account_id),
    }


def _related_rows(app, queries: dict) -> dict:
    with app.app_context():
        return {name: len(db.session.scalars(query).all()) for name, query in queries.items()}


def test_technical_events_go_after_a_year_not_sooner(app):
    logging.getLogger("webmail.test").warning("retention probe %s", id(app))
    logging_setup.flush_events()
    with app.app_context():
        fresh = db.session.scalar(select(TechnicalEvent).where(
            TechnicalEvent.message == f"retention probe {id(app)}"))
        old = TechnicalEvent(occurred_at=months_before(fresh.occurred_at, 12) - MINUTE,
                             level="ERROR", logger="webmail.test", message="old probe")
        db.session.add(old)
        db.session.commit()
        fresh_id, old_id = fresh.id, old.id

    _retention(app, fresh.occurred_at)
    with app.app_context():
        assert db.session.get(TechnicalEvent, old_id) is None
        assert db.session.get(TechnicalEvent, fresh_id) is not None

    _retention(app, months_before(fresh.occurred_at, -12) - MINUTE)
    with app.app_context():
        assert db.session.get(TechnicalEvent, fresh_id) is not None
    _retention(app, months_before(fresh.occurred_at, -12) + MINUTE)
    with app.app_context():
        assert db.session.get(TechnicalEvent, fresh_id) is None


def test_dry_run_says_what_would_go_and_changes_nothing(app, mail_backend):
    gone, _ = _signed_in_user(app, mail_backend, "dry")
    _mark_deleted(app, gone, DELETED)
    before = _state(app, gone.address)
    output = _retention(app, months_before(DELETED, -121), "--dry-run")
    assert "dry run, nothing changed" in output
    assert re.search(r"would delete \d+ accounts", output) and gone.address in output
    assert f"{gone.address} (mailbox_deleted): {before[1][0]} traces" in output
    assert _state(app, gone.address) == before


def test_a_mailbox_marked_deleted_is_signed_out_and_cannot_sign_in_again(app, mail_backend):
    user, client = _signed_in_user(app, mail_backend, "shut")
    assert client.get(f"/b/{user.address}/INBOX/").status_code == 200
    result = _cli(app, "admin", "mark-deleted", user.address)
    assert result.exit_code == 0 and "sessions are ended" in result.output
    assert client.get(f"/b/{user.address}/INBOX/").status_code == 302

    page = client.get("/login")
    refused = client.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                          "username": user.address, "password": PASSWORD})
    assert refused.status_code == 403
    assert "fermée" in refused.get_data(as_text=True)
    with app.app_context():
        last = traces.traces_for_mailbox(user.address, limit=1)[0]
    assert (last.action, last.detail) == ("sign_in_failed", {"reason": "mailbox_deleted"})

    assert _cli(app, "admin", "restore", user.address).exit_code == 0
    sign_in(app.test_client(), user)


def test_admin_commands_grant_the_role_and_read_a_mailboxs_traces(app, mail_backend):
    user, _ = _signed_in_user(app, mail_backend, "boss")
    assert _cli(app, "admin", "grant", user.address).exit_code == 0
    assert _account(app, user.address).is_admin
    listing = _cli(app, "admin", "traces", user.address, "--limit", "5")
    assert listing.exit_code == 0
    assert "admin_granted\tcli:" in listing.output and "sign_in\t" in listing.output
    assert _cli(app, "admin", "revoke", user.address).exit_code == 0
    assert not _account(app, user.address).is_admin

    verify = _cli(app, "traces", "verify", "--heads")
    assert verify.exit_code == 0 and "all intact" in verify.output
    assert f"head\t{user.address}\t" in verify.output


@pytest.mark.parametrize("args, message", [
    (["admin", "grant", "never-seen@pli.test"], "must sign in once first"),
    (["admin", "grant", "not an address"], "not a mailbox address"),
    (["admin", "mark-deleted", "x@pli.test", "--at", "2999-01-01"], "in the future"),
    (["admin", "mark-deleted", "x@pli.test", "--at", "yesterday"], "not an ISO date"),
    (["retention", "run", "--now", "soon"], "not an ISO date"),
])
def test_administrator_mistakes_get_a_clear_error_and_change_nothing(app, args, message):
    result = _cli(app, *args)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output


def test_retention_periods_come_from_configuration(app, mail_backend):
    gone, _ = _signed_in_user(app, mail_backend, "short")
    _mark_deleted(app, gone, DELETED)
    app.config["RETENTION_ACCOUNT_MONTHS"] = 1
    try:
        _retention(app, months_before(DELETED, -1) + MINUTE)
    finally:
        app.config["RETENTION_ACCOUNT_MONTHS"] = 12
    assert _account(app, gone.address) is None
    app.config["RETENTION_STATISTICS_MONTHS"] = 0
    try:
        result = _cli(app, "retention", "run", "--dry-run")
    finally:
        app.config["RETENTION_STATISTICS_MONTHS"] = 3
    assert result.exit_code == 1 and "PLI_RETENTION_STATISTICS_MONTHS" in result.output


def test_the_traces_page_is_for_administrators_only_and_is_itself_traced(app, mail_backend):
    boss, boss_client = _signed_in_user(app, mail_backend, "chief")
    watched, _ = _signed_in_user(app, mail_backend, "watched")
    url = f"/admin/traces?mailbox={watched.address}"
    assert app.test_client().get(url).status_code == 404  # not signed in
    assert boss_client.get(url).status_code == 404  # signed in, not an administrator
    assert _cli(app, "admin", "grant", boss.address).exit_code == 0

    page = boss_client.get(url)
    assert page.status_code == 200
    assert "Connexion" in page.get_data(as_text=True)  # the sign-in, in French
    with app.app_context():
        last = traces.traces_for_mailbox(watched.address, limit=1)[0]
    assert (last.action, last.actor) == ("traces_viewed", boss.address)
    assert boss_client.get("/admin/traces?mailbox=not%20an%20address").status_code == 400
