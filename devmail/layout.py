"""Where everything of one rig lives, and the generated Dovecot/Postfix configuration.

Every file (configs, TLS, queue, mailboxes, logs, pidfiles, sockets) stays under one
root directory, so a rig can be deleted with `rm -rf` and several rigs (dev, tests) can
run side by side without ever touching /etc/dovecot, /etc/postfix or the system daemons.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from devmail.tls import ensure_tls

if TYPE_CHECKING:
    from devmail.backend import BackendConfig

MAIL_USER = "plimail"
TEMPLATES = Path(__file__).resolve().parent / "templates"
CAPTURE_SCRIPT = Path(__file__).resolve().parent / "capture.py"
# The capture pipe runs as plimail: the Debian interpreter, not a venv whose base
# interpreter may live in a directory plimail cannot enter (e.g. pyenv under /root).
SYSTEM_PYTHON = "/usr/bin/python3"


class BackendError(RuntimeError):
    """The rig cannot be set up or started; the message says what to do."""


class _AtTemplate(Template):
    """`@name` placeholders: `$` and `{}` already mean something in both config syntaxes."""

    delimiter = "@"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def tls_dir(self) -> Path:
        return self.root / "tls"

    @property
    def etc_dir(self) -> Path:
        return self.root / "etc"

    @property
    def base_dir(self) -> Path:
        return self.root / "run" / "dovecot"

    @property
    def state_dir(self) -> Path:
        return self.root / "state" / "dovecot"

    @property
    def mail_dir(self) -> Path:
        return self.root / "mail"

    @property
    def acl_dir(self) -> Path:
        return self.root / "acl"

    @property
    def postfix_dir(self) -> Path:
        return self.root / "postfix" / "etc"

    @property
    def queue_dir(self) -> Path:
        return self.root / "postfix" / "queue"

    @property
    def data_dir(self) -> Path:
        return self.root / "postfix" / "data"

    @property
    def capture_dir(self) -> Path:
        return self.root / "capture"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def capture_script(self) -> Path:
        return self.root / "bin" / "capture.py"

    @property
    def dovecot_conf(self) -> Path:
        return self.etc_dir / "dovecot.conf"

    @property
    def users_dir(self) -> Path:
        return self.etc_dir / "users.d"

    @property
    def masters_file(self) -> Path:
        return self.etc_dir / "masters"

    @property
    def dovecot_pidfile(self) -> Path:
        return self.base_dir / "master.pid"

    @property
    def postfix_pidfile(self) -> Path:
        return self.queue_dir / "pid" / "master.pid"

    def home(self, address: str) -> Path:
        local, _, domain = address.partition("@")
        return self.mail_dir / domain / local


def mail_ids() -> tuple[int, int]:
    """uid/gid of the mail user created by scripts/install-system.sh."""
    try:
        return pwd.getpwnam(MAIL_USER).pw_uid, grp.getgrnam(MAIL_USER).gr_gid
    except KeyError:
        raise BackendError(
            f"system user {MAIL_USER!r} is missing: run `bash scripts/install-system.sh` as root"
        ) from None


def prepare(layout: Layout, config: BackendConfig, master_hash: str) -> None:
    """Create the directory tree with the ownerships each daemon needs and (re)write every
    generated file. Safe to run on an existing rig: mailboxes and queues are kept."""
    if any(ch.isspace() for ch in str(layout.root)):
        raise BackendError(f"the rig root must not contain whitespace: {layout.root}")
    uid, gid = mail_ids()
    postfix_uid = pwd.getpwnam("postfix").pw_uid
    dovecot_gid = grp.getgrnam("dovecot").gr_gid
    _mkdir(layout.root, 0o755, 0, 0)
    _make_traversable(layout.root)
    for directory in (layout.etc_dir, layout.base_dir.parent, layout.log_dir,
                      layout.postfix_dir, layout.queue_dir, layout.mail_dir):
        _mkdir(directory, 0o755, 0, 0)
    _mkdir(layout.state_dir, 0o750, 0, 0)
    _mkdir(layout.queue_dir / "private", 0o700, postfix_uid, -1)
    for directory in (layout.acl_dir, layout.capture_dir):
        _mkdir(directory, 0o755, uid, gid)
    # The pipe runs a copy inside the rig, so the repository may live where plimail
    # cannot read (e.g. under /root).
    _mkdir(layout.root / "bin", 0o755, 0, 0)
    write_file(layout.capture_script, CAPTURE_SCRIPT.read_text(encoding="utf-8"), 0o644)
    tls = ensure_tls(layout.tls_dir)
    values = {
        "imap_port": config.imap_port, "imaps_port": config.imaps_port,
        "lmtp_port": config.lmtp_port, "smtp_port": config.smtp_port,
        "submission_port": config.submission_port, "domain": config.domain,
        "master_user": config.master_user, "mail_uid": uid, "mail_gid": gid,
        "base_dir": layout.base_dir, "state_dir": layout.state_dir,
        "log_dir": layout.log_dir, "tls_dir": tls.server_cert.parent,
        "etc_dir": layout.etc_dir, "users_dir": layout.users_dir, "acl_dir": layout.acl_dir,
        "queue_dir": layout.queue_dir, "data_dir": layout.data_dir,
        "config_dir": layout.postfix_dir, "capture_dir": layout.capture_dir,
        "python": SYSTEM_PYTHON, "capture_script": layout.capture_script,
    }
    _render("dovecot.conf", layout.dovecot_conf, values)
    _render("main.cf", layout.postfix_dir / "main.cf", values)
    _render("master.cf", layout.postfix_dir / "master.cf", values)
    write_file(layout.masters_file, f"{config.master_user}:{master_hash}\n", 0o640, dovecot_gid)
    write_file(layout.etc_dir / "plaintext-deny", "secured-imap:\n", 0o640, dovecot_gid)
    _mkdir(layout.users_dir, 0o750, 0, dovecot_gid)
    write_file(layout.postfix_dir / "sender_self.regexp", "/^(.+)$/ ${1}\n", 0o644)
    for name in ("sender_logins", "virtual_mailboxes"):
        table = layout.postfix_dir / name
        if not table.exists() or not table.with_name(table.name + ".db").exists():
            write_table(layout, table, "")


def write_table(layout: Layout, table: Path, text: str) -> None:
    """Write and compile a Postfix hash table under a new inode. A running daemon notices
    an unlinked table at once (link count 0), whereas an in-place rewrite within the same
    second as the previous one would go unnoticed (mtime has one-second resolution)."""
    fresh = table.with_name(f".{table.name}.new")
    write_file(fresh, text, 0o644)
    run(["postmap", "-c", str(layout.postfix_dir), f"hash:{fresh}"])
    os.replace(fresh.with_name(fresh.name + ".db"), table.with_name(table.name + ".db"))
    os.replace(fresh, table)


def write_file(path: Path, text: str, mode: int, gid: int = 0) -> None:
    """Replace a file atomically, so a daemon reading it never sees half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chown(tmp, 0, gid)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def run(command: list[str], stdin: str | None = None) -> str:
    """Run a system command; its output becomes the error message when it fails.

    Output goes through a temporary file, not a pipe: a daemon that forks into the
    background inherits the descriptors, and a pipe would stay open as long as it runs."""
    with tempfile.TemporaryFile() as output:
        result = subprocess.run(command, input=stdin.encode() if stdin is not None else None,
                                stdout=output, stderr=subprocess.STDOUT, check=False)
        output.seek(0)
        text = output.read().decode(errors="replace")
    if result.returncode != 0:
        raise BackendError(f"{' '.join(command[:3])} failed ({result.returncode}): {text.strip()}")
    return text


def _render(template: str, target: Path, values: dict[str, object]) -> None:
    text = _AtTemplate((TEMPLATES / template).read_text(encoding="utf-8"))
    write_file(target, text.substitute({key: str(value) for key, value in values.items()}),
               0o644)


def _mkdir(path: Path, mode: int, uid: int, gid: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def _make_traversable(root: Path) -> None:
    """Mail processes run as plimail and must reach the homes under the root; a root under
    a private directory (pytest's 0700 temp dirs) gets search-only (o+x) permission added
    on its ancestors, never read or write."""
    for parent in reversed(root.resolve().parents):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(parent, stat.S_IMODE(mode) | stat.S_IXOTH)
