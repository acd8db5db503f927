"""Organising: actions on one or many messages, undo, .eml download, print view, shortcuts.

Every change is a POST with a CSRF token. Without JavaScript it ends in a redirect
(post/redirect/get); from the htmx list form it answers with the refreshed list. A
deletion for good first answers with a confirmation step, as a page or as a partial.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from imap_bridge.models import Attachment, SpecialUse
from webmail.cookie_policy import SHORTCUTS_COOKIE_NAME, delete_cookie, set_cookie
from webmail.downloads import attachment_response
from webmail.services import mail, organise
from webmail.services.access import MailboxAccess, require_mailbox
from webmail.services.organise import Action, NeedsConfirmation, OrganiseError

bp = Blueprint("organise", __name__, url_prefix="/b/<mailbox>")
_STAY_ON_MESSAGE = (Action.READ, Action.FLAG, Action.UNFLAG)


@bp.post("/_messages")
@login_required
def act(mailbox: str):
    access = require_mailbox(mailbox)
    form = request.form
    folder, page = form.get("folder", "INBOX"), _page(form.get("page"))
    from_message = form.get("origin") == "message"
    uids: list[int] = []
    action = None
    try:
        action = organise.parse_action(form.get("action", ""))
        uids = organise.parse_selection(form.getlist("uid"))
        outcome = organise.apply(access, folder, uids, action, form.get("target", ""),
                                 confirmed=form.get("confirm") == "1")
    except NeedsConfirmation:
        return _confirm_delete(access, folder, uids, page, from_message)
    except OrganiseError as error:
        organise.notify(access, str(error), ok=False)
        stay = from_message and len(uids) == 1 and action not in (Action.UNREAD, None)
        return _after(access, folder, page, uids[0] if stay else None)
    organise.notify(access, outcome.message, undo_token=outcome.undo_token)
    stay = from_message and action in _STAY_ON_MESSAGE
    return _after(access, folder, page, uids[0] if stay else None)


@bp.post("/_undo")
@login_required
def undo(mailbox: str):
    access = require_mailbox(mailbox)
    try:
        outcome = organise.undo(access, request.form.get("token", ""))
        organise.notify(access, outcome.message)
    except OrganiseError as error:
        organise.notify(access, str(error), ok=False)
    return _after(access, request.form.get("folder", "INBOX"), _page(request.form.get("page")))


@bp.get("/<path:folder>/<int:uid>/download")
@login_required
def download(mailbox: str, folder: str, uid: int):
    """The message as stored on the server, byte for byte, as an .eml file."""
    access = require_mailbox(mailbox)
    filename, raw = organise.eml_download(access, folder, uid)
    return attachment_response(Attachment(part_id="eml", filename=filename,
                                          content_type="message/rfc822", size=len(raw)), raw)


@bp.get("/<path:folder>/<int:uid>/print")
@login_required
def print_view(mailbox: str, folder: str, uid: int):
    access = require_mailbox(mailbox)
    readable = mail.read_message(access, folder, uid, allow_remote=False)
    return render_template("organise/print.html", access=access, message=readable.message,
                           text_html=organise.printable_text(readable), current=folder,
                           has_html=readable.html is not None)


@bp.route("/_shortcuts", methods=["GET", "POST"])
@login_required
def shortcuts(mailbox: str):
    """The keyboard shortcuts, and the switch that turns them on (they are off by default:
    single-key shortcuts get in the way of speech input and some screen readers)."""
    access = require_mailbox(mailbox)
    if request.method == "GET":
        return render_template("organise/shortcuts.html", access=access, current="",
                               folders=mail.list_folders(access))
    response = redirect(url_for(".shortcuts", mailbox=access.mailbox))
    if request.form.get("enabled") == "1":
        set_cookie(response, SHORTCUTS_COOKIE_NAME, "1")
    else:
        delete_cookie(response, SHORTCUTS_COOKIE_NAME)
    return response


@bp.app_template_global()
def organise_notice(access: MailboxAccess) -> organise.Notice | None:
    return organise.take_notice(access)


@bp.app_template_global()
def move_targets(access: MailboxAccess, current: str):
    return organise.move_targets(access, current)


@bp.app_template_global()
def special_folder(access: MailboxAccess, use: str) -> str | None:
    """The name of the Archive, Trash… folder of this mailbox, if it has one."""
    return organise.special_folder(access, SpecialUse(use))


@bp.app_template_global()
def shortcuts_enabled() -> bool:
    return request.cookies.get(SHORTCUTS_COOKIE_NAME) == "1"


def _after(access: MailboxAccess, folder: str, page: int, message_uid: int | None = None):
    """The list again (htmx) or a redirect to where the person was (PRG)."""
    if message_uid is not None:
        return redirect(url_for("mail.message", mailbox=access.mailbox, folder=folder,
                                uid=message_uid))
    if request.htmx and not request.htmx.boosted:
        listing = mail.list_messages(access, folder, page)
        if not listing.messages and listing.page > listing.page_count:
            listing = mail.list_messages(access, folder, listing.page_count)
        response = make_response(render_template("mail/_message_list.html", access=access,
                                                 listing=listing))
        response.headers["HX-Trigger"] = "pli-folders-changed"  # the sidebar counts changed
        return response
    return redirect(url_for("mail.folder", mailbox=access.mailbox, folder=folder,
                            page=_clamped(access, folder, page)))


def _confirm_delete(access: MailboxAccess, folder: str, uids: list[int], page: int,
                    from_message: bool):
    context = {"access": access, "folder": folder, "uids": uids, "page": page,
               "from_message": from_message, "current": folder}
    if request.htmx and not request.htmx.boosted and not from_message:
        return render_template("organise/_confirm_delete.html", **context)
    return render_template("organise/confirm_delete.html", folders=mail.list_folders(access),
                           **context)


def _clamped(access: MailboxAccess, folder: str, page: int) -> int | None:
    """After messages left a folder its last page may be gone: land on the new last one."""
    if page <= 1:
        return None
    size = current_app.config["PAGE_SIZE"]
    total = next((f.total for f in mail.list_folders(access) if f.name == folder), None)
    if total is None:
        return page
    return min(page, max(1, -(-total // size))) if total else None


def _page(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 100_000 else 1
