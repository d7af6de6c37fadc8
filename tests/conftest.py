"""Real services for the test suite: Postgres and Redis, never mocked, never skipped.

`make test` and CI pass NEWSFLOW_TEST_POSTGRES_URL and NEWSFLOW_TEST_REDIS_URL. Without them the
suite starts throwaway servers from the `postgres` and `redis-server` binaries on PATH
(pytest-postgresql and pytest-redis); without those either, it fails saying what is missing.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.helpers.databases import create_database, drop_database, migrate

MISSING_HINT = (
    "set NEWSFLOW_TEST_POSTGRES_URL / NEWSFLOW_TEST_REDIS_URL, put postgres and redis-server on PATH, "
    "or run `docker compose up -d postgres redis`"
)


def _have_binaries(*names: str) -> bool:
    return all(shutil.which(n) for n in names)


@pytest.fixture(scope="session")
def postgres_admin_url(request: pytest.FixtureRequest) -> str:
    """A Postgres URL with the right to create databases."""
    url = os.environ.get("NEWSFLOW_TEST_POSTGRES_URL")
    if not url:
        if os.geteuid() == 0 or not _have_binaries("pg_ctl", "initdb"):
            pytest.fail(f"no PostgreSQL for the tests: {MISSING_HINT}", pytrace=False)
        proc = request.getfixturevalue("postgresql_proc")
        url = f"postgresql+psycopg://{proc.user}:{proc.password or ''}@{proc.host}:{proc.port}/postgres"
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
        proc = request.getfixturevalue("redis_proc")
        url = f"redis://{proc.host}:{proc.port}/15"
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
