"""Prometheus metrics, declared once, labelled only with small fixed sets (never URLs or ids).

The base task accounts for every task (`task_clock`/`finish_task`: outcome, reason, duration, in-flight,
last success, fetch responses by status class, refusals, parse errors, end-to-end lag). Stage code reports
what only it sees through the `record_*` helpers. In Celery prefork workers the values live in
prometheus-client's multiprocess files (shared/exporter.py), so each gauge says how processes combine.
Stack-wide gauges (queue depths, freshness) are read on scrape by `exporter.StackCollector`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlsplit

from prometheus_client import Counter, Gauge, Histogram

from shared.config import get_settings
from shared.errors import PROVIDER_REASONS

log = logging.getLogger("newsflow.tasks")

# Label values: fixed sets, so a typo or a new reason cannot blow up the series count.
OUTCOMES = ("succeeded", "retried", "failed", "skipped")
OTHER_GROUP = "other"
FETCH_STAGES = frozenset({"fetch", "feed"})
REFUSED_REASONS = frozenset({"blocked_address", "unsupported_scheme", "invalid_url"})
STORE_RESULTS = frozenset({"inserted", "updated", "unchanged"})
# Handler results that mean "nothing to do" rather than work done.
SKIP_RESULTS = {"skipped": "nothing_to_do", "not_modified": "not_modified", "requeued": "run_inline_failed"}
STATUS_CLASS_BY_REASON = {"http_404": "4xx", "http_410": "4xx", "http_4xx": "4xx", "http_429": "4xx", "http_5xx": "5xx"}

TASKS = Counter(
    "newsflow_tasks_total",
    "Stage tasks by outcome (succeeded, retried, failed, skipped) and reason (failure or skip reason).",
    ["stage", "outcome", "reason"],
)
TASK_SECONDS = Histogram(
    "newsflow_task_duration_seconds",
    "Time a stage task took, from start to its outcome.",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
TASKS_IN_PROGRESS = Gauge(
    "newsflow_tasks_in_progress", "Stage tasks running right now.", ["stage"], multiprocess_mode="livesum"
)
STAGE_LAST_SUCCESS = Gauge(
    "newsflow_stage_last_success_timestamp_seconds",
    "Unix time of the stage's last successful task.",
    ["stage"],
    multiprocess_mode="max",
)
PIPELINE_LAG = Histogram(
    "newsflow_pipeline_lag_seconds",
    "Time from a URL's enqueueing to its article being stored (new articles only).",
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400),
)
ARTICLES_STORED = Counter(
    "newsflow_articles_stored_total", "Parsed articles written to the store, by what the upsert did.", ["result"]
)

FETCH_RESPONSES = Counter(
    "newsflow_fetch_responses_total",
    "Final HTTP responses of page and feed fetches, by site group and status class.",
    ["site_group", "status_class"],
)
FETCH_FAILURES = Counter(
    "newsflow_fetch_failures_total",
    "Failed fetch attempts (network errors, bad statuses, refusals) by site group and reason.",
    ["site_group", "reason"],
)
FETCH_BYTES = Counter("newsflow_fetch_bytes_total", "Body bytes fetched (decoded), by site group.", ["site_group"])
FETCH_NOT_MODIFIED = Counter(
    "newsflow_fetch_not_modified_total", "Conditional GETs answered 304 Not Modified, by site group.", ["site_group"]
)
FETCH_REFUSED = Counter(
    "newsflow_fetch_refused_total", "Fetches refused before any request (private address, bad URL).", ["reason"]
)
ROBOTS_DENIED = Counter("newsflow_fetch_robots_denied_total", "Fetches refused by robots.txt.", ["site_group"])
POLITENESS_WAIT = Histogram(
    "newsflow_fetch_politeness_wait_seconds",
    "Time a fetch waited for its host's politeness slot.",
    buckets=(0, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)

PARSE_RECORDS = Counter(
    "newsflow_parse_records_total",
    "Parsed article records by completeness: has a date, has a body, comments found.",
    ["has_date", "has_body", "has_comments"],
)
PARSE_COMMENTS_FOUND = Counter("newsflow_parse_comments_found_total", "Comments found in parsed pages.")
PARSE_ERRORS = Counter("newsflow_parse_errors_total", "Failed parse attempts by reason.", ["reason"])

COMMENT_CHANGES = Counter(
    "newsflow_comment_changes_total", "Comment changes written to the store: new, edited, deleted.", ["change"]
)
REVISIONS = Counter("newsflow_article_revisions_total", "New article revisions found (the text changed).")
SWEEP_REPUBLISHED = Counter(
    "newsflow_sweep_republished_total", "Items the sweep published again (their message was lost), by stage.", ["stage"]
)
REPOLLS_DUE = Counter("newsflow_repolls_due_total", "Article re-polls that came due and were scheduled.")
REPOLLS_DONE = Counter(
    "newsflow_repolls_done_total", "Article re-polls done, by whether anything changed.", ["changed"]
)

# Separate comment sources: a site's comments endpoint and the comment platforms (label values fixed).
THREAD_PROVIDERS = ("site_json", "disqus", "viafoura", "openweb", "coral", "facebook", OTHER_GROUP)
THREAD_REASONS = (*PROVIDER_REASONS, OTHER_GROUP)
THREADS_FETCHED = Counter(
    "newsflow_comment_threads_fetched_total",
    "Separate comment sources (platform threads, comments endpoints) fetched in full, by provider.",
    ["provider"],
)
THREAD_COMMENTS = Counter(
    "newsflow_comment_thread_comments_stored_total",
    "Comment changes a separate comment source brought to the store (new, edited, deleted), by provider.",
    ["provider", "change"],
)
THREAD_FAILURES = Counter(
    "newsflow_comment_thread_failures_total",
    "Failed fetches or reads of a separate comment source, by provider and reason (provider_changed: the"
    " platform's answer no longer has the shape newsflow reads).",
    ["provider", "reason"],
)

TAGS = Counter("newsflow_enrich_tags_total", "Tags stored on articles.")
ENTITIES = Counter("newsflow_enrich_entities_total", "Named entities stored on articles.")
LINKS = Counter("newsflow_links_total", "Related links by what happened: resolved to an article, queued.", ["state"])
WRITE_CONFLICTS = Counter(
    "newsflow_write_conflicts_total",
    "Transactions the database rolled back because concurrent writers collided (deadlock, serialization"
    " failure), by stage (or api, cli) and outcome: retried in place, or gave_up after the last attempt.",
    ["stage", "outcome"],
)


# --- site groups -----------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _site_groups(spec: str) -> tuple[tuple[str, str], ...]:
    """(domain, group) pairs from `group=domain|domain2,domain3`, longest domain first."""
    pairs: list[tuple[str, str]] = []
    for item in spec.split(","):
        group, _, domains = item.strip().rpartition("=")
        for domain in domains.split("|"):
            domain = domain.strip().lower().lstrip(".")
            if domain:
                pairs.append((domain, (group.strip() or domain)))
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def site_group(url_or_host: str | None, spec: str | None = None) -> str:
    """The configured site group of a URL or host (a domain or one of its subdomains), else "other"."""
    if not url_or_host:
        return OTHER_GROUP
    host = url_or_host
    if "/" in url_or_host:
        try:
            host = urlsplit(url_or_host).hostname or ""
        except ValueError:
            return OTHER_GROUP
    host = host.lower().rstrip(".")
    groups = _site_groups(get_settings().metrics_site_groups if spec is None else spec)
    for domain, group in groups:
        if host == domain or host.endswith("." + domain):
            return group
    return OTHER_GROUP


def site_groups(spec: str | None = None) -> list[str]:
    """Every group label value that can appear: the configured groups and "other"."""
    groups = _site_groups(get_settings().metrics_site_groups if spec is None else spec)
    return sorted({g for _, g in groups} | {OTHER_GROUP})


# --- task accounting (the base task) ----------------------------------------------------------------


@dataclass(slots=True)
class TaskClock:
    """A running task: its stage, URL (for site groups), when it started and the process's CPU time then."""

    stage: str
    url: str | None
    started: float
    cpu_started: float = 0.0
    stopped: float | None = None
    cpu_stopped: float | None = None

    def stop(self) -> None:
        """Stop the clock: what runs after (follow-ups run inline) is not this task's time."""
        self.stopped, self.cpu_stopped = time.perf_counter(), time.process_time()

    def elapsed(self) -> float:
        """Wall seconds from the start to the stop, or to now."""
        return (self.stopped if self.stopped is not None else time.perf_counter()) - self.started

    def cpu(self) -> float:
        """CPU seconds the process spent from the start to the stop, or to now."""
        return (self.cpu_stopped if self.cpu_stopped is not None else time.process_time()) - self.cpu_started


