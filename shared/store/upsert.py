"""Dialect-aware INSERT ... ON CONFLICT for Postgres and SQLite."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


class Outcome(StrEnum):
    """What an upsert did: the basis of metrics and of 'running twice changes nothing'."""

    INSERTED = "inserted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def insert_for(session: Session, table: Any) -> Any:
    """An INSERT construct of the session's dialect, which has on_conflict_* methods."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect: {dialect}")


def insert_ignore(session: Session, table: Any, values: dict[str, Any], keys: list[str]) -> int | None:
    """Insert a row unless its natural key exists; return the new id, or None when it existed."""
    stmt = insert_for(session, table).values(**values).on_conflict_do_nothing(index_elements=keys)
    result = session.execute(stmt.returning(table.c.id))
    return result.scalar_one_or_none()
