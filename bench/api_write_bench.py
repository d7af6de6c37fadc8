"""Latency of `POST /urls` under concurrent writers, against a single-client baseline (`make bench-writes`).

Starts the real API (`newsflow api`, uvicorn) on a fresh migrated Postgres database, with Redis as the
broker (a database no worker reads, emptied after) when one is given, and posts batches of 1,000 URLs
drawn from a shared pool, each batch in its own random order, so that batches overlap the way several
feeds or scripts submitting the same stories do:

- baseline: 1 client, `--single-requests` requests one after the other;
- concurrent: `--clients` clients at once, `--requests` requests each.

Prints p50 / p95 / max per phase, the ratio of the concurrent p95 to the baseline's, the CPU the API
process spent per request (against the phase's wall time: on a shared machine the gap is time spent
waiting for a core), the answers that were not 202, and the deadlocks Postgres counted in the database
over the run (pg_stat_database).
Nothing leaves 127.0.0.1: the URLs are never fetched.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import redis as redis_lib
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-0123456789abcdef"


@dataclass
class Phase:
    """One phase's answers: seconds per request, statuses, URLs queued and known."""

    name: str
    seconds: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    queued: int = 0
    known: int = 0
    wall: float = 0.0
    api_cpu: float = 0.0  # CPU seconds the API process (and its children) used during the phase
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, status: int, body: dict) -> None:
        with self.lock:
            self.seconds.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.queued += body.get("queued", 0)
            self.known += body.get("known", 0)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def line(self, baseline: Phase | None) -> str:
        ratio = f"{self.quantile(0.95) / baseline.quantile(0.95):.2f}x" if baseline else "1.00x"
        urls_per_second = (self.queued + self.known) / self.wall if self.wall else 0.0
        return (
            f"| {self.name} | {len(self.seconds)} | {statistics.median(self.seconds) * 1000:.0f} | "
            f"{self.quantile(0.95) * 1000:.0f} | {max(self.seconds) * 1000:.0f} | {ratio} | "
            f"{urls_per_second:,.0f} | {self.api_cpu * 1000 / max(1, len(self.seconds)):.0f} | {self.wall:.2f} | "
            f"{self.queued} / {self.known} | {self.statuses} |"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_batches(api_url: str, phase: Phase, pool: list[str], seeds: list[int], batch: int) -> None:
    """Post one batch per seed: `batch` URLs sampled from the pool, in the seed's own order."""
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as client:
        for seed in seeds:
            urls = random.Random(seed).sample(pool, batch)
            started = time.perf_counter()
            answer = client.post("/urls", json={"urls": urls})
            phase.add(time.perf_counter() - started, answer.status_code, answer.json())


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its children so far."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in (proc, *proc.children(recursive=True)):
        times = p.cpu_times()
        total += times.user + times.system
    return total


def run_phase(api_url: str, api_pid: int, name: str, clients: int, requests: int, batch: int, pool: list[str]) -> Phase:
    """`clients` threads posting `requests` batches each, all at once."""
    phase = Phase(name)
    cpu_before = cpu_seconds(api_pid)
    threads = [
        threading.Thread(
            target=post_batches, args=(api_url, phase, pool, [c * 1000 + r for r in range(requests)], batch)
        )
        for c in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.wall = time.perf_counter() - started
    phase.api_cpu = cpu_seconds(api_pid) - cpu_before
    return phase


def deadlocks(admin_url: str, database: str) -> int:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = :db"), {"db": database}
            ).scalar_one()
    finally:
        engine.dispose()


def wait_ready(api_url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the API exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the API was not ready after 60 s:\n{log.read_text()[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown report."""
    parser = argparse.ArgumentParser(prog="python -m bench.api_write_bench", description=__doc__)
    parser.add_argument("--postgres-url", default=os.environ.get("NEWSFLOW_TEST_POSTGRES_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("NEWSFLOW_TEST_REDIS_URL"))
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=5, help="requests per client in the concurrent phase")
    parser.add_argument("--single-requests", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes (compose runs 1)")
    args = parser.parse_args(argv)
    if not args.postgres_url:
        parser.error("give --postgres-url (a URL allowed to create databases) or set NEWSFLOW_TEST_POSTGRES_URL")
    sys.path.insert(0, str(REPO))
    from tests.e2e.stack import leased_redis_dbs

    with contextlib.ExitStack() as leases:
        # A Redis database no other test or benchmark on this server is using (leased, emptied).
        broker = leases.enter_context(leased_redis_dbs(args.redis_url, 1))[0] if args.redis_url else "memory://"
        run(args, broker)
    return 0


def run(args: argparse.Namespace, broker: str) -> None:
    """Both phases against one API process on a fresh database; prints the report."""
    from tests.helpers.databases import create_database, drop_database, migrate

    database_url = create_database(args.postgres_url, f"newsflow_bench_{uuid.uuid4().hex[:10]}")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="newsflow-api-bench-", suffix=".log")[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env |= {"NEWSFLOW_DATABASE_URL": database_url, "NEWSFLOW_BROKER_URL": broker, "NEWSFLOW_API_TOKEN": TOKEN}
    env |= {"NEWSFLOW_API_MAX_BATCH": str(args.batch), "NEWSFLOW_LOG_LEVEL": "WARNING"}
    proc = None
    try:
        migrate(database_url)
        with log.open("ab") as out:
            command = ["api", "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.api_workers)]
            proc = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", *command],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_ready(api_url, proc, log)
        name = make_url(database_url).database or ""
        before = deadlocks(args.postgres_url, name)
        # Pools five times smaller than what a phase posts: later batches are mostly URLs already known.
        single_pool = [f"http://127.0.0.1:9/single/{k:06d}/" for k in range(args.single_requests * args.batch // 5)]
        many_pool = [f"http://127.0.0.1:9/many/{k:06d}/" for k in range(args.clients * args.requests * args.batch // 5)]
        warm_pool = [f"http://127.0.0.1:9/warm/{k:06d}/" for k in range(args.batch)]
        run_phase(api_url, proc.pid, "warm-up", 1, 1, args.batch, warm_pool)
        single = run_phase(api_url, proc.pid, "1 client", 1, args.single_requests, args.batch, single_pool)
        clients = f"{args.clients} clients"
        many = run_phase(api_url, proc.pid, clients, args.clients, args.requests, args.batch, many_pool)
        proc.terminate()  # its database sessions end and report their statistics
        proc.wait(timeout=30)
        after = deadlocks(args.postgres_url, name)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        drop_database(args.postgres_url, database_url)
        if broker != "memory://":
            redis_lib.Redis.from_url(broker).flushdb()
    print(
        f"POST /urls, {args.batch} URLs per request, overlapping batches; {args.api_workers} API process(es);"
        f" broker {broker.split('@')[-1]}"
    )
    print()
    print(
        "| phase | requests | p50 ms | p95 ms | max ms | p95 vs 1 client | URLs/s | API CPU ms / request | wall s"
        " | queued / known | statuses |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(single.line(None))
    print(many.line(single))
    print()
    print(f"deadlocks in the database over the run: {after - before}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
