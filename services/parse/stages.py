"""Parse stage handler: stored body -> article record -> article, images and comments rows."""

from __future__ import annotations

import dataclasses

from services.parse.article import parse_article
from shared.db import session_scope
from shared.errors import InvalidURLError
from shared.pipeline import StageResult
from shared.records import ArticleRecord
from shared.store import articles, fetches, frontier
from shared.urls import canonicalize_url, url_host


def parse_page(url_id: int) -> StageResult:
    """Parse the URL's latest body and store the record; hand the URL to enrich."""
    with session_scope() as session:
        row = frontier.get_url(session, url_id)
        if row is None or row.state != "fetched" or row.last_fetch_id is None:
            return StageResult("skipped")
        stored = fetches.load_body(session, row.last_fetch_id)
    if stored is None:
        return StageResult("skipped")
    content_type = stored.content_type
    if content_type and stored.charset:
        content_type = f"{content_type}; charset={stored.charset}"
    record = trusted_canonical(parse_article(stored.body, stored.final_url, content_type=content_type))
    with session_scope() as session:
        row = frontier.get_url(session, url_id, lock=True)
        if row is None or row.state != "fetched":
            return StageResult("skipped")
        article_id, outcome = articles.upsert_article(session, record, url_id)
        articles.upsert_comments(session, article_id, record.comments)
        frontier.advance(session, url_id, "fetched", "parsed", article_id=article_id)
    return StageResult.then("enrich", url_id, outcome=outcome.value)


def trusted_canonical(record: ArticleRecord) -> ArticleRecord:
    """The record with a canonical URL newsflow can key on: the page's claim is taken only when it
    stays on the host the page came from, so one site cannot overwrite another site's article."""
    fallback = canonicalize_url(record.url)
    try:
        claimed = canonicalize_url(record.canonical_url)
    except InvalidURLError:
        claimed = fallback
    if url_host(claimed) != url_host(fallback):
        claimed = fallback
    return dataclasses.replace(record, canonical_url=claimed)
