"""Where compose files messages: the mailbox's Drafts and Sent folders, through the pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from imapclient import IMAPClient

from imap_bridge import drafts as imap_drafts
from imap_bridge.models import SpecialUse
from webmail.mail_pool import pool
from webmail.services import delegation
from webmail.services.access import MailboxAccess

T = TypeVar("T")
_FALLBACK = {SpecialUse.DRAFTS: "Drafts", SpecialUse.SENT: "Sent"}


def drafts_folder(access: MailboxAccess) -> str:
    return _special(access, SpecialUse.DRAFTS)


def sent_folder(access: MailboxAccess) -> str:
    return _special(access, SpecialUse.SENT)


def run(access: MailboxAccess, operation: Callable[[IMAPClient], T]) -> T:
    return pool().run(access.pool_key, access.credentials, operation)


def _special(access: MailboxAccess, use: SpecialUse) -> str:
    """The IMAP path of the special-use folder (RFC 6154); a server without one gets a
    folder of the usual name, created on first use."""
    path = delegation.special_folder_path(access, use)
    if path is not None:
        return path
    path = access.folder_path(_FALLBACK[use])
    run(access, lambda client: imap_drafts.ensure_folder(client, path))
    return path
