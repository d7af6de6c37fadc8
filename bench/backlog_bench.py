"""A backlog far deeper than the sweep's stale time: N URLs queued at once, drained at a fixed rate,
with the scheduler's sweep running every second on a two-second stale time. Counts the messages
published per URL and stage, the lost messages recovered, and the sweep's own time per pass as the
backlog drains, for the sweep as it was (items untouched for the stale time) and as it is (items whose
message can no longer be queued: services/ingest/backlog), in one invocation.

The drainer stands in for the fetch workers (the sweep's behaviour does not depend on what a stage
does): it takes messages off the real Redis queue in order, marks their URLs done in Postgres, and
drops one message in LOST_EVERY on its first delivery, as a killed worker would. Run:

    .venv/bin/python -m bench.backlog_bench --urls 100000
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import redis as redis_lib
from sqlalchemy import text, update

STALE, INTERVAL = 2, 1.0
LOST_EVERY = 1000
BATCH = 1000


@dataclass
class Run:
    """What one mode of the sweep did to one backlog."""

    name: str
    urls: int
    consumed: Counter[int] = field(default_factory=Counter)
    republished: Counter[int] = field(default_factory=Counter)
    lost: set[int] = field(default_factory=set)
    passes: list[tuple[int, float]] = field(default_factory=list)  # (queue depth, ms) per sweep pass
    drain_seconds: float = 0.0

    @property
    def duplicates(self) -> int:
        """Messages beyond one per URL, not counting the one re-publish of each lost message."""
        return sum(self.consumed.values()) - self.urls - len(self.lost)

    @property
    def recovered(self) -> int:
        """Lost messages that came back (their URL was consumed again after the loss)."""
        return sum(1 for url_id in self.lost if self.consumed[url_id] >= 2)

    def pass_ms(self, lo: int, hi: int) -> float:
        """Median sweep pass (ms) while the queue held between `lo` and `hi` messages."""
        ms = [m for depth, m in self.passes if lo <= depth <= hi]
        return statistics.median(ms) if ms else float("nan")


def item_of(raw: bytes) -> int:
    """The item id a queued Celery message carries."""
    args, _, _ = json.loads(base64.b64decode(json.loads(raw)["body"]))
    return int(args[0])


def fill(database_url: str, n: int) -> None:
    """Queue `n` URLs in batches, each published after its commit (as the API does)."""
    from shared.celery_app import app, publish
    from shared.db import session_scope
    from shared.store import frontier

    for start in range(0, n, BATCH):
        with session_scope(database_url) as session:
            urls = [f"https://h{i % 50}.example.com/a/{i}" for i in range(start, min(n, start + BATCH))]
            ids = [q.url_id for q in frontier.enqueue_urls(session, urls)]
        with app.producer_or_acquire() as producer:
            for url_id in ids:
                publish("fetch", url_id, producer=producer)


def old_sweep() -> list[tuple[str, int]]:
    """The sweep as it was: every item untouched for the stale time, whatever the queue holds."""
    from shared.db import session_scope
    from shared.store import frontier

    with session_scope() as session:
        due = frontier.due_for_dispatch(session, stale_after=timedelta(seconds=STALE))
        frontier.mark_dispatched(session, [u for u, _ in due])
    return [(stage, u) for u, stage in due]


def new_sweep() -> list[tuple[str, int]]:
    """The sweep as it is."""
    from services.ingest import stages

    return list(stages.sweep().next)


def drain(name: str, database_url: str, broker: redis_lib.Redis, n: int, rate: float, timeout: float) -> Run:
    """Fill the queue with `n` URLs, then drain it at `rate` messages/s while the sweep runs."""
    from shared.celery_app import publish
    from shared.db import session_scope
    from shared.models import Url

    run = Run(name, n)
    fill(database_url, n)
    sweep = old_sweep if name == "before" else new_sweep
    started = last_sweep = time.monotonic()
    taken = 0.0
    remaining = n
    while remaining > 0 and time.monotonic() - started < timeout:
        now = time.monotonic()
        if now - last_sweep >= INTERVAL:
            last_sweep, depth = now, broker.llen("fetch")
            t0 = time.perf_counter()
            work = sweep()
            run.passes.append((depth, (time.perf_counter() - t0) * 1000))
            for stage, url_id in work:
                run.republished[url_id] += 1
                publish(stage, url_id)
        budget = int(rate * (now - started)) - int(taken)
        done: list[int] = []
        for _ in range(max(0, budget)):
            raw = broker.rpop("fetch")
            taken += 1
            if raw is None:
                break
            url_id = item_of(raw)
            run.consumed[url_id] += 1
            if url_id % LOST_EVERY == 7 and url_id not in run.lost:
                run.lost.add(url_id)  # the worker holding it was killed
                continue
            done.append(url_id)
        if done:
            with session_scope(database_url) as session:
                changed = session.execute(
                    update(Url).where(Url.id.in_(done), Url.state == "queued").values(state="done")
                ).rowcount
            remaining -= changed
        time.sleep(0.05)
    run.drain_seconds = time.monotonic() - started
    return run


def explain(database_url: str) -> str:
    """The plan of the sweep's scan of one stage on the stored frontier."""
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT id FROM urls"
                " WHERE state = 'queued' AND dispatched_at <= now() - interval '2 seconds'"
                " ORDER BY dispatched_at LIMIT 500"
            )
        ).scalars()
        plan = "\n".join(rows)
    engine.dispose()
    return plan


