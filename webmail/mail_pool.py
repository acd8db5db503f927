"""The app's IMAP connection pool, built from configuration once per process."""

from __future__ import annotations

from flask import Flask, current_app

from imap_bridge.connection import ServerSettings
from imap_bridge.pool import ConnectionPool

_EXTENSION = "pli_imap_pool"


def settings_from_config(config: dict) -> ServerSettings:
    return ServerSettings(
        host=config["IMAP_HOST"],
        port=config["IMAP_PORT"],
        security=config["IMAP_SECURITY"],
        ca_file=config["TLS_CA_FILE"] or None,
        timeout=config["IMAP_TIMEOUT"],
    )


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = ConnectionPool(
        settings_from_config(app.config), idle_seconds=app.config["IMAP_POOL_IDLE_SECONDS"],
        max_idle_total=app.config["IMAP_POOL_MAX_IDLE"],
    )


def pool() -> ConnectionPool:
    return current_app.extensions[_EXTENSION]