@contextmanager
def task_clock(stage: str, url: str | None = None) -> Iterator[TaskClock]:
    """Count a task as in flight for the block; pass the clock to `finish_task`."""
    TASKS_IN_PROGRESS.labels(stage).inc()
    try:
        yield TaskClock(stage, url, time.perf_counter(), time.process_time())
    finally:
        TASKS_IN_PROGRESS.labels(stage).dec()


def finish_task(
    clock: TaskClock,
    result: str | None,
    *,
    reason: str | None = None,
    retrying: bool = False,
    enqueued_at: datetime | None = None,
) -> tuple[str, str]:
    """Account for a finished task: `result` is the handler's outcome, or None when it raised with
    `reason` (then `retrying` says whether it will run again); `enqueued_at` gives a new article's
    end-to-end lag. Returns (outcome, reason) as counted."""
    stage = clock.stage
    elapsed = clock.elapsed()
    TASK_SECONDS.labels(stage).observe(elapsed)
    if result is None:
        outcome, label = ("retried" if retrying else "failed"), reason or "internal_error"
        _count_failure(clock, label)
    elif result in SKIP_RESULTS:
        outcome, label = "skipped", SKIP_RESULTS[result]
    else:
        outcome, label = "succeeded", "none"
        STAGE_LAST_SUCCESS.labels(stage).set(time.time())
    TASKS.labels(stage, outcome, label).inc()
    if stage in FETCH_STAGES and result is not None:
        if result == "not_modified":
            group = site_group(clock.url)
            FETCH_RESPONSES.labels(group, "3xx").inc()
            FETCH_NOT_MODIFIED.labels(group).inc()
        elif outcome == "succeeded":
            FETCH_RESPONSES.labels(site_group(clock.url), "2xx").inc()
    if stage == "parse" and result in STORE_RESULTS:
        ARTICLES_STORED.labels(result).inc()
        if result == "inserted" and enqueued_at is not None:
            PIPELINE_LAG.observe(max(0.0, (datetime.now(UTC) - enqueued_at).total_seconds()))
    return outcome, label


