"""Keeping the mail servers in step with the delegation table, so that they, not only Pli,
bound what a delegate can do.

IMAP: a delegate logs in with their OWN credentials and reaches the owner's folders in the
shared namespace (`shared/<owner>/INBOX`…); every folder of the owner carries an ACL entry
(RFC 4314) for the delegate, so Dovecot refuses anything beyond it:

    read only                           lrs       (\\Seen is private per user there: INDEXPVT)
    read and organise                   lrswitek  (flags, move, delete, subfolders; never x, a)
    read, organise and send on behalf   lrswitek  (plus the sender-login map below)

ACLs change with the owner's authority: their pooled connection when they act, the master
login `<owner>*<master user>` when no one is signed in (expiry, resync at the start of a
delegate's session, which also covers folders created since).

SMTP: Postfix's `smtpd_sender_login_maps` lists, per owner, the logins that may use the
owner's address; Pli rewrites that file from the table and runs a reload command.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shlex
import subprocess
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from flask import current_app
from imapclient import IMAPClient
from sqlalchemy import or_, select

from imap_bridge import acl
from imap_bridge.connection import close_quietly, open_imap
from imap_bridge.errors import AuthenticationFailed
from webmail.config import ROOT
from webmail.db import db
from webmail.mail_pool import settings_from_config
from webmail.models import Account, Delegation, DelegationRight, UserSession
from webmail.models.base import utcnow

T = TypeVar("T")
Runner = Callable[[Callable[[IMAPClient], T]], T]  # runs an operation in one mailbox
log = logging.getLogger(__name__)

ACL_RIGHTS = {
    DelegationRight.READ: "lrs",
    DelegationRight.ORGANISE: "lrswitek",
    DelegationRight.SEND_ON_BEHALF: "lrswitek",
}
_seen_versions: dict[tuple[int, str], str] = {}  # (session, owner): "<row id>.<version>"
_seen_lock = threading.Lock()


class DelegationUnavailable(Exception):
    """The server side of delegation is not configured or refuses Pli's master login."""


def shared_prefix() -> str:
    return str(current_app.config["IMAP_SHARED_PREFIX"])


def master_configured() -> bool:
    return bool(current_app.config["IMAP_MASTER_USER"])


def master_runner(address: str) -> Runner:
    """Run operations in `address`'s mailbox through the master login (a fresh connection
    each time: these are rare, and nothing of an owner's authority stays in the pool)."""
    config = current_app.config
    if not master_configured():
        raise DelegationUnavailable("PLI_IMAP_MASTER_USER is not set")
    login = f"{address}{config['IMAP_MASTER_SEPARATOR']}{config['IMAP_MASTER_USER']}"
    password = str(config["IMAP_MASTER_PASSWORD"])
    settings = settings_from_config(config)

    def run(operation: Callable[[IMAPClient], T]) -> T:
        client = open_imap(settings, login, password)
        try:
            return operation(client)
        finally:
            close_quietly(client)

    return run


def mailbox_exists(address: str, known: str) -> bool:
    """Whether `address` is a mailbox of this server: the master login succeeds only for a
    real user. `known` (the owner) tells a refused master login from an unknown user."""
    try:
        master_runner(address)(lambda _client: None)
    except AuthenticationFailed:
        try:
            master_runner(known)(lambda _client: None)
        except AuthenticationFailed:
            raise DelegationUnavailable("the server refuses the master login") from None
        return False
    return True


def converge(owner: str, delegate: str, run: Runner, now: datetime | None = None) -> None:
    """Make the ACLs on the owner's folders match the table for (owner, delegate).

    The row is read again afterwards: if a concurrent change moved it meanwhile, apply
    again, so the last writer always leaves the server matching the table."""
    for _ in range(3):
        db.session.commit()  # a fresh snapshot (SQLite keeps one per transaction)
        row = find(owner, delegate)
        state = _state(row, now)
        rights = ACL_RIGHTS[row.right] if row is not None and state[2] else None
        roles = run(lambda client, rights=rights: _apply(client, delegate, rights))
        if row is not None:
            row.folder_roles = roles
            row.acl_applied = rights is not None
        db.session.commit()
        if _state(find(owner, delegate), now) == state:
            return
    log.warning("delegation %s -> %s kept changing while being applied", owner, delegate)


def find(owner: str, delegate: str) -> Delegation | None:
    return db.session.scalar(select(Delegation).where(Delegation.owner == owner,
                                                      Delegation.delegate == delegate))


