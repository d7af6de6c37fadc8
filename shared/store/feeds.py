"""Registered feeds and their polling state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from shared.models import Feed, utcnow
from shared.store.upsert import insert_missing, update_locked
from shared.urls import canonicalize_url, url_hash

# After this many failures in a row a feed is parked: no longer polled until re-added.
PARK_AFTER_ERRORS = 10
MAX_BACKOFF_SECONDS = 86400


@dataclass(frozen=True, slots=True)
class FeedAdded:
    """A feed as registered: its id, canonical URL and whether it was new."""

    feed_id: int
    url: str
    created: bool


def add_feed(session: Session, url: str, *, kind: str = "feed") -> FeedAdded:
    """Register a feed once; adding it again un-parks it and makes it due now."""
    return add_feeds(session, [url], kind=kind)[0]


def add_feeds(session: Session, urls: Sequence[str], *, kind: str = "feed") -> list[FeedAdded]:
    """Register feeds, each once, in one insert in URL-hash order; one answer per URL given, in order.
    Known feeds that were parked are un-parked and due now (their rows locked in id order first)."""
    canonical = [canonicalize_url(u) for u in urls]
    keys = {c: url_hash(c) for c in canonical}
    now = utcnow()
    unparked = {"parked": False, "error_count": 0, "next_check_at": now}
    update_locked(session, Feed.__table__, unparked, Feed.url_hash.in_(list(keys.values())), Feed.parked.is_(True))
    rows = [
        {"url": c, "url_hash": key, "kind": kind, "next_check_at": now, "created_at": now} for c, key in keys.items()
    ]
    new = {h: i for i, h in insert_missing(session, Feed.__table__, rows, ["url_hash"], ["id", "url_hash"])}
    ids = dict(new)
    known = [h for h in keys.values() if h not in new]
    ids.update(session.execute(select(Feed.url_hash, Feed.id).where(Feed.url_hash.in_(known))).all())
    return [FeedAdded(ids[keys[c]], c, new.pop(keys[c], None) is not None) for c in canonical]


def find_feed(session: Session, url: str) -> Feed | None:
    """The feed row for a URL given in any form."""
    return session.execute(select(Feed).where(Feed.url_hash == url_hash(canonicalize_url(url)))).scalar_one_or_none()


def make_due(session: Session, feed_ids: list[int]) -> None:
    """Make feeds due for a poll now."""
    if feed_ids:
        due_now = {"next_check_at": utcnow(), "dispatched_at": None}
        update_locked(session, Feed.__table__, due_now, Feed.id.in_(feed_ids))


def list_feeds(session: Session) -> list[Feed]:
    """All feeds, oldest first."""
    return list(session.execute(select(Feed).order_by(Feed.id)).scalars())


def due_feeds(
    session: Session,
    *,
    stale_after: timedelta,
    cutoff: datetime | None = None,
    ask_broker: bool = False,
    limit: int = 500,
) -> list[int]:
    """Ids of feeds due for a poll and not handed to a worker lately: never handed on since their last
    poll, or handed on more than `stale_after` ago; with `ask_broker`, only before `cutoff` (the time before
    which a poll message can no longer be waiting in the queue, services/ingest/backlog; None: none)."""
    now = utcnow()
    before = now - stale_after
    if ask_broker:
        before = min(before, cutoff) if cutoff is not None else None
    handed_on_long_ago = Feed.dispatched_at <= before if before is not None else false()
    stmt = (
        select(Feed.id)
        .where(
            Feed.parked.is_(False),
            Feed.next_check_at <= now,
            or_(Feed.dispatched_at.is_(None), handed_on_long_ago),
        )
        .order_by(Feed.next_check_at)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def mark_feeds_dispatched(session: Session, feed_ids: list[int]) -> None:
    """Stamp feeds as handed to a worker now."""
    if feed_ids:
        update_locked(session, Feed.__table__, {"dispatched_at": utcnow()}, Feed.id.in_(feed_ids))


def record_feed_success(
    session: Session,
    feed_id: int,
    *,
    interval: timedelta,
    etag: str | None,
    last_modified: str | None,
    title: str | None,
    new_entries: int,
) -> None:
    """A poll worked (or the feed was not modified): reset errors, schedule the next poll."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return
    now = utcnow()
    feed.last_checked_at = feed.last_success_at = now
    feed.poll_interval_seconds = int(interval.total_seconds())
    feed.next_check_at = now + interval
    feed.dispatched_at = None
    feed.error_count = 0
    feed.last_error_reason = feed.last_error_detail = None
    feed.etag, feed.last_modified = etag, last_modified
    feed.title = title or feed.title
    feed.entries_seen += new_entries


def record_feed_failure(
    session: Session, feed_id: int, reason: str, detail: str, *, base_seconds: float, retry_after: float | None = None
) -> bool:
    """A poll failed: count it, back off exponentially (at least Retry-After, at most a day) and
    park the feed after too many failures in a row. True when parked."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return False
    now = utcnow()
    feed.last_checked_at = now
    feed.error_count += 1
    feed.last_error_reason, feed.last_error_detail = reason, detail[:2000]
    wait = min(base_seconds * 2 ** (feed.error_count - 1), MAX_BACKOFF_SECONDS)
    feed.next_check_at = now + timedelta(seconds=max(wait, retry_after or 0))
    feed.dispatched_at = None
    feed.parked = feed.error_count >= PARK_AFTER_ERRORS
    return feed.parked
