"""Enrich stage handlers: tags, entities, key phrases and near-duplicates; then the link graph.

Each handler loads the record, runs the pure logic outside any lock, then locks the frontier row,
checks it has not moved on, writes and advances it. Follow-up fetches are returned, not published.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from services.enrich.enrichment import Enrichment, enrich_record
from services.enrich.fingerprint import similarity
from services.enrich.gazetteer import load_gazetteer
from services.enrich.links import FollowPolicy, link_edges, match_hashes, select_follow, slash_variant
from shared import metrics
from shared.config import get_settings
from shared.db import session_scope
from shared.pipeline import StageResult
from shared.records import ArticleRecord
from shared.store import articles, enrichment, frontier, graph
from shared.urls import url_hash

log = logging.getLogger("newsflow.enrich")


def warm_up() -> None:
    """Load what enrichment needs (gazetteer, alias table, language model, English stop words) now."""
    enrich_record(_WARM_UP, load_gazetteer(get_settings().enrich_aliases_path or None))


_WARM_UP = ArticleRecord(
    url="https://example.org/",
    canonical_url="https://example.org/",
    title="Warm-up",
    body_paragraphs=("The enrich worker loads its gazetteer and its language model before it takes work.",),
)


def enrich_article(url_id: int) -> StageResult:
    """Store the article's language, tags, entities, key phrases and fingerprint, link near-duplicates found
    among all stored articles; hand the URL to link resolution. One transaction: lock the frontier row and
    check it is due, enrich (CPU only, a few ms: unlike parsing, short enough to hold the row lock through,
    which saves reading the row twice), write."""
    settings = get_settings()
    with session_scope() as session:
        row = frontier.get_url(session, url_id, lock=True)
        if row is None or row.state != "parsed" or row.article_id is None:
            return StageResult("skipped")
        article = articles.get_article(session, row.article_id)
        if article is None:
            return StageResult("skipped")
        article_id, record = article.id, ArticleRecord.from_dict(article.record)
        gazetteer = load_gazetteer(settings.enrich_aliases_path or None)
        result = enrich_record(record, gazetteer, keywords=settings.enrich_keywords)
        if result.language != article.language:
            enrichment.set_article_language(session, article_id, result.language)
        enrichment.set_enrichment(
            session,
            article_id,
            result.tags,
            [enrichment.EntityRow(e.key, e.name, e.kind, e.aliases, e.count) for e in result.entities],
            [enrichment.KeywordRow(k.key, k.phrase, k.score) for k in result.keywords],
        )
        duplicates = _link_near_duplicates(session, article_id, result, settings.duplicate_similarity)
        frontier.advance(session, url_id, "parsed", "enriched")
    metrics.record_tags(len(result.tags))
    metrics.record_entities(len(result.entities))
    log.info(
        "article enriched",
        extra={
            "url": record.url,
            "article_id": article_id,
            "tags": len(result.tags),
            "entities": len(result.entities),
            "duplicates": duplicates,
        },
    )
    return StageResult.then("links", url_id)


def _link_near_duplicates(session: Session, article_id: int, result: Enrichment, threshold: float) -> int:
    """Store the fingerprint and link the article to every stored near-duplicate (older one = original)."""
    fp = result.fingerprint
    if fp is None:
        return 0
    enrichment.lock_bands(session, fp.bands)
    enrichment.set_fingerprint(session, article_id, fp.signature, fp.bands, fp.shingles, result.text_hash)
    pairs = []
    for other_id, signature in enrichment.candidate_signatures(session, article_id, fp.bands):
        score = similarity(fp.signature, tuple(signature))
        if score >= threshold:
            copy, original = (article_id, other_id) if other_id < article_id else (other_id, article_id)
            pairs.append((copy, original, round(score, 4)))
    graph.link_duplicates(session, pairs)
    return len(pairs)


def resolve_links(url_id: int) -> StageResult:
    """Store the article's related and in-body links, connect them to stored articles both ways, and
    queue related targets not stored yet within the follow policy (depth from the seed, allowed hosts,
    budget)."""
    settings = get_settings()
    policy = FollowPolicy.from_settings(
        settings.link_follow_max_depth, settings.link_follow_allow_hosts, settings.link_follow_budget
    )
    with session_scope() as session:
        row = frontier.get_url(session, url_id, lock=True)
        if row is None or row.state != "enriched" or row.article_id is None:
            return StageResult("skipped")
        article = articles.get_article(session, row.article_id)
        if article is None:
            return StageResult("skipped")
        record = ArticleRecord.from_dict(article.record)
        aliases = match_hashes(article.canonical_url)[1:]
        # Every link row this stage writes (its own edges, other articles' edges waiting for it) is
        # locked first, in one order: two articles that link each other resolve at once without a deadlock.
        waiting = graph.lock_links(session, article.id, article.canonical_hash, aliases)
        edges = link_edges(record.related_links, record.url)
        body_edges = link_edges(record.body_links, record.url, kind="body")
        graph.set_article_links(session, article.id, (*edges, *body_edges), exact_kinds=("related", "body"))
        variants = {e.target_hash: url_hash(v) for e in (*edges, *body_edges) if (v := slash_variant(e.target_url))}
        # One call resolves the article's unresolved edges of every kind, and incoming edges of every kind.
        resolved = graph.resolve_links(
            session, article.id, article.canonical_hash, alias_hashes=aliases, target_variants=variants, waiting=waiting
        )
        # Only related-block targets are followed: body links (sources, wikis, other sites) are stored
        # as edges but never queued for fetching. The budget counts URLs new to the frontier.
        targets = graph.unresolved_targets(session, article.id, kinds=("related",))
        followable = select_follow(targets, article.canonical_url, row.depth, policy)
        known = frontier.known_urls(session, followable)
        fresh = [t for t in dict.fromkeys(followable) if t not in known][: policy.budget]
        new = frontier.enqueue_urls(
            session, fresh, source="related", depth=row.depth + 1, priority=-1, skip_invalid=True
        )
        queued = [("fetch", q.url_id) for q in new if q.created]
        frontier.advance(session, url_id, "enriched", "done")
    metrics.record_links(sum(resolved), queued=len(queued))
    if queued:
        log.info("related links queued", extra={"url": record.url, "article_id": article.id, "queued": len(queued)})
    return StageResult("succeeded", tuple(queued))
