"""Alembic driven from the app's own configuration: `flask db upgrade`, `flask db revision`."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask
from flask.cli import AppGroup

from webmail.db import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

db_cli = AppGroup("db", help="Database schema migrations.")


def upgrade(revision: str = "heads") -> None:
    """Bring the configured database to `revision`; safe to run at every start."""
    assert db.engine is not None, "db.init_app must run first"
    with db.engine.begin() as connection:
        command.upgrade(_config(connection), revision)


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
def upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    upgrade(revision)
    click.echo(f"database at {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def revision_command(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    assert db.engine is not None
    with db.engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)


def _config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
