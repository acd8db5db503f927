"""Writing mail: new message, reply, reply-all, forward, drafts, attachments, receipts.

One form does everything, so it works the same without JavaScript: its buttons save,
attach, remove an attachment, discard or send, and each ends in a redirect (PRG) or in
the form shown again with what went wrong. With htmx, saving (every 30 s while typing),
attaching and removing answer with the draft's fragment only.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import login_required
from flask_wtf.csrf import CSRFError, ValidationError, validate_csrf
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from imap_bridge.errors import MailError
from imap_bridge.models import ParsedMessage
from webmail.forms_compose import (
    ComposeForm,
    InMemoryFormDataParser,
    SignatureForm,
    parse_uid,
    salvage_form,
    uploaded_files,
)
from webmail.models import DelegationRight
from webmail.services import (
    compose,
    compose_book,
    compose_receipts,
    compose_send,
    compose_text,
    mail,
    patient_links,
)
from webmail.services.access import MailboxAccess, require_mailbox
from webmail.services.compose import ComposeProblem, ComposeState, SendFailed
from webmail.services.compose_folders import drafts_folder

log = logging.getLogger(__name__)
bp = Blueprint("compose", __name__, url_prefix="/b/<mailbox>/compose")
SEND = DelegationRight.SEND_ON_BEHALF
MAX_REMOVED = 100


@bp.url_value_preprocessor
def _uploads_in_memory(_endpoint, _values) -> None:
    # Runs before the app's before_request hooks, so also before the CSRF check that
    # parses the form: uploads to compose never go through a temporary file.
    request.form_data_parser_class = InMemoryFormDataParser


@bp.get("/new")
@login_required
def new(mailbox: str):
    access = require_mailbox(mailbox, need=SEND)
    return _page(access, compose.blank(access, request.args.get("to", "")))


@bp.get("/reply/<path:folder>/<int:uid>")
@login_required
def reply(mailbox: str, folder: str, uid: int):
    access = require_mailbox(mailbox, need=SEND)
    mode = "reply_all" if request.args.get("all") == "1" else "reply"
    return _page(access, compose.answer(access, folder, _uid(uid), mode))


@bp.get("/forward/<path:folder>/<int:uid>")
@login_required
def forward(mailbox: str, folder: str, uid: int):
    access = require_mailbox(mailbox, need=SEND)
    return _page(access, compose.answer(access, folder, _uid(uid), "forward"))


@bp.post("/forward/<path:folder>/<int:uid>")
@login_required
def forward_with_attachments(mailbox: str, folder: str, uid: int):
    access = require_mailbox(mailbox, need=SEND)
    try:
        state = compose.forward_with_attachments(access, folder, _uid(uid))
    except ComposeProblem as problem:
        return _page(access, problem.state, status=422)
    return _after_save(access, state)


@bp.get("/draft/<int:uid>")
@login_required
def draft(mailbox: str, uid: int):
    access = require_mailbox(mailbox, need=SEND)
    return _page(access, compose.open_draft(access, _uid(uid)))


@bp.post("/")
@login_required
def submit(mailbox: str):
    access = require_mailbox(mailbox, need=SEND)
    form = ComposeForm()
    if not form.validate():
        state = form.to_state()
        state.errors.update({name: gettext("This field is too long.") for name in form.errors
                             if name != "csrf_token"})
        return _answer(access, state, status=422)
    state = form.to_state()
    action = request.form.get("action", "save")
    try:
        if action == "discard":
            if state.draft_uid is not None:
                compose.discard(access, state.draft_uid)
            return redirect(url_for("mail.folder", mailbox=access.mailbox, folder="INBOX"))
        files = uploaded_files()
        if action == "send":
            return _send(access, state, files)
        removed = tuple(request.form.getlist("remove"))[:MAX_REMOVED]
        state = compose.save(access, state, files, removed)
    except ComposeProblem as problem:
        return _answer(access, problem.state, status=422)
    return _answer(access, state) if request.htmx or state.errors else _after_save(access, state)


@bp.get("/sent")
@login_required
def sent(mailbox: str):
    access = require_mailbox(mailbox, need=SEND)
    folder = request.args.get("folder", "")
    uid = parse_uid(request.args.get("uid"), optional=True)
    return render_template("compose/sent.html", access=access, folder=folder, uid=uid,
                           count=request.args.get("count", 0, type=int),
                           reports=request.args.get("reports") == "1",
                           patient=request.args.get("patient", "")[:320],
                           folders=mail.list_folders(access), current=folder)


@bp.get("/suggest")
@login_required
def suggest(mailbox: str):
    """Datalist options for an address field: what is typed before the last comma is
    kept, so choosing a suggestion completes the last address only."""
    access = require_mailbox(mailbox, need=SEND)
    field = request.args.get("field", "to")
    if field not in ("to", "cc", "bcc"):
        abort(404)
    typed = request.args.get(field, "")[:2000]
    head, comma, last = typed.rpartition(",")
    prefix = head + comma + " " if comma else ""
    found = compose_book.suggestions(access, last) if len(last.strip()) >= 2 else []
    options = [prefix + compose_text.format_addresses([address]) for address in found]
    return render_template("compose/_suggestions.html", field=field, suggestions=options)


@bp.route("/signature", methods=["GET", "POST"])
@login_required
def signature(mailbox: str):
    access = require_mailbox(mailbox, need=SEND)
    form = SignatureForm()
    if form.validate_on_submit():
        compose_book.save_signature(access, form.text.data or "")
        flash(gettext("Your signature was saved."), "compose")
        return redirect(url_for(".signature", mailbox=access.mailbox))
    if request.method == "GET":
        form.text.data = compose_book.signature(access)
    return render_template("compose/signature.html", access=access, form=form,
                           folders=mail.list_folders(access), current="",
                           identity=compose.identity_label(access)), \
        422 if form.errors else 200


@bp.post("/receipt/<path:folder>/<int:uid>")
@login_required
def read_receipt(mailbox: str, folder: str, uid: int):
    access = require_mailbox(mailbox, need=SEND)
    try:
        address = compose_receipts.send_read_receipt(access, folder, _uid(uid))
        flash(gettext("A read receipt was sent to %(address)s.", address=address), "compose")
    except compose_receipts.ReceiptFailed as error:
        flash(str(error), "compose-error")
    return redirect(url_for("mail.message", mailbox=access.mailbox, folder=folder, uid=uid))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """An upload over the limit: the text typed is recovered from the request and saved
    as a draft, and the form says which file was too big."""
    limit = current_app.config["MAX_MESSAGE_BYTES"]
    try:
        fields, files = salvage_form(limit * 4 + 4 * 1024 * 1024)
        validate_csrf(fields.get("csrf_token"))
        access = require_mailbox(request.view_args["mailbox"], need=SEND)
    except (ValidationError, CSRFError, KeyError, HTTPException, ValueError):
        return render_template("errors/error.html", code=413, title=gettext("Too large"),
                               message=_too_large_message(limit)), 413
    form = ComposeForm(formdata=fields, meta={"csrf": False})
    state = form.to_state()
    try:
        state = compose.save(access, state)
    except ComposeProblem as problem:  # shown again with its errors; the text is in the form
        state = problem.state
    except MailError as error:
        log.warning("draft not saved after a too-large upload: %s", error)
    names = ", ".join(gettext("“%(name)s”", name=name) for name, _ in files) \
        or gettext("The file")
    state.errors["attachments"] = gettext("%(names)s: too large. %(limit)s", names=names,
                                          limit=_too_large_message(limit))
    return _answer(access, state, status=200 if request.htmx else 413)


@bp.app_template_global()
def compose_receipt_offer(access: MailboxAccess, folder: str, message: ParsedMessage):
    if not access.can_send:
        return None
    return compose_receipts.offer(access, folder, message)


@bp.app_template_global()
def compose_receipts_for(access: MailboxAccess, folder: str, message: ParsedMessage):
    return compose_receipts.receipts_for(access, folder, message)


@bp.app_template_global()
def compose_is_drafts(access: MailboxAccess, folder: str) -> bool:
    try:
        return access.can_send and access.folder_name(drafts_folder(access)) == folder
    except MailError:
        return False


def _send(access: MailboxAccess, state: ComposeState, files):
    # Files attached at the last moment (without JavaScript) go straight into the message;
    # the draft gets them only if the send fails, so 5 MB is not stored twice for nothing.
    if state.patient_link and not patient_links.available():
        state.errors["patient_link"] = gettext("Secure links for patients are not set up on "
                                               "this server (ask your administrator).")
        return _answer(access, compose.save(access, state, files), status=422)
    try:
        if state.patient_link:
            result = compose_send.send_secure_link(access, state, files, _patient_url)
        else:
            result = compose_send.send(access, state, files)
    except SendFailed as failure:
        return _answer(access, failure.state, error=failure.message, status=503)
    return redirect(url_for(".sent", mailbox=access.mailbox, folder=result.sent_folder or "",
                            uid=result.sent_uid, count=len(result.recipients),
                            reports="1" if result.delivery_reports else None,
                            patient=result.recipients[0] if state.patient_link else None))


def _patient_url(url_token: str) -> str:
    """The link the patient receives: on PLI_PUBLIC_URL when set, else on this host."""
    base = str(current_app.config["PUBLIC_URL"]).rstrip("/")
    if base:
        return base + url_for("patient.open_link", url_token=url_token)
    return url_for("patient.open_link", url_token=url_token, _external=True)


def _after_save(access: MailboxAccess, state: ComposeState):
    return redirect(url_for(".draft", mailbox=access.mailbox, uid=state.draft_uid,
                            _anchor="draft-state"))


def _answer(access: MailboxAccess, state: ComposeState, error: str | None = None,
            status: int = 200):
    """The draft fragment for htmx, else the whole form."""
    if request.htmx:
        response = make_response(render_template(
            "compose/_draft_state.html", access=access, state=state, error=error,
            limit=current_app.config["MAX_MESSAGE_BYTES"]))
        if state.draft_uid is not None:
            response.headers["HX-Replace-Url"] = url_for(".draft", mailbox=access.mailbox,
                                                         uid=state.draft_uid)
        return response
    return _page(access, state, error=error, status=status)


def _page(access: MailboxAccess, state: ComposeState, error: str | None = None,
          status: int = 200):
    return render_template(
        "compose/form.html", access=access, state=state, form=ComposeForm.from_state(state),
        error=error, identity=compose.identity_label(access),
        limit=current_app.config["MAX_MESSAGE_BYTES"], folders=mail.list_folders(access),
        current=_drafts_name(access), patient_links_offered=patient_links.available()), status


def _drafts_name(access: MailboxAccess) -> str:
    try:
        return access.folder_name(drafts_folder(access))
    except MailError:
        return ""


def _uid(uid: int) -> int:
    return parse_uid(str(uid))


def _too_large_message(limit: int) -> str:
    return gettext("Attachments are limited to %(limit)s per message.",
                   limit=compose.size_label(limit))
