"""The one Celery app, its queues and the base task every stage task uses."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from functools import cache, partial
from typing import Any, ClassVar

import redis
from celery import Celery, Task, signals
from kombu import Queue

from shared.broker import TRANSPORT
from shared.config import get_settings
from shared.conflicts import retry_write_conflicts
from shared.db import session_scope
from shared.pipeline import (
    QUEUES_BY_SERVICE,
    ROUTES,
    STAMP_HEADER,
    URL_STAGES,
    Handler,
    StageResult,
    classify,
    record_failure,
)
from shared.store import frontier

log = logging.getLogger("newsflow.tasks")

# Redis re-delivers an unacknowledged message after this long; no countdown may exceed it.
VISIBILITY_TIMEOUT = 3600


def make_app() -> Celery:
    """The Celery app configured from settings: acks late, prefetch 1, one queue per stage."""
    settings = get_settings()
    app = Celery(
        "newsflow",
        broker=settings.broker_url,
        include=[
            "services.ingest.tasks",
            "services.parse.tasks",
            "services.enrich.tasks",
        ],
    )
    queues = sorted({q for qs in QUEUES_BY_SERVICE.values() for q in qs})
    app.conf.update(
        task_queues=[Queue(q) for q in queues],
        task_default_queue="fetch",
        task_routes={route.task: {"queue": route.queue} for route in ROUTES.values()},
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=max(settings.task_time_limit, settings.task_soft_time_limit + 1),
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        # Plain Redis gets the transport with the lighter acknowledgement bookkeeping (shared/broker.py).
        broker_transport=TRANSPORT if settings.broker_url.startswith("redis://") else None,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        beat_schedule={
            "sweep": {"task": ROUTES["sweep"].task, "schedule": float(settings.sweep_interval_seconds)},
            "schedule-repolls": {
                "task": ROUTES["schedule_repolls"].task,
                "schedule": float(settings.sweep_interval_seconds),
            },
            "schedule-feeds": {
                "task": ROUTES["schedule_feeds"].task,
                "schedule": float(settings.sweep_interval_seconds),
            },
        },
    )
    # Celery's own per-task INFO lines ("received", "succeeded in") repeat the one JSON line newsflow
    # writes per task, at two more log writes per hop (measured in BENCHMARKS.md); errors still show.
    for name in ("celery.worker.strategy", "celery.app.trace"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return app


app = make_app()


class StageTask(Task):
    """Base task: runs a stage handler, publishes its follow-up work after the commit, and turns
    failures into a retry with backoff (transient) or a recorded, acknowledged failure (permanent)."""

    abstract = True
    acks_late = True
    reject_on_worker_lost = True
    stage: str = ""
    # Follow-up stages this task may run in its own process right after its commit, instead of a
    # broker round trip, because this worker serves their queue too (enrich -> links).
    inline_next: ClassVar[dict[str, Handler]] = {}

    def run_handler(self, handler: Handler, item_id: int) -> str:
        """Run `handler` for one item; the return value is the outcome for logs and metrics."""
        from shared import logs, metrics
        from shared.exporter import item_origin

        settings = get_settings()
        redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
        runs = _count_run(settings, self.stage, item_id) if redelivered else 1
        if runs > settings.task_max_attempts:
            # Every earlier run of this item at this stage died without an answer (a crash, a kill):
            # a page that kills each worker that touches it must not loop forever.
            with session_scope(settings.database_url) as session:
                failed = frontier.record_redelivery(session, item_id, self.stage, "worker_lost", runs - 1)
            if failed:
                log.warning("item failed: workers died on it", extra={"stage": self.stage, "item_id": item_id})
                _forget_runs(self.stage, item_id)
                metrics.record_worker_lost(self.stage)
                return "failed"
        context = logs.bind(task=self.name, task_id=self.request.id, stage=self.stage, item_id=item_id or None)
        with context, metrics.task_clock(self.stage) as clock:
            try:
                # A transaction that lost a write conflict is run again here first: the handler is safe twice.
                result = retry_write_conflicts(partial(handler, item_id), stage=self.stage)
            except Exception as exc:
                if redelivered:
                    _forget_runs(self.stage, item_id)
                delay = record_failure(settings, self.stage, item_id, exc)
                clock.url = item_origin(settings, self.stage, item_id)[0]  # failures are rare: look it up
                outcome, reason = metrics.finish_task(clock, None, reason=classify(exc)[0], retrying=delay is not None)
                _log_task(clock, outcome, reason)
                if delay is not None:
                    raise self.retry(countdown=min(delay, VISIBILITY_TIMEOUT - 60), max_retries=None) from None
                return "failed"
            if redelivered:
                _forget_runs(self.stage, item_id)
            clock.stop()
            self._hand_on(settings, result)
            clock.url = result.url
            outcome, reason = metrics.finish_task(clock, result.outcome, enqueued_at=result.enqueued_at)
            _log_task(clock, outcome, reason, result=result.outcome)
            return result.outcome

    def _hand_on(self, settings: Any, result: StageResult) -> None:
        """Publish the follow-up work; a follow-up stage this worker serves runs here instead, after
        the commit just as a published task would. If it fails it is published after all, so its own
        task retries it or records the failure: the inline path only saves the broker round trip."""
        from shared import logs, metrics

        for stage, next_id in result.next:
            handler = self.inline_next.get(stage) if settings.inline_followups else None
            if handler is None:
                publish(stage, next_id)
                continue
            with logs.bind(stage=stage, item_id=next_id), metrics.task_clock(stage) as clock:
                try:
                    follow = retry_write_conflicts(partial(handler, next_id), stage=stage)
                except Exception as exc:
                    log.info(
                        "inline follow-up failed, publishing it",
                        extra={"stage": stage, "item_id": next_id, "reason": classify(exc)[0]},
                    )
                    clock.url = result.url
                    metrics.finish_task(clock, "requeued")
                    publish(stage, next_id)
                    continue
                publish_all(follow)
                clock.url = follow.url or result.url
                outcome, reason = metrics.finish_task(clock, follow.outcome)
                _log_task(clock, outcome, reason, result=follow.outcome, inline=True)


@cache
def _runs_client() -> redis.Redis | None:
    url = get_settings().shared_redis_url
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) if url else None


def _count_run(settings: Any, stage: str, item_id: int) -> int:
    """Count a redelivered run of (stage, item) that has not answered yet, the first delivery included;
    1 when not a URL stage or Redis is away. Only redelivered messages (a worker died holding them)
    come here, so the common path costs no Redis round trip; the count survives the process."""
    client = _runs_client()
    if client is None or stage not in URL_STAGES:
        return 1
    key = f"newsflow:runs:{stage}:{item_id}"
    try:
        runs, _ = client.pipeline(transaction=False).incr(key).expire(key, VISIBILITY_TIMEOUT * 2).execute()
    except redis.RedisError:
        return 1
    return int(runs) + 1


def _forget_runs(stage: str, item_id: int) -> None:
    """The run answered (success or a recorded failure): only unanswered runs count."""
    client = _runs_client()
    if client is not None and stage in URL_STAGES:
        with contextlib.suppress(redis.RedisError):
            client.delete(f"newsflow:runs:{stage}:{item_id}")


def _log_task(clock: Any, outcome: str, reason: str, **fields: Any) -> None:
    """One line per finished task, with the bound task, URL, reason, wall time and the CPU time its
    process spent on it (`cpu_ms`: what a stage costs, apart from waiting on Postgres or the network)."""
    level = logging.WARNING if outcome == "failed" else logging.INFO
    elapsed_ms, cpu_ms = round(clock.elapsed() * 1000, 1), round(clock.cpu() * 1000, 1)
    extra = {"url": clock.url, "outcome": outcome, "reason": reason, "ms": elapsed_ms, "cpu_ms": cpu_ms, **fields}
    log.log(level, "task %s", outcome, extra=extra)


@signals.before_task_publish.connect
def _stamp_publish_time(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Stamp every message with its publish time (a retry's too): the sweep compares the oldest queued
    message's stamp with the items' dispatch stamps, so that it never re-publishes a waiting message."""
    if headers is not None:
        headers[STAMP_HEADER] = time.time()


