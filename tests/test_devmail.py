"""The development mail backend, exercised for real: its own Dovecot and Postfix on
loopback ports, TLS verified against its CA, real SMTP submission, LMTP and IMAP."""

from __future__ import annotations

import os
import signal
import smtplib
import ssl
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from devmail import processes
from devmail.backend import BackendConfig, MailBackend
from devmail.demo import DEMO_PASSWORD, seed_demo

ALICE, ALICE_PW = "alice@pli.test", "Alice-Pw-2026!"
BOB, BOB_PW = "bob@pli.test", "Bob-Pw-2026!"
START_SECONDS: dict[str, float] = {}


@pytest.fixture(scope="session")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailBackend]:
    """A rig of its own, on ports beside both the dev rig and the suite's shared one."""
    base = int(os.environ.get("PLI_TEST_PORT_BASE", "11000")) + 1000
    backend = MailBackend(BackendConfig(
        root=tmp_path_factory.mktemp("devmail-own"), imap_port=base + 143,
        lmtp_port=base + 24, smtp_port=base + 25, submission_port=base + 587,
    ))
    began = time.monotonic()
    backend.start()
    START_SECONDS["first"] = time.monotonic() - began
    backend.add_user(ALICE, ALICE_PW, "Alice Aubert")
    backend.add_user(BOB, BOB_PW, "Bob Bernard")
    yield backend
    backend.stop()


def imap(backend: MailBackend, *, tls: str = "starttls", host: str = "127.0.0.1") -> IMAPClient:
    context = ssl.create_default_context(cafile=str(backend.ca_file))
    if tls == "implicit":
        return IMAPClient(host, port=backend.config.imaps_port, ssl=True, ssl_context=context)
    client = IMAPClient(host, port=backend.config.imap_port, ssl=False)
    client.starttls(context)
    return client


def assert_login_refused(backend: MailBackend, login: str, password: str) -> None:
    client = imap(backend)
    with pytest.raises(LoginError):
        client.login(login, password)
    client.shutdown()


def submission(backend: MailBackend, login: str, password: str) -> smtplib.SMTP:
    smtp = smtplib.SMTP("127.0.0.1", backend.config.submission_port, timeout=10)
    smtp.starttls(context=backend.ssl_context())
    smtp.login(login, password)
    return smtp


def message(sender: str, to: str, subject: str, **headers: str) -> EmailMessage:
    mail = EmailMessage()
    for name, value in {"From": sender, "To": to, "Subject": subject, **headers}.items():
        mail[name] = value
    mail.set_content("Bonjour, message de test.\n")
    return mail


def wait_for_subject(backend: MailBackend, address: str, subject: str) -> list[int]:
    deadline = time.monotonic() + 10
    while True:
        with backend.imap(address) as client:
            client.select_folder("INBOX", readonly=True)
            found = client.search(["SUBJECT", subject])
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_start_takes_a_few_seconds(rig: MailBackend) -> None:
    print(f"devmail start: {START_SECONDS['first']:.2f} s")
    assert START_SECONDS["first"] < 10 and rig.is_running()


def test_imap_tls_verified_and_special_use_folders(rig: MailBackend) -> None:
    for host, tls in (("127.0.0.1", "starttls"), ("localhost", "starttls"),
                      ("127.0.0.1", "implicit")):
        client = imap(rig, host=host, tls=tls)
        client.login(ALICE, ALICE_PW)
        folders = {name: flags for flags, _, name in client.list_folders()}
        client.logout()
        for name in ("Drafts", "Sent", "Archive", "Junk", "Trash"):
            assert f"\\{name}".encode() in folders[name]
        assert "INBOX" in folders


def test_tls_is_really_verified_and_required(rig: MailBackend) -> None:
    client = IMAPClient("127.0.0.1", port=rig.config.imap_port, ssl=False)
    with pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(ssl.create_default_context())  # system CAs do not know the rig's CA
    plain = IMAPClient("127.0.0.1", port=rig.config.imap_port, ssl=False)
    with pytest.raises(LoginError):
        plain.login(ALICE, ALICE_PW)  # no plaintext LOGIN, even on loopback
    plain.shutdown()


def test_wrong_password_fails(rig: MailBackend) -> None:
    assert_login_refused(rig, ALICE, "not-the-password")


