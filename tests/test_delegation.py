"""Delegation through the web, with three real accounts on the real Dovecot/Postfix: who
reaches which mailbox by which URL, with which rights, and until when."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from werkzeug.routing import IntegerConverter

from tests.delegation_support import (
    SECRET_SUBJECT,
    Trio,
    client_for,
    edit,
    grant,
    let_it_end,
    mailbox_state,
    remove,
    row,
    token,
    trio_fixture,  # noqa: F401 - the `trio` fixture
)
from webmail.mail_pool import pool
from webmail.services import delegation
from webmail.services.mail import caches

# Everything a form or an htmx request of any mailbox route could carry.
FORM = {"folder": "INBOX", "action": "delete", "uid": "1", "origin": "list", "target": "Trash",
        "confirmed": "1", "name": "Nouveau", "new_name": "Autre", "parent": "", "to": "x@pli.test",
        "subject": "x", "body": "x", "q": "Compte", "rights": "send", "delegate": "x@pli.test",
        "display_name": "x", "end_date": ""}


def mailbox_routes(app) -> list[tuple[str, str]]:
    """(URL, method) for every rule under /b/<mailbox>/ (those added later included),
    aimed at the owner's mailbox: INBOX, its first message, part 1, delegation 1."""
    return [(rule, method) for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/b/<mailbox>")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def build(rule, mailbox: str, delegation_id: int = 1) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if name == "mailbox":
            values[name] = mailbox
        elif name == "folder":
            values[name] = "INBOX"
        elif name == "delegation_id":
            values[name] = delegation_id
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        else:
            values[name] = "1"
    return rule.build(values, append_unknown=False)[1]


def test_delegate_reads_the_owners_mailbox_under_a_clear_marker(app, trio: Trio):
    owner = client_for(app, trio.owner)
    assert grant(owner, trio.owner, trio.delegate.address, "read").status_code == 303
    delegate = client_for(app, trio.delegate)
    page = delegate.get(f"/b/{trio.owner.address}/INBOX/").get_data(as_text=True)
    assert SECRET_SUBJECT in page
    assert f"Vous travaillez dans la boîte de {trio.owner.address} en tant que délégué(e)" in page
    assert "Vos droits : Lecture seule" in page
    # The owner's special folders keep their names, and subfolders are there.
    nav = page[page.index('id="folders"'):page.index("</nav>")]
    for label in ("Boîte de réception", "Envoyés", "Corbeille", "Suivi"):
        assert label in nav
    assert "shared/" not in nav
    message = delegate.get(f"/b/{trio.owner.address}/INBOX/1").get_data(as_text=True)
    assert SECRET_SUBJECT in message and "compte-rendu.pdf" in message
    part = re.search(r'href="(/b/[^"]+/INBOX/1/parts/[^"]+)"', message).group(1)
    attachment = delegate.get(part)
    assert attachment.status_code == 200 and b"confidentiel" in attachment.data
    assert delegate.get(f"/b/{trio.owner.address}/INBOX/1/body").status_code == 200


def test_the_switcher_lists_own_and_delegated_mailboxes_with_unread_counts(app, trio: Trio):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "organise")
    owner.post(f"/b/{trio.owner.address}/delegations/name", data={
        "csrf_token": token(owner, trio.owner.address), "display_name": "Dr Claire Martin"})
    delegate = client_for(app, trio.delegate)
    own = delegate.get(f"/b/{trio.delegate.address}/INBOX/").get_data(as_text=True)
    switcher = own[own.index('id="mailbox-switcher"'):]
    switcher = switcher[:switcher.index("</ul>")]
    assert f'href="/b/{trio.owner.address}/INBOX/"' in switcher
    assert "Dr Claire Martin" in switcher and "Lecture et classement" in switcher
    assert re.search(r'data-mailbox="' + re.escape(trio.owner.address) + r'">.*?class="count">2',
                     switcher, re.S)  # the owner's message, and the notice of the delegation
    assert "Vous travaillez dans" not in own  # in one's own mailbox: no marker
    theirs = delegate.get(f"/b/{trio.owner.address}/INBOX/").get_data(as_text=True)
    assert "Vous travaillez dans la boîte du Dr Claire Martin en tant que délégué(e)" in theirs
    # Someone with no delegation gets no switcher at all.
    outsider = client_for(app, trio.outsider)
    assert "mailbox-switcher" not in outsider.get(
        f"/b/{trio.outsider.address}/INBOX/").get_data(as_text=True)


