"""`views.article_detail` (the answer of `GET /articles/{id}`) on real Postgres and SQLite: Postgres
builds it in one statement, and it must be the dict the per-list queries give, value for value."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.records import ArticleRecord, Comment, CommentSource, LinkEdge, TagRecord
from shared.store import articles, comment_threads, enrichment, graph, views
from shared.urls import url_hash

PAGES = Path(__file__).parents[2] / "fixtures" / "pages"
BASE = "https://news.example.com"
T0 = datetime(2026, 3, 4, 5, 6, 7, 120000, tzinfo=UTC)  # trailing zero digits: Postgres' JSON trims them
T1 = T0 + timedelta(minutes=15, microseconds=-120000)  # a whole second
DISQUS = CommentSource(url=BASE + "/seed/", provider="disqus", thread={"forum": "news", "identifier": "7"})
ENDPOINT = CommentSource(url=BASE + "/comments?page={page}")


def record(path: str, **changes) -> ArticleRecord:
    seed = ArticleRecord.from_dict(
        json.loads((PAGES / "sputnik_2017_tillerson_lavrov.expected.json").read_text(encoding="utf-8"))
    )
    return dataclasses.replace(seed, url=BASE + path, canonical_url=BASE + path, comments=(), **changes)


def stored_article(session) -> tuple[int, int]:
    """An article with something in every list, and another one linking to it both ways."""
    seed = articles.upsert_article(session, record("/seed/"), None, seen_at=T0).article_id
    other = articles.upsert_article(session, record("/other/", title="Other"), None, seen_at=T0).article_id
    articles.upsert_article(session, record("/seed/", title="Seed, retitled"), None, seen_at=T1)
    first = [
        Comment("a", "Ann", "first text", posted_at=T0, likes=3),
        Comment("b", "Bob", "a reply", parent_id="a", reply_to_author="Ann", edited_at=T0),
    ]
    articles.upsert_comments(session, seed, first, seen_at=T0)
    articles.upsert_comments(session, seed, [dataclasses.replace(first[0], text="second text")], seen_at=T1)
    articles.upsert_comments(session, seed, [Comment("j", None, "from the endpoint")], seen_at=T1, source="site_json")
    graph.set_article_tags(session, seed, [TagRecord("bonn", "Bonn", "Bonn", kind="place")])
    lavrov = enrichment.EntityRow("sergei lavrov", "Sergei Lavrov", "person", ("Sergey Lavrov",), 3)
    enrichment.set_article_entities(session, seed, [lavrov])
    edges = [LinkEdge(BASE + p, url_hash(BASE + p), a) for p, a in (("/other/", "Other"), ("/nowhere/", None))]
    graph.set_article_links(session, seed, edges)
    graph.resolve_links(session, other, url_hash(BASE + "/other/"))
    graph.set_article_links(session, other, [LinkEdge(BASE + "/seed/", url_hash(BASE + "/seed/"), "Seed")])
    graph.resolve_links(session, seed, url_hash(BASE + "/seed/"))
    comment_threads.record_fetched(session, seed, DISQUS, T0)
    comment_threads.record_failure(session, seed, ENDPOINT, "rate_limited", "429", T1)
    session.flush()
    return seed, other


def test_article_detail_has_every_list_with_times_in_utc_iso(session):
    seed, other = stored_article(session)
    detail = views.article_detail(session, seed)
    assert sorted(detail) == [
        "canonical_url",
        "comment_sources",
        "comments",
        "entities",
        "first_seen_at",
        "id",
        "last_seen_at",
        "links_in",
        "links_out",
        "record",
        "revisions",
        "tags",
    ]
    assert (detail["id"], detail["canonical_url"], detail["record"]["title"]) == (
        seed,
        BASE + "/seed/",
        "Seed, retitled",
    )
    assert (detail["first_seen_at"], detail["last_seen_at"]) == (T0.isoformat(), T1.isoformat())
    assert detail["tags"] == [{"key": "bonn", "name": "Bonn", "kind": "place", "raw": "Bonn"}]
    assert detail["entities"] == [
        {"key": "sergei lavrov", "name": "Sergei Lavrov", "kind": "person", "aliases": ["Sergey Lavrov"], "mentions": 3}
    ]
    assert detail["links_out"] == [
        {
            "url": BASE + "/other/",
            "anchor": "Other",
            "kind": "related",
            "target_article_id": other,
            "target_title": "Other",
        },
        {"url": BASE + "/nowhere/", "anchor": None, "kind": "related", "target_article_id": None, "target_title": None},
    ]
    assert detail["links_in"] == [
        {"article_id": other, "url": BASE + "/other/", "title": "Other", "anchor": "Seed", "kind": "related"}
    ]
    ann, bob, j = detail["comments"]
    assert ann == {
        "id": "a",
        "parent_id": None,
        "author": "Ann",
        "reply_to_author": None,
        "text": "second text",
        "posted_at": T0.isoformat(),
        "edited_at": None,
        "deleted": False,
        "source": "html",
        "sources": ["html"],
        "likes": 3,
        "dislikes": None,
        "moderation": None,
        "missing_since": None,
        "first_seen_at": T0.isoformat(),
        "last_seen_at": T1.isoformat(),
        "versions": [
            {"version": 1, "text": "first text", "edited_at": None, "seen_at": T0.isoformat()},
            {"version": 2, "text": "second text", "edited_at": None, "seen_at": T1.isoformat()},
        ],
    }
    assert (bob["parent_id"], bob["reply_to_author"], bob["edited_at"]) == ("a", "Ann", T0.isoformat())
    assert (bob["deleted"], bob["sources"], bob["missing_since"]) == (True, [], T1.isoformat())
    assert [v["edited_at"] for v in bob["versions"]] == [T0.isoformat()]
    assert (j["author"], j["source"], j["sources"], len(j["versions"])) == (None, "site_json", ["site_json"], 1)
    assert detail["comment_sources"] == [
        {
            "provider": "disqus",
            "thread": "forum=news identifier=7",
            "status": "ok",
            "reason": None,
            "detail": None,
            "failures": 0,
            "comments": None,
            "checked_at": T0.isoformat(),
            "fetched_at": T0.isoformat(),
        },
        {
            "provider": "site_json",
            "thread": BASE + "/comments?page={page}",
            "status": "failed",
            "reason": "rate_limited",
            "detail": "429",
            "failures": 1,
            "comments": None,
            "checked_at": T1.isoformat(),
            "fetched_at": None,
        },
    ]
    assert [(r["revision"], r["seen_at"], r["changed_fields"], r["title"]) for r in detail["revisions"]] == [
        (1, T0.isoformat(), [], record("/seed/").title),
        (2, T1.isoformat(), ["title"], "Seed, retitled"),
    ]


def test_article_detail_is_what_the_per_list_queries_read(session):
    seed, other = stored_article(session)
    for article_id in (seed, other):
        assert views.article_detail(session, article_id) == views.article_detail_per_list(session, article_id)
    assert views.article_detail(session, other + 1) is None
    assert views.article_detail_per_list(session, other + 1) is None
