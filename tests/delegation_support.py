"""Three real accounts (owner, delegate, outsider) and the few steps delegation tests share."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, MailUser, csrf_token, sign_in
from tests.mailfactory import message
from webmail.db import db
from webmail.models import Delegation
from webmail.models.base import utcnow

_counter = itertools.count(1)
SECRET_SUBJECT = "Compte rendu confidentiel"


@dataclass(frozen=True)
class Trio:
    owner: MailUser
    delegate: MailUser
    outsider: MailUser


@pytest.fixture(name="trio")
def trio_fixture(mail_backend) -> Trio:
    """Fresh owner (with one message in INBOX and one in a subfolder), delegate, outsider."""
    n = f"{os.getpid()}x{next(_counter)}"
    users = [MailUser(f"{role}{n}@pli.test", PASSWORD)
             for role in ("owner", "delegate", "outsider")]
    for user in users:
        mail_backend.add_user(user.address, user.password)
    owner = users[0]
    mail_backend.append(owner.address, "INBOX", message(
        SECRET_SUBJECT, to=owner.address, html="<p>Compte rendu HTML</p>",
        attachments=[("compte-rendu.pdf", "application/pdf", b"%PDF-1.4 confidentiel")]))
    mail_backend.append(owner.address, "Patients/Suivi", message("Suivi patient",
                                                                 to=owner.address))
    return Trio(*users)


def client_for(app, user: MailUser):
    client = app.test_client()
    sign_in(client, user)
    return client


def token(client, mailbox: str) -> str:
    return csrf_token(client.get(f"/b/{mailbox}/INBOX/").get_data(as_text=True))


def grant(client, owner: MailUser, delegate: str, rights: str = "read", end_date: str = ""):
    page = client.get(f"/b/{owner.address}/delegations/").get_data(as_text=True)
    return client.post(f"/b/{owner.address}/delegations/", data={
        "csrf_token": csrf_token(page), "delegate": delegate, "rights": rights,
        "end_date": end_date})


def row(app, owner: MailUser, delegate: MailUser) -> Delegation | None:
    with app.app_context():
        return db.session.scalar(select(Delegation).where(
            Delegation.owner == owner.address, Delegation.delegate == delegate.address))


def edit(client, owner: MailUser, delegation_id: int, rights: str, end_date: str = ""):
    return client.post(f"/b/{owner.address}/delegations/{delegation_id}", data={
        "csrf_token": token(client, owner.address), "rights": rights, "end_date": end_date})


def remove(client, owner: MailUser, delegation_id: int):
    return client.post(f"/b/{owner.address}/delegations/{delegation_id}/remove",
                       data={"csrf_token": token(client, owner.address)})


def let_it_end(app, delegation_id: int) -> None:
    """As if the last day had passed: the end is now in the past."""
    with app.app_context():
        found = db.session.get(Delegation, delegation_id)
        found.ends_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


def mailbox_state(mail_backend, address: str) -> dict[str, dict[int, frozenset]]:
    """Every folder of a mailbox with its UIDs and flags, as the owner sees them."""
    state = {}
    with mail_backend.imap(address) as imap:  # the master login, acting as the owner
        for _flags, _delimiter, name in imap.list_folders():
            if name.startswith("shared"):
                continue
            imap.select_folder(name, readonly=True)
            fetched = imap.fetch(imap.search(["ALL"]), [b"FLAGS"]) if imap.search(["ALL"]) else {}
            state[name] = {uid: frozenset(data[b"FLAGS"]) - {b"\\Recent"}
                           for uid, data in fetched.items()}
    return state


def acl_of(mail_backend, owner: str, folder: str) -> dict[str, str]:
    with mail_backend.imap(owner) as imap:
        return {who.decode(): rights.decode() for who, rights in imap.getacl(folder)}
