"""The second factor at sign-in: TOTP (RFC 6238) from an authenticator app, and
single-use recovery codes for the day the phone is lost.

Password-only sign-in is not enough for health professionals (PGSSI-S, README
"Second factor"). A code is accepted for the current 30-second step and one step either
side (clocks drift), and never twice: the last accepted step is kept, so a code seen
over someone's shoulder is worthless once used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import pyotp
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import select

from webmail.db import db
from webmail.models import Account, SecondFactor
from webmail.models.base import utcnow

ISSUER = "Pli"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class InvalidCode(ValueError):
    """The code is wrong, expired or already used."""


@dataclass(frozen=True)
class Enrolment:
    """What the person needs to set up their app: the key, also as an otpauth:// URI."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        """The key in groups of four, for typing it by hand."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


@dataclass(frozen=True)
class FactorStatus:
    enabled: bool
    since: datetime | None = None
    recovery_codes_left: int = 0


def required() -> bool:
    """Whether every sign-in with a password must also give a code (PLI_SECOND_FACTOR)."""
    return current_app.config["SECOND_FACTOR"] == "required"


def status(account: Account) -> FactorStatus:
    row = _row(account)
    if row is None or row.secret is None:
        return FactorStatus(False)
    return FactorStatus(True, row.confirmed_at, len(row.recovery_hashes or []))


def is_enabled(account: Account) -> bool:
    row = _row(account)
    return row is not None and row.secret is not None


def start_enrolment(account: Account) -> Enrolment:
    """A new key to set up in an app; the current one (if any) stays until it is confirmed."""
    row = _row(account) or SecondFactor(account_id=account.id, last_step=0, recovery_hashes=[])
    secret = pyotp.random_base32()
    row.pending_secret = _fernet().encrypt(secret.encode())
    db.session.add(row)
    db.session.commit()
    return _enrolment(account, secret)


def pending_enrolment(account: Account) -> Enrolment | None:
    """The key being set up, to show it again (a reload, a wrong first code)."""
    row = _row(account)
    if row is None or row.pending_secret is None:
        return None
    return _enrolment(account, _decrypt(row.pending_secret))


def confirm_enrolment(account: Account, code: str) -> list[str]:
    """Switch to the key being set up once a code from it is right; new recovery codes."""
    row = _row(account)
    if row is None or row.pending_secret is None:
        raise InvalidCode("nothing is being set up")
    step = _matching_step(_decrypt(row.pending_secret), code, after=0)
    if step is None:
        raise InvalidCode("wrong code")
    row.secret, row.pending_secret = row.pending_secret, None
    row.last_step = step
    row.confirmed_at = utcnow()
    codes = _new_recovery_codes(row)
    db.session.commit()
    return codes


def verify(account: Account, code: str) -> str:
    """Check a sign-in code; returns "totp" or "recovery" (a recovery code is used up).
    Raises InvalidCode."""
    row = _row(account)
    if row is None or row.secret is None:
        raise InvalidCode("no second factor")
    step = _matching_step(_decrypt(row.secret), code, after=row.last_step)
    if step is not None:
        row.last_step = step
        db.session.commit()
        return "totp"
    digest = _recovery_hash(code)
    remaining = [h for h in row.recovery_hashes or [] if not hmac.compare_digest(h, digest)]
    if len(remaining) == len(row.recovery_hashes or []):
        raise InvalidCode("wrong code")
    row.recovery_hashes = remaining
    db.session.commit()
    return "recovery"


def renew_recovery_codes(account: Account, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), after a code from the app."""
    row = _row(account)
    step = None if row is None or row.secret is None else _matching_step(
        _decrypt(row.secret), code, after=row.last_step)
    if step is None:  # a recovery code is refused here, and not used up
        raise InvalidCode("a current code from the app is needed")
    row.last_step = step
    codes = _new_recovery_codes(row)
    db.session.commit()
    return codes


def disable(account: Account, code: str | None = None) -> None:
    """Remove the second factor: by its owner with a current code, or by an
    administrator (code None) for someone who lost both their phone and their codes."""
    row = _row(account)
    if row is None:
        return
    if code is not None:
        verify(account, code)
    db.session.delete(row)
    db.session.commit()


def _row(account: Account) -> SecondFactor | None:
    return db.session.scalar(select(SecondFactor).where(SecondFactor.account_id == account.id))


def _enrolment(account: Account, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.address, issuer_name=ISSUER)
    return Enrolment(secret, uri)


def _matching_step(secret: str, code: str, after: int) -> int | None:
    """The time step a six-digit code belongs to, if it is near now and newer than `after`."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // STEP_SECONDS
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(row: SecondFactor) -> list[str]:
    codes = ["-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5))
                      for _ in range(2)) for _ in range(RECOVERY_CODES)]
    row.recovery_hashes = [_recovery_hash(code) for code in codes]
    return codes


def _recovery_hash(code: str) -> str:
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"pli second factor secrets").derive(current_app.secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _decrypt(token: bytes) -> str:
    return _fernet().decrypt(token).decode()

