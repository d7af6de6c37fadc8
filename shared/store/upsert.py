"""Dialect-aware INSERT ... ON CONFLICT for Postgres and SQLite, and the lock order every writer keeps.

Lock order: a transaction that writes several rows of a table takes their locks in one global order,
the natural key's (rows of a batch are sorted by it and written by one set-based statement), or the
id's when it updates rows it found by a query (`update_locked`). Two writers whose rows overlap then
wait for each other at most once and never deadlock. Each stage writes its tables in a fixed order
too (enrich: tags, then entities, then the article's own rows, then fingerprint bands).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Row, all_, any_, bindparam, cast, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import sqltypes


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


def in_key_order(rows: Sequence[dict[str, Any]], keys: Sequence[str], *, last_wins: bool) -> list[dict[str, Any]]:
    """One row per natural key (the last given or the first, as the caller's statement would keep),
    sorted by the key: the order every writer of the table takes its row locks in."""
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        if last_wins or key not in by_key:
            by_key[key] = row
    return [by_key[k] for k in sorted(by_key)]


def _shape(session: Session, table: Any, rows: list[dict[str, Any]]) -> tuple[str, tuple[str, ...], frozenset[str]]:
    """What the INSERT of `rows` looks like: dialect, columns, and the columns with one value for the
    whole batch (a source, a time), which travel as a scalar rather than an array."""
    names = tuple(rows[0])
    first = rows[0]
    scalars = frozenset(n for n in names if all(row[n] == first[n] for row in rows))
    return session.get_bind().dialect.name, names, scalars


def _parameters(table: Any, shape: tuple[str, tuple[str, ...], frozenset[str]], rows: list[dict[str, Any]]) -> Any:
    """The parameters of the INSERT of `rows`: on Postgres one array per column (JSON as text), on
    SQLite the rows themselves (SQLAlchemy's "insertmanyvalues" pages, in order)."""
    dialect, names, scalars = shape
    if dialect != "postgresql":
        return rows
    params: dict[str, Any] = {}
    for name in names:
        if name in scalars:
            params[f"p_{name}"] = rows[0][name]
        elif isinstance(table.c[name].type, sqltypes.JSON):
            params[f"p_{name}"] = [json.dumps(row[name]) for row in rows]
        else:
            params[f"p_{name}"] = [row[name] for row in rows]
    return params


@lru_cache(maxsize=256)
def _insert_rows(table: Any, shape: tuple[str, tuple[str, ...], frozenset[str]]) -> Any:
    """The INSERT of one shape of batch, built once per shape and kept (as are the statements of
    `_insert_statement`): building and cache-keying a statement costs the worker more CPU than Postgres
    spends running it (profiled: a third of the enrich stage). On Postgres it inserts from `unnest` of
    one array per column `WITH ORDINALITY ORDER BY`, whatever the number of rows: a VALUES list of
    1,000 rows has ~12,000 placeholders, which the driver spends longer converting than the database
    spends inserting."""
    dialect, names, scalars = shape
    if dialect != "postgresql":
        return sqlite.insert(table)
    picked = {n: cast(bindparam(f"p_{n}", type_=table.c[n].type), table.c[n].type) for n in scalars}
    arrays = []
    for name in (n for n in names if n not in scalars):
        element = sqltypes.Text() if isinstance(table.c[name].type, sqltypes.JSON) else table.c[name].type
        array = postgresql.ARRAY(element)
        arrays.append((name, cast(bindparam(f"p_{name}", type_=array), array)))
    if not arrays:  # a single row (rows of a batch differ at least in their key)
        return postgresql.insert(table).from_select(list(names), select(*(picked[n] for n in names)))
    varying = [name for name, _ in arrays]
    source = func.unnest(*(a for _, a in arrays)).table_valued(*varying, with_ordinality="ordinality").render_derived()
    for name in varying:
        is_json = isinstance(table.c[name].type, sqltypes.JSON)
        picked[name] = cast(source.c[name], postgresql.JSONB) if is_json else source.c[name]
    query = select(*(picked[n] for n in names)).select_from(source).order_by(source.c.ordinality)
    return postgresql.insert(table).from_select(list(names), query)


@lru_cache(maxsize=256)
def _insert_statement(
    table: Any,
    shape: tuple[str, tuple[str, ...], frozenset[str]],
    keys: tuple[str, ...],
    update: tuple[str, ...] | None,
    returning: tuple[str, ...],
) -> Any:
    """`_insert_rows` ON CONFLICT DO NOTHING, or DO UPDATE of the `update` columns, RETURNING `returning`."""
    stmt = _insert_rows(table, shape)
    if update is None:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    else:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in update})
    return stmt.returning(*(table.c[c] for c in returning))


def insert_missing(
    session: Session, table: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str], returning: Sequence[str]
) -> list[Row[Any]]:
    """Insert the rows whose natural key (`keys`) is not stored yet, in one statement in key order, and
    return the `returning` columns of those inserted (a key given twice: the first row counts).
    Stored rows are not locked: a writer waits only on keys another writer is inserting right now."""
    ordered = in_key_order(rows, keys, last_wins=False)
    if not ordered:
        return []
    shape = _shape(session, table, ordered)
    stmt = _insert_statement(table, shape, tuple(keys), None, tuple(returning))
    return list(session.execute(stmt, _parameters(table, shape, ordered)).all())


