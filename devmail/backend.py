"""A real Dovecot + Postfix pair for development and tests, owned by the project.

Both daemons run from configs generated under one root directory (default
`<repo>/var/devmail`), listen only on 127.0.0.1 high ports and never read or touch the
system /etc/dovecot, /etc/postfix or system instances. Mail to the rig's domain is
delivered to Dovecot; mail to any other domain is captured to files, never sent.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path
from smtplib import LMTP

from imapclient import IMAPClient

from devmail import accounts, processes
from devmail.layout import BackendError, Layout, prepare, run

__all__ = ["BackendConfig", "BackendError", "CapturedMail", "MailBackend"]

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMP_DIR = Path(tempfile.gettempdir()).resolve()


def default_root() -> Path:
    return REPO_ROOT / "var" / "devmail"


@dataclass
class BackendConfig:
    """Where the rig lives and which loopback ports it uses (all overridable, so the test
    suite can run its own rig beside a developer's). imaps_port 0 means imap_port + 1."""

    root: Path = field(default_factory=default_root)
    domain: str = "pli.test"
    imap_port: int = 10143
    imaps_port: int = 0
    lmtp_port: int = 10024
    smtp_port: int = 10025
    submission_port: int = 10587
    master_user: str = "pli-master"
    master_password: str = "Pli-Master-Dev-2026"  # loopback-only development secret

    def __post_init__(self) -> None:
        self.root = Path(self.root).absolute()
        if not self.imaps_port:
            self.imaps_port = self.imap_port + 1

    @property
    def ports(self) -> dict[str, int]:
        return {"imap": self.imap_port, "imaps": self.imaps_port, "lmtp": self.lmtp_port,
                "smtp": self.smtp_port, "submission": self.submission_port}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> BackendConfig:
        """Defaults overridden by PLI_DEV_ROOT, PLI_DEV_DOMAIN, PLI_DEV_<NAME>_PORT
        (IMAP, IMAPS, LMTP, SMTP, SUBMISSION), PLI_DEV_MASTER_USER/_PASSWORD."""
        values: dict[str, object] = {}
        if environ.get("PLI_DEV_ROOT"):
            values["root"] = Path(environ["PLI_DEV_ROOT"])
        for name in ("domain", "master_user", "master_password"):
            if environ.get(f"PLI_DEV_{name.upper()}"):
                values[name] = environ[f"PLI_DEV_{name.upper()}"]
        for name in ("imap", "imaps", "lmtp", "smtp", "submission"):
            if environ.get(f"PLI_DEV_{name.upper()}_PORT"):
                values[f"{name}_port"] = int(environ[f"PLI_DEV_{name.upper()}_PORT"])
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CapturedMail:
    """One delivery to a recipient outside the rig's domain (one per envelope recipient);
    `raw` is the message as Postfix's pipe hands it over: LF line endings, with the
    Received header Postfix added."""

    sender: str
    recipient: str
    raw: bytes


class MailBackend:
    """Start, stop and use one rig. Every method is safe to repeat (start when running and
    stop when stopped do nothing; a start after a crash ignores the stale pidfiles)."""

    def __init__(self, config: BackendConfig | None = None) -> None:
        self.config = config or BackendConfig()
        self.layout = Layout(self.config.root)

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients must trust for every TLS port of the rig."""
        return self.layout.tls_dir / "ca.pem"

    @property
    def capture_dir(self) -> Path:
        return self.layout.capture_dir

    def _pids(self) -> tuple[int | None, int | None]:
        return (processes.daemon_pid(self.layout.dovecot_pidfile, "dovecot"),
                processes.daemon_pid(self.layout.postfix_pidfile, "master"))

    def is_running(self) -> bool:
        return all(pid is not None for pid in self._pids())

    def status(self) -> dict[str, object]:
        dovecot, postfix = self._pids()
        return {"root": str(self.config.root), "dovecot_pid": dovecot, "postfix_pid": postfix,
                "ports": self.config.ports, "ca_file": str(self.ca_file)}

    def start(self, timeout: float = 20.0) -> None:
        """Start whichever daemon is not running and wait until every port accepts."""
        dovecot, postfix = self._pids()
        if dovecot and postfix:
            return
        self._prepare()
        ports = self.config.ports
        if dovecot is None:
            self.layout.dovecot_pidfile.unlink(missing_ok=True)
            self._require_free([ports["imap"], ports["imaps"], ports["lmtp"]])
            run(["dovecot", "-c", str(self.layout.dovecot_conf)])
        if postfix is None:
            self._require_free([ports["smtp"], ports["submission"]])
            run(["postfix", "-c", str(self.layout.postfix_dir), "start"])
        closed = processes.wait_ports(ports.values(), open_=True, timeout=timeout)
        if closed:
            raise BackendError(f"ports {closed} did not open within {timeout:.0f} s\n"
                               + self._log_tails())

    def stop(self) -> None:
        """Stop both daemons and wait until all their processes are gone."""
        pids = [pid for pid in self._pids() if pid is not None]
        if not pids:
            return
        processes.terminate(pids)
        busy = processes.wait_ports(self.config.ports.values(), open_=False, timeout=5)
        if busy:
            raise BackendError(f"ports {busy} still open after stopping the rig")

    def _require_free(self, ports: list[int]) -> None:
        """Make sure nothing listens on `ports`. A rig left running on them by a killed test
        session (root under the temp dir) or by this rig without its pidfile is stopped;
        children of a crashed master get a moment to exit; anything else is reported."""
        masters = {found for port in ports for pid in processes.listening_pids(port)
                   if (found := processes.rig_master(pid))}
        abandoned = [pid for pid, root in masters
                     if root == self.config.root or root.is_relative_to(TEMP_DIR)]
        if abandoned:
            processes.terminate(abandoned)
        busy = processes.wait_ports(ports, open_=False, timeout=5)
        if busy:
            holders = ", ".join(f"pid {pid} (rig {root})" for pid, root in masters) or "?"
            raise BackendError(f"ports {busy} are in use (holders: {holders}); choose other "
                               "ports (PLI_DEV_*_PORT) or stop that program")

    def _prepare(self) -> None:
        prepare(self.layout, self.config, accounts.hash_password(self.config.master_password))

    def _log_tails(self) -> str:
        return "\n".join(processes.log_tail(self.layout.log_dir / name)
                         for name in ("dovecot.log", "postfix.log"))

    def add_user(self, address: str, password: str, display_name: str = "") -> None:
        """Create (or update the password of) a mailbox; works while the rig runs."""
        address = accounts.check_address(address, self.config.domain)
        if not self.layout.dovecot_conf.exists():
            self._prepare()
        accounts.save_account(self.layout, address, password, display_name)

    def users(self) -> list[str]:
        return sorted(accounts.read_accounts(self.layout))

    def set_sender_logins(self, mapping: dict[str, list[str]]) -> None:
        """Let extra SASL logins send as an address (delegation): {address: [logins]}."""
        if not self.layout.dovecot_conf.exists():
            self._prepare()
        accounts.save_sender_logins(self.layout, mapping)
        if self._pids()[1] is not None:
            run(["postfix", "-c", str(self.layout.postfix_dir), "reload"])

    def load_sender_logins(self, path: Path) -> None:
        """Load a map file written by Pli (PLI_SENDER_LOGIN_MAP, "address login,login"
        lines) into the rig's Postfix: the command Pli runs after each rewrite is
        `python -m devmail load-sender-logins FILE`."""
        self.set_sender_logins(accounts.read_sender_logins(path))

    def master_login(self, address: str) -> str:
        """IMAP/SMTP login name that authenticates as the master user acting as `address`."""
        return f"{address}*{self.config.master_user}"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    @contextmanager
    def imap(self, address: str, password: str | None = None) -> Iterator[IMAPClient]:
        """An IMAP session (STARTTLS, verified) as `address`: with its password, or through
        the master user when password is None."""
        client = IMAPClient("127.0.0.1", port=self.config.imap_port, ssl=False, timeout=30)
        try:
            client.starttls(self.ssl_context())
            if password is None:
                client.login(self.master_login(address), self.config.master_password)
            else:
                client.login(address, password)
            yield client
        finally:
            with suppress(Exception):
                client.logout()

    def deliver(self, recipient: str, raw: bytes, sender: str | None = None) -> None:
        """Deliver like the MTA would, through Dovecot LMTP (envelope sender defaults to the
        message's From address)."""
        if sender is None:
            headers = BytesHeaderParser().parsebytes(raw)
            sender = next((addr for _, addr in getaddresses(headers.get_all("From", []))), "")
        with LMTP("127.0.0.1", self.config.lmtp_port) as lmtp:
            lmtp.sendmail(sender, [recipient], raw)

    def append(self, address: str, folder: str, raw: bytes, flags: Iterable[str] = (),
               date: datetime | None = None) -> int | None:
        """Store a message directly in a folder (created if missing) for seeding; returns
        its UID when the server tells it."""
        with self.imap(address) as client:
            ensure_folder(client, folder)
            response = client.append(folder, raw, flags=tuple(flags), msg_time=date)
        match = re.search(rb"APPENDUID \d+ (\d+)", response)
        return int(match.group(1)) if match else None

    def captured(self) -> list[CapturedMail]:
        """Every captured delivery, oldest first."""
        mails = []
        for meta in sorted(self.capture_dir.glob("*.json")):
            envelope = json.loads(meta.read_text(encoding="utf-8"))
            mails.append(CapturedMail(envelope["sender"], envelope["recipient"],
                                      meta.with_suffix(".eml").read_bytes()))
        return mails

    def wait_for_captured(self, count: int = 1, timeout: float = 10.0) -> list[CapturedMail]:
        """Poll until at least `count` deliveries were captured (delivery is asynchronous)."""
        deadline = time.monotonic() + timeout
        while len(mails := self.captured()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return mails

    def clear_captured(self) -> None:
        for path in self.capture_dir.glob("*"):
            if path.suffix in (".json", ".eml", ".tmp"):
                path.unlink(missing_ok=True)


def ensure_folder(client: IMAPClient, folder: str) -> None:
    """Create and subscribe a folder and its parents (so each level is a real mailbox)."""
    parts = folder.split("/")
    for depth in range(1, len(parts) + 1):
        name = "/".join(parts[:depth])
        if not client.folder_exists(name):
            client.create_folder(name)
            client.subscribe_folder(name)
