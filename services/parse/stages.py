"""Parse stage handlers: stored body -> article record -> article, images and comments rows; and
fetched comment endpoint pages -> comments, through the same diff, scoped to their source."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from sqlalchemy.orm import Session

from services.parse.article import parse_article
from services.parse.comment_json import read_comment_pages
from services.parse.profiles import find_profile
from services.parse.providers import ThreadComments
from services.parse.threads import READERS, UNSUPPORTED, read_thread
from shared import metrics
from shared.db import session_scope
from shared.errors import InvalidURLError, ProviderError
from shared.models import utcnow
from shared.pipeline import StageResult
from shared.records import ArticleRecord, CommentSource
from shared.store import Outcome, articles, comment_fetches, comment_threads, fetches, frontier
from shared.store.comment_fetches import FetchedPage
from shared.urls import canonicalize_url, url_host

log = logging.getLogger("newsflow.parse")


def parse_page(url_id: int) -> StageResult:
    """Parse the URL's latest body and store the record; hand the URL to enrich.

    One transaction: read without locks, parse (CPU only, no network, so the open transaction costs
    nothing but a snapshot), then lock the row, check it has not moved on, write and commit once."""
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
        unsupported = _record_unsupported(session, write.article_id, record, now)
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
    for provider in unsupported:
        metrics.record_thread_failure(provider, "unsupported")
    metrics.record_parse(record)
    metrics.record_comment_changes(comments.inserted, comments.edited, comments.missing)
    if write.outcome is Outcome.UPDATED:
        metrics.record_revision()
    if repoll:
        metrics.record_repoll_done(changed)
    outcome = "suspect" if write.suspect_reason else write.outcome.value
    work = [("enrich", url_id)]
    if _readable(record.comment_sources) and not write.suspect_reason:
        work.append(("comments", url_id))  # ingest fetches them, then hands them back to parse_comments
    return StageResult(outcome, tuple(work), **origin)


def parse_comments(url_id: int) -> StageResult:
    """Map the latest fetched pages of each of the article's comment sources to comments (a comments
    endpoint with the profile it names, a platform thread with its module in services/parse/providers)
    and merge them into the store as that source (see shared.changes). A thread whose answers are not
    what its module reads is recorded `provider_changed` and merges nothing."""
    with session_scope() as session:
        row = frontier.get_url(session, url_id)
        if row is None or row.article_id is None:
            return StageResult("skipped")
        article_id, origin = row.article_id, {"url": row.url, "enqueued_at": row.created_at}
        sources = _readable(articles.comment_sources(session, article_id))
        pages = {s.key: comment_fetches.load_comment_round(session, article_id, s.key) for s in sources}
        found: list[tuple[CommentSource, ThreadComments]] = []
        failed: list[tuple[CommentSource, ProviderError]] = []
        for source in sources:
            if not pages[source.key]:
                continue
            try:
                found.append((source, _read_source(source, pages[source.key])))
            except ProviderError as exc:
                log.warning("comment source unreadable", extra={"url": source.url, "reason": exc.reason})
                failed.append((source, exc))
        if not found and not failed:
            return StageResult("skipped", **origin)
        merged: list[tuple[CommentSource, articles.CommentChanges]] = []
        # The URL row, then the article row: the order parse_page takes them in, so that a page parse
        # and a comments merge of one article at the same moment wait for each other, never deadlock.
        if frontier.get_url(session, url_id, lock=True) is None or not articles.lock_article(session, article_id):
            return StageResult("skipped", **origin)
        now = utcnow()
        for source, exc in failed:
            comment_threads.record_failure(session, article_id, source, exc.reason, exc.detail, now)
        for source, thread in found:
            changes = articles.upsert_comments(
                session, article_id, thread.comments, seen_at=now, source=source.provider, complete=thread.complete
            )
            comment_threads.record_comments(session, article_id, source, len(thread.comments))
            merged.append((source, changes))
        changed = any(c.changed for _, c in merged)
        if changed:
            frontier.note_change(session, url_id, now)
    for source, exc in failed:
        metrics.record_thread_failure(source.provider, exc.reason)
    for source, changes in merged:
        metrics.record_comment_changes(changes.inserted, changes.edited, changes.missing)
        metrics.record_thread_comments(source.provider, changes.inserted, changes.edited, changes.missing)
    if failed and not found:
        raise failed[0][1]
    return StageResult("changed" if changed else "unchanged", **origin)


def _read_source(source: CommentSource, pages: list[FetchedPage]) -> ThreadComments:
    """The comments one source's latest round lists (a comments endpoint's are always complete)."""
    if source.provider in READERS:
        return read_thread(source.provider, [(p.url, p.body) for p in pages])
    profile = find_profile(source.profile or "")
    if profile is None or profile.comments_api is None:
        return ThreadComments(())
    bodies = [p.body for p in pages]
    return ThreadComments(read_comment_pages(bodies, profile.comments_api, profile.comments_tzinfo))


def _readable(sources: tuple[CommentSource, ...]) -> tuple[CommentSource, ...]:
    """The sources parse can map: comments endpoints and the platforms of services/parse/threads."""
    return tuple(s for s in sources if s.provider == "site_json" or s.provider in READERS)


def _record_unsupported(session: Session, article_id: int, record: ArticleRecord, now: datetime) -> list[str]:
    """Record the page's widgets whose platform has no public read path; the providers seen the first time."""
    first: list[str] = []
    for widget in record.comment_widgets:
        if widget.provider not in UNSUPPORTED:
            continue
        where = widget.thread_id or record.canonical_url
        source = CommentSource(url=where, provider=widget.provider, thread={"href": where})
        if comment_threads.record_unsupported(session, article_id, source, UNSUPPORTED[widget.provider], now):
            first.append(widget.provider)
    return first


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
