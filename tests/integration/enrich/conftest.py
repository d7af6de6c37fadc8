"""Each enrich store test runs on Postgres (the deployment store) and SQLite (the embedded mode)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.db import engine_for, session_scope, upgrade_database
from shared.models import Base


@pytest.fixture(params=["postgres", "sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty store of each kind."""
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
    """A session on the store, committed at the end of the test."""
    with session_scope(store_url) as s:
        yield s