def test_the_outsider_reaches_nothing_of_the_owners_mailbox_by_any_route(app, trio: Trio,
                                                                         mail_backend):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "send")
    delegation_id = row(app, trio.owner, trio.delegate).id
    outsider = client_for(app, trio.outsider)
    csrf = token(outsider, trio.outsider.address)
    before = mailbox_state(mail_backend, trio.owner.address)
    routes = mailbox_routes(app)
    assert len(routes) >= 6  # list, message, body, attachment, folders poll, delegations…
    for rule, method in routes:
        url = build(rule, trio.owner.address, delegation_id)
        for headers in ({}, {"HX-Request": "true", "X-CSRFToken": csrf}):
            if method == "GET":
                response = outsider.get(url, headers=headers)
            else:
                response = outsider.post(url, data={**FORM, "csrf_token": csrf},
                                         headers=headers)
            assert response.status_code == 404, (method, url, response.status_code)
            assert SECRET_SUBJECT not in response.get_data(as_text=True)
    # Nor through their own mailbox's URLs pointing at the owner's delegation.
    response = outsider.get(f"/b/{trio.outsider.address}/delegations/{delegation_id}")
    assert response.status_code == 404
    assert mailbox_state(mail_backend, trio.owner.address) == before


def test_a_read_only_delegate_is_refused_every_change_and_nothing_changes(app, trio: Trio,
                                                                          mail_backend):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "read")
    delegation_id = row(app, trio.owner, trio.delegate).id
    delegate = client_for(app, trio.delegate)
    delegate.get(f"/b/{trio.owner.address}/INBOX/1")  # opening is allowed (and private)
    before = mailbox_state(mail_backend, trio.owner.address)
    csrf = token(delegate, trio.owner.address)
    posts = [(rule, method) for rule, method in mailbox_routes(app) if method != "GET"]
    assert posts
    for rule, _method in posts:
        url = build(rule, trio.owner.address, delegation_id)
        for headers in ({}, {"HX-Request": "true"}):
            response = delegate.post(url, data={**FORM, "csrf_token": csrf}, headers=headers)
            assert response.status_code == 403, (url, response.status_code)
    forbidden = delegate.post(f"/b/{trio.owner.address}/delegations/",
                              data={**FORM, "csrf_token": csrf})
    assert "Seul le titulaire de cette boîte peut gérer ses délégations" in \
        forbidden.get_data(as_text=True)
    assert mailbox_state(mail_backend, trio.owner.address) == before


def test_a_rights_change_applies_from_the_next_request(app, trio: Trio):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "organise")
    delegation_id = row(app, trio.owner, trio.delegate).id
    delegate = client_for(app, trio.delegate)
    csrf = token(delegate, trio.owner.address)
    posts = [build(rule, trio.owner.address) for rule, _m in mailbox_routes(app)
             if "POST" in rule.methods and rule.endpoint.split(".")[0] != "delegations"]
    assert edit(owner, trio.owner, delegation_id, "read").status_code == 303
    page = delegate.get(f"/b/{trio.owner.address}/INBOX/").get_data(as_text=True)
    assert "Vos droits : Lecture seule" in page
    for url in posts:
        response = delegate.post(url, data={**FORM, "csrf_token": csrf})
        assert response.status_code == 403, url
        needed = ("Lecture, classement et envoi"  # secure links for patients are sending
                  if "/compose/" in url or "/patient-links/" in url else "Lecture et classement")
        assert f"Cette action demande « {needed}" in response.get_data(as_text=True), url


def test_removal_takes_effect_on_the_next_request_and_closes_pooled_connections(
        app, trio: Trio):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "organise")
    delegation_id = row(app, trio.owner, trio.delegate).id
    delegate = client_for(app, trio.delegate)
    assert delegate.get(f"/b/{trio.owner.address}/INBOX/").status_code == 200
    with app.app_context():
        keys = [key for key in pool()._idle if key[1] == trio.owner.address
                and key[0] != _session_id(app, owner)]
    assert keys  # the delegate's connection to the owner's mailbox waits in the pool
    with app.app_context():
        rows = caches().rows
    assert [entry for entry in rows._entries if entry[0][0] in keys]  # and the rows they saw
    assert remove(owner, trio.owner, delegation_id).status_code == 303
    with app.app_context():
        assert not [key for key in pool()._idle if key in keys]
    assert not [entry for entry in rows._entries if entry[0][0] in keys]
    for url in (f"/b/{trio.owner.address}/INBOX/", f"/b/{trio.owner.address}/INBOX/1",
                f"/b/{trio.owner.address}/_folders"):
        assert delegate.get(url).status_code == 404
    assert row(app, trio.owner, trio.delegate) is None


