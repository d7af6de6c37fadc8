"""The sweep against a real Redis broker and a real Postgres frontier: a backlog deeper than the stale
time is waited for, never re-published, while messages taken off the queue and lost are recovered, each
once. Publish times are real (the stale time is one second), so the test waits a few seconds."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis as redis_lib
from celery import Celery

from services.ingest import stages
from shared import celery_app
from shared.db import session_scope
from shared.pipeline import ROUTES
from shared.store import feeds, frontier
from tests.conftest import _clear_process_caches
from tests.e2e.stack import leased_redis_dbs

STALE = 1
WAVE_A, WAVE_B, LOST = 1200, 1800, 150


@pytest.fixture
def broker(store_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Settings of a Celery deployment on `store_url` with a leased Redis database as the broker."""
    with leased_redis_dbs(redis_url, 2) as (broker_url, state_url):
        monkeypatch.setenv("NEWSFLOW_DATABASE_URL", store_url)
        monkeypatch.setenv("NEWSFLOW_BROKER_URL", broker_url)
        monkeypatch.setenv("NEWSFLOW_REDIS_URL", state_url)
        monkeypatch.setenv("NEWSFLOW_SWEEP_STALE_SECONDS", str(STALE))
        monkeypatch.setenv("NEWSFLOW_SWEEP_INTERVAL_SECONDS", "1")
        _clear_process_caches()
        yield broker_url
        _clear_process_caches()


def enqueue_and_publish(app: Celery, store_url: str, wave: str, n: int) -> list[int]:
    """Queue `n` URLs and publish their fetch tasks after the commit, as the API does (stamped with
    their publish time by the signal handler of `shared.celery_app`, as every newsflow message is)."""
    assert celery_app.STAMP_HEADER
    with session_scope(store_url) as session:
        ids = [q.url_id for q in frontier.enqueue_urls(session, [f"https://{wave}.example.com/{i}" for i in range(n)])]
    route = ROUTES["fetch"]
    with app.producer_or_acquire() as producer:
        for url_id in ids:
            app.send_task(route.task, args=[url_id], queue=route.queue, producer=producer)
    return ids


def sweep_for(app: Celery, seconds: float, published: Counter[tuple[str, int]]) -> None:
    """Run the scheduler's sweep every 0.2 s for `seconds`, publishing what it hands on (as the task
    wrapper does) and counting it per (stage, item)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = stages.sweep()
        for stage, item_id in result.next:
            published[(stage, item_id)] += 1
            app.send_task(ROUTES[stage].task, args=[item_id], queue=ROUTES[stage].queue)
        time.sleep(0.2)


def take(client: redis_lib.Redis, n: int) -> list[int]:
    """Take the `n` oldest fetch messages off the queue, as workers do, and return their items."""
    taken = []
    for _ in range(n):
        raw = client.rpop("fetch")
        assert raw is not None
        args, _, _ = json.loads(base64.b64decode(json.loads(raw)["body"]))
        taken.append(int(args[0]))
    return taken


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_backlog_waits_and_lost_messages_come_back_once(store_url: str, broker: str) -> None:
    client = redis_lib.Redis.from_url(broker)
    app = Celery("backlog-test", broker=broker)
    published: Counter[tuple[str, int]] = Counter()
    try:
        wave_a = enqueue_and_publish(app, store_url, "a", WAVE_A)
        time.sleep(STALE * 2.5)
        wave_b = enqueue_and_publish(app, store_url, "b", WAVE_B)
        assert client.llen("fetch") == WAVE_A + WAVE_B
        time.sleep(STALE * 1.5)

        # Every item is stamped far more than the stale time ago, and every message is still queued.
        with session_scope(store_url) as session:
            old_rule = frontier.due_for_dispatch(session, stale_after=timedelta(seconds=STALE), limit=10_000)
        assert len(old_rule) == WAVE_A + WAVE_B  # what the sweep re-published before: all of it
        sweep_for(app, STALE * 3, published)
        assert published == Counter()
        assert client.llen("fetch") == WAVE_A + WAVE_B

        # Workers take wave A: most items are done, LOST messages die with their worker.
        taken = take(client, WAVE_A)
        assert taken == wave_a
        lost, worked = taken[:LOST], taken[LOST:]
        with session_scope(store_url) as session:
            for url_id in worked:
                frontier.advance(session, url_id, "queued", "done")
        sweep_for(app, STALE * 4, published)

        # Exactly the lost items came back, once each; wave B, still queued, was left alone.
        assert published == Counter({("fetch", url_id): 1 for url_id in lost})
        assert client.llen("fetch") == WAVE_B + LOST
        assert set(wave_b).isdisjoint(item for _, item in published)
    finally:
        app.close()
        client.close()


def schedule_for(app: Celery, seconds: float, published: Counter[tuple[str, int]]) -> None:
    """Run the feed scheduler every 0.2 s for `seconds`, publishing and counting what it hands on."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for stage, item_id in stages.schedule_feeds().next:
            published[(stage, item_id)] += 1
            app.send_task(ROUTES[stage].task, args=[item_id], queue=ROUTES[stage].queue)
        time.sleep(0.2)


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_feed_polls_waiting_in_a_backlog_are_not_handed_on_twice(store_url: str, broker: str) -> None:
    client = redis_lib.Redis.from_url(broker)
    app = Celery("backlog-test", broker=broker)
    published: Counter[tuple[str, int]] = Counter()
    try:
        with session_scope(store_url) as session:
            feed_id = feeds.add_feed(session, "https://example.com/feed.xml").feed_id
        # Due: handed on once, then its message waits behind a backlog far longer than the stale time.
        schedule_for(app, STALE * 4, published)
        assert published == Counter({("feed", feed_id): 1})
        assert client.llen("feeds") == 1
        # A worker takes it and dies: the poll is handed on again, once.
        assert client.rpop("feeds") is not None
        schedule_for(app, STALE * 4, published)
        assert published == Counter({("feed", feed_id): 2})
        assert client.llen("feeds") == 1
    finally:
        app.close()
        client.close()
