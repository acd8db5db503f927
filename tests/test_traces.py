"""Functional traces (who did what, where, from where; hash-chained) and technical logs."""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from tests.conftest import MailUser, csrf_token, sign_in
from tests.delegation_support import client_for, grant, trio_fixture  # noqa: F401
from tests.mailfactory import message
from webmail import logging_setup
from webmail.db import db
from webmail.models import FunctionalTrace, TechnicalEvent, TraceChain
from webmail.services import trace_chain, traces
from webmail.services.trace_chain import record_hash

_counter = itertools.count(1)
SUBJECT = "Résultats biopsie Mme Quiroga"
BODY = "Le prélèvement montre une lésion bénigne, aucun traitement."


def _entries(app, mailbox: str) -> list[traces.TraceEntry]:
    with app.app_context():
        return list(reversed(traces.traces_for_mailbox(mailbox, limit=100)))


def _post_login(client, address: str, password: str):
    page = client.get("/login")
    return client.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                       "username": address, "password": password})


def _everything_stored(app, mailbox: str) -> str:
    with app.app_context():
        rows = db.session.scalars(select(FunctionalTrace).where(
            FunctionalTrace.chain == mailbox))
        return " ".join(repr(vars(row)) for row in rows)


def test_sign_in_opening_and_sign_out_are_traced_with_actor_mailbox_and_address(
        app, client, mail_user: MailUser, mail_backend):
    mail_backend.append(mail_user.address, "INBOX", message(SUBJECT, body=BODY))
    assert _post_login(client, mail_user.address, "Wrong-Password-42").status_code == 401
    sign_in(client, mail_user)
    assert client.get(f"/b/{mail_user.address}/INBOX/1").status_code == 200
    page = client.get(f"/b/{mail_user.address}/INBOX/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})

    entries = _entries(app, mail_user.address)
    assert [e.action for e in entries] == ["sign_in_failed", "sign_in", "message_opened",
                                           "sign_out"]
    for entry in entries:
        assert entry.actor == mail_user.address and entry.mailbox == mail_user.address
        assert entry.ip == "127.0.0.1"
    assert entries[2].detail == {"folder": "INBOX", "uid": 1}
    stored = _everything_stored(app, mail_user.address)
    for secret in (mail_user.password, "Wrong-Password-42", SUBJECT, "biopsie", BODY):
        assert secret not in stored
    with app.app_context():
        assert traces.verify_chain().ok


def test_a_delegate_opening_a_message_is_traced_as_the_delegate_in_the_owners_mailbox(
        app, trio):
    owner = client_for(app, trio.owner)
    assert grant(owner, trio.owner, trio.delegate.address, "read").status_code in (302, 303)
    delegate = client_for(app, trio.delegate)
    assert delegate.get(f"/b/{trio.owner.address}/INBOX/1").status_code == 200
    opened = [e for e in _entries(app, trio.owner.address) if e.action == "message_opened"]
    assert [(e.actor, e.mailbox) for e in opened] == [(trio.delegate.address,
                                                       trio.owner.address)]
    with app.app_context():
        mine = traces.traces_for_actor(trio.delegate.address)
    assert {"sign_in", "message_opened"} <= {e.action for e in mine}


def test_failed_sign_in_with_an_unknown_address_is_traced_under_the_address_typed(app, client):
    typed = f"Nobody{os.getpid()}x{next(_counter)}@Pli.Test"
    assert _post_login(client, typed, "guess-1234").status_code == 401
    entries = _entries(app, typed.lower())
    assert [(e.action, e.actor) for e in entries] == [("sign_in_failed", typed.lower())]
    assert "guess-1234" not in _everything_stored(app, typed.lower())


def test_trace_details_refuse_content_and_subjects(app):
    with app.app_context():
        for detail in ({"subject": "Bilan"}, {"Body": "x"}, {"password": "x"},
                       {"folder": 1.5}, {"nested": {"a": 1}}, {"big": "x" * 2000}):
            with pytest.raises(ValueError):
                traces.record("message_sent", actor="a@pli.test", detail=detail)
        with pytest.raises(ValueError):
            traces.record("Not An Action", actor="a@pli.test")


def test_outside_a_request_the_service_itself_is_the_actor(app):
    mailbox = f"timer{os.getpid()}x{next(_counter)}@pli.test"
    with app.app_context():
        traces.record_request_action("delegation_expired", mailbox=mailbox,
                                     detail={"delegate": "d@pli.test"})
    assert [e.actor for e in _entries(app, mailbox)] == [traces.SYSTEM_ACTOR]
    with app.test_request_context("/"), pytest.raises(ValueError):
        traces.record_request_action("privacy_request")  # nobody signed in, no actor given


# --- the hash chain ------------------------------------------------------------------


@pytest.fixture
def chain(app) -> Iterator[list[int]]:
    """Five traces in a chain of their own (ids in order); erased afterwards, so tampering
    here never leaves the shared database unverifiable."""
    mailbox = f"chain{os.getpid()}x{next(_counter)}@pli.test"
    with app.app_context():
        for n in range(5):
            traces.record("message_opened", actor=mailbox, mailbox=mailbox, ip="10.0.0.1",
                          detail={"folder": "INBOX", "uid": n + 1})
        ids = list(db.session.scalars(select(FunctionalTrace.id)
                                      .where(FunctionalTrace.chain == mailbox)
                                      .order_by(FunctionalTrace.seq)))
    yield ids
    with app.app_context(), db.engine.begin() as connection:
        trace_chain.erase(connection, mailbox)
    with app.app_context():
        assert traces.verify_chain().ok


def _tamper(app, statement) -> traces.ChainReport:
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()
        return traces.verify_chain()


def test_the_chain_of_untouched_traces_verifies(app, chain):
    with app.app_context():
        report = traces.verify_chain()
    assert report.ok and report.first_broken_id is None and report.count >= 5


def test_an_edited_trace_breaks_the_chain_at_that_record(app, chain):
    report = _tamper(app, update(FunctionalTrace).where(FunctionalTrace.id == chain[2])
                     .values(ip="192.0.2.66"))
    assert not report.ok and report.first_broken_id == chain[2]


def test_an_edited_trace_whose_hash_was_recomputed_breaks_the_next_link(app, chain):
    with app.app_context():
        row = db.session.get(FunctionalTrace, chain[2])
        fields = {**{c: getattr(row, c) for c in ("chain", "seq", "occurred_at", "action",
                                                  "mailbox", "ip", "detail",
                                                  "previous_hash")}, "actor": "x@pli.test"}
    report = _tamper(app, update(FunctionalTrace).where(FunctionalTrace.id == chain[2])
                     .values(actor="x@pli.test", record_hash=record_hash(fields)))
    assert not report.ok and report.first_broken_id == chain[3]


def test_a_deleted_trace_breaks_the_chain_at_the_next_record(app, chain):
    from sqlalchemy import delete

    report = _tamper(app, delete(FunctionalTrace).where(FunctionalTrace.id == chain[2]))
    assert not report.ok and report.first_broken_id == chain[3]


def test_deleting_the_last_traces_is_caught_by_the_chain_head(app, chain):
    from sqlalchemy import delete

    report = _tamper(app, delete(FunctionalTrace).where(FunctionalTrace.id == chain[4]))
    assert not report.ok
    assert any("records removed at the end" in problem for problem in report.problems)


def test_reordered_traces_break_the_chain(app, chain):
    with app.app_context():
        for trace_id, seq in ((chain[1], 1000), (chain[2], 2), (chain[1], 3)):
            db.session.execute(update(FunctionalTrace).where(FunctionalTrace.id == trace_id)
                               .values(seq=seq))
        db.session.commit()
        report = traces.verify_chain()
    assert not report.ok and report.first_broken_id == chain[2]


def test_traces_stored_out_of_order_break_the_chain(app, chain):
    """Swapping two rows' ids reorders the table without touching any hashed field."""
    with app.app_context():
        for old, new in ((chain[1], -1), (chain[2], chain[1]), (-1, chain[2])):
            db.session.execute(update(FunctionalTrace).where(FunctionalTrace.id == old)
                               .values(id=new))
        db.session.commit()
        report = traces.verify_chain()
    assert not report.ok and report.first_broken_id == chain[1]


def test_concurrent_appends_keep_one_valid_chain(app):
    mailbox = f"busy{os.getpid()}x{next(_counter)}@pli.test"
    per_thread, threads = 25, 4
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for n in range(per_thread):
                    traces.record("message_opened", actor=f"w{worker}@pli.test",
                                  mailbox=mailbox, detail={"folder": "INBOX", "uid": n})
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with app.app_context():
        seqs = list(db.session.scalars(select(FunctionalTrace.seq)
                                       .where(FunctionalTrace.chain == mailbox)
                                       .order_by(FunctionalTrace.id)))
        head = db.session.get(TraceChain, mailbox)
        report = traces.verify_chain()
    assert seqs == list(range(1, per_thread * threads + 1))
    assert head.length == per_thread * threads
    assert report.ok, report.problems


# --- technical logs --------------------------------------------------------------------


@pytest.fixture
def captured_log(app) -> Iterator[io.StringIO]:
    """The JSON log stream, at DEBUG, where protocol loggers would echo everything."""
    buffer = io.StringIO()
    handler = logging_setup.json_handler()
    root = logging.getLogger()
    previous_stream, previous_level = handler.setStream(buffer), root.level
    root.setLevel(logging.DEBUG)
    yield buffer
    handler.setStream(previous_stream)
    root.setLevel(previous_level)


def test_logs_are_json_lines_without_passwords_cookies_or_message_content(
        app, client, mail_user, mail_backend, captured_log):
    mail_backend.append(mail_user.address, "INBOX", message(SUBJECT, body=BODY))
    _post_login(client, mail_user.address, "Wrong-Password-42")
    sign_in(client, mail_user)
    cookie = client.get_cookie("pli_session").value
    client.get(f"/b/{mail_user.address}/INBOX/1")
    client.get(f"/b/{mail_user.address}/INBOX/1/body")
    output = captured_log.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    requests = [line for line in lines if line["logger"] == "webmail.request"]
    assert {"route": "/b/<mailbox>/<path:folder>/<int:uid>", "status": 200}.items() \
        <= requests[-2].items()
    assert all("request_id" in line and "duration_ms" in line for line in requests)
    for secret in (mail_user.password, "Wrong-Password-42", cookie, cookie.split(".")[1],
                   SUBJECT, "biopsie", "bénigne"):
        assert secret not in output


def test_secrets_and_content_in_a_log_call_are_scrubbed_before_any_handler(
        app, captured_log):
    log = logging.getLogger("webmail.anything")
    form = {"username": "a@pli.test", "password": "Sup3r-Secret-99",
            "csrf_token": "IjRkZDM2YzE3ZjY5.Zx-token-value"}
    with app.test_request_context("/login", method="POST", data=form):
        assert request_form_parsed()
        log.warning("login for %s with %s (csrf %s)", "a@pli.test", form["password"],
                    form["csrf_token"], extra={"subject": SUBJECT, "folder": "INBOX"})
        try:
            raise ValueError(f"cannot parse {SUBJECT}")
        except ValueError:
            log.exception("parsing failed")
    logging_setup.flush_events()
    output = captured_log.getvalue()
    assert "a@pli.test" in output and "[redacted]" in output
    assert "ValueError: [message withheld]" in output and "Traceback" in output
    with app.app_context():
        stored = " ".join(f"{e.message} {e.detail}" for e in db.session.scalars(
            select(TechnicalEvent).order_by(TechnicalEvent.id.desc()).limit(2)))
    assert "login for a@pli.test" in stored and "ValueError" in stored
    for text in (output, stored):
        for secret in (form["password"], form["csrf_token"], SUBJECT, "biopsie"):
            assert secret not in text


def request_form_parsed() -> bool:
    from flask import request

    return bool(request.form)  # the view has read the form, as a sign-in view does
