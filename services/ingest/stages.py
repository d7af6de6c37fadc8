"""Ingest stage handlers: fetch a queued URL, poll a feed, fetch an article's separate comment
sources, and the scheduler's two sweeps.

Each handler does its network work outside any transaction, then re-reads and locks the row,
checks it has not moved on (another delivery of the same message), writes, and returns the
follow-up work. They run the same in a Celery worker and in the embedded runner.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import cache

import redis
from sqlalchemy.orm import Session

from services.ingest import backlog
from services.ingest.feeds import FeedEntry, discover_feeds, parse_feed, parse_sitemap
from services.ingest.fetch import FEED_TYPES, Fetcher, FetchResult
from services.ingest.threads import WALKS, fetch_thread
from shared import metrics
from shared.config import Settings, get_settings
from shared.db import read_scope, session_scope
from shared.errors import FeedError, FetchError, NewsflowError, ProviderError
from shared.jsonpath import read_items
from shared.locks import single_instance
from shared.models import Feed, utcnow
from shared.pipeline import StageResult
from shared.records import CommentSource
from shared.repoll import next_feed_interval
from shared.store import Outcome, articles, comment_fetches, comment_threads, feeds, fetches, frontier
from shared.store.comment_fetches import FetchedPage

log = logging.getLogger("newsflow.ingest")


@cache
def shared_redis() -> redis.Redis | None:
    """This process's client for state shared by all workers, or None in the embedded mode."""
    url = get_settings().shared_redis_url
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5) if url else None


@cache
def fetcher() -> Fetcher:
    """This process's fetcher (one HTTP connection pool, robots cache and politeness client)."""
    return Fetcher(get_settings(), shared_redis())


def fetch_url(url_id: int) -> StageResult:
    """Fetch a queued URL and store the body; hand it to parse, or stop when not modified."""
    with read_scope() as session:
        row = frontier.get_url(session, url_id)
        if row is None or row.state != "queued":
            return StageResult("skipped")
        url, etag, last_modified = row.url, row.etag, row.last_modified
        origin = {"url": url, "enqueued_at": row.created_at}
    result = fetcher().fetch(url, etag=etag, last_modified=last_modified)
    metrics.record_fetch(result.final_url, len(result.body))
    with session_scope() as session:
        row = frontier.get_url(session, url_id, lock=True)
        if row is None or row.state != "queued":
            return StageResult("skipped")
        repoll = row.repoll_count > 0
        if result.not_modified:
            # A page that did not change may still have new comments at its comments endpoint.
            comments_next = _comments_work(session, url_id, row.article_id)
            frontier.advance(session, url_id, "queued", "done")
            if repoll:
                metrics.record_repoll_done(False)
            return StageResult("not_modified", comments_next, **origin)
        fetch_id, stored = fetches.save_fetch(
            session,
            url_id,
            final_url=result.final_url,
            status_code=result.status_code,
            content_type=result.content_type,
            charset=result.charset,
            etag=result.etag,
            last_modified=result.last_modified,
            headers=result.headers,
            body=result.body,
            elapsed_ms=result.elapsed_ms,
            status_line=result.status_line,
            http_headers=result.raw_headers,
            keep=get_settings().fetch_bodies_keep,
        )
        validators = {"etag": result.etag, "last_modified": result.last_modified}
        if stored is Outcome.UNCHANGED and fetch_id == row.last_fetch_id and row.article_id is not None:
            # A re-poll that got the very bytes already parsed: nothing on the page can have changed.
            comments_next = _comments_work(session, url_id, row.article_id)
            frontier.advance(session, url_id, "queued", "done", **validators)
            if repoll:
                metrics.record_repoll_done(False)
            return StageResult("unchanged", comments_next, **origin)
        frontier.advance(session, url_id, "queued", "fetched", last_fetch_id=fetch_id, **validators)
    return StageResult.then("parse", url_id, **origin)


# What a comments endpoint may be labelled as; the page after the last one is an empty list.
COMMENT_TYPES = ("application/json", "text/json", "text/javascript", "application/javascript", "text/plain")
# Comment sources ingest can fetch: a site's comments endpoint, and the platforms of services/ingest/threads.
COMMENT_PROVIDERS = ("site_json", *WALKS)


def _comments_work(session: Session, url_id: int, article_id: int | None) -> tuple[tuple[str, int], ...]:
    if article_id is None or not _fetchable(articles.comment_sources(session, article_id)):
        return ()
    return (("comments", url_id),)


