"""Read latency of the HTTP API on a grown store while the workers ingest (`make bench-api`).

Default: throwaway Postgres and Redis, a generated site; a template store from the site's first
`--template` articles (the no-queue baseline of bench/pipeline_bench.py), a store pre-filled from it
to `--stored` articles (bench/store_fill.py). With `--database-url` an existing store is read instead
(e.g. one `make bench-pipeline ARGS="--stored ... --postgres-url ..."` left). Then the real API
(`newsflow api`, uvicorn) and, with `--ingest N`, the Celery workers and beat ingesting N new
articles of the site while the reads run. Each endpoint is read by `--clients` clients, `--requests`
requests each, with parameters drawn from the store: deep cursor pages of `GET /articles`, filtered
by host, tag and date, `GET /articles/{id}` (comments with versions, links, entities, revisions),
`GET /articles/{id}/comments/events`, and `GET /search?q=` with a few words of stored titles.
Prints p50 / p95 / max per endpoint and the API's CPU per request. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-read-token-0123456789abcdef0123456789"
TARGET_P95_MS = 50.0


@dataclass
class Samples:
    """What the requests draw their parameters from: ids, hosts, tags, times and search words of the store."""

    max_id: int
    hosts: list[str]
    tags: list[str]
    times: list[datetime]
    queries: list[str]


@dataclass
class Endpoint:
    """One endpoint's answers."""

    name: str
    seconds: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    api_cpu: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, status: int) -> None:
        with self.lock:
            self.seconds.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    def line(self) -> str:
        p95 = self.quantile(0.95)
        verdict = "yes" if p95 < TARGET_P95_MS else "no"
        return (
            f"| {self.name} | {len(self.seconds)} | {self.quantile(0.5):.1f} | {p95:.1f} | {self.quantile(1.0):.1f} "
            f"| {verdict} | {self.api_cpu * 1000 / max(1, len(self.seconds)):.1f} | {self.statuses} |"
        )


