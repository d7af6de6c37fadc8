"""Engines, sessions and migrations for the store (Postgres or SQLite)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
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
    engine = create_engine(url, pool_size=5, max_overflow=5)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", partial(_ping_if_idle, engine))
    return engine


# How long a pooled connection may sit idle before it is pinged at checkout; 0 pings at every checkout
# (what pool_pre_ping does). Workers ping only connections idle for IDLE_PING_SECONDS (see
# ping_only_idle_connections); other processes (API, CLI) keep pinging every time.
_ping_after_idle = 0.0
IDLE_PING_SECONDS = 10.0


def ping_only_idle_connections(seconds: float = IDLE_PING_SECONDS) -> None:
    """Ping only pooled connections idle for `seconds` (a worker's choice). The ping at every checkout
    costs a round trip and, on psycopg, a transaction of its own per unit of work: about half the
    commits per article (BENCHMARKS.md). A connection in steady use that the server dropped (a Postgres
    restart) then fails its statement instead: StoreUnavailableError, which a task retries, and SQLAlchemy
    discards the pool's older connections."""
    global _ping_after_idle
    _ping_after_idle = seconds


def _note_checkin(_dbapi_conn: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(engine: Engine, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection at checkout, or only one that sat idle (SQLAlchemy's pessimistic check); a dead one
    raises DisconnectionError, so the pool replaces it with a fresh connection."""
    if _ping_after_idle and time.monotonic() - record.info.get("checked_in", 0.0) < _ping_after_idle:
        return
    try:
        engine.dialect.do_ping(dbapi_conn)
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


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
    yield from _scope(url, commit=True)


@contextmanager
def read_scope(url: str | None = None) -> Iterator[Session]:
    """A session for reads only, errors mapped as in session_scope: it ends without a COMMIT (the pool
    rolls the connection back on return anyway), so a stage that reads before its network call spends
    no commit on a transaction that wrote nothing. Writing in it is a bug: the writes are discarded."""
    yield from _scope(url, commit=False)


def _scope(url: str | None, *, commit: bool) -> Iterator[Session]:
    session = _sessionmaker(url or get_settings().database_url)()
    try:
        yield session
        if commit:
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
