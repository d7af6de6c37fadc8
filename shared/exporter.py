"""Serving metrics: prometheus-client's multiprocess mode for Celery prefork workers, and the stack-wide
collector (queue depths, freshness) that the scheduler process serves.

Why multiprocess mode and not one exporter process: a prefork worker's tasks run in forked children,
and only they see what a task did (status class, bytes, comments found). Multiprocess mode lets each child
write its values to memory-mapped files that the parent sums on scrape, with no IPC, no task events
(worker_send_task_events is off) and no extra process to run; counts of children that exit (recycled
or crashed) stay in the sums. Its rules, kept here: the folder is set before prometheus_client is first
imported and emptied at each start (`prepare_multiprocess_dir`), gauges declare how processes combine,
and the files of dead processes are marked (`worker_process_shutdown`, and on each scrape for children
that were killed). Broker and database gauges are read once per scrape by `StackCollector`, in one
process (beat), not once per worker.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.broker import read_entry
from shared.config import Settings

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

log = logging.getLogger("newsflow.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# kombu's Redis transport keeps messages of priority > 0 in lists named queue + SEP + priority.
KOMBU_PRIORITY_SEP = "\x06\x16"
KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)
_LIVE_FILE = re.compile(r"^gauge_live\w+_(\d+)\.db$")


def prepare_multiprocess_dir(settings: Settings, name: str) -> Path:
    """Empty and select this worker's multiprocess folder; call before prometheus_client is imported."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before the multiprocess folder was set")
    base = Path(settings.metrics_dir or os.environ.get(MULTIPROC_ENV) or Path(tempfile.gettempdir()) / "newsflow")
    path = base / f"metrics-{name}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def multiprocess_dir() -> str | None:
    """This process's multiprocess folder, or None when values live in this process only."""
    return os.environ.get(MULTIPROC_ENV) or None


def mark_dead_processes(path: str) -> list[int]:
    """Mark processes whose live-gauge files remain but that no longer run (killed children)."""
    from prometheus_client import multiprocess

    dead = []
    for name in os.listdir(path):
        match = _LIVE_FILE.match(name)
        if match and not _alive(int(match.group(1))):
            dead.append(int(match.group(1)))
    for pid in set(dead):
        multiprocess.mark_process_dead(pid, path)
    return sorted(set(dead))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _MultiProcessWithCleanup:
    """MultiProcessCollector that first marks children that died without a shutdown hook."""

    def __init__(self, path: str):
        from prometheus_client import multiprocess

        self.path = path
        self._inner = multiprocess.MultiProcessCollector(None, path)

    def collect(self) -> Iterable[Any]:
        mark_dead_processes(self.path)
        return self._inner.collect()


def worker_registry() -> CollectorRegistry:
    """What a worker serves: every process's values summed (multiprocess mode) or this process's."""
    from prometheus_client import REGISTRY, CollectorRegistry

    path = multiprocess_dir()
    if path is None:
        return REGISTRY
    registry = CollectorRegistry()
    registry.register(_MultiProcessWithCleanup(path))  # type: ignore[arg-type]
    return registry


def serve(port: int, registry: CollectorRegistry) -> None:
    """Serve `registry` on http://0.0.0.0:PORT/metrics from a daemon thread."""
    from prometheus_client import start_http_server

    start_http_server(port, registry=registry)
    log.info("metrics endpoint listening", extra={"port": port, "multiprocess_dir": multiprocess_dir()})


# --- the stack-wide collector -----------------------------------------------------------------------


