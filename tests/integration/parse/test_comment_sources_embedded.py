"""The comments-endpoint stages in the embedded mode (handlers in this process) on Postgres and
SQLite: parse names the endpoint, ingest fetches its pages, parse merges them through the one diff."""

from __future__ import annotations

from sqlalchemy import select

from services.demosite.server import DemoSite
from shared import models
from shared.cli import stage_handlers
from shared.db import session_scope
from shared.embedded import LocalRunner
from shared.store import articles, frontier

SEED = "/politics/201702161050766466-tillerson-lavrov-meeting-awkward-moment/"
JSON_ONLY = "1052099001"
ENDPOINT = "/services/comments/list/"


def run(settings) -> dict[str, int]:
    return LocalRunner(settings, stage_handlers()).run(until_idle=True, poll_seconds=0.05)


def seed_comments(url: str) -> dict[str, tuple[str, bool]]:
    with session_scope() as session:
        article = articles.find_article(session, url)
        rows = session.execute(select(models.Comment).where(models.Comment.article_id == article.id)).scalars()
        return {r.key: (r.sources, r.deleted) for r in rows}


def test_endpoint_comments_are_fetched_and_merged(embedded):
    with DemoSite(comments_api=True) as site:
        url = f"{site.base_url}{SEED}"
        with session_scope() as session:
            frontier.enqueue_url(session, url)
        counts = run(embedded)
        # Every demo article names the endpoint (its related articles are followed too).
        assert counts.get("comments:succeeded") == counts.get("parse:inserted")
        first = seed_comments(url)
        assert len(first) == 21 and first[JSON_ONLY] == ("site_json", False)
        assert {s for k, (s, _) in first.items() if k != JSON_ONLY} == {"html site_json"}

        # A re-poll that finds the page unchanged (304) still asks the endpoint (its 4 pages again);
        # the same JSON changes nothing.
        hits = site.hits(ENDPOINT)
        repoll(url)
        counts = run(embedded)
        assert counts.get("fetch:not_modified") == 1 and counts.get("comments:unchanged") == 1
        assert "comments_parse:changed" not in counts and site.hits(ENDPOINT) == hits + 4

        # The endpoint goes quiet (an empty list): an empty source deletes nothing.
        site.set_comments_api(False)
        repoll(url)
        counts = run(embedded)
        assert counts.get("comments_parse:unchanged") == 1 and site.hits(ENDPOINT) == hits + 5
        assert seed_comments(url) == first


def repoll(url: str) -> None:
    with session_scope() as session:
        frontier.request_repoll(session, [frontier.find_url(session, url).id])