def _fetchable(sources: tuple[CommentSource, ...]) -> list[CommentSource]:
    return [s for s in sources if s.provider in COMMENT_PROVIDERS]


def fetch_comments(url_id: int) -> StageResult:
    """Fetch every page of the article's separate comment sources (named in its stored record by the
    parser: ingest reads a record, never the parse service) and hand them to parse.

    Parse cannot fetch (pure modules, no HTTP client) and ingest does not know site profiles, so the
    record carries what fetching needs: the URL with `{page}`, the list's JSON path, a page bound; or a
    platform's thread identifiers, which services/ingest/threads walks. A round that failed part-way is
    not stored: a short round would read as comments deleted. Each source's outcome is kept on its
    `comment_threads` row; a transient failure (platform down, rate limited) is retried with backoff
    while the source has failed fewer than NEWSFLOW_TASK_MAX_ATTEMPTS times in a row, and nothing is
    stored until then; after that what did answer is stored and the failure stays recorded.
    """
    settings = get_settings()
    with read_scope() as session:
        row = frontier.get_url(session, url_id)
        if row is None or row.article_id is None:
            return StageResult("skipped")
        article_id, origin = row.article_id, {"url": row.url, "enqueued_at": row.created_at}
        sources = _fetchable(articles.comment_sources(session, article_id))
    rounds: list[tuple[CommentSource, list[FetchedPage]]] = []
    errors: list[tuple[CommentSource, NewsflowError]] = []
    for source in sources:
        try:
            pages = (
                _fetch_comment_pages(source)
                if source.provider == "site_json"
                else fetch_thread(source, settings, fetcher())
            )
        except (FetchError, ProviderError) as exc:
            log.warning("comment source failed", extra={"url": source.url, "reason": exc.reason})
            errors.append((source, exc))
            continue
        rounds.append((source, pages))
    changed, retry = False, None
    with session_scope() as session:
        now = utcnow()
        for source, exc in errors:
            failures = comment_threads.record_failure(session, article_id, source, exc.reason, exc.detail, now)
            if exc.transient and failures < settings.task_max_attempts and retry is None:
                retry = _again(exc, failures)
        if retry is None:
            for source, pages in rounds:
                stored = comment_fetches.save_comment_pages(session, article_id, source.key, pages, now)
                comment_threads.record_fetched(session, article_id, source, now)
                changed = changed or stored is not Outcome.UNCHANGED
    for source, exc in errors:
        metrics.record_thread_failure(source.provider, exc.reason)
    for source, _ in rounds if retry is None else ():
        metrics.record_thread_fetched(source.provider)
    if retry is not None:
        raise retry
    if errors and not rounds:
        raise _again(errors[0][1], settings.task_max_attempts)
    if not changed:
        return StageResult("unchanged", **origin)
    return StageResult.then("comments_parse", url_id, **origin)


def _again(exc: NewsflowError, failures: int) -> NewsflowError:
    """The same failure, saying how many times in a row its source has failed (the retry bound)."""
    return type(exc)(exc.reason, exc.detail, retry_after=exc.retry_after, attempt=failures)


def _fetch_comment_pages(source: CommentSource) -> list[FetchedPage]:
    """Pages in order until one lists no comments (kept: it says where the thread ends) or is not
    JSON (kept for parse to reject), at most `source.max_pages`."""
    pages: list[FetchedPage] = []
    for url in source.page_urls():
        result = fetcher().fetch(url, accept=COMMENT_TYPES)
        metrics.record_fetch(result.final_url, len(result.body))
        pages.append(FetchedPage(result.final_url, result.content_type, result.body))
        try:
            items = read_items(json.loads(result.body), source.items_path)
        except (ValueError, RecursionError):
            break
        if not items:
            break
    return pages