class StackCollector:
    """Broker queue depths (ready and reserved/unacked) and store freshness, read on each scrape."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def describe(self) -> Iterator[Any]:
        """The families this collector exports (names and help), without touching Redis or Postgres."""
        yield from self._families().values()

    def collect(self) -> Iterator[Any]:
        families = self._families()
        for source, read in (("redis", self._collect_queues), ("postgres", self._collect_store)):
            started = time.perf_counter()
            try:
                read(families)
                ok = 1.0
            except Exception as exc:  # a scrape must answer even when a backend is down
                log.warning("metrics source unavailable", extra={"source": source, "reason": type(exc).__name__})
                ok = 0.0
            families["newsflow_exporter_source_up"].add_metric([source], ok)
            families["newsflow_exporter_source_seconds"].add_metric([source], time.perf_counter() - started)
        yield from families.values()

    @staticmethod
    def _families() -> dict[str, Any]:
        from prometheus_client.core import GaugeMetricFamily

        specs = {
            "newsflow_queue_messages": (
                "Messages in a broker queue: ready, or reserved by a worker (unacked).",
                ["queue", "state"],
            ),
            "newsflow_urls": ("URLs in the frontier by state.", ["state"]),
            "newsflow_feeds": ("Registered feeds by site group and state (ok, failing, parked).", ["group", "state"]),
            "newsflow_feed_group_newest_article_age_seconds": (
                "Seconds since the newest article from a feed group's feeds was stored.",
                ["group"],
            ),
            "newsflow_links_pending": ("Related links not yet resolved to a stored article.", []),
            "newsflow_exporter_source_up": ("1 when the last scrape could read the source.", ["source"]),
            "newsflow_exporter_source_seconds": ("Time the last scrape took to read the source.", ["source"]),
        }
        return {name: GaugeMetricFamily(name, doc, labels=labels) for name, (doc, labels) in specs.items()}

    def _collect_queues(self, families: dict[str, Any]) -> None:
        for queue, (ready, unacked) in sorted(queue_depths(self.settings.broker_url).items()):
            families["newsflow_queue_messages"].add_metric([queue, "ready"], ready)
            families["newsflow_queue_messages"].add_metric([queue, "unacked"], unacked)

    def _collect_store(self, families: dict[str, Any]) -> None:
        from shared.metrics import site_group

        snapshot = store_snapshot(self.settings.database_url)
        for state, n in sorted(snapshot["urls"].items()):
            families["newsflow_urls"].add_metric([state], n)
        feeds: dict[tuple[str, str], int] = {}
        newest: dict[str, datetime] = {}
        for url, state, latest in snapshot["feeds"]:
            group = site_group(url, self.settings.metrics_site_groups)
            feeds[(group, state)] = feeds.get((group, state), 0) + 1
            if latest is not None and (group not in newest or latest > newest[group]):
                newest[group] = latest
        for (group, state), n in sorted(feeds.items()):
            families["newsflow_feeds"].add_metric([group, state], n)
        now = snapshot["now"]
        for group, latest in sorted(newest.items()):
            families["newsflow_feed_group_newest_article_age_seconds"].add_metric(
                [group], max(0.0, (now - latest).total_seconds())
            )
        families["newsflow_links_pending"].add_metric([], snapshot["links_pending"])


def queue_depths(broker_url: str) -> dict[str, tuple[int, int]]:
    """(ready, unacked) messages per newsflow queue on a Redis broker; reserved messages (prefetched, or
    held for a retry countdown) sit in kombu's `unacked` hash, not in the queue's list."""
    import redis

    from shared.pipeline import QUEUES_BY_SERVICE

    queues = sorted({q for qs in QUEUES_BY_SERVICE.values() for q in qs})
    client = redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            for step in KOMBU_PRIORITY_STEPS:
                pipe.llen(queue if step == 0 else f"{queue}{KOMBU_PRIORITY_SEP}{step}")
        lengths = pipe.execute()
        unacked = dict.fromkeys(queues, 0)
        for _, raw in client.hscan_iter("unacked"):
            queue = _unacked_queue(raw)
            if queue in unacked:
                unacked[queue] += 1
    finally:
        client.close()
    steps = len(KOMBU_PRIORITY_STEPS)
    return {q: (sum(lengths[i * steps : (i + 1) * steps]), unacked[q]) for i, q in enumerate(queues)}


def _unacked_queue(raw: bytes) -> str | None:
    """The queue of one `unacked` entry (shared.broker.read_entry: newsflow's or stock kombu's)."""
    try:
        message, _, routing_key, _ = read_entry(raw)
        return str(message.get("properties", {}).get("delivery_info", {}).get("routing_key") or routing_key)
    except (ValueError, TypeError, AttributeError, IndexError):
        return None


def store_snapshot(database_url: str) -> dict[str, Any]:
    """What the stack-wide gauges read from the store, in one short transaction."""
    from sqlalchemy import func, select

    from shared import models
    from shared.db import session_scope
    from shared.models import utcnow
    from shared.store import frontier

    with session_scope(database_url) as session:
        urls = frontier.state_counts(session)
        newest = (
            select(models.Url.feed_id, func.max(models.Article.first_seen_at).label("latest"))
            .join(models.Article, models.Article.id == models.Url.article_id)
            .where(models.Url.feed_id.is_not(None))
            .group_by(models.Url.feed_id)
            .subquery()
        )
        rows = session.execute(
            select(models.Feed.url, models.Feed.parked, models.Feed.error_count, newest.c.latest).outerjoin(
                newest, newest.c.feed_id == models.Feed.id
            )
        ).all()
        pending = session.execute(
            select(func.count()).select_from(models.Link).where(models.Link.target_article_id.is_(None))
        ).scalar_one()
    feeds = [
        (url, "parked" if parked else ("failing" if errors else "ok"), latest) for url, parked, errors, latest in rows
    ]
    return {"urls": urls, "feeds": feeds, "links_pending": int(pending), "now": utcnow()}


def serve_stack_metrics(settings: Settings) -> None:
    """Serve the stack-wide collector on `settings.metrics_port` (the scheduler process does)."""
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    registry.register(StackCollector(settings))  # type: ignore[arg-type]
    serve(settings.metrics_port, registry)


# --- the task's origin, for logs and the end-to-end lag ----------------------------------------------


def item_origin(settings: Settings, stage: str, item_id: int) -> tuple[str | None, datetime | None]:
    """(URL, enqueued at) of a task's item, for its log lines and metrics; (None, None) when unknown."""
    if not item_id:
        return None, None
    from sqlalchemy import select

    from shared import models
    from shared.db import session_scope
    from shared.pipeline import URL_STAGES

    try:
        with session_scope(settings.database_url) as session:
            if stage in URL_STAGES:
                row = session.execute(
                    select(models.Url.url, models.Url.created_at).where(models.Url.id == item_id)
                ).first()
            elif stage == "feed":
                row = session.execute(
                    select(models.Feed.url, models.Feed.created_at).where(models.Feed.id == item_id)
                ).first()
            else:
                return None, None
    except Exception:  # logs and metrics never stop a task: the handler will meet the same database
        return None, None
    return (row[0], row[1]) if row else (None, None)
