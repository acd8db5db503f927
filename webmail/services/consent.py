"""Cookie choices: what a browser chose about each optional category, under which version of
the cookie policy, and the records that prove it (CNIL: consent must be demonstrable).

The choice lives in a signed cookie (so it cannot be forged into someone else's record) with
a random subject id; each accept or refuse adds one `ConsentRecord` per optional category.
A choice made under another policy version is ignored, which asks the question again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from webmail.cookie_policy import optional_categories
from webmail.db import db
from webmail.models import ConsentRecord


@dataclass(frozen=True)
class CookieChoice:
    policy_version: str
    granted: frozenset[str]  # optional categories accepted
    refused: frozenset[str]
    subject: str = ""  # random id tying the choice to its records; none for a mere dismissal

    def answers(self, categories: set[str]) -> bool:
        return categories <= self.granted | self.refused


def current_choice(raw: str | None) -> CookieChoice | None:
    """The choice in the cookie if it is genuine and made under the current policy version."""
    choice = _decode(raw)
    if choice is None or choice.policy_version != current_app.config["COOKIE_POLICY_VERSION"]:
        return None
    return choice


def question_pending(raw: str | None) -> bool:
    """True until the visitor has dismissed the notice or answered every optional category."""
    choice = current_choice(raw)
    return choice is None or not choice.answers(_optional_ids())


def granted(raw: str | None, category: str) -> bool:
    """Consent to `category`: enabled on this instance and accepted under the current policy."""
    if category not in _optional_ids():
        return False
    choice = current_choice(raw)
    return choice is not None and category in choice.granted


def dismissal() -> CookieChoice:
    """"Got it" on the informative notice: nothing to consent to, nothing to record."""
    return CookieChoice(current_app.config["COOKIE_POLICY_VERSION"], frozenset(), frozenset())


def record_choice(accept: bool, previous_raw: str | None, account_id: int | None) -> CookieChoice:
    """Accept or refuse every optional category, with one record per category as proof."""
    previous = _decode(previous_raw)
    subject = previous.subject if previous and previous.subject else secrets.token_urlsafe(24)
    version = current_app.config["COOKIE_POLICY_VERSION"]
    categories = frozenset(_optional_ids())
    for category in sorted(categories):
        db.session.add(ConsentRecord(subject=subject, account_id=account_id, category=category,
                                     granted=accept, policy_version=version))
    db.session.commit()
    return CookieChoice(version, categories if accept else frozenset(),
                        frozenset() if accept else categories, subject)


def latest_records(raw: str | None) -> list[ConsentRecord]:
    """The newest record per category for this browser's current choice (shown as proof)."""
    choice = current_choice(raw)
    if choice is None or not choice.subject:
        return []
    rows = db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.subject == choice.subject,
                                    ConsentRecord.policy_version == choice.policy_version)
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()))
    newest: dict[str, ConsentRecord] = {}
    for row in rows:
        newest.setdefault(row.category, row)
    return [newest[category] for category in sorted(newest)]


def encode(choice: CookieChoice) -> str:
    data: dict[str, object] = {"v": choice.policy_version}
    if choice.subject:
        data.update(g=sorted(choice.granted), r=sorted(choice.refused), s=choice.subject)
    return _serializer().dumps(data)


def _decode(raw: str | None) -> CookieChoice | None:
    if not raw:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("v"), str):
        return None
    return CookieChoice(data["v"], _names(data.get("g")), _names(data.get("r")),
                        str(data.get("s") or "")[:64])


def _names(value: object) -> frozenset[str]:
    return frozenset(item for item in value if isinstance(item, str)) \
        if isinstance(value, list) else frozenset()


def _optional_ids() -> set[str]:
    return {category.id for category in optional_categories()}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="pli-cookie-choice")
