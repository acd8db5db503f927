"""Virtual mail accounts: Dovecot passwd-files and the Postfix tables derived from them.

Dovecot re-reads a passwd-file when it changes and Postfix daemons restart themselves
when a hash table's .db changes, so accounts can be added while the rig runs.
"""

from __future__ import annotations

import fcntl
import grp
import math
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devmail.layout import Layout, mail_ids, run, write_file, write_table

_ADDRESS = re.compile(r"^[a-z0-9][a-z0-9._+-]*@[a-z0-9.-]+$")


@dataclass(frozen=True)
class Account:
    address: str
    password_hash: str
    display_name: str


def hash_password(password: str) -> str:
    """SHA512-CRYPT, as `doveadm pw -s SHA512-CRYPT` would; the password goes through stdin
    so it never shows in the process list."""
    if "\n" in password or not password:
        raise ValueError("a password must be one non-empty line")
    digest = run(["openssl", "passwd", "-6", "-stdin"], stdin=password + "\n").strip()
    return "{SHA512-CRYPT}" + digest


def check_address(address: str, domain: str) -> str:
    """Lower-cased address, or ValueError: only the rig's own domain is delivered locally."""
    address = address.strip().lower()
    if not _ADDRESS.match(address) or address.rpartition("@")[2] != domain:
        raise ValueError(f"not an address of the {domain} domain: {address!r}")
    return address


def read_accounts(layout: Layout) -> dict[str, Account]:
    accounts: dict[str, Account] = {}
    if not layout.users_dir.is_dir():
        return accounts
    for path in sorted(layout.users_dir.iterdir()):
        fields = path.read_text(encoding="utf-8").split(":")
        if not path.name.startswith(".") and len(fields) >= 5:
            accounts[fields[0]] = Account(fields[0], fields[1], fields[4])
    return accounts


def save_account(layout: Layout, address: str, password: str, display_name: str) -> Path:
    """Create or update an account and its maildir home; returns the home directory.

    One passwd-file per user: Dovecot re-stats a passwd-file at most once per second and
    only notices a change of mtime (seconds) or size, so with one shared file a user
    added just after a lookup stayed unknown for up to a second. A new user's file is
    read at once; an update gets a distinct mtime and waits out the one-second window."""
    uid, gid = mail_ids()
    name = re.sub(r"[:\r\n]", " ", display_name).strip()
    home = layout.home(address)
    entry = layout.users_dir / address
    with _locked(layout):
        home.parent.mkdir(parents=True, exist_ok=True)
        home.mkdir(mode=0o700, exist_ok=True)
        os.chown(home, uid, gid)
        previous = entry.stat().st_mtime if entry.exists() else None
        write_file(entry, f"{address}:{hash_password(password)}:{uid}:{gid}:{name}:{home}::\n",
                   0o640, grp.getgrnam("dovecot").gr_gid)
        if previous is not None:
            now = time.time()
            mtime = max(now, math.floor(previous) + 1)
            os.utime(entry, (mtime, mtime))
            time.sleep(math.floor(now) + 1.05 - now)
        write_table(layout, layout.postfix_dir / "virtual_mailboxes",
                    "".join(f"{a} OK\n" for a in sorted(read_accounts(layout))))
    return home


def save_sender_logins(layout: Layout, mapping: dict[str, list[str]]) -> None:
    """Which SASL logins may use which envelope sender, beyond each login's own address.

    An address listed here is owned by itself plus the given logins (first match wins in
    smtpd_sender_login_maps, so the owner is always written in)."""
    lines = []
    for address, logins in sorted(mapping.items()):
        owners = [address.lower()] + [login.lower() for login in logins
                                      if login.lower() != address.lower()]
        if any(re.search(r"[\s,]", owner) for owner in owners):
            raise ValueError(f"invalid login in sender_logins for {address!r}")
        lines.append(f"{address.lower()} {','.join(owners)}\n")
    with _locked(layout):
        write_table(layout, layout.postfix_dir / "sender_logins", "".join(lines))


def read_sender_logins(path: Path) -> dict[str, list[str]]:
    """Parse a Postfix sender-login source file ("address login,login" per line)."""
    mapping: dict[str, list[str]] = {}
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            address, _, logins = line.strip().partition(" ")
            mapping[address] = [login for login in logins.strip().split(",") if login]
    return mapping


@contextmanager
def _locked(layout: Layout) -> Iterator[None]:
    """Serialise writers (a CLI call during a test run, parallel fixtures)."""
    layout.etc_dir.mkdir(parents=True, exist_ok=True)
    with open(layout.etc_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