def poll_feed(feed_id: int) -> StageResult:
    """Poll one feed (conditional GET), queue the entries not seen before, and schedule the next
    poll at the rhythm the feed publishes (shared.repoll.next_feed_interval)."""
    settings = get_settings()
    with read_scope() as session:
        feed = session.get(Feed, feed_id)
        if feed is None or feed.parked:
            return StageResult("skipped")
        url, etag, last_modified = feed.url, feed.etag, feed.last_modified
        previous = timedelta(seconds=feed.poll_interval_seconds) if feed.poll_interval_seconds else None
    result = fetcher().fetch(url, etag=etag, last_modified=last_modified, accept=FEED_TYPES)
    metrics.record_fetch(result.final_url, len(result.body))
    entries: list[FeedEntry] = []
    title = None
    if not result.not_modified:
        title, entries = _read_feed(result)
    interval = next_feed_interval(
        (e.published_at for e in entries),
        previous,
        not_modified=result.not_modified,
        minimum=timedelta(seconds=settings.feed_min_interval_seconds),
        maximum=timedelta(seconds=settings.feed_max_interval_seconds),
        default=timedelta(seconds=settings.feed_poll_interval_seconds),
    )
    with session_scope() as session:
        queued = frontier.enqueue_urls(
            session, [e.url for e in entries], source="feed", feed_id=feed_id, skip_invalid=True
        )
        created = [q.url_id for q in queued if q.created]
        feeds.record_feed_success(
            session,
            feed_id,
            interval=interval,
            etag=result.etag or etag,
            last_modified=result.last_modified or last_modified,
            title=title,
            new_entries=len(created),
        )
    outcome = "not_modified" if result.not_modified else "succeeded"
    return StageResult(outcome, tuple(("fetch", url_id) for url_id in created), url=url)


def _read_feed(result: FetchResult) -> tuple[str | None, list[FeedEntry]]:
    """Entries of a feed, a sitemap, or the first feed a home page links to."""
    head = result.body[:2048].lstrip().lower()
    if b"<urlset" in head or b"<sitemapindex" in head:
        return None, parse_sitemap(result.body, result.final_url)
    if result.content_type in ("text/html", "application/xhtml+xml") and b"<rss" not in head and b"<feed" not in head:
        found = discover_feeds(result.body.decode(result.charset or "utf-8", "replace"), result.final_url)
        if not found:
            raise FeedError("no_feed_found", f"{result.final_url} is a web page that links to no feed")
        result = fetcher().fetch(found[0], accept=FEED_TYPES)
    parsed = parse_feed(result.body, result.final_url)
    return parsed.title, list(parsed.entries)


def sweep(_: int = 0) -> StageResult:
    """Re-publish items whose stage should be running but whose message was lost (a crash between
    commit and publish, a dead worker, a broker restart): the frontier state says which stage, and what
    the broker still holds says which messages can no longer be waiting (services/ingest/backlog), so a
    backlog deeper than the stale time is waited for, not duplicated."""

    def claim(session: Session, settings: Settings) -> list[tuple[str, int]]:
        stale = settings.sweep_stale_seconds
        client = backlog.broker_redis()
        cutoffs = None if client is None else backlog.dispatch_cutoffs(backlog.observe(client, stale), stale)
        due = frontier.due_for_dispatch(session, stale_after=timedelta(seconds=stale), cutoffs=cutoffs)
        frontier.mark_dispatched(session, [url_id for url_id, _ in due])
        for _, stage in due:
            metrics.record_sweep_republished(stage)
        return [(stage, url_id) for url_id, stage in due]

    return _schedule("sweep", claim)


def schedule_repolls(_: int = 0) -> StageResult:
    """Hand every article whose re-poll is due back to fetch (the due times live in the database)."""

    def claim(session: Session, settings: Settings) -> list[tuple[str, int]]:
        claimed = frontier.claim_due_repolls(session)
        metrics.record_repolls_due(len(claimed))
        return [("fetch", url_id) for url_id in claimed]

    return _schedule("schedule_repolls", claim)


def schedule_feeds(_: int = 0) -> StageResult:
    """Hand every feed that is due to a poll task; the due time lives in the database. A poll handed on
    before is handed on again only once its message can no longer be waiting (as the sweep decides)."""

    def claim(session: Session, settings: Settings) -> list[tuple[str, int]]:
        stale = settings.sweep_stale_seconds
        client = backlog.broker_redis()
        cutoff = None if client is None else backlog.feed_cutoff(backlog.observe(client, stale), stale)
        due = feeds.due_feeds(
            session, stale_after=timedelta(seconds=stale), cutoff=cutoff, ask_broker=client is not None
        )
        feeds.mark_feeds_dispatched(session, due)
        return [("feed", feed_id) for feed_id in due]

    return _schedule("schedule_feeds", claim)


def _schedule(name: str, claim: Callable[[Session, Settings], list[tuple[str, int]]]) -> StageResult:
    """Run one scheduler pass under its lock: only one process across the deployment claims at a time,
    and what it claims is stamped in the same transaction, so each due item becomes one task."""
    settings = get_settings()
    with single_instance(shared_redis(), name, ttl=settings.sweep_interval_seconds) as acquired:
        if not acquired:
            return StageResult("skipped")
        with session_scope() as session:
            work = claim(session, settings)
    return StageResult("succeeded", tuple(work))