def use_connections(session_id: int, owner: str, version: str) -> None:
    """Before a delegate's request borrows pooled connections: drop any opened under
    other rights (Dovecot caches ACLs per connection for a while)."""
    key = (session_id, owner)
    with _seen_lock:
        if len(_seen_versions) > 10_000:  # ended sessions; forgetting only costs a login
            _seen_versions.clear()
        previous = _seen_versions.get(key)
        _seen_versions[key] = version
    if previous != version:
        _forget(lambda pool_key: pool_key == key)


def forget_connections(owner: str, session_ids: Iterable[int]) -> None:
    """Close this process's pooled connections and caches of these sessions in the owner's
    mailbox (revocation, expiry); other processes do it at their next request."""
    ids = set(session_ids)
    with _seen_lock:
        for key in [k for k in _seen_versions if k[0] in ids and k[1] == owner]:
            del _seen_versions[key]
    _forget(lambda pool_key: pool_key[0] in ids and pool_key[1] == owner)


def delegate_sessions(delegate: str) -> list[int]:
    """Open sessions of the delegate, whose connections to an owner must go on revocation."""
    return list(db.session.scalars(
        select(UserSession.id).join(Account).where(Account.address == delegate,
                                                   UserSession.ended_at.is_(None))))


def publish_sender_logins(now: datetime | None = None) -> bool:
    """Rewrite the Postfix sender-login map from the table and run the reload command;
    False when that failed (logged). Does nothing when PLI_SENDER_LOGIN_MAP is unset
    (a Postfix pgsql: lookup on the table needs no file)."""
    config = current_app.config
    if not config["SENDER_LOGIN_MAP"]:
        return True
    path = Path(str(config["SENDER_LOGIN_MAP"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # workers publish one at a time, each the latest
        db.session.commit()
        text = _sender_map(now or utcnow())
        fresh = path.with_name(f".{path.name}.{os.getpid()}")
        fresh.write_text(text, encoding="utf-8")
        os.replace(fresh, path)
        return _run_command(config["SENDER_LOGIN_COMMAND"], path)


def active_send_delegations(now: datetime) -> dict[str, list[str]]:
    """{owner: [delegates allowed to send as the owner]} right now."""
    rows = db.session.execute(
        select(Delegation.owner, Delegation.delegate)
        .where(Delegation.rights == DelegationRight.SEND_ON_BEHALF.value,
               or_(Delegation.ends_at.is_(None), Delegation.ends_at > now))
        .order_by(Delegation.owner, Delegation.delegate))
    mapping: dict[str, list[str]] = {}
    for owner, delegate in rows:
        mapping.setdefault(owner, []).append(delegate)
    return mapping


def _sender_map(now: datetime) -> str:
    # First match wins in smtpd_sender_login_maps: the owner is always listed first.
    return "".join(f"{owner} {','.join([owner, *delegates])}\n"
                   for owner, delegates in active_send_delegations(now).items())


def _run_command(command: object, path: Path) -> bool:
    if not command:
        return True
    argv = command if isinstance(command, list) else shlex.split(str(command))
    argv = [str(part).replace("{map}", str(path)) for part in argv]
    try:
        # The command comes from the operator's configuration, never from a request.
        result = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=60,  # noqa: S603
                                check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        log.error("sender-login map command failed: %s", error)
        return False
    if result.returncode != 0:
        log.error("sender-login map command failed (%s): %s", result.returncode,
                  result.stderr.decode(errors="replace")[-500:])
        return False
    return True


def _apply(client: IMAPClient, delegate: str, rights: str | None) -> dict[str, str]:
    folders, roles = acl.owner_folders(client, shared_prefix())
    if rights is None:
        acl.revoke(client, folders, delegate)
    else:
        acl.grant(client, folders, delegate, rights)
    return roles


def _state(row: Delegation | None, now: datetime | None) -> tuple:
    if row is None:
        return (None, None, False)
    return (row.version, row.rights, row.is_active(now or utcnow()))


def _forget(predicate: Callable[[tuple], bool]) -> None:
    from webmail.services import mail  # mail imports access, which imports this module

    mail.forget_scopes(predicate)


def trace(action: str, mailbox: str, detail: dict | None = None) -> None:
    """A functional trace of a delegation event; the actor is the signed-in person."""
    try:
        from webmail.services import traces
    except ImportError:  # traces arrive with their own module
        return
    traces.record_request_action(action, mailbox=mailbox, detail=detail)
