"""Write conflicts on real databases: a deadlock Postgres breaks is `write_conflict` (never
`store_unavailable`) and is run again in place; SQLite's "database is locked" is one too; batch writes
keep their answers exact whatever the order and repetition of what they are given."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text, update

from shared import models
from shared.conflicts import is_write_conflict
from shared.db import engine_for, session_scope, write_transaction
from shared.errors import StoreUnavailableError, WriteConflictError
from shared.records import TagRecord
from shared.store import enrichment, feeds, frontier, graph


def conflicts(stage: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("newsflow_write_conflicts_total", {"stage": stage, "outcome": outcome}) or 0.0


def fresh_tags(url: str) -> tuple[int, int]:
    """Ids of tags a and b in an emptied tags table."""
    with engine_for(url).begin() as conn:
        conn.execute(text("TRUNCATE tags RESTART IDENTITY CASCADE"))
    with session_scope(url) as session:
        ids = graph.upsert_tags(session, [TagRecord("a", "A", "A"), TagRecord("b", "B", "B")])
    return ids["a"], ids["b"]


def start_partner(url: str, first: int, second: int) -> threading.Thread:
    """A transaction in a thread that locks tag `first` and then wants tag `second`; it waits 10 s
    before checking for deadlocks, so that the other side (50 ms) is the one Postgres rolls back."""
    locked = threading.Event()

    def run() -> None:
        with session_scope(url) as session:
            session.execute(text("SET LOCAL deadlock_timeout = '10s'"))
            session.execute(update(models.Tag).where(models.Tag.id == first).values(name="partner"))
            locked.set()
            session.execute(update(models.Tag).where(models.Tag.id == second).values(name="partner"))

    thread = threading.Thread(target=run)
    thread.start()
    assert locked.wait(10)
    return thread


def lock_b_then_a(session, a: int, b: int, partners: list[threading.Thread], url: str) -> str:
    """Lock b, then a; on the first run a partner holding a and wanting b closes a deadlock."""
    session.execute(text("SET LOCAL deadlock_timeout = '50ms'"))
    session.execute(update(models.Tag).where(models.Tag.id == b).values(name="mine"))
    if not partners:
        partners.append(start_partner(url, a, b))
    session.execute(update(models.Tag).where(models.Tag.id == a).values(name="mine"))
    return "stored"


def test_a_deadlock_is_a_write_conflict_and_is_run_again(postgres_url: str):
    a, b = fresh_tags(postgres_url)
    partners: list[threading.Thread] = []
    before = conflicts("test", "retried")
    stored = write_transaction(lambda s: lock_b_then_a(s, a, b, partners, postgres_url), stage="test", url=postgres_url)
    partners[0].join(10)
    assert stored == "stored" and conflicts("test", "retried") == before + 1
    with session_scope(postgres_url) as session:
        names = dict(session.execute(select(models.Tag.key, models.Tag.name)).all())
    assert names == {"a": "mine", "b": "mine"}  # the partner committed after our rollback, the rerun after it


def test_session_scope_raises_write_conflict_not_store_unavailable(postgres_url: str):
    a, b = fresh_tags(postgres_url)
    partners: list[threading.Thread] = []
    with pytest.raises(WriteConflictError) as raised, session_scope(postgres_url) as session:
        lock_b_then_a(session, a, b, partners, postgres_url)
    partners[0].join(10)
    assert raised.value.reason == "write_conflict" and raised.value.transient
    assert not isinstance(raised.value, StoreUnavailableError)
    assert raised.value.detail.startswith("deadlock detected")


def test_sqlite_busy_is_a_write_conflict(tmp_path: Path):
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as raised:
        other.execute("BEGIN IMMEDIATE")
    holder.rollback()
    assert is_write_conflict(raised.value)
    unreachable = sqlite3.OperationalError("unable to open database file")
    assert not is_write_conflict(unreachable) and not is_write_conflict(None)


def test_a_batch_answers_each_url_in_order_once_created(session):
    known = frontier.enqueue_url(session, "https://example.com/known/")
    batch = [
        "https://example.com/b/",
        "https://EXAMPLE.com/known/",
        "https://example.com/a/",
        "https://example.com:443/b/",
    ]
    answers = frontier.enqueue_urls(session, batch, source="api", priority=3)
    assert [(a.url, a.created) for a in answers] == [
        ("https://example.com/b/", True),
        ("https://example.com/known/", False),
        ("https://example.com/a/", True),
        ("https://example.com/b/", False),  # the same URL again in one batch: created once
    ]
    assert answers[1].url_id == known.url_id and answers[0].url_id == answers[3].url_id
    rows = session.execute(select(models.Url.url, models.Url.source, models.Url.priority)).all()
    assert sorted(rows) == [
        ("https://example.com/a/", "api", 3),
        ("https://example.com/b/", "api", 3),
        ("https://example.com/known/", "cli", 0),
    ]
    feed_entries = ["notaurl", "https://example.com/c/", "ftp://example.com/x"]
    queued = frontier.enqueue_urls(session, feed_entries, source="feed", skip_invalid=True)
    assert [(q.url, q.created) for q in queued] == [("https://example.com/c/", True)]
    with_schedule = frontier.enqueue_urls(session, batch[:2], repoll_schedule="off")
    assert [a.created for a in with_schedule] == [False, False]
    schedules = dict(session.execute(select(models.Url.url, models.Url.repoll_schedule)).all())
    assert schedules == {
        "https://example.com/a/": None,
        "https://example.com/b/": "off",
        "https://example.com/known/": "off",
        "https://example.com/c/": None,
    }


def test_feeds_batch_and_shared_rows_in_one_order(session):
    added = feeds.add_feeds(session, ["https://example.com/rss", "https://example.com/atom", "https://example.com/rss"])
    assert [(a.url, a.created) for a in added] == [
        ("https://example.com/rss", True),
        ("https://example.com/atom", True),
        ("https://example.com/rss", False),
    ]
    tags = [TagRecord("b", "B", "B"), TagRecord("a", "A", "A", None), TagRecord("a", "A", "a", "topic")]
    ids = graph.upsert_tags(session, tags)
    assert set(ids) == {"a", "b"}
    kinds = dict(session.execute(select(models.Tag.key, models.Tag.kind)).all())
    assert kinds == {"a": "topic", "b": None}  # a kind given later in the batch still fills an empty one
    lavrov = enrichment.EntityRow("sergei lavrov", "Sergei Lavrov", "person", ("Lavrov",), 1)
    spelled = enrichment.EntityRow("sergei lavrov", "Sergei Lavrov", "person", ("Sergey Lavrov",), 1)
    first = enrichment.upsert_entities(session, [lavrov])
    assert enrichment.upsert_entities(session, [spelled, lavrov]) == first
    aliases = session.execute(select(models.Entity.aliases)).scalar_one()
    assert aliases == ["Lavrov", "Sergey Lavrov"]
    assert session.execute(select(func.count()).select_from(models.Entity)).scalar_one() == 1
