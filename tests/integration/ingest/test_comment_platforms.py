"""Comment platform failures in the embedded mode (handlers in this process) on Postgres and SQLite,
against the fixture platforms: each failure is recorded on the thread with its reason and counted per
platform; a platform that is down or rate limited is retried a bounded number of times; a changed
format stores nothing; Facebook is recorded unsupported without a fetch; the platform's politeness
slot is taken before each request."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from services.ingest import stages as ingest_stages
from services.ingest import threads
from shared import models
from shared.cli import stage_handlers
from shared.config import get_settings
from shared.db import session_scope
from shared.embedded import LocalRunner
from shared.records import CommentSource
from shared.store import articles, frontier
from tests.helpers.httpserver import Route
from tests.helpers.providers import ProviderSite

DISQUS = "/api/3.0/threads/listPosts.json"
CHANGED = Route(body='{"code": 0, "response": {"posts": []}, "cursor": {"hasNext": false}}')


@pytest.fixture
def site(embedded, monkeypatch):
    with ProviderSite() as site:
        for name, value in site.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NEWSFLOW_TASK_MAX_ATTEMPTS", "3")
        get_settings.cache_clear()
        ingest_stages.fetcher.cache_clear()
        yield site


def run() -> dict[str, int]:
    return LocalRunner(get_settings(), stage_handlers()).run(until_idle=True, poll_seconds=0.02)


def thread_state(url: str) -> tuple:
    with session_scope() as session:
        article = articles.find_article(session, url)
        mine = models.CommentThread.article_id == article.id
        row = session.execute(select(models.CommentThread).where(mine)).scalar_one()
        stored = session.execute(
            select(func.count()).select_from(models.Comment).where(models.Comment.article_id == article.id)
        ).scalar_one()
        pages = session.execute(
            select(func.count()).select_from(models.CommentFetch).where(models.CommentFetch.article_id == article.id)
        ).scalar_one()
        return row.status, row.reason, row.failures, stored, pages


def failures(provider: str, reason: str) -> float:
    labels = {"provider": provider, "reason": reason}
    return REGISTRY.get_sample_value("newsflow_comment_thread_failures_total", labels) or 0.0


def enqueue(url: str) -> None:
    with session_scope() as session:
        frontier.enqueue_url(session, url)


def repoll(url: str) -> None:
    with session_scope() as session:
        frontier.request_repoll(session, [frontier.find_url(session, url).id])


@pytest.mark.parametrize(
    ("route", "reason"),
    [(Route(status=503, body="down"), "provider_unavailable"), (Route(status=429, body="{}"), "rate_limited")],
)
def test_a_platform_down_or_rate_limited_is_retried_a_bounded_number_of_times(site, route, reason) -> None:
    url = site.page_url("disqus")
    site.override(DISQUS, route)
    before = failures("disqus", reason)
    enqueue(url)
    counts = run()
    assert (counts.get("comments:retried"), counts.get("comments:failed")) == (2, 1)
    assert thread_state(url) == ("failed", reason, 3, 0, 0)
    assert failures("disqus", reason) - before == 3
    # The platform is back: the next poll reads the thread, and its failures in a row are forgotten.
    site.override(DISQUS, None)
    repoll(url)
    counts = run()
    assert counts.get("comments:succeeded") == 1 and counts.get("comments_parse:changed") == 1
    assert thread_state(url) == ("ok", None, 0, 5, 2)


def test_a_changed_format_fails_loudly_and_stores_nothing(site) -> None:
    url = site.page_url("disqus")
    site.override(DISQUS, CHANGED)
    before = failures("disqus", "provider_changed")
    enqueue(url)
    counts = run()
    assert counts.get("comments:failed") == 1 and "comments:retried" not in counts
    assert thread_state(url) == ("failed", "provider_changed", 1, 0, 0)
    assert failures("disqus", "provider_changed") - before == 1


def test_coral_without_a_known_persisted_query_or_a_token_is_provider_auth(site) -> None:
    url = site.page_url("coral")
    unknown = Route(body='{"errors": [{"message": "unknown", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}')
    site.override("/api/graphql", unknown)
    enqueue(url)
    counts = run()
    assert counts.get("comments:failed") == 1
    status, reason, *_ = thread_state(url)
    with session_scope() as session:
        detail = session.execute(select(models.CommentThread.detail)).scalar_one()
    assert (status, reason) == ("failed", "provider_auth")
    assert "PERSISTED_QUERY_NOT_FOUND" in detail and "NEWSFLOW_CORAL_TOKEN" in detail


def test_facebook_is_recorded_unsupported_without_a_fetch(site) -> None:
    url = site.page_url("facebook")
    before = failures("facebook", "unsupported")
    enqueue(url)
    counts = run()
    assert not any(key.startswith("comments") for key in counts)
    assert thread_state(url) == ("unsupported", "unsupported", 0, 0, 0)
    assert failures("facebook", "unsupported") - before == 1
    repoll(url)  # seen again: still one row, counted once
    run()
    assert thread_state(url)[:2] == ("unsupported", "unsupported")
    assert failures("facebook", "unsupported") - before == 1


def test_each_request_takes_the_platforms_politeness_slot(site, monkeypatch) -> None:
    taken: list[tuple[str, float | None]] = []
    monkeypatch.setenv("NEWSFLOW_PROVIDER_POLITENESS_DELAY", "0.01")
    get_settings.cache_clear()
    fetcher = ingest_stages.fetcher()
    monkeypatch.setattr(fetcher.politeness, "wait", lambda key, delay=None: taken.append((key, delay)) or 0.0)
    source = CommentSource(
        url=site.page_url("openweb"), provider="openweb", thread={"spot_id": "sp_MtrNws01", "post_id": "story-3310"}
    )
    pages = threads.fetch_thread(source, get_settings(), fetcher)
    slots = [t for t in taken if t[0].startswith("provider-")]  # the fetcher's per-host slots are the others
    assert len(pages) == 3 and slots == [("provider-openweb", 0.01)] * 4  # the token, two pages, one reply page
