"""Engines, sessions and migrations for the store (Postgres or SQLite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.config import get_settings
from shared.conflicts import is_write_conflict, retry_write_conflicts
from shared.errors import StoreUnavailableError, WriteConflictError

MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs (WAL and foreign keys on SQLite)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


@cache
def engine_for(url: str) -> Engine:
    """One engine per URL per process."""
    return make_engine(url)


@cache
def _sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error.

    A database that cannot be reached surfaces as StoreUnavailableError (transient), so tasks retry;
    a transaction rolled back because concurrent writers collided (deadlock, serialization failure)
    as WriteConflictError: the database is up, and the caller may run the transaction again.
    """
    session = _sessionmaker(url or get_settings().database_url)()
    try:
        yield session
        session.commit()
    except (OperationalError, DBAPIError) as exc:
        session.rollback()
        if is_write_conflict(exc.orig):
            raise WriteConflictError(detail=str(exc.orig).splitlines()[0][:300]) from exc
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            raise StoreUnavailableError(detail=str(exc.orig)[:300]) from exc
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def write_transaction(work: Callable[[Session], T], *, stage: str, url: str | None = None) -> T:
    """Run `work(session)` in one transaction (see session_scope), and run it again in place when the
    database rolled it back over a write conflict (shared.conflicts); `stage` labels the count."""

    def once() -> T:
        with session_scope(url) as session:
            return work(session)

    return retry_write_conflicts(once, stage=stage)


def plan_per_call(session: Session) -> None:
    """Have Postgres plan the transaction's statements for their own values, also once psycopg has
    prepared them: a query whose best plan depends on how common a value is (a tag, search words)
    would otherwise get, after five calls, one generic plan guessed for any value."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations and `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(url: str | None = None, revision: str = "head") -> None:
    """Migrate the store to `revision` (the newest by default)."""
    command.upgrade(alembic_config(url or get_settings().database_url), revision)


def is_migrated(url: str) -> bool:
    """True when the schema exists (the alembic version table is there)."""
    return inspect(engine_for(url)).has_table("alembic_version")