@signals.worker_ready.connect
def _serve_worker_metrics(**_: Any) -> None:
    """Start the worker's metrics endpoint in the main process (it sums every child's values)."""
    from shared.exporter import serve, worker_registry

    port = get_settings().metrics_port
    if port:
        serve(port, worker_registry())


@signals.worker_process_shutdown.connect
def _mark_process_dead(pid: int | None = None, **_: Any) -> None:
    """A prefork child exits: its live gauges (tasks in progress) stop counting."""
    from shared.exporter import multiprocess_dir

    path = multiprocess_dir()
    if path:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid(), path)


def publish(stage: str, item_id: int, **options: Any) -> None:
    """Send one item to a stage's task on its queue."""
    route = ROUTES[stage]
    app.send_task(route.task, args=[item_id], queue=route.queue, **options)


def publish_batch(stage: str, item_ids: list[int], **options: Any) -> None:
    """Send a batch of items for one stage in one message; `ingest.dispatch` publishes each."""
    if stage not in ROUTES:
        raise ValueError(f"unknown stage {stage!r}")
    route = ROUTES["dispatch"]
    app.send_task(route.task, args=[stage, item_ids], queue=route.queue, **options)


def publish_all(result: StageResult) -> None:
    """Send all of a handler's follow-up work."""
    for stage, item_id in result.next:
        publish(stage, item_id)
