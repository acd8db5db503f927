"""INSERT … ON CONFLICT for the two databases Pli runs on (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_or_ignore(connection: Connection, table: Table, key: list[str], values: dict) -> None:
    """Create the row unless one with the same `key` columns exists (race-free)."""
    statement = _insert(connection, table).values(values)
    connection.execute(statement.on_conflict_do_nothing(index_elements=key))


def insert_or_add(connection: Connection, table: Table, key: list[str], values: dict,
                  column: str) -> None:
    """Create the row, or add `values[column]` to the existing row's `column` (a counter)."""
    statement = _insert(connection, table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=key, set_={column: table.c[column] + statement.excluded[column]})
    connection.execute(statement)


def _insert(connection: Connection, table: Table):
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"Pli supports SQLite and PostgreSQL, not {dialect}")
