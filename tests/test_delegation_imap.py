"""The servers, not only Pli, bound what a delegate can do: Dovecot ACLs on the owner's
folders and Postfix's sender-login map follow the delegation, checked with the delegate's
own IMAP and SMTP logins."""

from __future__ import annotations

import smtplib
import time
from datetime import date
from email.message import EmailMessage

import pytest
from imapclient.exceptions import IMAPClientError

from tests.delegation_support import (
    SECRET_SUBJECT,
    Trio,
    acl_of,
    client_for,
    edit,
    grant,
    let_it_end,
    mailbox_state,
    remove,
    row,
    trio_fixture,  # noqa: F401 - the `trio` fixture
)

ORGANISE = set("lrswitek")


def _rights(mail_backend, owner: str, delegate: str, folder: str) -> set[str]:
    # Dovecot also reports the obsolete RFC 2086 letters c and d; they add nothing here.
    return set(acl_of(mail_backend, owner, folder).get(delegate, "")) - {"c", "d"}


def _send(mail_backend, login, sender: str, to: str, subject: str, **headers: str) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    for name, value in headers.items():
        mail[name] = value
    mail.set_content("Bonjour,\nmessage de test.\n")
    with smtplib.SMTP("127.0.0.1", mail_backend.config.submission_port, timeout=10) as smtp:
        smtp.starttls(context=mail_backend.ssl_context())
        smtp.login(login.address, login.password)
        smtp.send_message(mail, from_addr=sender.split("<")[-1].rstrip(">"), to_addrs=[to])


def _wait_for(mail_backend, address: str, subject: str) -> bytes | None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with mail_backend.imap(address) as imap:
            imap.select_folder("INBOX", readonly=True)
            found = imap.search(["SUBJECT", subject])
            if found:
                return imap.fetch(found, [b"BODY.PEEK[HEADER]"])[found[0]][b"BODY[HEADER]"]
        time.sleep(0.1)
    return None


def test_a_read_only_delegate_cannot_change_anything_with_their_own_imap_login(
        app, trio: Trio, mail_backend):
    grant(client_for(app, trio.owner), trio.owner, trio.delegate.address, "read")
    before = mailbox_state(mail_backend, trio.owner.address)
    inbox = f"shared/{trio.owner.address}/INBOX"
    with mail_backend.imap(trio.delegate.address, trio.delegate.password) as imap:
        imap.select_folder(inbox)
        uids = imap.search(["ALL"])
        assert uids  # the delegate does read the owner's INBOX
        imap.add_flags(uids, [b"\\Flagged", b"\\Deleted", b"\\Answered"])
        imap.expunge()
        for command in (imap.move, imap.copy):
            with pytest.raises(IMAPClientError, match=r"NOPERM"):
                command(uids, f"shared/{trio.owner.address}/Trash")
        with pytest.raises(IMAPClientError):
            imap.create_folder(f"shared/{trio.owner.address}/INBOX/Nouveau")
        with pytest.raises(IMAPClientError):
            imap.append(inbox, b"Subject: intrus\r\n\r\nx\r\n")
        with pytest.raises(IMAPClientError):
            imap.delete_folder(f"shared/{trio.owner.address}/Patients/Suivi")
        imap.add_flags(uids, [b"\\Seen"])  # allowed, and private to the delegate
    assert mailbox_state(mail_backend, trio.owner.address) == before  # unread for the owner


def test_an_organising_delegate_changes_the_owners_mailbox_within_bounds(
        app, trio: Trio, mail_backend):
    grant(client_for(app, trio.owner), trio.owner, trio.delegate.address, "organise")
    with mail_backend.imap(trio.delegate.address, trio.delegate.password) as imap:
        imap.select_folder(f"shared/{trio.owner.address}/INBOX")
        uid = imap.search(["SUBJECT", SECRET_SUBJECT])[0]
        imap.add_flags([uid], [b"\\Flagged"])
        imap.move([uid], f"shared/{trio.owner.address}/Patients/Suivi")
        with pytest.raises(IMAPClientError):  # folders themselves stay the owner's
            imap.delete_folder(f"shared/{trio.owner.address}/Patients/Suivi")
    with mail_backend.imap(trio.owner.address) as imap:
        imap.select_folder("Patients/Suivi", readonly=True)
        moved = imap.search(["SUBJECT", SECRET_SUBJECT])
        assert moved and b"\\Flagged" in imap.get_flags(moved)[moved[0]]