def _count_failure(clock: TaskClock, reason: str) -> None:
    if clock.stage == "parse":
        PARSE_ERRORS.labels(reason).inc()
    if clock.stage not in FETCH_STAGES:
        return
    group = site_group(clock.url)
    FETCH_FAILURES.labels(group, reason).inc()
    if reason in STATUS_CLASS_BY_REASON:
        FETCH_RESPONSES.labels(group, STATUS_CLASS_BY_REASON[reason]).inc()
    elif reason in REFUSED_REASONS:
        FETCH_REFUSED.labels(reason).inc()
    elif reason == "robots_disallowed":
        ROBOTS_DENIED.labels(group).inc()


def record_worker_lost(stage: str) -> None:
    """An item failed because every worker that ran it died (no handler outcome to account for)."""
    TASKS.labels(stage, "failed", "worker_lost").inc()


# --- helpers the stages call -----------------------------------------------------------------------


def record_fetch(url: str, nbytes: int) -> None:
    """A body was fetched from `url` (status, 304s and failures are counted by the base task)."""
    FETCH_BYTES.labels(site_group(url)).inc(max(0, nbytes))


def record_politeness_wait(seconds: float) -> None:
    """A fetch waited `seconds` for its host's politeness slot."""
    POLITENESS_WAIT.observe(max(0.0, seconds))


class ParsedRecord(Protocol):
    """What `record_parse` reads of an article record."""

    published_at: object
    body_paragraphs: Iterable[str]
    comments: Iterable[object]


def record_parse(record: ParsedRecord) -> None:
    """An article record was parsed: count it by completeness and its comments."""
    comments = len(list(record.comments))
    PARSE_RECORDS.labels(
        _flag(record.published_at), _flag(any(p.strip() for p in record.body_paragraphs)), _flag(comments)
    ).inc()
    PARSE_COMMENTS_FOUND.inc(comments)


def record_comment_changes(inserted: int, edited: int, deleted: int) -> None:
    """What one merge of an article's comments changed in the store."""
    for change, n in (("new", inserted), ("edited", edited), ("deleted", deleted)):
        if n:
            COMMENT_CHANGES.labels(change).inc(n)


def record_thread_fetched(provider: str) -> None:
    """A separate comment source answered in full."""
    THREADS_FETCHED.labels(_provider(provider)).inc()


def record_thread_comments(provider: str, inserted: int, edited: int, deleted: int) -> None:
    """What one merge of a separate comment source changed in the store."""
    for change, n in (("new", inserted), ("edited", edited), ("deleted", deleted)):
        if n:
            THREAD_COMMENTS.labels(_provider(provider), change).inc(n)


def record_thread_failure(provider: str, reason: str) -> None:
    """A separate comment source failed (fetching it, or reading what it answered) with `reason`."""
    THREAD_FAILURES.labels(_provider(provider), reason if reason in THREAD_REASONS else OTHER_GROUP).inc()


def _provider(provider: str) -> str:
    return provider if provider in THREAD_PROVIDERS else OTHER_GROUP


def record_revision(n: int = 1) -> None:
    """New revisions of an article's text were stored."""
    REVISIONS.inc(n)


def record_sweep_republished(stage: str) -> None:
    """The sweep published an item's `stage` task again: its message could no longer be queued."""
    SWEEP_REPUBLISHED.labels(stage).inc()


def record_repolls_due(n: int) -> None:
    """`n` article re-polls came due and were handed to the fetch stage."""
    REPOLLS_DUE.inc(max(0, n))


def record_repoll_done(changed: bool) -> None:
    """One re-poll finished; `changed` when it found new comments or a new revision."""
    REPOLLS_DONE.labels(_flag(changed)).inc()


def record_tags(n: int) -> None:
    """`n` tags were stored on an article."""
    TAGS.inc(max(0, n))


def record_entities(n: int) -> None:
    """`n` named entities were stored on an article."""
    ENTITIES.inc(max(0, n))


def record_links(resolved: int, queued: int = 0) -> None:
    """Related links resolved to stored articles, and link targets queued for fetching."""
    if resolved:
        LINKS.labels("resolved").inc(resolved)
    if queued:
        LINKS.labels("queued").inc(queued)


def _flag(value: object) -> str:
    return "true" if value else "false"


def record_write_conflict(stage: str, *, retried: bool) -> None:
    """A transaction of `stage` lost a write conflict; `retried` when it runs again in place."""
    WRITE_CONFLICTS.labels(stage, "retried" if retried else "gave_up").inc()