def main(argv: list[str] | None = None) -> int:
    """Run both sweeps on the same backlog size and print the comparison."""
    parser = argparse.ArgumentParser(prog="python -m bench.backlog_bench", description=__doc__)
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=2000.0, help="messages drained per second")
    parser.add_argument("--postgres-url", default=os.environ.get("NEWSFLOW_TEST_POSTGRES_URL"))
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--only", choices=["before", "after"])
    args = parser.parse_args(argv)

    from bench.pipeline_bench import Servers, new_database

    workdir = Path(tempfile.mkdtemp(prefix="newsflow-backlog-"))
    servers = Servers(args.postgres_url, workdir)
    runs: list[Run] = []
    plan = ""
    try:
        for name in ("before", "after"):
            if args.only and name != args.only:
                continue
            db_url = new_database(servers, f"newsflow_backlog_{name}_{os.getpid()}")
            broker_url, state_url = servers.redis.url(0), servers.redis.url(1)
            redis_lib.Redis.from_url(broker_url).flushall()
            os.environ.update(
                NEWSFLOW_DATABASE_URL=db_url,
                NEWSFLOW_BROKER_URL=broker_url,
                NEWSFLOW_REDIS_URL=state_url,
                NEWSFLOW_SWEEP_STALE_SECONDS=str(STALE),
                NEWSFLOW_SWEEP_INTERVAL_SECONDS=str(int(INTERVAL)),
            )
            from services.ingest import backlog, stages
            from shared.config import get_settings

            get_settings.cache_clear()
            stages.shared_redis.cache_clear()
            backlog.broker_redis.cache_clear()
            import shared.celery_app as celery_app

            celery_app.app.conf.broker_url = broker_url
            broker = redis_lib.Redis.from_url(broker_url)
            runs.append(drain(name, db_url, broker, args.urls, args.rate, args.timeout))
            if name == "after":
                fill(db_url, min(args.urls, 20_000))  # a fresh backlog to show the scan's plan on
                plan = explain(db_url)
    finally:
        servers.close()
    print(f"command: {' '.join(['python -m bench.backlog_bench', *(argv or sys.argv[1:])])}")
    print(
        f"{args.urls} URLs queued at once, drained at {args.rate:.0f}/s; sweep every {INTERVAL:.0f} s, stale {STALE} s"
    )
    print(
        "| sweep | messages per URL | duplicate messages | lost | recovered | re-published "
        "| pass ms, queue > 50% | pass ms, queue < 10% | drain s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(
            f"| {r.name} | {sum(r.consumed.values()) / r.urls:.3f} | {r.duplicates} | {len(r.lost)} | {r.recovered} "
            f"| {sum(r.republished.values())} | {r.pass_ms(int(r.urls * 0.5), 10**9):.1f} "
            f"| {r.pass_ms(0, int(r.urls * 0.1)):.1f} | {r.drain_seconds:.0f} |"
        )
    if plan:
        print("\nThe sweep's scan (fetch stage) over a fresh backlog:\n" + plan)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
