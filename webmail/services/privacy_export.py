"""The person's own data as a zip of JSON files (rights of access and portability, GDPR
articles 15 and 20), built in memory, with a README that says what each file holds.

Never in it: session token hashes, encrypted passwords or session contents, the random
id of the consent cookie, the name of the administrator who handled a request, nor any
trace of another person's actions. Messages are on the mail server, not in Pli.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

from webmail.db import db
from webmail.models import Account, UsageCounter, UserSession
from webmail.models.base import utcnow
from webmail.services import delegation, privacy, privacy_requests, second_factor, traces
from webmail.services.user_agents import describe_device

FILES = (
    ("account.json", lazy_gettext(
        "Your account: address, display name, when it was created, your last sign-in and, "
        "if so, when the mailbox was marked deleted.")),
    ("professional.json", lazy_gettext(
        "Your professional details: profession, RPPS number, organisation.")),
    ("preferences.json", lazy_gettext(
        "Your preferences: interface language, newsletter and service messages.")),
    ("delegations_given.json", lazy_gettext(
        "The people you allow to work in your mailbox, with their rights and end dates.")),
    ("delegations_received.json", lazy_gettext(
        "The mailboxes you may work in as a delegate, with your rights and end dates.")),
    ("consent_records.json", lazy_gettext(
        "Your cookie choices made while signed in: category, choice, policy version, date.")),
    ("privacy_requests.json", lazy_gettext(
        "Your privacy requests, their status and the administrator's answers.")),
    ("sessions.json", lazy_gettext(
        "Your sign-in sessions: start, last activity, end and why, IP address and browser. "
        "Session keys are not included.")),
    ("second_factor.json", lazy_gettext(
        "Whether a second factor is on, since when, and how many recovery codes are left. "
        "The secret key and the codes themselves are not included.")),
    ("traces.json", lazy_gettext(
        "The functional traces of your own actions (sign-ins, messages opened, sent, "
        "moved, delegations…): the action, when, in which mailbox, from which IP address. "
        "They never hold the content or the subject of a message.")),
    ("usage_statistics.json", lazy_gettext(
        "Your daily usage counters, kept per person for a few months and then anonymised.")),
)


def export(account: Account, language: str) -> bytes:
    """The zip, and a trace that the person exported their data."""
    files = _files(account, language)
    data = _zip(files, _readme(account))
    traces.record_request_action("privacy_export", mailbox=account.address,
                                 detail={"files": len(files)})
    return data


def filename(now: datetime | None = None) -> str:
    return f"pli-export-{(now or utcnow()).date().isoformat()}.zip"


def _files(account: Account, language: str) -> dict[str, object]:
    """File name → JSON content, in the order of FILES."""
    return {
        "account.json": {
            "address": account.address, "display_name": account.display_name,
            "created_at": _iso(account.created_at), "last_login_at": _iso(account.last_login_at),
            "deleted_at": _iso(account.deleted_at), "is_admin": account.is_admin},
        "professional.json": {"profession": account.profession, "rpps": account.rpps,
                              "organisation": account.organisation},
        "preferences.json": {"language": language, "newsletter": account.newsletter,
                             "service_messages": account.service_messages},
        "delegations_given.json": [_delegation(row, "delegate")
                                   for row in delegation.given(account.address)],
        "delegations_received.json": [_delegation(row, "owner")
                                      for row in delegation.received(account.address)],
        "consent_records.json": [
            {"category": row.category, "granted": row.granted,
             "policy_version": row.policy_version, "recorded_at": _iso(row.recorded_at)}
            for row in privacy.consent_records(account)],
        "privacy_requests.json": [
            {"id": row.id, "kind": row.kind, "details": row.details, "status": row.status,
             "response": row.response, "created_at": _iso(row.created_at),
             "updated_at": _iso(row.updated_at)}
            for row in privacy_requests.for_account(account)],
        "sessions.json": _sessions(account),
        "second_factor.json": _second_factor(account),
        "traces.json": [{**entry.as_dict(), "label": entry.label}
                        for entry in traces.traces_for_actor(account.address)],
        "usage_statistics.json": _usage(account.address),
    }


def _zip(files: dict[str, object], readme: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme)
        for name, content in files.items():
            archive.writestr(name, json.dumps(content, ensure_ascii=False, indent=2) + "\n")
    return buffer.getvalue()


def _readme(account: Account) -> str:
    lines = [gettext("Data Pli holds about %(address)s, exported on %(date)s.",
                     address=account.address, date=utcnow().isoformat(timespec="seconds")),
             "",
             gettext("Each file is JSON (UTF-8). Dates are in UTC, in ISO 8601 form."),
             gettext("Your messages are not in this export: they are on the mail server, in "
                     "your mailbox, until you delete them."),
             ""]
    lines += [f"{name}\n    {description}" for name, description in FILES]
    contact = current_app.config.get("DPO_EMAIL") or current_app.config.get("DPO_NAME")
    if contact:
        lines += ["", gettext("Questions about your data: %(contact)s.", contact=contact)]
    return "\n".join(lines) + "\n"


def _delegation(row, other: str) -> dict:
    return {other: getattr(row, other), "rights": row.rights,
            "end_date": row.end_date.isoformat() if row.end_date else None,
            "ended_at": _iso(row.ends_at) if row.ends_at and row.ends_at <= utcnow() else None,
            "created_at": _iso(row.created_at)}


def _second_factor(account: Account) -> dict:
    factor = second_factor.status(account)
    return {"enabled": factor.enabled, "since": _iso(factor.since),
            "recovery_codes_left": factor.recovery_codes_left}


def _sessions(account: Account) -> list[dict]:
    rows = db.session.scalars(select(UserSession).where(UserSession.account_id == account.id)
                              .order_by(UserSession.id))
    return [{"started_at": _iso(row.created_at), "last_seen_at": _iso(row.last_seen_at),
             "ended_at": _iso(row.ended_at), "end_reason": row.end_reason,
             "ip_address": row.ip_address, "user_agent": row.user_agent,
             "device": describe_device(row.user_agent)} for row in rows]


def _usage(address: str) -> list[dict]:
    rows = db.session.scalars(select(UsageCounter).where(UsageCounter.actor == address)
                              .order_by(UsageCounter.day, UsageCounter.metric))
    return [{"day": row.day.isoformat(), "metric": row.metric, "amount": row.amount}
            for row in rows]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
