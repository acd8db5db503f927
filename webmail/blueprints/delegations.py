"""Delegations: the owner's settings page, the switcher and marker every mailbox page
shows, the 403 page for a right not granted, and `flask delegations …` upkeep commands.

Plain forms with POST-redirect-GET; htmx only swaps the page's main section.
"""

from __future__ import annotations

import re
from datetime import date

import click
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale, gettext, lazy_gettext
from flask_login import login_required

from webmail.models import DelegationRight
from webmail.models.base import utcnow
from webmail.services import delegation, mailbox_switcher
from webmail.services import delegation_expiry as expiry
from webmail.services import delegation_server as server
from webmail.services.access import MailboxAccess, RightNotGranted, require_own_mailbox
from webmail.services.delegation import DelegationError

bp = Blueprint("delegations", __name__, url_prefix="/b/<mailbox>/delegations",
               cli_group="delegations")

RIGHT_LABELS = {
    DelegationRight.READ: lazy_gettext("Read only"),
    DelegationRight.ORGANISE: lazy_gettext("Read and organise"),
    DelegationRight.SEND_ON_BEHALF: lazy_gettext("Read, organise and send on behalf"),
}
RIGHT_HINTS = {
    DelegationRight.READ: lazy_gettext("Sees every folder and opens messages; changes nothing."),
    DelegationRight.ORGANISE: lazy_gettext("Also marks, moves, files and deletes messages."),
    DelegationRight.SEND_ON_BEHALF: lazy_gettext(
        "Also writes and sends from this mailbox: recipients see “sent by the delegate on "
        "behalf of” you."),
}


@bp.get("/")
@login_required
def page(mailbox: str):
    access = require_own_mailbox(mailbox)
    delegation.clean_up_ended(access)
    return _page(access)


@bp.post("/")
@login_required
def add(mailbox: str):
    access = require_own_mailbox(mailbox)
    form = request.form
    try:
        published = delegation.grant(access, form.get("delegate", ""), form.get("rights", ""),
                                     form.get("end_date", ""))
    except DelegationError as error:
        return _page(access, error=str(error), values=form)
    flash(gettext("%(address)s can now work in your mailbox.",
                  address=delegation.parse_address(form.get("delegate", ""))))
    _warn_unless(published)
    return redirect(url_for(".page", mailbox=access.mailbox), 303)


@bp.get("/<int:delegation_id>")
@login_required
def detail(mailbox: str, delegation_id: int):
    access = require_own_mailbox(mailbox)
    row = delegation.get_given(access, delegation_id) or abort(404)
    return _detail(access, row)


@bp.post("/<int:delegation_id>")
@login_required
def edit(mailbox: str, delegation_id: int):
    access = require_own_mailbox(mailbox)
    row = delegation.get_given(access, delegation_id) or abort(404)
    try:
        published = delegation.change(access, row, request.form.get("rights", ""),
                                      request.form.get("end_date", ""))
    except DelegationError as error:
        return _detail(access, row, error=str(error), values=request.form)
    flash(gettext("The delegation of %(address)s was changed.", address=row.delegate))
    _warn_unless(published)
    return redirect(url_for(".page", mailbox=access.mailbox), 303)


@bp.post("/<int:delegation_id>/remove")
@login_required
def remove(mailbox: str, delegation_id: int):
    access = require_own_mailbox(mailbox)
    row = delegation.get_given(access, delegation_id) or abort(404)
    address = row.delegate
    _warn_unless(delegation.remove(access, row))
    flash(gettext("%(address)s no longer has access to your mailbox.", address=address))
    return redirect(url_for(".page", mailbox=access.mailbox), 303)


@bp.post("/name")
@login_required
def name(mailbox: str):
    access = require_own_mailbox(mailbox)
    try:
        delegation.set_display_name(access, request.form.get("display_name", ""))
    except DelegationError as error:
        return _page(access, error=str(error), values=request.form)
    flash(gettext("Your name was saved."))
    return redirect(url_for(".page", mailbox=access.mailbox), 303)


@bp.app_errorhandler(RightNotGranted)
def right_not_granted(error: RightNotGranted):
    access = error.access
    return render_template("delegations/forbidden.html", access=access, need=error.need,
                           owner_only=error.owner_only, labels=RIGHT_LABELS), 403


@bp.app_context_processor
def header_helpers() -> dict:
    return {"mailbox_choices": mailbox_switcher.mailbox_choices, "delegate_marker": delegate_marker,
            "right_labels": RIGHT_LABELS}


@bp.app_template_filter("long_day")
def long_day(value: date) -> str:
    return format_date(value, "long")


def delegate_marker(access: MailboxAccess) -> str:
    """"You are working in Dr X's mailbox as a delegate", with French's "du Dr"."""
    text = gettext("You are working in the mailbox of %(owner)s as a delegate.",
                   owner=access.owner_label)
    if get_locale() is not None and get_locale().language == "fr":
        text = re.sub(r"\bde (Dr|Docteur|Pr|Professeur)\b", r"du \1", text)
    return text


@bp.cli.command("expire")
def expire_command() -> None:
    """End delegations whose last day has passed: ACLs, sender logins, notices."""
    cleaned, failed = expiry.expire_due()
    published = server.publish_sender_logins()
    click.echo(f"{cleaned} delegation(s) ended, {failed} failed")
    if failed or not published:
        raise SystemExit(1)


@bp.cli.command("publish-sender-logins")
def publish_command() -> None:
    """Rewrite the Postfix sender-login map from the table (after a restore, say)."""
    if not server.publish_sender_logins():
        raise SystemExit(1)
    click.echo("sender-login map published")


def _page(access: MailboxAccess, error: str | None = None, values=None):
    rows = delegation.given(access.mailbox)
    status = 200 if error is None or request.headers.get("HX-Request") else 400
    return render_template("delegations/page.html", access=access, rows=rows, now=utcnow(),
                           names=delegation.display_names([r.delegate for r in rows]),
                           own_name=delegation.display_names([access.actor]).get(access.actor,
                                                                                 ""),
                           labels=RIGHT_LABELS, hints=RIGHT_HINTS, error=error,
                           values=values or {}), status


def _detail(access: MailboxAccess, row, error: str | None = None, values=None):
    status = 200 if error is None or request.headers.get("HX-Request") else 400
    return render_template("delegations/detail.html", access=access, row=row, now=utcnow(),
                           activity=delegation.activity(access, row.delegate),
                           labels=RIGHT_LABELS, hints=RIGHT_HINTS, error=error,
                           values=values or {}), status


def _warn_unless(published: bool) -> None:
    if not published:
        flash(gettext("Saved, but the mail server's list of who may send as whom could not be "
                      "updated. Please tell your administrator."), "error")