def test_a_connection_pooled_before_a_removal_elsewhere_is_never_used_again(app, trio: Trio):
    """Another worker removed the delegation: this process only sees the table change."""
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "read")
    found = row(app, trio.owner, trio.delegate)
    delegate = client_for(app, trio.delegate)
    assert delegate.get(f"/b/{trio.owner.address}/INBOX/").status_code == 200
    with app.app_context():
        from webmail.db import db
        from webmail.models import Delegation

        db.session.delete(db.session.get(Delegation, found.id))
        db.session.commit()
        pooled = [key for key in pool()._idle if key[1] == trio.owner.address]
    assert pooled
    assert delegate.get(f"/b/{trio.owner.address}/INBOX/").status_code == 404
    with app.app_context():
        left = [key for key in pool()._idle if key[1] == trio.owner.address]
    assert not set(left) & {key for key in pooled if key[0] != _session_id(app, owner)}


def test_an_ended_delegation_stops_at_the_next_request_and_is_cleaned_up(app, trio: Trio,
                                                                         mail_backend):
    owner = client_for(app, trio.owner)
    today = datetime.now(UTC).date().isoformat()
    grant(owner, trio.owner, trio.delegate.address, "send", end_date=today)
    found = row(app, trio.owner, trio.delegate)
    assert found.ends_at is not None and found.acl_applied
    delegate = client_for(app, trio.delegate)
    assert delegate.get(f"/b/{trio.owner.address}/INBOX/").status_code == 200
    let_it_end(app, found.id)
    assert delegate.get(f"/b/{trio.owner.address}/INBOX/").status_code == 404
    assert not row(app, trio.owner, trio.delegate).acl_applied
    with mail_backend.imap(trio.owner.address) as imap:
        assert trio.delegate.address.encode() not in dict(imap.getacl("INBOX"))
    page = owner.get(f"/b/{trio.owner.address}/delegations/").get_data(as_text=True)
    assert "Terminée" in page and trio.delegate.address in page
    # The owner can bring it back by choosing a new last day.
    assert edit(owner, trio.owner, found.id, "read").status_code == 303
    assert delegate.get(f"/b/{trio.owner.address}/INBOX/").status_code == 200


def test_the_delegations_page_belongs_to_the_owner_alone(app, trio: Trio):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "send")
    delegate = client_for(app, trio.delegate)
    response = delegate.get(f"/b/{trio.owner.address}/delegations/")
    assert response.status_code == 403
    assert "Seul le titulaire" in response.get_data(as_text=True)
    outsider = client_for(app, trio.outsider)
    assert outsider.get(f"/b/{trio.owner.address}/delegations/").status_code == 404
    page = owner.get(f"/b/{trio.owner.address}/INBOX/").get_data(as_text=True)
    assert f'href="/b/{trio.owner.address}/delegations/"' in page


def test_bad_input_gets_a_clear_error_and_keeps_what_was_typed(app, trio: Trio):
    owner = client_for(app, trio.owner)
    cases = [
        ("nobody-here@pli.test", "read", "", "Il n’y a pas de boîte nobody-here@pli.test"),
        ("pas une adresse", "read", "", "Saisissez l’adresse complète"),
        (trio.owner.address, "read", "", "vous-même"),
        (trio.delegate.address, "admin", "", "Choisissez les droits"),
        (trio.delegate.address, "read", "2001-01-01", "ne peut pas être passé"),
        (trio.delegate.address, "read", "31/13/2030", "JJ/MM/AAAA"),
    ]
    for address, rights, end, expected in cases:
        response = grant(owner, trio.owner, address, rights, end)
        body = response.get_data(as_text=True)
        assert response.status_code == 400, address
        assert expected in body, (expected, body[body.find("delegation-error"):][:300])
        if "@" in address and " " not in address:
            assert f'value="{address}"' in body
    assert row(app, trio.owner, trio.delegate) is None
    assert grant(owner, trio.owner, trio.delegate.address, "read").status_code == 303
    again = grant(owner, trio.owner, trio.delegate.address.upper(), "send")
    assert again.status_code == 400 and "déjà" in again.get_data(as_text=True)


