"""The benchmark's store loader (bench/store_fill.py) on real Postgres: a store the pipeline filled
from the generated site is replicated into whole copies, every table in the template's ratios, each
copy a closed graph (its URLs, fetches, links and hashes its own), and the store takes new rows after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bench.store_fill import SHARED_TABLES, FillError, copied_tables, fill_store
from services.demosite.generated import GeneratedServer, article_path
from shared.cli import stage_handlers
from shared.db import engine_for, session_scope
from shared.embedded import LocalRunner
from shared.store import frontier
from tests.conftest import _clear_process_caches
from tests.helpers.databases import create_database, drop_database, migrate

ARTICLES = 4


@pytest.fixture
def databases(postgres_admin_url: str) -> Iterator[tuple[str, str]]:
    """(template, target): two fresh migrated databases."""
    urls = [create_database(postgres_admin_url, f"newsflow_fill_{uuid.uuid4().hex[:10]}") for _ in range(2)]
    for url in urls:
        migrate(url)
    yield urls[0], urls[1]
    for url in urls:
        engine_for(url).dispose()
        drop_database(postgres_admin_url, url)


@pytest.fixture
def template(databases: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The template store: ARTICLES generated articles through every stage, in this process."""
    url = databases[0]
    for key in [k for k in os.environ if k.startswith("NEWSFLOW_") and not k.startswith("NEWSFLOW_TEST_")]:
        monkeypatch.delenv(key)
    for key, value in {
        "NEWSFLOW_DATABASE_URL": url,
        "NEWSFLOW_BROKER_URL": "memory://",
        "NEWSFLOW_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "NEWSFLOW_POLITENESS_DELAY": "0",
    }.items():
        monkeypatch.setenv(key, value)
    _clear_process_caches()
    from shared.config import get_settings

    try:
        with GeneratedServer(ARTICLES) as site:
            with session_scope(url) as session:
                frontier.enqueue_urls(session, [f"{site.base_url}{article_path(i)}" for i in range(ARTICLES)])
            LocalRunner(get_settings(), stage_handlers()).run(until_idle=True, poll_seconds=0.02)
    finally:
        _clear_process_caches()
    return url


def counts(url: str) -> dict[str, int]:
    with engine_for(url).connect() as conn:
        return {
            t.name: conn.execute(text(f"SELECT count(*) FROM {t.name}")).scalar_one()
            for t in copied_tables() + [t for t in copied_tables()[0].metadata.sorted_tables if t.name in SHARED_TABLES]
        }


def scalar(url: str, query: str) -> int:
    with engine_for(url).connect() as conn:
        return conn.execute(text(query)).scalar_one()


def test_fill_replicates_whole_copies_of_the_template(databases, template):
    target = databases[1]
    before = counts(template)
    assert before["articles"] == ARTICLES and before["comments"] > 0 and before["fingerprint_bands"] > 0
    result = fill_store(template, target, 10)
    assert result.copies == 3 and result.articles == 3 * ARTICLES
    after = counts(target)
    assert {k: result.rows[k] for k in after} == after
    for table in copied_tables():
        assert after[table.name] == 3 * before[table.name], table.name
    for name in SHARED_TABLES:
        assert after[name] == before[name], name

    # Each copy is a graph of its own: its URLs lead to its articles and fetches, resolved links to
    # the copy's own articles, and nothing points at the site the template was fetched from.
    assert scalar(target, "SELECT count(DISTINCT url_hash) FROM urls") == 3 * before["urls"]
    joined = "SELECT count(*) FROM urls u JOIN articles a ON a.id = u.article_id AND a.canonical_hash = u.url_hash"
    assert scalar(target, joined) == 3 * scalar(template, joined)
    fetched = "SELECT count(*) FROM urls u JOIN fetches f ON f.id = u.last_fetch_id AND f.url_id = u.id"
    assert scalar(target, fetched) == 3 * scalar(template, fetched)
    resolved = (
        "SELECT count(*) FROM links l"
        " JOIN articles a ON a.id = l.target_article_id AND a.canonical_hash = l.target_hash"
    )
    assert scalar(target, resolved) == 3 * scalar(template, resolved) > 0
    assert scalar(target, "SELECT count(*) FROM urls WHERE url LIKE 'http://127.0.0.1%' OR host = '127.0.0.1'") == 0
    assert scalar(target, "SELECT count(*) FROM articles WHERE record::text LIKE '%127.0.0.1%'") == 0
    assert scalar(target, "SELECT count(DISTINCT host) FROM articles") == 3
    assert scalar(target, "SELECT count(*) FROM urls WHERE repoll_at IS NOT NULL") == 0
    # Copies share no MinHash band with each other (within a copy the template's own sharing stays).
    bands = "SELECT count(DISTINCT band) FROM fingerprint_bands"
    assert scalar(target, bands) == 3 * scalar(template, bands)
    # The dropped indexes are back, the loading tables gone, and new rows get fresh ids.
    index_count = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"
    assert scalar(target, index_count) == scalar(template, index_count)
    assert scalar(target, "SELECT count(*) FROM pg_tables WHERE tablename LIKE '\\_fill\\_%'") == 0
    autovacuum_off = "SELECT count(*) FROM pg_class WHERE array_to_string(reloptions, ',') LIKE '%autovacuum%'"
    assert scalar(target, autovacuum_off) == 0
    with session_scope(target) as session:
        queued = frontier.enqueue_urls(session, ["https://new.example/story"])
    assert queued[0].url_id == 3 * scalar(template, "SELECT max(id) FROM urls") + 1

    with pytest.raises(FillError) as raised:
        fill_store(template, target, 10)
    assert raised.value.reason == "not_empty"


def test_hot_queries_explain_every_statement_of_a_filled_store(databases, template):
    from bench.hot_queries import explain_all, hot_queries

    fill_store(template, databases[1], 8)
    sample, explained = explain_all(databases[1])
    assert {e.query for e in explained} == {name for name, _, _ in hot_queries()}
    assert all("Execution Time" in e.plan for e in explained)
    assert sample.article_id == 4 and len(sample.bands) == scalar(  # the middle of 8 articles
        databases[1], "SELECT count(*) FROM fingerprint_bands WHERE article_id = 4"
    )