def test_add_user_while_running_and_change_password(rig: MailBackend) -> None:
    rig.add_user("Carol@PLI.test", "first-Pw-1", "Carol Colin")
    assert "carol@pli.test" in rig.users()
    with rig.imap("carol@pli.test", "first-Pw-1") as client:
        assert client.select_folder("INBOX")
    rig.add_user("carol@pli.test", "second-Pw-2")
    assert_login_refused(rig, "carol@pli.test", "first-Pw-1")
    with rig.imap("carol@pli.test", "second-Pw-2") as client:
        assert client.select_folder("INBOX")
    with pytest.raises(ValueError):
        rig.add_user("someone@example.org", "x")


def test_submission_delivers_to_local_mailbox(rig: MailBackend) -> None:
    subject = f"submission-{uuid.uuid4().hex}"
    with submission(rig, ALICE, ALICE_PW) as smtp:
        assert smtp.send_message(message(ALICE, BOB, subject)) == {}
        with pytest.raises(smtplib.SMTPRecipientsRefused) as unknown:
            smtp.send_message(message(ALICE, "nobody@pli.test", subject))
    assert "nobody@pli.test" in unknown.value.recipients
    assert wait_for_subject(rig, BOB, subject)


def test_submission_requires_tls_and_authentication(rig: MailBackend) -> None:
    with smtplib.SMTP("127.0.0.1", rig.config.submission_port, timeout=10) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("auth")  # AUTH only after STARTTLS
        smtp.starttls(context=rig.ssl_context())
        smtp.ehlo()
        assert smtp.has_extn("auth")
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail(ALICE, [BOB], b"Subject: anonymous\r\n\r\nno\r\n")


def test_sender_login_mismatch_is_refused_until_delegated(rig: MailBackend) -> None:
    with submission(rig, ALICE, ALICE_PW) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused) \
            as refused:
        smtp.send_message(message(BOB, ALICE, "forged"))
    assert "not owned by user" in str(refused.value)
    rig.set_sender_logins({BOB: [ALICE]})
    try:
        subject = f"delegated-{uuid.uuid4().hex}"
        with submission(rig, ALICE, ALICE_PW) as smtp:
            assert smtp.send_message(message(BOB, ALICE, subject)) == {}
        assert wait_for_subject(rig, ALICE, subject)
        with submission(rig, BOB, BOB_PW) as smtp:  # the owner keeps its own address
            assert smtp.send_message(message(BOB, ALICE, subject + "-owner")) == {}
    finally:
        rig.set_sender_logins({})
    with submission(rig, ALICE, ALICE_PW) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp.send_message(message(BOB, ALICE, "revoked"))


def test_outside_mail_is_captured_per_envelope_recipient(rig: MailBackend) -> None:
    rig.clear_captured()
    subject = f"outside-{uuid.uuid4().hex}"
    with submission(rig, ALICE, ALICE_PW) as smtp:
        smtp.send_message(message(ALICE, BOB, subject, Cc="dr.externe@hopital.example"),
                          to_addrs=[BOB, "dr.externe@hopital.example", "cache@labo.example"])
    rig.wait_for_captured(2)
    time.sleep(0.5)  # anything else would have been captured by now
    captured = rig.captured()
    assert sorted(mail.recipient for mail in captured) == [
        "cache@labo.example", "dr.externe@hopital.example"]
    assert {mail.sender for mail in captured} == {ALICE}
    assert all(subject.encode() in mail.raw for mail in captured)
    assert wait_for_subject(rig, BOB, subject)  # the local copy is delivered, not captured


def test_plain_smtp_lmtp_and_append_for_seeding(rig: MailBackend) -> None:
    rig.clear_captured()
    with smtplib.SMTP("127.0.0.1", rig.config.smtp_port, timeout=10) as smtp:
        smtp.sendmail("robot@labo.example", [BOB, "someone@elsewhere.example"],
                      message("robot@labo.example", BOB, "raw-injection").as_bytes())
    assert wait_for_subject(rig, BOB, "raw-injection")
    assert [mail.recipient for mail in rig.wait_for_captured(1)] == ["someone@elsewhere.example"]
    rig.deliver(BOB, message("labo@labo.example", BOB, "via-lmtp").as_bytes())
    assert wait_for_subject(rig, BOB, "via-lmtp")
    uid = rig.append(BOB, "Patients/2026", message(ALICE, BOB, "appended").as_bytes(),
                     flags=["\\Seen", "\\Flagged"])
    with rig.imap(BOB, BOB_PW) as client:
        client.select_folder("Patients/2026")
        assert {b"\\Seen", b"\\Flagged"} <= set(client.get_flags([uid])[uid])


