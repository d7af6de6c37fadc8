"""The API against a real store: Postgres (truncated per test) and, where a test asks, SQLite."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from services.api.app import create_app
from shared.config import Settings
from shared.db import engine_for, session_scope, upgrade_database
from shared.models import Base
from shared.records import ArticleRecord
from shared.store import articles

# A token `newsflow api` would accept (it refuses short ones and placeholders).
TOKEN = "05c1c7d12cd710088d9a85e70a96b2a356fc2948438302c0bec168a4c8fda15f"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PAGES = Path(__file__).parents[2] / "fixtures" / "pages"


def load_record(name: str = "sputnik_2017_tillerson_lavrov") -> ArticleRecord:
    """A fixture page's expected article record."""
    return ArticleRecord.from_dict(json.loads((PAGES / f"{name}.expected.json").read_text(encoding="utf-8")))


def truncate(url: str) -> None:
    """Empty every table of the Postgres store at `url`."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine_for(url).begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db_url(postgres_url: str) -> str:
    """The session's migrated Postgres database, emptied."""
    truncate(postgres_url)
    return postgres_url


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Embedded-mode settings (no broker: the API only stores) with a write token, private reads."""
    return Settings(database_url=db_url, broker_url="memory://", api_token=TOKEN, api_max_batch=5)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of the app bound to `settings`."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite store (the embedded mode)."""
    url = f"sqlite:///{tmp_path / 'api.db'}"
    upgrade_database(url)
    yield url
    engine_for(url).dispose()


def add_article(db: str, record: ArticleRecord | None = None, /, **changes: object) -> int:
    """Store an article (the fixture record with `changes`) and return its id."""
    record = dataclasses.replace(record or load_record(), **changes)  # type: ignore[arg-type]
    with session_scope(db) as session:
        written = articles.upsert_article(session, record, None)
    # upsert_article returns an ArticleWrite (older stores: an (id, outcome) tuple).
    return written.article_id if hasattr(written, "article_id") else written[0]