def read_samples(database_url: str, rng: random.Random) -> Samples:
    """Hosts, tags (common and rare), times (recent and old) and title words of the stored articles."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        max_id = conn.execute(text("SELECT max(id) FROM articles")).scalar_one()
        hosts = list(conn.execute(text("SELECT DISTINCT host FROM articles WHERE id > :i"), {"i": max_id - 5000}))
        tags = list(conn.execute(text("SELECT key FROM tags ORDER BY key")).scalars())
        times = [
            conn.execute(
                text("SELECT coalesce(published_at, first_seen_at) FROM articles WHERE id >= :i ORDER BY id LIMIT 1"),
                {"i": int(max_id * f)},
            ).scalar_one()
            for f in (0.5, 0.9, 0.99, 0.999)
        ]
        titles = list(
            conn.execute(
                text("SELECT title FROM articles WHERE id > :i AND title IS NOT NULL"), {"i": max_id - 2000}
            ).scalars()
        )
    engine.dispose()
    queries = []
    for title in rng.sample(titles, min(20, len(titles))):
        words = [w.strip(".,:;'\"!?()") for w in title.split() if len(w) > 4]
        if words:
            queries.append(" ".join(rng.sample(words, min(len(words), rng.choice((1, 2, 3))))))
    return Samples(max_id, [h for (h,) in hosts], tags, times, queries or ["news"])


def requests_for(samples: Samples) -> list[tuple[str, Callable[[random.Random], tuple[str, dict[str, str]]]]]:
    """(endpoint, a request drawn at random: path and query parameters) for every endpoint measured."""
    from services.api.cursors import encode_article_cursor

    def cursor(rng: random.Random) -> str:
        return encode_article_cursor(rng.randint(1, samples.max_id))

    def article(rng: random.Random) -> int:
        return rng.randint(1, samples.max_id)

    return [
        ("GET /articles (cursor pages)", lambda r: ("/articles", {"cursor": cursor(r)})),
        ("GET /articles?site=", lambda r: ("/articles", {"site": r.choice(samples.hosts), "cursor": cursor(r)})),
        ("GET /articles?tag=", lambda r: ("/articles", {"tag": r.choice(samples.tags)})),
        ("GET /articles?since=", lambda r: ("/articles", {"since": r.choice(samples.times).isoformat()})),
        ("GET /articles/{id}", lambda r: (f"/articles/{article(r)}", {})),
        ("GET /articles/{id}/comments/events", lambda r: (f"/articles/{article(r)}/comments/events", {})),
        ("GET /search?q=", lambda r: ("/search", {"q": r.choice(samples.queries)})),
    ]


def read_endpoint(api_url: str, api_pid: int, name: str, draw, clients: int, requests: int, seed: int) -> Endpoint:
    """`clients` threads sending `requests` requests each to one endpoint."""
    from bench.api_write_bench import cpu_seconds

    result = Endpoint(name)

    def client(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
            for _ in range(requests):
                path, params = draw(rng)
                started = time.perf_counter()
                answer = http.get(path, params=params)
                result.add(time.perf_counter() - started, answer.status_code)

    cpu0 = cpu_seconds(api_pid)
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.api_cpu = cpu_seconds(api_pid) - cpu0
    return result


def final_urls(database_url: str, floor: int) -> int:
    """URLs of the ingest (ids above `floor`) that are done or failed."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM urls WHERE id > :f AND state IN ('done', 'failed')"), {"f": floor}
        ).scalar_one()
    engine.dispose()
    return int(n)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown report."""
    parser = argparse.ArgumentParser(prog="python -m bench.api_read_bench", description=__doc__)
    parser.add_argument("--stored", type=int, default=100_000, help="articles to pre-fill (without --database-url)")
    parser.add_argument("--template", type=int, default=200, help="articles of the template store")
    parser.add_argument("--database-url", help="read this existing Postgres store instead of filling one")
    parser.add_argument("--ingest", type=int, default=1000, help="new articles the workers ingest during the reads")
    parser.add_argument("--layout", default="1-1-2", help="worker processes per service while ingesting")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--requests", type=int, default=100, help="requests per client and endpoint")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes (compose runs 1)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from bench.api_write_bench import free_port, wait_ready
    from bench.pipeline_bench import (
        Servers,
        _path,
        _stop,
        _wait_workers_ready,
        base_env,
        enqueue_all,
        new_database,
        run_baseline,
        start_workers,
    )
    from bench.store_fill import fill_store

    workdir = Path(tempfile.mkdtemp(prefix="nf-api-read-"))
    servers = Servers(args.database_url, workdir, bulk_load=True)  # a throwaway Postgres only without one
    os.environ.update(base_env("sqlite://", servers.redis.url(0), servers.redis.url(1)))  # before shared.celery_app
    from services.demosite.generated import start_process

    site, site_url = start_process(args.template + args.ingest)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    notes: list[str] = []
    try:
        if args.database_url:
            database_url = args.database_url
        else:
            template = run_baseline(servers, site_url, args.template, os.cpu_count() or 1, workdir, 3600)
            database_url = new_database(servers, f"bench_api_read_{int(time.time())}")
            filled = fill_store(template.database_url, database_url, args.stored)
            notes.append(f"filled {filled.articles:,} articles in {filled.seconds + filled.analyze_seconds:.0f} s")
        env = base_env(database_url, servers.redis.url(0), servers.redis.url(1))
        env |= {"NEWSFLOW_API_TOKEN": TOKEN, "NEWSFLOW_LOG_LEVEL": "WARNING"}
        rng = random.Random(13)
        samples = read_samples(database_url, rng)
        engine = create_engine(database_url)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            floor = conn.execute(text("SELECT coalesce(max(id), 0) FROM urls")).scalar_one()
        engine.dispose()
        port = free_port()
        api_url = f"http://127.0.0.1:{port}"
        log = workdir / "api.log"
        with log.open("ab") as out:
            command = ["api", "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.api_workers)]
            procs["api"] = subprocess.Popen(  # its own process group: _stop ends it and its children
                [sys.executable, "-m", "shared.cli", *command],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_ready(api_url, procs["api"], log)
        if args.ingest:
            procs |= start_workers(
                base_env(database_url, servers.redis.url(0), servers.redis.url(1)), args.layout, workdir / "workers"
            )
            _wait_workers_ready(workdir / "workers", timeout=60)
            urls = [f"{site_url}{_path(i)}" for i in range(args.template, args.template + args.ingest)]
            enqueue_all(database_url, urls, publish=True)
        started = time.monotonic()
        results = []
        for seed, (name, draw) in enumerate(requests_for(samples)):
            results.append(read_endpoint(api_url, procs["api"].pid, name, draw, args.clients, args.requests, seed))
            print(f"# {name}: p95 {results[-1].quantile(0.95):.1f} ms", file=sys.stderr, flush=True)
        reading = time.monotonic() - started
        ingested = final_urls(database_url, floor) if args.ingest else 0
    finally:
        for proc in procs.values():
            _stop(proc)
        site.terminate()
        servers.close()
    print(
        f"`python -m bench.api_read_bench {' '.join(argv if argv is not None else sys.argv[1:])}`: {stored:,} articles"
        f" stored ({size / 2**30:.1f} GiB); {args.clients} clients x {args.requests} requests per endpoint;"
        f" {args.api_workers} API process(es); reads took {reading:.0f} s, during which the workers ({args.layout})"
        f" finished {ingested} of {args.ingest} new articles. {'; '.join(notes)}"
    )
    print()
    print("| endpoint | requests | p50 ms | p95 ms | max ms | p95 < 50 ms | API CPU ms / request | statuses |")
    print("|---|---|---|---|---|---|---|---|")
    for result in results:
        print(result.line())
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
