"""Enrich stage handlers: normalised tags, then related links stored and resolved both ways."""

from __future__ import annotations

from services.enrich.links import link_edges
from services.enrich.tags import normalize_tags
from shared.db import session_scope
from shared.pipeline import StageResult
from shared.records import ArticleRecord
from shared.store import articles, frontier, graph


def enrich_article(url_id: int) -> StageResult:
    """Store the article's normalised tags; hand the URL to link resolution."""
    with session_scope() as session:
        row = frontier.get_url(session, url_id, lock=True)
        if row is None or row.state != "parsed" or row.article_id is None:
            return StageResult("skipped")
        article = articles.get_article(session, row.article_id)
        if article is None:
            return StageResult("skipped")
        record = ArticleRecord.from_dict(article.record)
        graph.set_article_tags(session, article.id, normalize_tags(record.tags))
        frontier.advance(session, url_id, "parsed", "enriched")
    return StageResult.then("links", url_id)


def resolve_links(url_id: int) -> StageResult:
    """Store the article's related links and connect them to stored articles, both directions."""
    with session_scope() as session:
        row = frontier.get_url(session, url_id, lock=True)
        if row is None or row.state != "enriched" or row.article_id is None:
            return StageResult("skipped")
        article = articles.get_article(session, row.article_id)
        if article is None:
            return StageResult("skipped")
        record = ArticleRecord.from_dict(article.record)
        graph.set_article_links(session, article.id, link_edges(record.related_links, record.url))
        graph.resolve_links(session, article.id, article.canonical_hash)
        frontier.advance(session, url_id, "enriched", "done")
    return StageResult("succeeded")
