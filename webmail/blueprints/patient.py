"""Secure links for patients: the pages a patient reaches from the link (code, message,
answer) and the professional's list of the links they sent.

A patient has no account: once the code is right, this browser's session remembers the
link as opened for UNLOCK_MINUTES, and nothing more. Every answer of a page about a link
is the same "does not open" page whether the link never existed, expired, was withdrawn
or was locked, so the page tells nothing to someone trying links.
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import login_required

from imap_bridge.errors import MailError
from imap_bridge.mime import get_part, inline_images
from imap_bridge.sanitize import sanitize_html
from imap_bridge.text import text_to_html
from webmail.downloads import attachment_response
from webmail.extensions import limiter
from webmail.models import DelegationRight
from webmail.security_headers import message_frame_csp
from webmail.services import mail, patient_links
from webmail.services.access import require_mailbox
from webmail.services.patient_links import LinkUnavailable, OpenLink, WrongCode

bp = Blueprint("patient", __name__)
UNLOCK_MINUTES = 30
_OPENED = "pli_patient_links"  # in the (anonymous) session: {link id: unlocked until}


@bp.route("/p/<url_token>", methods=["GET", "POST"])
@limiter.limit("30 per 15 minutes", methods=["POST"], scope="patient-code")
def open_link(url_token: str):
    found = _live(url_token)
    if _unlocked(found):
        return _message_page(url_token, found)
    error, status = None, 200
    if request.method == "POST":
        try:
            patient_links.check_code(found, request.form.get("code", "")[:40],
                                     request.remote_addr)
        except WrongCode as wrong:
            error, status = gettext(
                "This code is not the right one. Attempts left: %(n)s.",
                n=wrong.attempts_left), 401
        except LinkUnavailable:
            return _unavailable()
        else:
            _remember(found)
            return redirect(url_for(".open_link", url_token=url_token), 303)
    return _no_index(make_response(render_template(
        "patient/code.html", url_token=url_token, error=error,
        professional=patient_links.professional(found.link),
        expires_at=found.link.expires_at), status))


@bp.get("/p/<url_token>/body")
def body(url_token: str):
    """The sanitised HTML of the message, framed with its own strict CSP as in the reader."""
    open_link = _opened(url_token)
    parsed, raw = patient_links.message(open_link)
    if parsed.html_body is None:
        abort(404)
    html = sanitize_html(parsed.html_body, allow_remote=False, cid_images=inline_images(raw))
    response = make_response(render_template("mail/body_frame.html", body=html.html,
                                             css=html.css))
    response.headers["Content-Security-Policy"] = message_frame_csp(False)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return _no_index(response)


@bp.get("/p/<url_token>/parts/<part_id>")
def attachment(url_token: str, part_id: str):
    open_link = _opened(url_token)
    _, raw = patient_links.message(open_link)
    part, data = get_part(raw, part_id)
    return _no_index(attachment_response(part, data))


@bp.post("/p/<url_token>/answer")
@limiter.limit("20 per hour", scope="patient-answer")
def answer(url_token: str):
    open_link = _opened(url_token)
    text = request.form.get("text", "")
    try:
        patient_links.reply(open_link, text, request.remote_addr)
    except ValueError:
        return _message_page(url_token, open_link, answer=text, status=400, error=gettext(
            "Please write your answer (at most %(n)s characters).",
            n=patient_links.MAX_REPLY))
    except MailError:
        return _message_page(url_token, open_link, answer=text, status=503, error=gettext(
            "Your answer could not be delivered just now. It is still below: please try "
            "again in a few minutes."))
    flash(gettext("Your answer was sent to %(name)s.",
                  name=patient_links.professional(open_link.link)), "patient")
    return redirect(url_for(".open_link", url_token=url_token), 303)


@bp.get("/b/<mailbox>/patient-links/")
@login_required
def links(mailbox: str):
    access = require_mailbox(mailbox, need=DelegationRight.SEND_ON_BEHALF)
    rows = patient_links.for_mailbox(access.mailbox)
    return render_template("patient/links.html", access=access, rows=rows,
                           status_of=patient_links.status,
                           available=patient_links.available(),
                           folders=mail.list_folders(access), current="")


@bp.post("/b/<mailbox>/patient-links/<int:link_id>/revoke")
@login_required
def revoke(mailbox: str, link_id: int):
    access = require_mailbox(mailbox, need=DelegationRight.SEND_ON_BEHALF)
    if patient_links.revoke(access.mailbox, link_id, access.actor):
        flash(gettext("The link is withdrawn: it no longer opens, and the copy kept for the "
                      "patient is erased."), "patient-links")
    return redirect(url_for(".links", mailbox=access.mailbox), 303)


def _live(url_token: str) -> OpenLink:
    try:
        return patient_links.find(url_token)
    except LinkUnavailable:
        abort(_unavailable())


def _opened(url_token: str) -> OpenLink:
    open_link = _live(url_token)
    if not _unlocked(open_link):
        abort(redirect(url_for(".open_link", url_token=url_token)))
    return open_link


def _unlocked(open_link: OpenLink) -> bool:
    until = (session.get(_OPENED) or {}).get(str(open_link.link.id), 0)
    return isinstance(until, int | float) and until > time.time()


def _remember(open_link: OpenLink) -> None:
    now = time.time()
    opened = {key: until for key, until in (session.get(_OPENED) or {}).items()
              if isinstance(until, int | float) and until > now}
    opened[str(open_link.link.id)] = int(now + UNLOCK_MINUTES * 60)
    session[_OPENED] = dict(sorted(opened.items(), key=lambda item: item[1])[-10:])


def _message_page(url_token: str, open_link: OpenLink, answer: str = "", status: int = 200,
                  error: str | None = None):
    parsed, _ = patient_links.message(open_link)
    text_html = None if parsed.html_body is not None or not parsed.text_body \
        else text_to_html(parsed.text_body)
    return _no_index(make_response(render_template(
        "patient/message.html", url_token=url_token, message=parsed, text_html=text_html,
        link=open_link.link, professional=patient_links.professional(open_link.link),
        answer=answer, error=error), status))


def _unavailable():
    return _no_index(make_response(render_template("patient/unavailable.html"), 404))


def _no_index(response):
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
