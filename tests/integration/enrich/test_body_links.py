"""In-body links through the links stage on a real store: edges of kind "body", resolved both ways, never followed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from sqlalchemy import select, update

from services.enrich import stages
from services.enrich.links import link_edges
from shared import models
from shared.db import session_scope
from shared.records import ArticleRecord, RelatedLink
from shared.store import articles, frontier, graph, views

PAGES = Path(__file__).parents[2] / "fixtures" / "pages"
BASE = "https://news.example.com"


def record(path: str, **changes) -> ArticleRecord:
    seed = ArticleRecord.from_dict(
        json.loads((PAGES / "sputnik_2017_tillerson_lavrov.expected.json").read_text(encoding="utf-8"))
    )
    changes = {"comments": (), "related_links": (), **changes}
    return dataclasses.replace(seed, url=BASE + path, canonical_url=BASE + path, **changes)


def store_enriched(path: str, **changes) -> tuple[int, int]:
    """(url id, article id) of an article whose frontier row waits for the links stage."""
    with session_scope() as session:
        url_id = frontier.enqueue_url(session, BASE + path).url_id
        article_id = articles.upsert_article(session, record(path, **changes), url_id).article_id
        session.execute(
            update(models.Url).where(models.Url.id == url_id).values(state="enriched", article_id=article_id)
        )
    return url_id, article_id


def edges_of(article_id: int) -> list[tuple[str, str, str | None, int | None]]:
    with session_scope() as session:
        rows = session.execute(
            select(models.Link.kind, models.Link.target_url, models.Link.anchor, models.Link.target_article_id)
            .where(models.Link.article_id == article_id)
            .order_by(models.Link.kind, models.Link.position)
        ).all()
    return [tuple(row) for row in rows]


def test_body_links_are_stored_resolved_both_ways_and_not_followed(embedded):
    _, earlier = store_enriched("/earlier/")
    url_id, article = store_enriched(
        "/story/",
        body_links=(
            RelatedLink(BASE + "/earlier", "an earlier story"),  # stored already, linked without the slash
            RelatedLink(BASE + "/later/", "a later story"),  # stored after this article
            RelatedLink("https://agency.example/report", "the report"),  # another site, never stored
            RelatedLink(BASE + "/earlier#top", "again"),  # the same target again: one edge
        ),
        related_links=(RelatedLink(BASE + "/related/", "A related story"),),
    )

    result = stages.resolve_links(url_id)

    assert result.outcome == "succeeded"
    assert edges_of(article) == [
        ("body", BASE + "/earlier", "an earlier story", earlier),
        ("body", BASE + "/later/", "a later story", None),
        ("body", "https://agency.example/report", "the report", None),
        ("related", BASE + "/related/", "A related story", None),
    ]
    # Only the related target was queued; body-link targets get no frontier row.
    with session_scope() as session:
        queued = [frontier.get_url(session, next_id).url for _, next_id in result.next]
        assert queued == [BASE + "/related/"]
        assert frontier.find_url(session, BASE + "/later/") is None
        assert frontier.find_url(session, "https://agency.example/report") is None

    later_url_id, later = store_enriched("/later/")
    assert stages.resolve_links(later_url_id).outcome == "succeeded"
    assert edges_of(article)[1] == ("body", BASE + "/later/", "a later story", later)

    with session_scope() as session:
        view = views.article_view(session, later)
        assert [(link["article_id"], link["anchor"], link["kind"]) for link in view["links_in"]] == [
            (article, "a later story", "body")
        ]
        out = views.article_view(session, article)["links_out"]
        assert [(link["kind"], link["target_article_id"]) for link in out][:2] == [("body", earlier), ("body", later)]


def test_body_and_related_edges_are_kept_exact_per_kind(session):
    article = articles.upsert_article(session, record("/story/"), None).article_id
    body = link_edges([RelatedLink("/a/", "a"), RelatedLink("/b/", "b")], BASE + "/story/", kind="body")
    related = link_edges([RelatedLink("/a/", "A story")], BASE + "/story/")
    graph.set_article_links(session, article, related, exact_kinds=("related",))
    graph.set_article_links(session, article, body, exact_kinds=("body",))
    # The page drops a body link and its related block: each kind's set follows the page, the other stays.
    graph.set_article_links(session, article, body[:1], exact_kinds=("body",))
    graph.set_article_links(session, article, related, exact_kinds=("related",))
    graph.set_article_links(session, article, [], exact_kinds=("related",))
    kinds = session.execute(
        select(models.Link.kind, models.Link.target_url).where(models.Link.article_id == article)
    ).all()
    assert sorted(kinds) == [("body", BASE + "/a/")]
    # Both kinds in one call, as the links stage writes them: positions count within each kind.
    graph.set_article_links(session, article, [*related, *reversed(body)], exact_kinds=("related", "body"))
    graph.set_article_links(session, article, [*related, body[1]], exact_kinds=("related", "body"))
    rows = session.execute(
        select(models.Link.kind, models.Link.position, models.Link.target_url)
        .where(models.Link.article_id == article)
        .order_by(models.Link.kind, models.Link.position)
    ).all()
    assert [tuple(r) for r in rows] == [("body", 0, BASE + "/b/"), ("related", 0, BASE + "/a/")]
