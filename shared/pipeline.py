"""The pipeline's shape and policies, shared by Celery workers and the embedded runner.

A stage handler is a plain function `handler(item_id) -> StageResult`: it loads what it needs,
calls pure logic, commits its writes and returns the follow-up work. Whoever ran it (a Celery
task or the embedded loop) publishes that work only after the handler returned, that is after
the commit; a crash in between only delays the item until the sweep re-publishes it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from shared.config import Settings
from shared.db import session_scope
from shared.errors import NewsflowError
from shared.store import feeds, frontier

log = logging.getLogger("newsflow.pipeline")


@dataclass(frozen=True, slots=True)
class Route:
    """Where a task runs: its Celery name and queue."""

    task: str
    queue: str


# Every task newsflow publishes, by the short name handlers use for follow-up work.
ROUTES: dict[str, Route] = {
    "fetch": Route("ingest.fetch_url", "fetch"),
    "parse": Route("parse.parse_page", "parse"),
    # An article's separate comment sources: fetched by ingest, mapped and merged by parse.
    "comments": Route("ingest.fetch_comments", "fetch"),
    "comments_parse": Route("parse.parse_comments", "parse"),
    "enrich": Route("enrich.enrich_article", "enrich"),
    "links": Route("enrich.resolve_links", "links"),
    "feed": Route("ingest.poll_feed", "feeds"),
    "sweep": Route("ingest.sweep", "feeds"),
    "schedule_feeds": Route("ingest.schedule_feeds", "feeds"),
    "schedule_repolls": Route("ingest.schedule_repolls", "feeds"),
    # A batch of items for one stage in one message (an API or CLI batch): an ingest worker publishes
    # one task per item, so that the submitter's request does not pay for a thousand publishes.
    "dispatch": Route("ingest.dispatch", "feeds"),
}
QUEUES_BY_SERVICE = {"ingest": ("fetch", "feeds"), "parse": ("parse",), "enrich": ("enrich", "links")}
URL_STAGES = ("fetch", "parse", "enrich", "links")
# The message header holding the time a message was published (seconds since the epoch): the sweep reads
# the oldest queued message's to know which items' messages can no longer be waiting (services/ingest/backlog).
STAMP_HEADER = "newsflow_published_at"
# Stages whose item is already done (an article's separate comment sources): a failure leaves the URL
# alone, and the handler says on the error how many attempts failed in a row (`NewsflowError.attempt`).
SELF_COUNTED_STAGES = ("comments",)


@dataclass(frozen=True, slots=True)
class StageResult:
    """What a handler did (`outcome` for metrics and logs), the work it hands on, and the item's URL
    and enqueue time when the handler read them anyway (for logs, site-group labels and lag, so that
    the task wrapper needs no query of its own)."""

    outcome: str = "succeeded"
    next: tuple[tuple[str, int], ...] = field(default_factory=tuple)
    url: str | None = None
    enqueued_at: datetime | None = None

    @classmethod
    def then(cls, stage: str, item_id: int, outcome: str = "succeeded", **origin: Any) -> StageResult:
        """A success that hands `item_id` to `stage`."""
        return cls(outcome, ((stage, item_id),), **origin)


def classify(exc: BaseException) -> tuple[str, bool, str]:
    """(reason, transient, detail) for any exception a handler raised, in one place."""
    if isinstance(exc, NewsflowError):
        return exc.reason, exc.transient, exc.detail or str(exc)
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        # Celery's soft time limit: a page that hangs a stage; retried, then failed with this reason.
        return "stage_timeout", True, "the stage ran past its time limit"
    if isinstance(exc, IntegrityError):
        # Two deliveries of one item raced on a natural key; the retry finds the row and does nothing.
        return "write_conflict", True, str(exc.orig)[:300]
    if type(exc).__module__.startswith(("redis", "kombu")) and "Connection" in type(exc).__name__:
        return "broker_unavailable", True, str(exc)[:300]
    return "internal_error", False, f"{type(exc).__name__}: {exc}"[:2000]


def backoff_delay(settings: Settings, attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, never below the server's Retry-After, capped."""
    ceiling = min(settings.retry_backoff_max, settings.retry_backoff_base * (2 ** (attempt - 1)))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after:
        delay = max(delay, retry_after)
    return min(delay, settings.retry_backoff_max)


def record_failure(settings: Settings, stage: str, item_id: int, exc: BaseException) -> float | None:
    """Record a failed attempt on the item's row and decide: seconds until the retry, or None
    when the failure is permanent (or attempts are used up) and the item is failed with its reason."""
    reason, transient, detail = classify(exc)
    retry_after = getattr(exc, "retry_after", None)

    def retry_delay(attempts: int) -> float | None:
        if not transient or attempts >= settings.task_max_attempts:
            return None
        return backoff_delay(settings, attempts, retry_after)

    with session_scope(settings.database_url) as session:
        if stage == "feed":
            # A feed is not retried by the queue: its next poll is pushed back on its row.
            feeds.record_feed_failure(
                session,
                item_id,
                reason,
                detail,
                base_seconds=settings.feed_poll_interval_seconds,
                retry_after=retry_after,
            )
            delay = None
        elif stage in URL_STAGES:
            delay = frontier.record_attempt_failure(session, item_id, stage, reason, detail, retry_delay=retry_delay)
        elif stage in SELF_COUNTED_STAGES and getattr(exc, "attempt", None):
            # The handler counted the failures in a row on its own rows (a comment source's state).
            delay = retry_delay(exc.attempt)  # type: ignore[attr-defined]
        else:
            delay = None
    log.warning(
        "stage failed",
        extra={"stage": stage, "item_id": item_id, "reason": reason, "transient": transient, "retry_in": delay},
    )
    return delay


Handler = Callable[[int], StageResult]
