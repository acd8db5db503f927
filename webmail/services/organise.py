"""Organising messages: read/unread, flags, move, archive, delete, undo, .eml download.

Every change goes through the pool like reading does. The last move or deletion can be
undone for a few minutes: what undoing needs (folders, UIDVALIDITY, the new UIDs) is
kept in the server-side session, never in the page.
"""

from __future__ import annotations

import enum
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from typing import TypeVar

from flask import session
from flask_babel import gettext, ngettext
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from imap_bridge import actions
from imap_bridge import messages as imap_messages
from imap_bridge.errors import FolderNotFound, MessageNotFound
from imap_bridge.filenames import safe_filename
from imap_bridge.headers import decode_words
from imap_bridge.models import Folder, SpecialUse
from imap_bridge.text import text_to_html
from webmail.mail_pool import pool
from webmail.services import mail
from webmail.services.access import MailboxAccess
from webmail.template_filters import folder_label

T = TypeVar("T")
log = logging.getLogger(__name__)
MAX_SELECTION = 1000  # messages per request: twenty full pages
UNDO_SECONDS = 600
_NOTICE, _UNDO = "pli_notice", "pli_undo"


class Action(enum.StrEnum):
    READ = "read"
    UNREAD = "unread"
    FLAG = "flag"
    UNFLAG = "unflag"
    MOVE = "move"
    ARCHIVE = "archive"
    DELETE = "delete"


class OrganiseError(Exception):
    """Something the person can fix or should know; the message is already translated."""


class NeedsConfirmation(Exception):
    """Deleting here is for good: the person must confirm first."""


@dataclass(frozen=True)
class Outcome:
    message: str
    undo_token: str | None = None


@dataclass(frozen=True)
class Notice:
    """What the next page tells about the last action (and how to undo it)."""

    text: str
    ok: bool
    undo_token: str | None = None


def parse_selection(values: Iterable[str]) -> list[int]:
    """UIDs from checkboxes or a crafted request: positive integers, a bounded number."""
    uids: set[int] = set()
    for value in values:
        if not value.isdigit() or not 0 < int(value) < 2**32:
            raise OrganiseError(gettext("This selection is not valid. Reload the page."))
        uids.add(int(value))
    if not uids:
        raise OrganiseError(gettext("Select at least one message."))
    if len(uids) > MAX_SELECTION:
        raise OrganiseError(gettext("At most %(num)s messages at once.", num=MAX_SELECTION))
    return sorted(uids)


def parse_action(value: str) -> Action:
    try:
        return Action(value)
    except ValueError:
        raise OrganiseError(gettext("Unknown action.")) from None


def apply(access: MailboxAccess, folder: str, uids: list[int], action: Action,
          target: str = "", confirmed: bool = False) -> Outcome:
    """Do `action` on messages of `folder`; raises NeedsConfirmation before a deletion
    for good (in the Trash, or where there is no Trash) that was not confirmed.

    Folder names are the plain ones of URLs and forms; `access.folder_path` gives the
    IMAP name (a delegate reaches the owner's folders through the shared namespace)."""
    path = access.folder_path(folder)
    if action in _FLAG_CHANGES:
        flag, on = _FLAG_CHANGES[action]
        count = _run(access, lambda c: actions.set_flag(c, path, uids, flag, on))
        _forget_counts(access)
        if not count:
            raise OrganiseError(_gone())
        return Outcome(_flag_message(action, count))
    folders = mail.list_folders(access)
    specials: dict[SpecialUse, str] = {}
    for candidate in folders:
        if candidate.special_use and candidate.selectable:
            specials.setdefault(candidate.special_use, candidate.name)
    trash = specials.get(SpecialUse.TRASH)
    if action is Action.DELETE and (trash is None or trash == folder):
        if not confirmed:
            raise NeedsConfirmation()
        return _delete_for_good(access, folder, uids)
    destination = _destination(action, target, specials)
    if not any(f.name == destination and f.selectable for f in folders):
        raise OrganiseError(gettext("This folder does not exist any more."))
    if destination == folder:
        raise OrganiseError(gettext("The messages are already in this folder."))
    result = _move(access, folder, uids, destination)
    token = _remember_undo(access, result)
    return Outcome(_move_message(access, action, result), token)


