"""Feed polling through the real handler and store (Postgres and SQLite): conditional GET,
429 with Retry-After, a broken feed parked, adaptive intervals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from services.ingest import stages
from shared.cli import main as newsflow
from shared.db import session_scope
from shared.embedded import LocalRunner
from shared.errors import FetchError
from shared.models import Feed, Url, utcnow
from shared.pipeline import record_failure
from shared.store import feeds
from shared.store.feeds import PARK_AFTER_ERRORS
from tests.helpers.httpserver import Route, serve

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def rss(base: str, gap_minutes: int, count: int = 5) -> str:
    items = "".join(
        f"<item><title>Story {i}</title><link>{base}/news/{i}/</link>"
        f"<pubDate>{format_datetime(NOW - timedelta(minutes=gap_minutes * i))}</pubDate></item>"
        for i in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'


def add_feed(url: str) -> int:
    with session_scope() as session:
        return feeds.add_feed(session, url).feed_id


def feed_row(feed_id: int) -> Feed:
    with session_scope() as session:
        return session.get(Feed, feed_id)


def make_due(feed_id: int) -> None:
    with session_scope() as session:
        session.get(Feed, feed_id).next_check_at = utcnow()


def test_conditional_get_and_adaptive_interval(embedded):
    with serve() as server:
        body = rss(server.base_url, gap_minutes=20)
        server.routes["/rss.xml"] = lambda req: (
            Route(status=304, content_type=None, headers={"ETag": '"v1"'})
            if req.headers.get("if-none-match") == '"v1"'
            else Route(body=body, content_type="application/rss+xml", headers={"ETag": '"v1"'})
        )
        feed_id = add_feed(server.url("/rss.xml"))

        first = stages.poll_feed(feed_id)
        assert first.outcome == "succeeded" and len(first.next) == 5
        row = feed_row(feed_id)
        assert (row.etag, row.poll_interval_seconds, row.entries_seen, row.title) == ('"v1"', 1200, 5, "Wire")
        assert row.next_check_at - row.last_checked_at == timedelta(seconds=1200)

        second = stages.poll_feed(feed_id)
        assert (second.outcome, second.next) == ("not_modified", ())
        assert server.requests[-1].headers["if-none-match"] == '"v1"'
        row = feed_row(feed_id)
        assert (row.poll_interval_seconds, row.entries_seen, row.error_count) == (1800, 5, 0)
    with session_scope() as session:
        assert len(session.execute(select(Url)).all()) == 5


def test_429_with_retry_after_backs_off_at_least_that_long(embedded):
    with serve({"/rss.xml": Route(status=429, headers={"Retry-After": "7200"})}) as server:
        feed_id = add_feed(server.url("/rss.xml"))
        with pytest.raises(FetchError) as caught:
            stages.poll_feed(feed_id)
        assert (caught.value.reason, caught.value.retry_after) == ("http_429", 7200.0)
        before = utcnow()
        assert record_failure(embedded, "feed", feed_id, caught.value) is None
    row = feed_row(feed_id)
    assert (row.error_count, row.last_error_reason, row.parked) == (1, "http_429", False)
    assert row.next_check_at >= before + timedelta(seconds=7200)


def test_a_broken_feed_is_parked_and_listed_so(embedded, capsys):
    with serve({"/rss.xml": Route(body="<html>not a feed at all", content_type="application/rss+xml")}) as server:
        feed_id = add_feed(server.url("/rss.xml"))
        runner = LocalRunner(embedded, {"feed": stages.poll_feed})
        for attempt in range(PARK_AFTER_ERRORS):
            make_due(feed_id)
            counts = runner.run(until_idle=True)
            assert counts == {"feed:failed": attempt + 1}
        make_due(feed_id)
        assert runner.run(until_idle=True) == {"feed:failed": PARK_AFTER_ERRORS}  # parked: not polled again
        assert server.hits("/rss.xml") == PARK_AFTER_ERRORS
    row = feed_row(feed_id)
    assert (row.parked, row.error_count, row.last_error_reason) == (True, PARK_AFTER_ERRORS, "invalid_feed")
    capsys.readouterr()
    assert newsflow(["feeds", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(f["id"], f["state"], f["last_error_reason"]) for f in listed] == [(feed_id, "parked", "invalid_feed")]
    # Adding it again un-parks it.
    assert newsflow(["feeds", "add", server.url("/rss.xml")]) == 0
    assert feed_row(feed_id).parked is False
