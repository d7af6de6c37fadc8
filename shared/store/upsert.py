"""Dialect-aware INSERT ... ON CONFLICT for Postgres and SQLite."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import delete
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


def insert_ignore_many(session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> list[Any]:
    """Insert rows in one round trip (per thousand), skipping those whose natural key exists; returns
    (id, *keys) of the rows inserted."""
    if not rows:
        return []
    # Rows as executemany parameters, not .values(rows): the statement compiles once (cached) and
    # SQLAlchemy sends it as multi-row VALUES batches anyway ("insertmanyvalues", RETURNING kept).
    stmt = insert_for(session, table).on_conflict_do_nothing(index_elements=keys)
    return list(session.execute(stmt.returning(table.c.id, *(table.c[k] for k in keys)), rows).all())


def replace_article_rows(session: Session, table: Any, article_id: int, key: str, rows: list[dict[str, Any]]) -> None:
    """Make an article's rows of `table` (unique on article_id and `key`) exactly `rows`, in order:
    rows no longer listed are deleted, the others upserted with their position."""
    session.execute(delete(table).where(table.c.article_id == article_id, table.c[key].not_in([r[key] for r in rows])))
    for position, row in enumerate(rows):
        values = {"article_id": article_id, "position": position, **row}
        changed = {name: value for name, value in values.items() if name not in ("article_id", key)}
        stmt = insert_for(session, table).values(**values)
        session.execute(stmt.on_conflict_do_update(index_elements=["article_id", key], set_=changed))
