"""Real services for the test suite: Postgres and Redis, never mocked, never skipped.

CI passes NEWSFLOW_TEST_POSTGRES_URL and NEWSFLOW_TEST_REDIS_URL. Without them the suite starts
throwaway servers in a temp folder from the `initdb`/`pg_ctl` and `redis-server` binaries on PATH
(tests/helpers/servers.py, which also works as root); without those either, it fails saying what is missing.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.config import Settings
from shared.db import engine_for, upgrade_database
from shared.models import Base
from tests.helpers.databases import create_database, drop_database, migrate
from tests.helpers.servers import PostgresServer, RedisServer

MISSING_HINT = (
    "set NEWSFLOW_TEST_POSTGRES_URL / NEWSFLOW_TEST_REDIS_URL, put postgres and redis-server on PATH, "
    "or run both in Docker on 127.0.0.1 (docker-compose.yml does not publish its own)"
)


def _have_binaries(*names: str) -> bool:
    return all(shutil.which(n) for n in names)


@pytest.fixture(scope="session")
def postgres_admin_url(request: pytest.FixtureRequest) -> str:
    """A Postgres URL with the right to create databases."""
    url = os.environ.get("NEWSFLOW_TEST_POSTGRES_URL")
    if not url:
        if not _have_binaries("pg_ctl", "initdb"):
            pytest.fail(f"no PostgreSQL for the tests: {MISSING_HINT}", pytrace=False)
        server = PostgresServer(fsync=False).start()
        request.addfinalizer(server.destroy)
        url = server.admin_url
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {make_url(url).render_as_string()} is unreachable: {exc}", pytrace=False)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh database migrated to head, for this test session."""
    url = create_database(postgres_admin_url, f"newsflow_test_{uuid.uuid4().hex[:10]}")
    migrate(url)
    yield url
    drop_database(postgres_admin_url, url)


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> str:
    """A Redis URL on a database the tests may flush."""
    url = os.environ.get("NEWSFLOW_TEST_REDIS_URL")
    if not url:
        if not _have_binaries("redis-server"):
            pytest.fail(f"no Redis for the tests: {MISSING_HINT}", pytrace=False)
        server = RedisServer().start()
        request.addfinalizer(server.stop)
        url = server.url(15)
    client = redis_lib.Redis.from_url(url)
    try:
        client.ping()
    except Exception as exc:
        pytest.fail(f"Redis at {url} is unreachable: {exc}", pytrace=False)
    finally:
        client.close()
    return url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis_lib.Redis]:
    """A client on an emptied test database."""
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(params=["postgres", "sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty store of each kind: every test using it runs on Postgres and on SQLite."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        upgrade_database(url)
        yield url
        engine_for(url).dispose()
        return
    url = request.getfixturevalue("postgres_url")
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine_for(url).begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield url


@pytest.fixture
def session(store_url: str):
    """A session on `store_url`, committed at the end of the test."""
    from shared.db import session_scope

    with session_scope(store_url) as s:
        yield s


def _clear_process_caches() -> None:
    from services.ingest import backlog
    from services.ingest import stages as ingest_stages
    from shared.config import get_settings

    get_settings.cache_clear()
    ingest_stages.fetcher.cache_clear()
    ingest_stages.shared_redis.cache_clear()
    backlog.broker_redis.cache_clear()


@pytest.fixture
def embedded(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for running stage handlers in this process (the embedded mode) on `store_url`,
    fetching from 127.0.0.1 without politeness delays; process-wide caches are reset around it."""
    for key in [k for k in os.environ if k.startswith("NEWSFLOW_") and not k.startswith("NEWSFLOW_TEST_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", store_url)
    monkeypatch.setenv("NEWSFLOW_BROKER_URL", "memory://")
    monkeypatch.setenv("NEWSFLOW_FETCH_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("NEWSFLOW_POLITENESS_DELAY", "0")
    monkeypatch.setenv("NEWSFLOW_RETRY_BACKOFF_BASE", "0.05")
    monkeypatch.setenv("NEWSFLOW_RETRY_BACKOFF_MAX", "0.2")
    _clear_process_caches()
    from shared.config import get_settings

    yield get_settings()
    _clear_process_caches()