def test_owner_and_delegate_get_a_notice_in_their_inbox_on_add_and_remove(
        app, trio: Trio, mail_backend):
    owner = client_for(app, trio.owner)
    last_day = date.today() + timedelta(days=30)
    grant(owner, trio.owner, trio.delegate.address, "send", end_date=last_day.isoformat())
    remove(owner, trio.owner, row(app, trio.owner, trio.delegate).id)
    for address in (trio.owner.address, trio.delegate.address):
        with mail_backend.imap(address) as imap:
            imap.select_folder("INBOX", readonly=True)
            fetched = imap.fetch(imap.search(["HEADER", "Auto-Submitted", "auto-generated"]),
                                 [b"BODY.PEEK[]"])
        bodies = [data[b"BODY[]"].decode() for data in fetched.values()]
        assert len(bodies) == 2, address
        added, _removed = sorted(bodies, key=lambda raw: "ajout" not in raw)
        assert "Content-Type: text/plain; charset=\"utf-8\"" in added
        assert trio.delegate.address in added and f"{last_day:%d/%m/%Y}" in added
    with mail_backend.imap(trio.owner.address) as imap:
        imap.select_folder("INBOX", readonly=True)
        subjects = imap.fetch(imap.search(["FROM", "ne-pas-repondre"]), [b"ENVELOPE"])
    decoded = sorted(str(data[b"ENVELOPE"].subject) for data in subjects.values())
    assert len(decoded) == 2


def test_a_person_who_is_also_a_delegate_keeps_a_clean_folder_list(app, trio: Trio):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "read")
    delegate = client_for(app, trio.delegate)
    page = delegate.get(f"/b/{trio.delegate.address}/INBOX/").get_data(as_text=True)
    nav = page[page.index('id="folders"'):page.index("</nav>")]
    assert "shared" not in nav and trio.owner.address not in nav
    # And the shared namespace is not a way around the delegation checks.
    assert delegate.get(f"/b/{trio.delegate.address}/shared/{trio.owner.address}/INBOX/"
                        ).status_code == 404


def test_the_last_day_ends_at_midnight_paris_time(app):
    with app.test_request_context():
        winter = delegation.end_instant(date(2026, 1, 15))
        summer = delegation.end_instant(date(2026, 7, 15))
        switch = delegation.end_instant(date(2026, 3, 28))  # the night clocks go forward
    assert winter == datetime(2026, 1, 15, 23, 0, tzinfo=UTC)
    assert summer == datetime(2026, 7, 15, 22, 0, tzinfo=UTC)
    assert switch == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert delegation.end_instant(None) is None


def test_sending_on_behalf_names_the_owner_in_from_and_the_delegate_in_sender(app, trio: Trio):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "send")
    client_for(app, trio.delegate)  # the delegate has signed in once
    with app.test_request_context(f"/b/{trio.owner.address}/INBOX/"):
        from flask import session
        from flask_login import login_user

        from webmail.services import access as access_service
        from webmail.services import sessions

        account, opened = _open_session(app, trio.delegate)
        login_user(account)
        session.open_session = opened
        access = access_service.require_mailbox(trio.owner.address)
        identity = delegation.sender_identity(access)
        assert delegation.may_send(access)
        sessions.end(opened.record, "test")
    assert identity.from_address == trio.owner.address
    assert identity.sender_address == trio.delegate.address
    assert identity.envelope_from == trio.owner.address


def _open_session(app, user):
    from webmail.db import db
    from webmail.models import Account
    from webmail.services import sessions

    account = db.session.query(Account).filter_by(address=user.address).one()
    opened, _cookie = sessions.create(account, user.password, "127.0.0.1", "test")
    db.session.commit()
    return account, opened


def _session_id(app, client) -> int:
    """The server-side session id of a signed-in test client."""
    from webmail.db import db
    from webmail.models import UserSession
    from webmail.services.sessions import _hash

    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    token_ = cookie.removeprefix("s.").partition(".")[0]
    with app.app_context():
        return db.session.query(UserSession).filter_by(token_hash=_hash(token_)).one().id
