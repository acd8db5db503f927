"""All settings in one place, read from `PLI_*` environment variables.

Defaults suit the local development backend; `check_production_safety` refuses to
start a production instance with a default secret or without TLS to the mail server.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)

DEFAULTS: dict[str, object] = {
    # Mail backend (the development rig listens on these ports).
    "IMAP_HOST": "127.0.0.1",
    "IMAP_PORT": 10143,
    "IMAP_SECURITY": "starttls",  # starttls, tls or plain
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 10587,
    "SMTP_SECURITY": "starttls",
    # Attachments of one message, in bytes (the usual MSSanté operator limit).
    "MAX_MESSAGE_BYTES": 10_000_000,
    "TLS_CA_FILE": "",  # PEM bundle to trust instead of the system store (private CA)
    "IMAP_TIMEOUT": 20,  # seconds for connect and each command
    "IMAP_POOL_IDLE_SECONDS": 300,  # pooled connections unused this long are closed
    "IMAP_POOL_MAX_IDLE": 64,  # idle connections kept per process, least recently used go
    # Delegation (README "Delegation"): a master login acts as an owner when no one is
    # signed in (expiry, ACL resync); delegates reach owners' folders in the shared
    # namespace; the Postfix sender-login map is written and reloaded by a command.
    "IMAP_MASTER_USER": "",
    "IMAP_MASTER_PASSWORD": "",
    "IMAP_MASTER_SEPARATOR": "*",
    "IMAP_SHARED_PREFIX": "shared/",
    "SENDER_LOGIN_MAP": "",  # file Pli rewrites: "owner owner,delegate,…" lines
    "SENDER_LOGIN_COMMAND": "",  # argv (JSON list) run after each rewrite; {map} = the file
    # Storage.
    "DATABASE_URL": f"sqlite:///{ROOT / 'var' / 'pli.sqlite3'}",
    # Sessions: ends with the browser, after idle time, and at an absolute limit.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    "SESSION_COOKIE_NAME": "pli_session",
    # Sign-in throttling (flask-limiter syntax), counted on failed attempts only.
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
    "LOGIN_LIMIT_PER_ADDRESS": "20 per 15 minutes",
    "RATELIMIT_STORAGE_URI": "memory://",
    # A code from an authenticator app after the password (README "Second factor"):
    # "required" makes everyone set one up at their next sign-in; "optional" lets each
    # person choose. Password-only sign-in is not acceptable for health professionals.
    "SECOND_FACTOR": "required",
    # Presentation.
    "TIMEZONE": "Europe/Paris",
    "DEFAULT_LOCALE": "fr",
    "PAGE_SIZE": 50,
    "FOLDER_CACHE_SECONDS": 20,  # folder list with counts kept per session; 0 disables
    "LIST_CACHE_ENTRIES": 20_000,  # list rows kept per process (only flags refetched); 0 off
    # Traces and retention (README "Traces and retention"), in months; run by
    # `flask retention run`. Functional traces count from the mailbox's deletion.
    "RETENTION_TECHNICAL_MONTHS": 12,  # technical events (WARNING+ log lines kept in the DB)
    "RETENTION_STATISTICS_MONTHS": 3,  # per-person usage counters, then anonymised
    "RETENTION_ACCOUNT_MONTHS": 12,  # account data after the mailbox is marked deleted
    "RETENTION_FUNCTIONAL_MONTHS": 120,  # functional traces after the mailbox is deleted
    # Cookies (README "Cookies and consent"). Only strictly necessary cookies unless an
    # administrator turns on an optional category; a new policy version asks again.
    "COOKIE_POLICY_VERSION": "2026-12",
    "AUDIENCE_MEASUREMENT": False,  # Pli's own first-party audience measurement, on consent
    # Privacy contacts shown on the privacy page (README "Privacy").
    "CONTROLLER_NAME": "",  # the data controller: the practice or the hosting organisation
    "DPO_NAME": "",
    "DPO_EMAIL": "",
    "DPO_POSTAL_ADDRESS": "",
    "SUPERVISORY_AUTHORITY_NAME": "CNIL",
    "SUPERVISORY_AUTHORITY_POSTAL_ADDRESS": "CNIL, 3 place de Fontenoy, TSA 80715, "
                                            "75334 Paris Cedex 07",
    "SUPERVISORY_AUTHORITY_URL": "https://www.cnil.fr/fr/adresser-une-plainte",
    # Secure links for patients (README "Secure links for patients"): how long a link
    # opens (at most 28 days), how long its status stays listed after that, and the
    # address patients reach Pli at (default: the one the professional is using).
    "PATIENT_LINK_DAYS": 28,
    "PATIENT_LINK_KEEP_DAYS": 30,
    "PUBLIC_URL": "",
    "LOG_LEVEL": "INFO",  # JSON lines on stderr; WARNING and worse also kept in the DB
    "ENV": "development",  # "production" turns on the safety checks
}

LANGUAGES = ("fr", "en")
MAX_IDLE_MINUTES = 120


def load_config(app: Flask, overrides: dict[str, object] | None = None) -> None:
    """Fill `app.config` from defaults, then `PLI_*` variables, then explicit overrides."""
    app.config.from_mapping(DEFAULTS)
    app.config["SECRET_KEY"] = None
    app.config.from_prefixed_env("PLI")
    if overrides:
        app.config.from_mapping(overrides)
    _derive(app)
    check_production_safety(app)


def _derive(app: Flask) -> None:
    config = app.config
    for key in ("IMAP_PORT", "SMTP_PORT", "PAGE_SIZE", "SESSION_IDLE_MINUTES",
                "SESSION_MAX_HOURS", "IMAP_TIMEOUT", "IMAP_POOL_IDLE_SECONDS",
                "IMAP_POOL_MAX_IDLE", "FOLDER_CACHE_SECONDS", "LIST_CACHE_ENTRIES",
                "MAX_MESSAGE_BYTES", "PATIENT_LINK_DAYS", "PATIENT_LINK_KEEP_DAYS"):
        config[key] = int(config[key])
    config["AUDIENCE_MEASUREMENT"] = _flag(config["AUDIENCE_MEASUREMENT"])
    config["COOKIE_POLICY_VERSION"] = str(config["COOKIE_POLICY_VERSION"])
    if not 1 <= config["SESSION_IDLE_MINUTES"] <= MAX_IDLE_MINUTES:
        raise ValueError(f"PLI_SESSION_IDLE_MINUTES must be between 1 and {MAX_IDLE_MINUTES}: "
                         "an idle session must lock within two hours (Ségur SC.SSI/IE.58)")
    config["SECOND_FACTOR"] = str(config["SECOND_FACTOR"]).lower()
    if config["SECOND_FACTOR"] not in ("required", "optional"):
        raise ValueError("PLI_SECOND_FACTOR must be required or optional, "
                         f"not {config['SECOND_FACTOR']!r}")
    for key in ("IMAP_SECURITY", "SMTP_SECURITY"):
        config[key] = str(config[key]).lower()
        if config[key] not in ("starttls", "tls", "plain"):
            raise ValueError(f"PLI_{key} must be starttls, tls or plain, not {config[key]!r}")
    if not config["SECRET_KEY"]:
        # Development only: one generated key in var/, shared by every gunicorn worker
        # (a key per process would make each worker refuse the others' forms).
        config["SECRET_KEY"] = _development_secret(ROOT / "var" / "secret_key")
        config["SECRET_KEY_IS_EPHEMERAL"] = True
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config["SESSION_MAX_HOURS"])
    config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the server-side session
    config["WTF_CSRF_HEADERS"] = ["X-CSRFToken"]
    config["RATELIMIT_HEADERS_ENABLED"] = False
    config["BABEL_DEFAULT_LOCALE"] = config["DEFAULT_LOCALE"]
    config["BABEL_DEFAULT_TIMEZONE"] = config["TIMEZONE"]
    config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "webmail" / "translations")
    # One upload can at most fill a message, plus room for the compose form's text.
    config["MAX_CONTENT_LENGTH"] = config["MAX_MESSAGE_BYTES"] + 2 * 1024 * 1024


def _flag(value: object) -> bool:
    """`PLI_X=true`, `1`, `yes` or `on` (JSON-parsed or not) mean on."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _development_secret(path: Path) -> str:
    """Create the key once, atomically (written aside, then linked into place)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        aside.write_text(secrets.token_hex(32))
        aside.chmod(0o600)
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another worker won the race: use its key
        finally:
            aside.unlink()
    return path.read_text().strip()


def check_production_safety(app: Flask) -> None:
    """Refuse to serve health data with settings that are only fit for a laptop."""
    config = app.config
    if config["ENV"] != "production":
        return
    problems = []
    if config.get("SECRET_KEY_IS_EPHEMERAL"):
        problems.append("PLI_SECRET_KEY is not set")
    for key in ("IMAP_SECURITY", "SMTP_SECURITY"):
        if config[key] == "plain":
            problems.append(f"PLI_{key}=plain sends passwords in clear")
    if problems:
        raise RuntimeError("Unsafe production configuration: " + "; ".join(problems))
    if config["SECOND_FACTOR"] != "required":
        log.warning("PLI_SECOND_FACTOR=%s: a password alone does not meet the PGSSI-S for "
                    "health professionals since 1 January 2026 (README \"Second factor\")",
                    config["SECOND_FACTOR"])
