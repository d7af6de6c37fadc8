"""Parse stage handler: stored body -> article record -> article, images and comments rows."""

from __future__ import annotations

import dataclasses
import logging

from services.parse.article import parse_article
from shared import metrics
from shared.db import session_scope
from shared.errors import InvalidURLError
from shared.models import utcnow
from shared.pipeline import StageResult
from shared.records import ArticleRecord
from shared.store import Outcome, articles, fetches, frontier
from shared.urls import canonicalize_url, url_host

log = logging.getLogger("newsflow.parse")


def parse_page(url_id: int) -> StageResult:
    """Parse the URL's latest body and store the record; hand the URL to enrich."""
    with session_scope() as session:
        row = frontier.get_url(session, url_id)
        if row is None or row.state != "fetched" or row.last_fetch_id is None:
            return StageResult("skipped")
        stored = fetches.load_body(session, row.last_fetch_id)
        origin = {"url": row.url, "enqueued_at": row.created_at}
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
        now = utcnow()
        repoll = row.repoll_count > 0
        write = articles.upsert_article(session, record, url_id, seen_at=now)
        if write.suspect_reason:
            # A page that lost most of its body (an error page served with 200, a paywall) is not a
            # revision, and its comment block is not trusted either: keep what is stored.
            log.warning("distrusted page content", extra={"url_id": url_id, "reason": write.suspect_reason})
            comments = articles.CommentChanges()
        else:
            comments = articles.upsert_comments(session, write.article_id, record.comments, seen_at=now)
        changed = write.outcome is not Outcome.UNCHANGED or comments.changed
        frontier.advance(
            session,
            url_id,
            "fetched",
            "parsed",
            article_id=write.article_id,
            poll_changed=changed,
            last_changed_at=now if changed else row.last_changed_at,
        )
    metrics.record_parse(record)
    metrics.record_comment_changes(comments.inserted, comments.edited, comments.missing)
    if write.outcome is Outcome.UPDATED:
        metrics.record_revision()
    if repoll:
        metrics.record_repoll_done(changed)
    outcome = "suspect" if write.suspect_reason else write.outcome.value
    return StageResult.then("enrich", url_id, outcome=outcome, **origin)


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
