"""Reading: folders, message lists, messages, message bodies and attachments.

Every URL names the mailbox it acts in (`/b/<address>/...`), so two tabs on two
mailboxes never mix, and every view starts with `require_mailbox`.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_login import login_required

from imap_bridge.models import Folder
from webmail.downloads import attachment_response
from webmail.security_headers import message_frame_csp
from webmail.services import mail, patient_links, traces
from webmail.services.access import require_mailbox
from webmail.template_filters import folder_label

bp = Blueprint("mail", __name__, url_prefix="/b/<mailbox>")


@bp.get("/")
@login_required
def mailbox_home(mailbox: str):
    access = require_mailbox(mailbox)
    return redirect(url_for(".folder", mailbox=access.mailbox, folder="INBOX"))


@bp.get("/_folders")
@login_required
def folders(mailbox: str):
    """The folder list alone, for the sidebar's periodic refresh."""
    access = require_mailbox(mailbox)
    return render_template("mail/_folders.html", access=access,
                           folders=mail.list_folders(access, fresh=True),
                           current=request.args.get("current", "INBOX"))


@bp.get("/<path:folder>/")
@login_required
def folder(mailbox: str, folder: str):
    access = require_mailbox(mailbox)
    page = request.args.get("page", 1, type=int) or 1
    listing = mail.list_messages(access, folder, page)
    if request.htmx and not request.htmx.boosted:
        return render_template("mail/_message_list.html", access=access, listing=listing)
    folders = mail.list_folders(access)
    return render_template("mail/list.html", access=access, listing=listing, folders=folders,
                           current=folder, folder_title=_title(folders, folder))


@bp.get("/<path:folder>/<int:uid>")
@login_required
def message(mailbox: str, folder: str, uid: int):
    access = require_mailbox(mailbox)
    allow_remote = request.args.get("remote") == "1"
    readable = mail.read_message(access, folder, uid, allow_remote)
    traces.record_request_action("message_opened", mailbox=access.mailbox,
                                 detail={"folder": folder, "uid": uid})
    return render_template("mail/message.html", access=access, message=readable.message,
                           html=readable.html, text_html=readable.text_html, current=folder,
                           folders=mail.list_folders(access), allow_remote=allow_remote,
                           patient_link=patient_links.answer_link(readable.message))


@bp.get("/<path:folder>/<int:uid>/body")
@login_required
def message_body(mailbox: str, folder: str, uid: int):
    """The sanitised HTML body as its own document, framed in a sandbox with a strict CSP."""
    access = require_mailbox(mailbox)
    allow_remote = request.args.get("remote") == "1"
    html = mail.message_html(access, folder, uid, allow_remote)
    if html is None:
        abort(404)
    response = make_response(render_template("mail/body_frame.html", body=html.html, css=html.css))
    response.headers["Content-Security-Policy"] = message_frame_csp(allow_remote)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/<path:folder>/<int:uid>/parts/<part_id>")
@login_required
def attachment(mailbox: str, folder: str, uid: int, part_id: str):
    access = require_mailbox(mailbox)
    part, data = mail.attachment(access, folder, uid, part_id)
    return attachment_response(part, data)


def _title(folders: list[Folder], name: str) -> str:
    for candidate in folders:
        if candidate.name == name:
            return folder_label(candidate)
    return name.rsplit("/", 1)[-1]