def find_or_insert(
    session: Session, table: Any, rows: Sequence[dict[str, Any]], key: str, columns: Sequence[str] = ()
) -> list[Row[Any]]:
    """(key, id, *columns) for the natural key of every row: the stored ones read first (one SELECT,
    no lock: where every key is stored, as for most tags and entities of a grown store, that is the only
    statement), the missing ones inserted in key order (`insert_missing`), and those a concurrent writer
    inserted meanwhile read again after its commit."""
    if not rows:
        return []
    found = [table.c[key], table.c.id, *(table.c[c] for c in columns)]
    keys = sorted({row[key] for row in rows})
    stored = list(session.execute(select(*found).where(key_in(session, table.c[key], keys))).all())
    have = {row[0] for row in stored}
    missing = [row for row in rows if row[key] not in have]
    if missing:
        inserted = insert_missing(session, table, missing, [key], [key, "id", *columns])
        stored += inserted
        late = sorted({row[key] for row in missing} - {row[0] for row in inserted})
        if late:
            stored += session.execute(select(*found).where(key_in(session, table.c[key], late))).all()
    return stored


def upsert_rows(
    session: Session,
    table: Any,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    *,
    where: ColumnElement[bool] | None = None,
) -> None:
    """Insert rows, or set the `update` columns of the stored row of each natural key to the given
    values (only where the stored row meets `where`, when given); one statement in key order
    (a key given twice: the last row counts)."""
    ordered = in_key_order(rows, keys, last_wins=True)
    if not ordered:
        return
    shape = _shape(session, table, ordered)
    if where is None:
        stmt = _insert_statement(table, shape, tuple(keys), tuple(update), ("id",))
    else:  # a condition is a new object per call: this shape is built each time (rare writes)
        stmt = _insert_rows(table, shape)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}, where=where
        ).returning(table.c.id)
    session.execute(stmt, _parameters(table, shape, ordered)).all()


# Most keys one `key_in` condition carries: SQLite allows 32,766 parameters per statement.
KEYS_PER_STATEMENT = 10_000


def key_in(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`, as one array parameter on Postgres (`= ANY(:array)`: a list of 1,000
    placeholders costs the driver more than the lookup) and a plain IN list on SQLite; callers pass
    at most KEYS_PER_STATEMENT values."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(list(values), postgresql.ARRAY(column.type)))
    return column.in_(list(values))


def update_locked(session: Session, table: Any, values: dict[str, Any], *where: ColumnElement[bool]) -> list[int]:
    """Set `values` on the rows matching `where`, having locked them in id order first (Postgres;
    SQLite has a single writer anyway), so that the UPDATE takes no locks in an order of its own.
    Returns the ids of the rows changed."""
    locked = select(table.c.id).where(*where).order_by(table.c.id).with_for_update()
    ids = list(session.execute(locked).scalars())
    for start in range(0, len(ids), KEYS_PER_STATEMENT):
        chosen = key_in(session, table.c.id, ids[start : start + KEYS_PER_STATEMENT])
        session.execute(update(table).where(chosen).values(**values).execution_options(synchronize_session=False))
    return ids


def replace_article_rows(session: Session, table: Any, article_id: int, key: str, rows: list[dict[str, Any]]) -> None:
    """Make an article's rows of `table` (unique on article_id and `key`) exactly `rows`, in order:
    rows no longer listed are deleted, the others upserted with their position. On Postgres that is
    one statement (the DELETE a CTE of the upsert: their rows are disjoint), on SQLite two."""
    keep = [r[key] for r in rows]
    values = [{"article_id": article_id, "position": position, **row} for position, row in enumerate(rows)]
    changed = tuple(name for name in (values[0] if values else ()) if name not in ("article_id", key))
    if not rows or session.get_bind().dialect.name != "postgresql":
        session.execute(_delete_others(table, key), {"article_id": article_id, "keep": keep})
        upsert_rows(session, table, values, ["article_id", key], changed)
        return
    ordered = in_key_order(values, ["article_id", key], last_wins=True)
    shape = _shape(session, table, ordered)
    stmt = _replace_statement(table, key, shape, changed)
    session.execute(stmt, {**_parameters(table, shape, ordered), "article_id": article_id, "keep": keep}).all()


@lru_cache(maxsize=64)
def _delete_others(table: Any, key: str) -> Any:
    """DELETE an article's rows whose `key` is not among `:keep` (built once per table, as `_insert_rows`)."""
    return delete(table).where(
        table.c.article_id == bindparam("article_id"), table.c[key].not_in(bindparam("keep", expanding=True))
    )


@lru_cache(maxsize=64)
def _replace_statement(
    table: Any, key: str, shape: tuple[str, tuple[str, ...], frozenset[str]], update: tuple[str, ...]
) -> Any:
    """Postgres: `WITH gone AS (DELETE the article's rows not in :keep) INSERT ... ON CONFLICT DO UPDATE`."""
    array = postgresql.ARRAY(table.c[key].type)
    gone = delete(table).where(
        table.c.article_id == bindparam("article_id"), table.c[key] != all_(cast(bindparam("keep", type_=array), array))
    )
    return _insert_statement(table, shape, ("article_id", key), update, ("id",)).add_cte(gone.cte("gone"))