def test_acls_follow_grant_change_and_removal_on_every_folder(app, trio: Trio, mail_backend):
    owner = client_for(app, trio.owner)
    folders = ("INBOX", "Sent", "Trash", "Patients", "Patients/Suivi")
    grant(owner, trio.owner, trio.delegate.address, "read")
    for folder in folders:
        assert _rights(mail_backend, trio.owner.address, trio.delegate.address,
                       folder) == set("lrs"), folder
    delegation_id = row(app, trio.owner, trio.delegate).id
    edit(owner, trio.owner, delegation_id, "organise")
    for folder in folders:
        assert _rights(mail_backend, trio.owner.address, trio.delegate.address,
                       folder) == ORGANISE, folder
    remove(owner, trio.owner, delegation_id)
    for folder in folders:
        assert trio.delegate.address not in acl_of(mail_backend, trio.owner.address, folder)
    with mail_backend.imap(trio.delegate.address, trio.delegate.password) as imap, \
            pytest.raises(IMAPClientError):
        imap.select_folder(f"shared/{trio.owner.address}/INBOX", readonly=True)
    assert trio.outsider.address not in acl_of(mail_backend, trio.owner.address, "INBOX")


def test_folders_the_owner_creates_later_are_covered(app, trio: Trio, mail_backend):
    grant(client_for(app, trio.owner), trio.owner, trio.delegate.address, "read")
    with mail_backend.imap(trio.owner.address, trio.owner.password) as imap:
        imap.create_folder("Laboratoires")  # top level: gets INBOX's ACL
        imap.create_folder("Patients/Nouveaux")  # a subfolder: inherits its parent's
        imap.setacl("Sent", trio.delegate.address, "l")  # drifted by another client
    delegate = client_for(app, trio.delegate)  # a new session: ACLs are brought up to date
    nav = delegate.get(f"/b/{trio.owner.address}/INBOX/").get_data(as_text=True)
    nav = nav[nav.index('id="folders"'):nav.index("</nav>")]
    assert "Laboratoires" in nav and "Nouveaux" in nav
    for folder in ("Laboratoires", "Patients/Nouveaux", "Sent"):
        assert _rights(mail_backend, trio.owner.address, trio.delegate.address,
                       folder) == set("lrs"), folder


def test_only_a_delegate_with_send_rights_may_use_the_owners_address(
        app, trio: Trio, mail_backend):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "organise")
    with pytest.raises(smtplib.SMTPRecipientsRefused, match="not owned by user"):
        _send(mail_backend, trio.delegate, trio.owner.address, trio.outsider.address, "refusé")
    delegation_id = row(app, trio.owner, trio.delegate).id
    edit(owner, trio.owner, delegation_id, "send")
    subject = f"De la part du titulaire {trio.owner.address}"
    _send(mail_backend, trio.delegate, trio.owner.address, trio.outsider.address, subject,
          Sender=trio.delegate.address)
    headers = _wait_for(mail_backend, trio.outsider.address, subject)
    assert headers is not None
    assert f"From: {trio.owner.address}".encode() in headers
    assert f"Sender: {trio.delegate.address}".encode() in headers
    with pytest.raises(smtplib.SMTPRecipientsRefused):  # and not as anyone else
        _send(mail_backend, trio.delegate, trio.outsider.address, trio.owner.address, "autre")
    remove(owner, trio.owner, delegation_id)
    with pytest.raises(smtplib.SMTPRecipientsRefused, match="not owned by user"):
        _send(mail_backend, trio.delegate, trio.owner.address, trio.outsider.address, "retiré")
    _send(mail_backend, trio.owner, trio.owner.address, trio.outsider.address, "le titulaire")


def test_the_expire_command_removes_what_ended_delegations_left_on_the_servers(
        app, trio: Trio, mail_backend):
    owner = client_for(app, trio.owner)
    grant(owner, trio.owner, trio.delegate.address, "send", end_date=date.today().isoformat())
    found = row(app, trio.owner, trio.delegate)
    _send(mail_backend, trio.delegate, trio.owner.address, trio.outsider.address, "avant")
    let_it_end(app, found.id)  # no one signs in after the last day
    result = app.test_cli_runner().invoke(args=["delegations", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 delegation(s) ended" in result.output
    assert trio.delegate.address not in acl_of(mail_backend, trio.owner.address, "INBOX")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(mail_backend, trio.delegate, trio.owner.address, trio.outsider.address, "après")
    assert _wait_for(mail_backend, trio.owner.address, "arriv") is not None  # "arrivée à échéance"
    again = app.test_cli_runner().invoke(args=["delegations", "expire"])
    assert "0 delegation(s) ended" in again.output
