"""Folder management: one page with plain forms; deleting asks on a page of its own."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import login_required

from webmail.services import folder_admin, mail, organise
from webmail.services.access import MailboxAccess, require_mailbox
from webmail.services.organise import OrganiseError

bp = Blueprint("folder_admin", __name__, url_prefix="/b/<mailbox>/_folder-admin")


@bp.get("/")
@login_required
def page(mailbox: str):
    access = _owner(mailbox)
    return render_template("organise/folders.html", access=access,
                           managed=folder_admin.list_managed(access),
                           folders=mail.list_folders(access), current="")


@bp.post("/create")
@login_required
def create(mailbox: str):
    access = _owner(mailbox)
    form = request.form
    return _done(access, lambda: folder_admin.create(access, form.get("parent", ""),
                                                       form.get("name", "")))


@bp.post("/rename")
@login_required
def rename(mailbox: str):
    access = _owner(mailbox)
    form = request.form
    return _done(access, lambda: folder_admin.rename(access, form.get("folder", ""),
                                                       form.get("name", "")))


@bp.post("/subscribe")
@login_required
def subscribe(mailbox: str):
    access = _owner(mailbox)
    form = request.form
    return _done(access, lambda: folder_admin.subscribe(access, form.get("folder", ""),
                                                          form.get("subscribed") == "1"))


@bp.post("/delete")
@login_required
def delete(mailbox: str):
    """First a confirmation page that says what happens to the messages; then the deletion."""
    access = _owner(mailbox)
    name = request.form.get("folder", "")
    if request.form.get("confirm") != "1":
        try:
            managed = folder_admin.find_deletable(access, name)
        except OrganiseError as error:
            organise.notify(access, str(error), ok=False)
            return redirect(url_for(".page", mailbox=access.mailbox))
        return render_template("organise/confirm_folder_delete.html", access=access,
                               managed=managed, trash=folder_admin.trash_name(access),
                               folders=mail.list_folders(access), current="")
    return _done(access, lambda: folder_admin.delete(access, name))


def _owner(mailbox: str) -> MailboxAccess:
    """Folders are managed by the mailbox's owner only, never through a delegation."""
    access = require_mailbox(mailbox)
    if not access.is_owner:
        abort(403)
    return access


def _done(access: MailboxAccess, change):
    try:
        organise.notify(access, change())
    except OrganiseError as error:
        organise.notify(access, str(error), ok=False)
    return redirect(url_for(".page", mailbox=access.mailbox))
