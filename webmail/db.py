"""The SQLAlchemy engine and a request-scoped session, tied to the Flask app."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker


class Database:
    """Holds the engine; `db.session` is the unit of work for the current request or command."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session: scoped_session[Session] = scoped_session(sessionmaker())

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        self.engine = make_engine(url)
        self.session.remove()
        self.session.configure(bind=self.engine, expire_on_commit=False)
        app.teardown_appcontext(lambda _exc: self.session.remove())


def make_engine(url: str) -> Engine:
    """SQLite for a laptop or a small practice, PostgreSQL for anything shared."""
    if not url.startswith(("sqlite", "postgresql")):
        raise ValueError("PLI_DATABASE_URL must be a SQLite or PostgreSQL URL "
                         "(sqlite:///… or postgresql+psycopg://…)")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


db = Database()
