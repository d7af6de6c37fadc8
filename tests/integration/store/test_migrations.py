"""Migrations 0010 (indexes for a grown store) and 0012 (the search's BRIN index on article ids)
upgrade and downgrade on Postgres and on SQLite."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from shared.db import alembic_config, engine_for, upgrade_database

INDEX = "ix_articles_published_or_seen"
TAG_INDEX = "ix_article_tags_tag_id"


def article_indexes(url: str) -> set[str]:
    """Index names of `articles`, expression indexes included (SQLAlchemy's inspector skips those on SQLite)."""
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'articles'"
        if url.startswith("sqlite")
        else "SELECT indexname FROM pg_indexes WHERE tablename = 'articles'"
    )
    with engine_for(url).connect() as conn:
        return set(conn.execute(text(query)).scalars())


def index_columns(url: str, name: str) -> list[str]:
    """The columns of index `name`, in order (from the catalog: SQLAlchemy's inspector warns about the
    expression index of the same table)."""
    query = (
        f"SELECT name FROM pragma_index_info('{name}') ORDER BY seqno"
        if url.startswith("sqlite")
        else "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        f" WHERE c.relname = '{name}' ORDER BY k.n"
    )
    with engine_for(url).connect() as conn:
        return list(conn.execute(text(query)).scalars())


def tag_index_columns(url: str) -> list[str]:
    return index_columns(url, TAG_INDEX)


def host_index_columns(url: str) -> list[str]:
    return index_columns(url, "ix_articles_host")


def test_scale_indexes_upgrade_and_downgrade(store_url):
    assert INDEX in article_indexes(store_url)
    assert tag_index_columns(store_url) == ["tag_id", "article_id"]
    assert host_index_columns(store_url) == ["host", "id"]
    command.downgrade(alembic_config(store_url), "0009_comment_providers")
    try:
        assert INDEX not in article_indexes(store_url)
        assert "ix_articles_published_at" in article_indexes(store_url)
        assert tag_index_columns(store_url) == ["tag_id"]
        assert host_index_columns(store_url) == ["host"]
    finally:
        upgrade_database(store_url)
    assert INDEX in article_indexes(store_url)
    assert tag_index_columns(store_url) == ["tag_id", "article_id"]


def test_search_brin_index_upgrade_and_downgrade(store_url):
    # Postgres only (SQLite searches through FTS5): on SQLite both directions leave the indexes as they were.
    postgres = not store_url.startswith("sqlite")
    before = article_indexes(store_url)
    assert ("ix_articles_id_brin" in before) is postgres
    command.downgrade(alembic_config(store_url), "0011")
    try:
        assert article_indexes(store_url) == before - {"ix_articles_id_brin"}
    finally:
        upgrade_database(store_url)
    assert article_indexes(store_url) == before
