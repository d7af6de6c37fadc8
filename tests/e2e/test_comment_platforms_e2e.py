"""Comments hosted by comment platforms, end to end: real workers on Postgres and Redis, a local site
serving an article page per platform (Disqus, Viafoura, OpenWeb, Coral, Facebook) and each
platform's recorded API answers (tests/helpers/providers.py). One stack runs the scenario once: the
pages are queued and every thread is stored with its replies threaded; then the platforms answer with
new, edited and removed comments, a re-poll runs, and each thread gives exactly those events. The
tests below read what that run stored, one platform at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared import models
from shared.db import session_scope
from shared.store import articles
from tests.e2e.stack import Stack, running_stack
from tests.helpers.providers import PAGES, PROVIDERS, ProviderSite

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
# What the later answers change, per platform: (comment id without the platform prefix, event).
LATER_EVENTS = {
    "disqus": [("6123456702", "edited"), ("6123456703", "deleted"), ("6123456706", "new")],
    "viafoura": [
        ("11111111-aaaa-4aaa-8aaa-000000000004", "new"),
        ("11111111-aaaa-4aaa-8aaa-000000000012", "edited"),
        ("11111111-aaaa-4aaa-8aaa-000000000003", "deleted"),
    ],
    "openweb": [
        ("sp_MtrNws01_story-3310_c_1aP", "edited"),
        ("sp_MtrNws01_story-3310_c_5eT", "deleted"),
        ("sp_MtrNws01_story-3310_c_7gV", "new"),
    ],
    "coral": [
        ("c0ffee02-0000-4000-8000-000000000002", "edited"),
        ("c0ffee03-0000-4000-8000-000000000003", "deleted"),
        ("c0ffee05-0000-4000-8000-000000000005", "new"),
        ("c0ffee06-0000-4000-8000-000000000006", "new"),
    ],
}


@dataclass
class Thread:
    """What the store holds for one article after a round: comments by key, events in order, sources."""

    comments: dict[str, models.Comment]
    events: list[tuple[str, str]]
    sources: list[tuple[str, str, str | None, int | None]]


@dataclass
class Run:
    first: dict[str, Thread]
    later: dict[str, Thread]
    shown: dict[str, Any]


def snapshot(stack: Stack, url: str) -> Thread:
    with session_scope(stack.database_url) as session:
        article = articles.find_article(session, url)
        if article is None:
            return Thread({}, [], [])
        rows = session.execute(select(models.Comment).where(models.Comment.article_id == article.id)).scalars()
        comments = {r.key: r for r in rows}
        events = session.execute(
            select(models.Comment.key, models.CommentEvent.kind)
            .join(models.Comment, models.Comment.id == models.CommentEvent.comment_id)
            .where(models.CommentEvent.article_id == article.id)
            .order_by(models.CommentEvent.id)
        ).all()
        threads = session.execute(
            select(models.CommentThread.provider, models.CommentThread.status, models.CommentThread.reason)
            .add_columns(models.CommentThread.comments)
            .where(models.CommentThread.article_id == article.id)
        ).all()
        session.expunge_all()
    return Thread(comments, [tuple(e) for e in events], [tuple(t) for t in threads])


def expected(provider: str, version: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / provider / f"{version}.expected.json").read_text(encoding="utf-8"))["comments"]


@pytest.fixture(scope="module")
def run(postgres_admin_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    with (
        ProviderSite() as site,
        running_stack(postgres_admin_url, redis_url, tmp_path_factory.mktemp("logs"), **site.env()) as stack,
    ):
        urls = {name: site.page_url(name) for name in PAGES}
        stack.start_workers()
        stack.cli("enqueue", *urls.values())

        def stored(version: str) -> bool:
            threads = {name: snapshot(stack, url) for name, url in urls.items()}
            if version == "first":
                return all(len(threads[p].comments) == len(expected(p, "first")) for p in PROVIDERS) and bool(
                    threads["facebook"].sources
                )
            return all(len(threads[p].events) == len(expected(p, "first")) + len(LATER_EVENTS[p]) for p in PROVIDERS)

        stack.wait_idle(timeout=90, extra=lambda: stored("first"))
        first = {name: snapshot(stack, url) for name, url in urls.items()}
        site.set_version("later")
        stack.cli("repoll", *urls.values(), "--now")
        stack.wait_idle(timeout=90, extra=lambda: stored("later"))
        later = {name: snapshot(stack, url) for name, url in urls.items()}
        shown = json.loads(stack.cli("show", urls["disqus"], "--json").stdout)
        yield Run(first, later, shown)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_thread_is_stored_with_its_replies(run: Run, provider: str) -> None:
    thread = run.first[provider]
    want = expected(provider, "first")
    assert {k: (c.parent_key, c.author, c.text, c.deleted, c.likes) for k, c in thread.comments.items()} == {
        c["id"]: (c["parent_id"], c["author"], c["text"], c["deleted"], c["likes"]) for c in want
    }
    assert {(c.source, c.sources, c.version_count) for c in thread.comments.values()} == {(provider, provider, 1)}
    assert sorted(thread.events) == sorted((c["id"], "new") for c in want)
    assert thread.sources == [(provider, "ok", None, len(want))]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_later_poll_gives_exactly_the_new_edited_and_deleted_comments(run: Run, provider: str) -> None:
    before, after = run.first[provider], run.later[provider]
    assert after.events[: len(before.events)] == before.events
    changes = [(key.removeprefix(f"{provider}:"), kind) for key, kind in after.events[len(before.events) :]]
    assert sorted(changes) == sorted(LATER_EVENTS[provider])
    for key, kind in LATER_EVENTS[provider]:
        row = after.comments[f"{provider}:{key}"]
        assert (row.deleted, row.version_count) == (kind == "deleted", 2 if kind == "edited" else 1)
    listed = {c["id"]: c for c in expected(provider, "later")}
    for key, row in after.comments.items():
        if key in listed and not listed[key]["deleted"]:
            assert (row.text, row.deleted, row.sources) == (listed[key]["text"], False, provider)
        else:  # shown as deleted, or no longer listed: deleted, its last text kept
            assert (row.text, row.deleted) == (before.comments[key].text, True)


def test_facebook_is_recorded_unsupported(run: Run) -> None:
    assert run.first["facebook"].sources == [("facebook", "unsupported", "unsupported", None)]
    assert run.later["facebook"].comments == {}


def test_show_says_where_each_comment_came_from(run: Run) -> None:
    comments = {c["id"]: c for c in run.shown["comments"]}
    assert {c["source"] for c in comments.values()} == {"disqus"}
    assert comments["disqus:6123456703"]["deleted"] is True
    assert [len(v["versions"]) for k, v in comments.items() if k == "disqus:6123456702"] == [2]
    (source,) = run.shown["comment_sources"]
    assert (source["provider"], source["status"], source["comments"]) == ("disqus", "ok", 6)
    assert source["thread"] == "forum=metronews ident=story-5521"