def undo(access: MailboxAccess, token: str) -> Outcome:
    """Put the messages of the last move or deletion back where they were."""
    record = session.get(_UNDO)
    if (not isinstance(record, dict) or record.get("mailbox") != access.mailbox
            or not secrets.compare_digest(str(record.get("token", "")), token or "")
            or time.time() - float(record.get("at", 0)) > UNDO_SECONDS):
        raise OrganiseError(gettext("There is nothing to undo any more."))
    session.pop(_UNDO, None)
    back = 0
    for move in record["moves"]:
        uids = actions.parse_uid_set(move["uids"])
        try:  # the record holds IMAP names, as the move reported them
            result = _run(access, lambda c, m=move, u=uids: actions.move_back(
                c, m["folder"], m["validity"], u, m["back"]))
        except (MessageNotFound, FolderNotFound):
            continue  # moved on or deleted since: what is left is still put back
        _forget_bodies(access, access.folder_name(move["folder"]), uids)
        back += result.moved
    _forget_counts(access)
    if not back:
        raise OrganiseError(_gone())
    return Outcome(ngettext("Undone: %(num)s message is back in %(folder)s.",
                            "Undone: %(num)s messages are back in %(folder)s.", back,
                            folder=_label(access, access.folder_name(
                                record["moves"][0]["back"]))))


def move_targets(access: MailboxAccess, current: str) -> list[Folder]:
    """Folders a message of `current` can be moved to."""
    return [f for f in mail.list_folders(access) if f.selectable and f.name != current]


def special_folder(access: MailboxAccess, use: SpecialUse) -> str | None:
    return next((f.name for f in mail.list_folders(access) if f.special_use == use), None)


def eml_download(access: MailboxAccess, folder: str, uid: int) -> tuple[str, bytes]:
    """The message exactly as stored, and a file name made from its subject."""
    path = access.folder_path(folder)
    raw = _run(access, lambda c: imap_messages.fetch_raw(c, path, uid))
    subject = decode_words(BytesHeaderParser().parsebytes(raw[:65536]).get("Subject", "") or "")
    subject = subject.replace("/", "-").replace("\\", "-")  # a subject is not a path
    stem = safe_filename(subject, fallback_stem="message").removesuffix(".bin")
    return safe_filename(f"{stem[:100]}.eml"), raw


def printable_text(readable: mail.ReadableMessage) -> str | None:
    """The text body for the print view: it prints whole, where a framed HTML body would
    print only the part that fits in its frame."""
    if readable.text_html:
        return readable.text_html
    return text_to_html(readable.message.text_body) if readable.message.text_body else None


def notify(access: MailboxAccess, text: str, ok: bool = True, undo_token: str | None = None):
    """Keep a notice for the next page of this mailbox (after a redirect or in a partial)."""
    session[_NOTICE] = {"mailbox": access.mailbox, "text": text, "ok": ok, "undo": undo_token}


def take_notice(access: MailboxAccess) -> Notice | None:
    record = session.get(_NOTICE)
    if not isinstance(record, dict) or record.get("mailbox") != access.mailbox:
        return None
    session.pop(_NOTICE, None)
    return Notice(str(record.get("text", "")), bool(record.get("ok")), record.get("undo"))


_FLAG_CHANGES = {
    Action.READ: (actions.Flag.SEEN, True),
    Action.UNREAD: (actions.Flag.SEEN, False),
    Action.FLAG: (actions.Flag.FLAGGED, True),
    Action.UNFLAG: (actions.Flag.FLAGGED, False),
}