def test_master_login_opens_the_owners_mailbox(rig: MailBackend) -> None:
    assert rig.master_login(BOB) == f"{BOB}*pli-master"
    client = imap(rig)
    client.login(rig.master_login(BOB), rig.config.master_password)
    assert client.select_folder("INBOX")[b"EXISTS"] >= 0
    client.logout()
    for login in (rig.master_login("nobody@pli.test"), rig.config.master_user):
        assert_login_refused(rig, login, rig.config.master_password)


def test_setacl_shares_a_folder_and_acls_apply_to_master_logins(rig: MailBackend) -> None:
    shared = f"shared/{ALICE}/Secretariat"
    rig.append(ALICE, "Secretariat", message(ALICE, ALICE, "dossier partage").as_bytes())
    with rig.imap(ALICE, ALICE_PW) as client:
        client.setacl("Secretariat", BOB, "lrs")
    for password in (BOB_PW, None):  # Bob himself, then the master user acting as Bob
        with rig.imap(BOB, password) as client:
            names = [name for _, _, name in client.list_folders()]
            assert shared in names
            assert f"shared/{ALICE}/INBOX" not in names
            assert client.select_folder(shared, readonly=True)[b"EXISTS"] == 1
            with pytest.raises(IMAPClientError):
                client.select_folder(f"shared/{ALICE}/INBOX")


def test_seed_demo_once(rig: MailBackend) -> None:
    assert seed_demo(rig) == 24
    assert seed_demo(rig) == 0
    with rig.imap("dr.martin@pli.test", DEMO_PASSWORD) as client:
        counts = {folder: client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]
                  for folder in ("INBOX", "Patients/Suivi", "Sent", "Drafts")}
        assert counts == {"INBOX": 20, "Patients/Suivi": 2, "Sent": 2, "Drafts": 0}
        client.select_folder("INBOX", readonly=True)
        assert len(client.search(["UNSEEN", "FLAGGED"])) == 1
        assert client.search(["HEADER", "Content-Type", "multipart/mixed"])
    with rig.imap("dr.durand@pli.test", DEMO_PASSWORD) as client:
        assert client.select_folder("INBOX")


def _tree(backend: MailBackend) -> set[int]:
    masters = [pid for pid in (processes.daemon_pid(backend.layout.dovecot_pidfile, "dovecot"),
                               processes.daemon_pid(backend.layout.postfix_pidfile, "master"))
               if pid]
    assert len(masters) == 2
    return set(masters).union(*(processes.descendants(pid) for pid in masters))


def test_stop_leaves_nothing_and_start_again_works(rig: MailBackend) -> None:
    tree = _tree(rig)
    rig.stop()
    assert not any(processes.alive(pid) for pid in tree)
    assert not any(processes.port_open(port) for port in rig.config.ports.values())
    assert not rig.is_running()
    rig.stop()  # stopping a stopped rig is a no-op
    rig.start()
    masters = rig.status()
    began = time.monotonic()
    rig.start()  # starting a running rig is a no-op
    assert time.monotonic() - began < 0.5 and rig.status() == masters
    with rig.imap(ALICE, ALICE_PW) as client:
        assert client.select_folder("INBOX")


def test_start_after_a_crash_with_stale_pidfiles(rig: MailBackend) -> None:
    status = rig.status()
    masters = [status["dovecot_pid"], status["postfix_pid"]]
    for pid in masters:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(processes.alive(pid) for pid in masters) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not rig.is_running() and rig.layout.dovecot_pidfile.exists()
    rig.start()
    subject = f"after-crash-{uuid.uuid4().hex}"
    with submission(rig, ALICE, ALICE_PW) as smtp:
        smtp.send_message(message(ALICE, BOB, subject))
    assert wait_for_subject(rig, BOB, subject)


def test_abandoned_rig_is_replaced(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A killed test session leaves its rig running; the next one takes the ports over."""
    base = int(os.environ.get("PLI_TEST_PORT_BASE", "11000")) + 1100
    ports = {"imap_port": base + 143, "lmtp_port": base + 24, "smtp_port": base + 25,
             "submission_port": base + 587}
    abandoned = MailBackend(BackendConfig(root=tmp_path_factory.mktemp("abandoned"), **ports))
    abandoned.start()
    tree = _tree(abandoned)
    successor = MailBackend(BackendConfig(root=tmp_path_factory.mktemp("successor"), **ports))
    try:
        successor.start()
        assert not any(processes.alive(pid) for pid in tree)
        successor.add_user(ALICE, ALICE_PW)
        with successor.imap(ALICE, ALICE_PW) as client:
            assert client.select_folder("INBOX")
    finally:
        successor.stop()
        abandoned.stop()
