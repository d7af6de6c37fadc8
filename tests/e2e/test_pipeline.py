"""The whole stack end to end: real Celery workers (one per service) and beat on Postgres and
Redis, the bundled news site standing in for the web, results read back from Postgres."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from shared import models
from shared.db import session_scope
from shared.store import articles, views

pytestmark = pytest.mark.e2e

SEED = "/politics/201702161050766466-tillerson-lavrov-meeting-awkward-moment/"
PRIVATE = "/private/201702171050800011-g20-coverage-planning/"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "pages"
SITE_EXPECTED = json.loads((Path(__file__).parents[2] / "services" / "demosite" / "expected.json").read_text())


def seed_expected(base_url: str) -> dict:
    text = (FIXTURES / "sputnik_2017_tillerson_lavrov.expected.json").read_text(encoding="utf-8")
    for origin in ("https://sputniknews.com", "http://sputniknews.com"):
        text = text.replace(origin, base_url)
    return json.loads(text)


def test_feed_to_store_with_real_workers_and_nothing_duplicated(stack, site):
    base = site.base_url
    stack.start_workers()
    out = stack.cli("feeds", "add", f"{base}/rss.xml").stdout
    assert out.split("\t")[1] == "added"
    queued = stack.cli("enqueue", f"{base}{PRIVATE}", f"{base}/broken/404", f"{base}/broken/500").stdout
    assert [line.split("\t")[1] for line in queued.splitlines()] == ["queued", "queued", "queued"]

    stack.wait_idle(timeout=120)

    related = {p: v for p, v in SITE_EXPECTED.items() if not p.startswith("_") and v["robots_allowed"]}
    states = stack.url_states()
    assert states == {
        **{f"{base}{path}": ("done", None) for path in [SEED, *related]},
        f"{base}{PRIVATE}": ("failed", "robots_disallowed"),
        f"{base}/broken/404": ("failed", "http_404"),
        f"{base}/broken/500": ("failed", "http_5xx"),
    }
    assert site.hits("/broken/500") == 3  # NEWSFLOW_TASK_MAX_ATTEMPTS
    assert site.hits(PRIVATE) == 0

    expected = seed_expected(base)
    with session_scope(stack.database_url) as session:
        seed = articles.find_article(session, f"{base}{SEED}")
        view = views.article_view(session, seed.id)
        assert seed.title == expected["title"]
        assert seed.published_at.isoformat() == "2017-02-16T15:47:00+00:00"
        assert seed.body.split("\n\n") == expected["body_paragraphs"]
        assert [c["author"] for c in view["comments"]] == [c["author"] for c in expected["comments"]]
        assert [c["parent_id"] for c in view["comments"]] == [c["parent_id"] for c in expected["comments"]]
        assert len(view["comments"]) == 20
        assert [t["name"] for t in view["tags"]] == expected["tags"]
        assert [(link["url"], link["target_title"]) for link in view["links_out"]] == [
            (r["url"], r["title"]) for r in expected["related_links"]
        ]
        for path, want in related.items():
            article = articles.find_article(session, f"{base}{path}")
            got = views.article_view(session, article.id)
            assert article.title == want["title"]
            assert [t["name"] for t in got["tags"]] == want["tags"]
            assert [c["author"] for c in got["comments"]] == want["comment_authors"]
            assert {link["url"] for link in got["links_in"]} >= {f"{base}{SEED}"}
    status = json.loads(stack.cli("status", "--json").stdout)
    assert status["states"] == {"done": 6, "failed": 3}
    assert status["failures"] == {"robots_disallowed": 1, "http_404": 1, "http_5xx": 1}

    before = stack.counts()
    assert before["articles"] == 6 and before["comments"] == 20 + sum(v["comment_count"] for v in related.values())

    # Everything queued again (feed and every URL): known, nothing new, nothing duplicated.
    assert stack.cli("feeds", "add", f"{base}/rss.xml").stdout.split("\t")[1] == "known"
    again = stack.cli("enqueue", "--file", "-", input="\n".join(stack.url_states())).stdout
    assert {line.split("\t")[1] for line in again.splitlines()} == {"known"}
    with session_scope(stack.database_url) as session:
        feed = session.execute(select(models.Feed)).scalar_one()
        feed.next_check_at = feed.last_checked_at  # make it due now: the scheduler polls it again
    stack.wait_idle(timeout=60, extra=lambda: _polled_twice(stack))
    assert stack.counts() == before


def _polled_twice(stack) -> bool:
    with session_scope(stack.database_url) as session:
        feed = session.execute(select(models.Feed)).scalar_one()
        return feed.next_check_at > feed.last_success_at