def _delete_for_good(access: MailboxAccess, folder: str, uids: list[int]) -> Outcome:
    path = access.folder_path(folder)
    count = _run(access, lambda c: actions.delete_permanently(c, path, uids))
    _forget_bodies(access, folder, uids)
    _forget_counts(access)
    if not count:
        raise OrganiseError(_gone())
    return Outcome(ngettext("%(num)s message deleted for good.",
                            "%(num)s messages deleted for good.", count))


def _destination(action: Action, target: str,
                 specials: dict[SpecialUse, str]) -> str:
    if action is Action.ARCHIVE:
        if SpecialUse.ARCHIVE not in specials:
            raise OrganiseError(gettext("This mailbox has no archive folder."))
        return specials[SpecialUse.ARCHIVE]
    if action is Action.DELETE:
        return specials[SpecialUse.TRASH]
    if not target:
        raise OrganiseError(gettext("Choose the folder to move the messages to."))
    return target


def _move(access: MailboxAccess, folder: str, uids: list[int],
          destination: str) -> actions.MoveResult:
    source, target = access.folder_path(folder), access.folder_path(destination)
    try:
        result = _run(access, lambda c: actions.move_messages(c, source, uids, target))
    except MessageNotFound:
        raise OrganiseError(_gone()) from None
    except FolderNotFound:
        raise OrganiseError(gettext("This folder does not exist any more.")) from None
    except IMAPClientError as error:  # NO from the server: quota, rights…
        if isinstance(error, IMAPClientAbortError):
            raise
        log.warning("move refused by the server: %s", error)
        raise OrganiseError(gettext("The mail server refused to move these messages.")) from None
    _forget_bodies(access, folder, uids)
    _forget_counts(access)
    return result


def _remember_undo(access: MailboxAccess, result: actions.MoveResult) -> str | None:
    if not result.undoable:
        session.pop(_UNDO, None)
        return None
    token = secrets.token_urlsafe(16)
    session[_UNDO] = {"token": token, "mailbox": access.mailbox, "at": time.time(),
                      "moves": [{"folder": result.destination, "back": result.source,
                                 "validity": result.uid_validity,
                                 "uids": actions.uid_set(result.new_uids)}]}
    return token


def _flag_message(action: Action, count: int) -> str:
    if action is Action.READ:
        return ngettext("%(num)s message marked as read.", "%(num)s messages marked as read.",
                        count)
    if action is Action.UNREAD:
        return ngettext("%(num)s message marked as unread.",
                        "%(num)s messages marked as unread.", count)
    if action is Action.FLAG:
        return ngettext("%(num)s message flagged.", "%(num)s messages flagged.", count)
    return ngettext("%(num)s message unflagged.", "%(num)s messages unflagged.", count)


def _move_message(access: MailboxAccess, action: Action, result: actions.MoveResult) -> str:
    if action is Action.DELETE:
        return ngettext("%(num)s message moved to the Trash.",
                        "%(num)s messages moved to the Trash.", result.moved)
    if action is Action.ARCHIVE:
        return ngettext("%(num)s message archived.", "%(num)s messages archived.", result.moved)
    return ngettext("%(num)s message moved to %(folder)s.", "%(num)s messages moved to "
                    "%(folder)s.", result.moved,
                    folder=_label(access, access.folder_name(result.destination)))


def _label(access: MailboxAccess, name: str) -> str:
    for folder in mail.list_folders(access):
        if folder.name == name:
            return folder_label(folder)
    return name


def _gone() -> str:
    return gettext("These messages no longer exist; they may have been moved or deleted.")


def _forget_bodies(access: MailboxAccess, folder: str, uids: Iterable[int]) -> None:
    """A moved or deleted message must not be served again from the raw-message cache."""
    gone = set(uids)
    mail.caches().raw.forget(lambda key: key[0] == access.pool_key and key[1] == folder
                          and key[2] in gone)


def _forget_counts(access: MailboxAccess) -> None:
    """The folder list read before the change has the old counts: read it again."""
    mail.caches().folders.forget(lambda key: key == access.pool_key)


def _run(access: MailboxAccess, operation: Callable[[IMAPClient], T]) -> T:
    return pool().run(access.pool_key, access.credentials, operation)
