"""Configuration: what production refuses, and the limits the health rules set."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from webmail.config import load_config

SAFE = {"ENV": "production", "SECRET_KEY": "a-real-secret-from-the-operator"}


def _load(**overrides: object) -> Flask:
    app = Flask(__name__)
    load_config(app, overrides)
    return app


def test_production_refuses_a_missing_secret_and_plain_mail_protocols(monkeypatch):
    monkeypatch.delenv("PLI_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="PLI_SECRET_KEY is not set"):
        _load(ENV="production")
    with pytest.raises(RuntimeError, match="PLI_IMAP_SECURITY=plain"):
        _load(**SAFE, IMAP_SECURITY="plain")
    assert _load(**SAFE).config["SECOND_FACTOR"] == "required"


def test_an_idle_session_locks_within_two_hours():
    assert _load(SESSION_IDLE_MINUTES=120).config["SESSION_IDLE_MINUTES"] == 120
    with pytest.raises(ValueError, match="between 1 and 120"):
        _load(SESSION_IDLE_MINUTES=121)


def test_the_second_factor_setting_is_checked_and_optional_is_warned(caplog):
    with pytest.raises(ValueError, match="PLI_SECOND_FACTOR"):
        _load(SECOND_FACTOR="sometimes")
    with caplog.at_level(logging.WARNING, logger="webmail.config"):
        _load(**SAFE, SECOND_FACTOR="optional")
    assert "PGSSI-S" in caplog.text
