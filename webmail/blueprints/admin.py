"""Administration pages: a mailbox's functional traces, and the privacy requests people
file. Administrators only (404 for anyone else); every consultation of traces and every
answer to a request is itself traced in the mailbox concerned."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from webmail.services import admin, privacy_requests, traces
from webmail.services.privacy_requests import RequestError

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE = 50


@bp.get("/traces")
def mailbox_traces():
    person = admin.require_admin()
    raw = request.args.get("mailbox", "")
    before = request.args.get("before", type=int)
    mailbox, entries, error = "", [], None
    if raw.strip():
        try:
            mailbox = admin.parse_address(raw)
            entries = admin.read_traces(mailbox, person.address, PAGE + 1, before)
        except admin.AdminError:
            error = True
    older = entries[PAGE - 1].id if len(entries) > PAGE else None
    return render_template("admin/traces.html", mailbox=mailbox or raw.strip(),
                           entries=entries[:PAGE], older=older, error=error,
                           describe=traces.describe), 400 if error else 200


@bp.get("/privacy-requests")
def privacy_requests_page():
    admin.require_admin()
    return _privacy_requests(request.args.get("status", "open"))


@bp.post("/privacy-requests/<int:request_id>")
def handle_privacy_request(request_id: int):
    person = admin.require_admin()
    shown = request.form.get("shown", "open")
    try:
        privacy_requests.handle(request_id, request.form.get("status", ""),
                                request.form.get("response", ""), person.address)
    except RequestError as error:
        return _privacy_requests(shown, error=(request_id, str(error)), values=request.form)
    flash(gettext("Request %(id)s was updated.", id=request_id), "admin")
    return redirect(url_for(".privacy_requests_page", status=shown), 303)


def _privacy_requests(shown: str, error: tuple[int, str] | None = None, values=None):
    rows = privacy_requests.list_requests(privacy_requests.parse_statuses(shown))
    status = 400 if error is not None and not request.headers.get("HX-Request") else 200
    return render_template("admin/privacy_requests.html", rows=rows, shown=shown,
                           error=error, values=values or {},
                           statuses=privacy_requests.ADMIN_STATUSES,
                           kind_labels=privacy_requests.KIND_LABELS,
                           status_labels=privacy_requests.STATUS_LABELS), status
