"""End-to-end throughput and latency of the real stack against a no-queue baseline (`make bench-pipeline`).

Runs, on throwaway Postgres and Redis servers and a generated site of N articles (all on 127.0.0.1):
the baseline (one plain process per core, each running fetch, parse, enrich and links for its share
of the URLs, no broker), then the stack (one Celery worker per service, as docker compose runs them)
with 1, 2 and 4 worker processes per service. Prints a Markdown report; `--json` writes the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
import redis as redis_lib
from sqlalchemy import create_engine, select, text

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("ingest", "parse", "enrich")
STAGES = ("fetch", "parse", "enrich", "links")


@dataclass
class RunResult:
    """One run's measurements; times per article are in milliseconds."""

    name: str
    articles: int
    seconds: float
    done: int
    failed: int
    per_second: float
    latency_ms: dict[str, float] = field(default_factory=dict)
    stage_ms: dict[str, float] = field(default_factory=dict)
    stage_cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU of the handler's process, per stage
    cpu_ms: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    redis: dict[str, float] = field(default_factory=dict)
    postgres: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    machine_busy_pct: float = 0.0
    redis_by_command: dict[str, float] = field(default_factory=dict)
    stored: int = 0  # articles in the store before the run (bench/store_fill.py)
    fill_seconds: float = 0.0
    table_bytes: dict[str, int] = field(default_factory=dict)  # pg_total_relation_size after the run
    database_bytes: int = 0
    database_url: str = ""


def base_env(database_url: str, broker_url: str, redis_url: str) -> dict[str, str]:
    """The environment of every process of a run (as the e2e Stack sets it, without the test's short sweeps)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(
        NEWSFLOW_DATABASE_URL=database_url,
        NEWSFLOW_BROKER_URL=broker_url,
        NEWSFLOW_REDIS_URL=redis_url,
        NEWSFLOW_FETCH_ALLOW_HOSTS="127.0.0.1",
        NEWSFLOW_POLITENESS_DELAY="0",
        NEWSFLOW_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


class Sampler:
    """Peak RSS (process tree) and CPU time of named processes, sampled in a thread."""

    def __init__(self, procs: dict[str, int], interval: float = 0.25):
        self._procs = {name: psutil.Process(pid) for name, pid in procs.items()}
        self.peak_mb: dict[str, float] = dict.fromkeys(procs, 0.0)
        self.cpu: dict[str, dict[int, float]] = {name: {} for name in procs}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.sample()

    def sample(self) -> None:
        """Record RSS and CPU of every tree now (CPU per pid, so dead children keep their last value)."""
        for name, proc in self._procs.items():
            try:
                tree = [proc, *proc.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            rss = 0
            for p in tree:
                try:
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    self.cpu[name][p.pid] = t.user + t.system
                except psutil.NoSuchProcess:
                    continue
            self.peak_mb[name] = max(self.peak_mb[name], rss / 2**20)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each named tree."""
        return {name: sum(v.values()) for name, v in self.cpu.items()}

    def __enter__(self) -> Sampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


class Servers:
    """Redis and Postgres for the runs: throwaway ones (default) or given URLs."""

    def __init__(self, postgres_admin_url: str | None, workdir: Path, *, bulk_load: bool = False):
        from tests.helpers.servers import PostgresServer, RedisServer

        self.redis = RedisServer(workdir).start()
        self.pg = None
        if postgres_admin_url is None:
            settings = {"shared_buffers": "512MB"}
            if bulk_load:  # fewer checkpoints while a store is pre-filled with gigabytes
                settings.update(max_wal_size="8GB", checkpoint_timeout="30min", maintenance_work_mem="512MB")
            self.pg = PostgresServer(workdir, settings=settings).start()
            postgres_admin_url = self.pg.admin_url
        self.admin_url = postgres_admin_url

    def redis_stats(self) -> dict[str, float]:
        """Redis totals: commands, command time, CPU."""
        info = self.redis.info()
        usec = sum(v["usec"] for k, v in info.items() if k.startswith("cmdstat_") and isinstance(v, dict))
        return {
            "commands": float(info["total_commands_processed"]),
            "command_ms": usec / 1000,
            "cpu_ms": (float(info["used_cpu_user"]) + float(info["used_cpu_sys"])) * 1000,
        }

    def redis_commandstats(self) -> dict[str, float]:
        """Calls per Redis command."""
        info = self.redis.info("commandstats")
        return {k.removeprefix("cmdstat_"): float(v["calls"]) for k, v in info.items()}

    def postgres_stats(self, database_url: str) -> dict[str, float]:
        """pg_stat_database of the run's database: commits and time spent running statements."""
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        name = database_url.rsplit("/", 1)[1]
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_force_next_flush()"))
            row = conn.execute(
                text(
                    "SELECT xact_commit, xact_rollback, active_time, tup_inserted + tup_updated"
                    " FROM pg_stat_database WHERE datname = :n"
                ),
                {"n": name},
            ).one()
        engine.dispose()
        return {
            "commits": float(row[0]),
            "rollbacks": float(row[1]),
            "active_ms": float(row[2]),
            "rows_written": float(row[3]),
        }

    def postgres_sizes(self, database_url: str) -> tuple[int, dict[str, int]]:
        """The database's size and every table's, with its indexes and TOAST (bytes)."""
        engine = create_engine(database_url)
        with engine.connect() as conn:
            total = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            tables = conn.execute(
                text(
                    "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables"
                    " WHERE relname NOT LIKE '\\_fill\\_%' ORDER BY 2 DESC"
                )
            ).all()
        engine.dispose()
        return int(total), {name: int(size) for name, size in tables}

    def postmaster_pid(self) -> int | None:
        """The Postgres server's main process: ours, or a given server's when it runs on this machine."""
        if self.pg is not None:
            return self.pg.postmaster_pid()
        engine = create_engine(self.admin_url)
        try:
            with engine.connect() as conn:
                backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            parent = psutil.Process(backend).parent()
            return parent.pid if parent is not None else None
        except (psutil.Error, OSError):
            return None  # not on this machine (or not ours to see): no CPU figure
        finally:
            engine.dispose()

    def postgres_cpu_ms(self) -> float:
        """CPU of every live Postgres process (0 when the server is not on this machine)."""
        pid = self.postmaster_pid()
        if pid is None:
            return 0.0
        master = psutil.Process(pid)
        total = 0.0
        for p in [master, *master.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                continue
        return total * 1000

    def close(self) -> None:
        """Stop both servers."""
        self.redis.stop()
        if self.pg is not None:
            self.pg.destroy()


def new_database(servers: Servers, name: str) -> str:
    """A fresh migrated database."""
    from shared.db import upgrade_database
    from tests.helpers.databases import create_database

    url = create_database(servers.admin_url, name)
    upgrade_database(url)
    return url


def enqueue_all(database_url: str, urls: list[str], publish: bool) -> list[int]:
    """Queue every URL in one transaction (as `newsflow enqueue --file` does), then publish the fetches."""
    from shared.db import session_scope
    from shared.store import frontier

    with session_scope(database_url) as session:
        ids = [q.url_id for q in frontier.enqueue_urls(session, urls, source="cli")]
    if publish:
        from shared.celery_app import publish as publish_one

        for url_id in ids:
            publish_one("fetch", url_id)
    return ids


def wait_done(
    database_url: str, expected: int, timeout: float, procs: dict[str, subprocess.Popen[bytes]], floor: int = 0
) -> None:
    """Wait until every URL of the run (id above `floor`: the store's before it) is in a final state."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for name, p in procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode}")
            with engine.connect() as conn:
                final = conn.execute(
                    text("SELECT count(*) FROM urls WHERE id > :floor AND state IN ('done', 'failed')"),
                    {"floor": floor},
                ).scalar_one()
            if final >= expected:
                return
            time.sleep(0.2)
        raise TimeoutError(f"only {final}/{expected} URLs final after {timeout}s")
    finally:
        engine.dispose()


def read_outcome(
    database_url: str, started_wall: float, n: int, floor: int = 0
) -> tuple[float, int, int, dict[str, float], dict[str, int]]:
    """(seconds until the last URL of the run was done, done, failed, latency percentiles in ms, rows
    per table); the run's URLs are those with ids above `floor`."""
    from shared.models import Base, Url

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(Url.state, Url.created_at, Url.updated_at).where(Url.id > floor)).all()
        counts = {
            t.name: conn.execute(text(f"SELECT count(*) FROM {t.name}")).scalar_one()
            for t in Base.metadata.sorted_tables
        }
    engine.dispose()
    done = [r for r in rows if r.state == "done"]
    last = max(r.updated_at.timestamp() for r in rows)
    lat = sorted((r.updated_at - r.created_at).total_seconds() * 1000 for r in done) or [0.0]
    pct = {f"p{q}": lat[min(len(lat) - 1, int(len(lat) * q / 100))] for q in (50, 95, 99)}
    return last - started_wall, len(done), sum(r.state == "failed" for r in rows), pct, counts


def stage_times(log_dir: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Mean handler wall time and CPU time per stage (ms), from the workers' task log lines (CPU only
    from code that logs it)."""
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for path in log_dir.glob("worker-*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if not line.startswith("{") or '"task ' not in line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("message", "").startswith("task ") and "ms" in rec and rec.get("stage") in STAGES:
                wall.setdefault(rec["stage"], []).append(float(rec["ms"]))
                if "cpu_ms" in rec:
                    cpu.setdefault(rec["stage"], []).append(float(rec["cpu_ms"]))
    return (
        {s: round(statistics.fmean(wall[s]), 2) for s in STAGES if s in wall},
        {s: round(statistics.fmean(cpu[s]), 2) for s in STAGES if s in cpu},
    )


def parse_layout(spec: str) -> dict[str, tuple[int, str]]:
    """(processes or threads, pool) per service: "2" gives every service 2 prefork processes; "1-1-2"
    gives ingest, parse and enrich 1, 1 and 2 (enrich runs two of the four stages, and the heaviest);
    a "t" suffix asks for that many threads instead ("4t-1-2": fetching waits on the network)."""
    parts = spec.split("-")
    if len(parts) == 1:
        parts *= len(SERVICES)
    try:
        pools = [(int(p.rstrip("t")), "threads" if p.endswith("t") else "prefork") for p in parts]
        layout = dict(zip(SERVICES, pools, strict=True))
    except ValueError:
        layout = {}
    if len(parts) != len(SERVICES) or len(layout) != len(SERVICES) or min(n for n, _ in layout.values()) < 1:
        raise SystemExit(f"bad layout {spec!r}: N or N-N-N (ingest-parse-enrich), N may end in t (threads)")
    return layout


def run_stack(
    servers: Servers,
    site_url: str,
    n: int,
    layout: str,
    workdir: Path,
    timeout: float,
    *,
    stored: int = 0,
    template_url: str | None = None,
    code: Path = REPO,
) -> RunResult:
    """The deployed layout: one Celery worker per service with the layout's processes each, and beat;
    with `stored`, on a store pre-filled to that many articles from the template store first; run from the
    checkout `code` (another one than this: the code before a change, same run)."""
    name = f"stack_c{layout}" + (f"_stored{stored}" if stored else "") + ("" if code == REPO else "@before")
    db_url = new_database(servers, f"bench_{name.replace('@', '_')}_{int(time.time())}")
    fill_seconds = 0.0
    if stored:
        from bench.store_fill import fill_store

        assert template_url is not None, "a pre-filled store needs a template store"
        filled = fill_store(template_url, db_url, stored)
        stored, fill_seconds = filled.articles, filled.seconds + filled.analyze_seconds
        print(f"# {name}: filled {stored} articles in {fill_seconds:.0f}s", file=sys.stderr, flush=True)
    redis_lib.Redis.from_url(servers.redis.url(0)).flushall()
    env = base_env(db_url, servers.redis.url(0), servers.redis.url(1))
    logs = workdir / name
    procs = start_workers(env, layout, logs, code)
    try:
        _wait_workers_ready(logs, timeout=60)
        urls = [f"{site_url}{_path(i)}" for i in range(n)]
        floor = _max_url_id(db_url)
        r0, p0, c0 = servers.redis_stats(), servers.postgres_stats(db_url), servers.redis_commandstats()
        pg_cpu0 = servers.postgres_cpu_ms()
        busy0 = psutil.cpu_times()
        with Sampler({k: p.pid for k, p in procs.items()}) as sampler:
            cpu0 = sampler.cpu_seconds()
            started = time.time()
            enqueue_all(db_url, urls, publish=True)
            wait_done(db_url, n, timeout, procs, floor)
        cpu1, busy = sampler.cpu_seconds(), _busy_pct(busy0)
        r1, p1, c1 = servers.redis_stats(), servers.postgres_stats(db_url), servers.redis_commandstats()
        pg_cpu1 = servers.postgres_cpu_ms()
        seconds, done, failed, latency, rows = read_outcome(db_url, started, n, floor)
        db_bytes, table_bytes = servers.postgres_sizes(db_url)
        stage_ms, stage_cpu_ms = stage_times(logs)
        return RunResult(
            name=name,
            articles=n,
            seconds=round(seconds, 2),
            done=done,
            failed=failed,
            per_second=round(done / seconds, 2),
            latency_ms={k: round(v, 1) for k, v in latency.items()},
            stage_ms=stage_ms,
            stage_cpu_ms=stage_cpu_ms,
            cpu_ms={k: round((cpu1[k] - cpu0[k]) * 1000 / n, 2) for k in cpu1},
            peak_rss_mb={k: round(v, 1) for k, v in sampler.peak_mb.items()},
            redis=_per_article(r0, r1, n),
            postgres={**_per_article(p0, p1, n), "cpu_ms": round((pg_cpu1 - pg_cpu0) / n, 3)},
            rows=rows,
            machine_busy_pct=busy,
            redis_by_command={k: round((v - c0.get(k, 0.0)) / n, 2) for k, v in c1.items() if v > c0.get(k, 0.0)},
            stored=stored,
            fill_seconds=round(fill_seconds, 1),
            table_bytes=table_bytes,
            database_bytes=db_bytes,
            database_url=db_url,
        )
    finally:
        for p in procs.values():
            _stop(p)
        from shared.db import engine_for

        engine_for(db_url).dispose()


def start_workers(
    env: dict[str, str], layout: str, logs: Path, code: Path = REPO
) -> dict[str, subprocess.Popen[bytes]]:
    """One Celery worker per service with the layout's pool, and beat, from the checkout `code`; their output
    goes to `logs`."""
    concurrency = parse_layout(layout)
    logs.mkdir(parents=True, exist_ok=True)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for service in SERVICES:
        procs[service] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shared.cli",
                "worker",
                service,
                f"--concurrency={concurrency[service][0]}",
                f"--pool={concurrency[service][1]}",
            ],
            cwd=code,
            env=env,
            stdout=(logs / f"worker-{service}.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    procs["beat"] = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "beat"],
        cwd=code,
        env=env,
        stdout=(logs / "beat.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return procs


def _max_url_id(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        floor = conn.execute(text("SELECT coalesce(max(id), 0) FROM urls")).scalar_one()
    engine.dispose()
    return int(floor)


def run_baseline(servers: Servers, site_url: str, n: int, processes: int, workdir: Path, timeout: float) -> RunResult:
    """The no-queue baseline: `processes` plain processes, each running every stage for its share."""
    db_url = new_database(servers, f"bench_baseline_{int(time.time())}")
    redis_lib.Redis.from_url(servers.redis.url(0)).flushall()
    env = base_env(db_url, "memory://", servers.redis.url(1))
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for k in range(processes):
        procs[f"baseline-{k}"] = subprocess.Popen(
            [sys.executable, "-m", "bench.pipeline_bench", "--baseline-worker", f"{k}/{processes}"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
    try:
        for p in procs.values():  # each says "ready" once imported and connected
            assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
        urls = [f"{site_url}{_path(i)}" for i in range(n)]
        r0, p0 = servers.redis_stats(), servers.postgres_stats(db_url)
        pg_cpu0 = servers.postgres_cpu_ms()
        busy0 = psutil.cpu_times()
        with Sampler({k: p.pid for k, p in procs.items()}) as sampler:
            cpu0 = sampler.cpu_seconds()
            started = time.time()
            ids = enqueue_all(db_url, urls, publish=False)
            for p in procs.values():
                assert p.stdin is not None
                p.stdin.write(json.dumps(ids).encode() + b"\n")
                p.stdin.flush()
            for p in procs.values():
                p.wait(timeout=timeout)
        cpu1, busy = sampler.cpu_seconds(), _busy_pct(busy0)
        r1, p1 = servers.redis_stats(), servers.postgres_stats(db_url)
        pg_cpu1 = servers.postgres_cpu_ms()
        stage_ms: dict[str, list[float]] = {}
        for p in procs.values():
            assert p.stdout is not None
            for stage, ms in json.loads(p.stdout.read() or b"{}").items():
                stage_ms.setdefault(stage, []).append(ms)
        seconds, done, failed, latency, rows = read_outcome(db_url, started, n)
        return RunResult(
            name=f"baseline_{processes}p",
            articles=n,
            seconds=round(seconds, 2),
            done=done,
            failed=failed,
            per_second=round(done / seconds, 2),
            latency_ms={k: round(v, 1) for k, v in latency.items()},
            stage_ms={s: round(statistics.fmean(v), 2) for s, v in stage_ms.items()},
            cpu_ms={"all": round(sum(cpu1[k] - cpu0[k] for k in cpu1) * 1000 / n, 2)},
            peak_rss_mb={"per_process": round(max(sampler.peak_mb.values()), 1)},
            redis=_per_article(r0, r1, n),
            postgres={**_per_article(p0, p1, n), "cpu_ms": round((pg_cpu1 - pg_cpu0) / n, 3)},
            rows=rows,
            machine_busy_pct=busy,
            database_url=db_url,
        )
    finally:
        for p in procs.values():
            _stop(p)


def baseline_worker(share: str) -> int:
    """One baseline process: for URL ids i with i % M == K, every stage in order and the work each
    hands on (comment endpoints included), run straight away in this process: no queue, no broker."""
    from services.ingest import stages as ingest
    from shared.cli import stage_handlers
    from shared.config import get_settings
    from shared.db import engine_for
    from shared.pipeline import record_failure

    k, m = (int(x) for x in share.split("/"))
    engine_for(get_settings().database_url).connect().close()
    ingest.fetcher()
    handlers = stage_handlers()
    settings = get_settings()
    print("ready", flush=True)
    ids = json.loads(sys.stdin.readline())
    spent: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    count = 0
    for url_id in ids[k::m]:
        work = [("fetch", url_id)]
        while work:
            stage, item_id = work.pop(0)
            t = time.perf_counter()
            try:
                work.extend(handlers[stage](item_id).next)
            except Exception as exc:  # recorded like a worker would (the generated site has no comments endpoint)
                record_failure(settings, stage, item_id, exc)
            spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - t
        count += 1
    print(json.dumps({s: v * 1000 / max(count, 1) for s, v in spent.items()}), flush=True)
    return 0


def _busy_pct(before: Any) -> float:
    """Share of the machine's CPU time (all cores) that was not idle since `before`."""
    after = psutil.cpu_times()
    total = sum(after) - sum(before)
    idle = (after.idle + getattr(after, "iowait", 0)) - (before.idle + getattr(before, "iowait", 0))
    return round(100 * (1 - idle / total), 1) if total else 0.0


def _per_article(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    return {k: round((after[k] - before[k]) / n, 3) for k in before}


def _path(i: int) -> str:
    from services.demosite.generated import article_path

    return article_path(i)


def _wait_workers_ready(logs: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = sum("ready" in (logs / f"worker-{s}.log").read_text(errors="replace") for s in SERVICES)
        if ready == len(SERVICES):
            return
        time.sleep(0.2)
    raise TimeoutError("workers not ready")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    import signal

    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def report(results: list[RunResult], site_rps: float, n: int) -> str:
    """The Markdown tables of BENCHMARKS.md."""
    base = next((r for r in results if r.name.startswith("baseline")), None)
    lines = [f"N = {n} articles; generated site alone: {site_rps:.0f} requests/s (client-bound).", ""]
    lines += [
        "| run | seconds | articles/s | ratio to baseline | latency p50 / p95 / p99 (ms) | failed | machine CPU busy |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.per_second / base.per_second:.2f}x" if base else "-"
        lat = " / ".join(f"{r.latency_ms.get(p, 0):.0f}" for p in ("p50", "p95", "p99"))
        lines.append(
            f"| {r.name} | {r.seconds} | {r.per_second} | {ratio} | {lat} | {r.failed} | {r.machine_busy_pct}% |"
        )
    lines += [
        "",
        "| run | handler ms per article: fetch / parse / enrich / links | handler CPU ms: fetch / parse / enrich "
        "/ links | CPU ms per article by process | peak RSS MB |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        st = " / ".join(f"{r.stage_ms.get(s, 0):.1f}" for s in STAGES)
        st_cpu = " / ".join(f"{r.stage_cpu_ms[s]:.1f}" if s in r.stage_cpu_ms else "-" for s in STAGES)
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in r.cpu_ms.items())
        rss = ", ".join(f"{k} {v:.0f}" for k, v in r.peak_rss_mb.items())
        lines.append(f"| {r.name} | {st} | {st_cpu} | {cpu} | {rss} |")
    lines += [
        "",
        "| run | Redis commands / article | Redis command ms / article | Redis CPU ms / article "
        "| Postgres commits / article | Postgres statement ms / article | Postgres CPU ms / article |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.redis['commands']:.1f} | {r.redis['command_ms']:.3f} | {r.redis['cpu_ms']:.2f} | "
            f"{r.postgres['commits']:.1f} | {r.postgres['active_ms']:.2f} | {r.postgres['cpu_ms']:.2f} |"
        )
    lines += [
        "",
        "| run | CPU ms per article, all processes (workers, beat, Postgres, Redis) | Redis calls / article |",
        "|---|---|---|",
    ]
    for r in results:
        total = sum(r.cpu_ms.values()) + r.postgres.get("cpu_ms", 0.0) + r.redis.get("cpu_ms", 0.0)
        top = sorted(r.redis_by_command.items(), key=lambda kv: -kv[1])[:8]
        lines.append(f"| {r.name} | {total:.1f} | {', '.join(f'{k} {v:.1f}' for k, v in top)} |")
    if any(r.stored for r in results):
        lines += ["", *growth_report(results)]
    return "\n".join(lines)


def growth_report(results: list[RunResult]) -> list[str]:
    """The runs on pre-filled stores against the empty-store run of the same layout, and the bytes
    per stored article of every table in the largest store."""
    lines = [
        "| stored articles | run | articles/s | ratio to empty store | latency p95 (ms) "
        "| CPU ms per article by process | Postgres statement ms / article | Postgres CPU ms / article "
        "| database size | fill seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.name.startswith("baseline"):
            continue
        empty = next((e for e in results if not e.stored and e.name == r.name.split("_stored")[0]), None)
        ratio = f"{r.per_second / empty.per_second:.2f}x" if empty else "-"
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in r.cpu_ms.items())
        lines.append(
            f"| {r.stored:,} | {r.name} | {r.per_second} | {ratio} | {r.latency_ms.get('p95', 0):.0f} | {cpu} | "
            f"{r.postgres['active_ms']:.2f} | {r.postgres['cpu_ms']:.2f} | {r.database_bytes / 2**30:.2f} GiB | "
            f"{r.fill_seconds:.0f} |"
        )
    largest = max(results, key=lambda r: r.stored)
    articles = largest.rows.get("articles", 0)
    if articles:
        lines += [
            "",
            f"Bytes per article at {articles:,} articles (pg_total_relation_size: table, TOAST and indexes):",
            "",
            "| table | rows per article | bytes per article | total |",
            "|---|---|---|---|",
        ]
        for table, size in largest.table_bytes.items():
            rows = largest.rows.get(table, 0)
            lines.append(f"| {table} | {rows / articles:.2f} | {size / articles:,.0f} | {size / 2**20:,.0f} MiB |")
        total = sum(largest.table_bytes.values())
        lines.append(f"| all tables | | {total / articles:,.0f} | {total / 2**20:,.0f} MiB |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline_bench", description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="300 articles, layouts 1 and 1-1-2: for iterating")
    parser.add_argument(
        "--layouts",
        default="1,1-1-2,2,4",
        help="worker processes per service, comma-separated: N for every service, or ingest-parse-enrich",
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--stored",
        help="comma-separated store sizes, e.g. 100000,1000000: each layout runs on an empty store, then on stores "
        "pre-filled to each size with copies of the empty run's rows (bench/store_fill.py); layouts default to 1-1-2",
    )
    parser.add_argument("--postgres-url", help="an existing Postgres admin URL instead of a throwaway server")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--compare-with",
        type=Path,
        help="another checkout (the code before a change): each layout runs from it first, in the same invocation",
    )
    parser.add_argument("--baseline-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_worker:
        return baseline_worker(args.baseline_worker)
    n = 300 if args.quick else args.articles
    layouts = ["1", "1-1-2"] if args.quick and args.layouts == "1,1-1-2,2,4" else args.layouts.split(",")
    sizes = [int(x) for x in args.stored.split(",")] if args.stored else []
    if sizes and args.layouts == "1,1-1-2,2,4":
        layouts = ["1-1-2"]
    for layout in layouts:
        parse_layout(layout)
    workdir = Path(tempfile.mkdtemp(prefix="nf-bench-"))
    servers = Servers(args.postgres_url, workdir, bulk_load=bool(sizes))
    os.environ.update(base_env("sqlite://", servers.redis.url(0), servers.redis.url(1)))  # before shared.celery_app
    from services.demosite.generated import measure, start_process

    site, site_url = start_process(n)
    results: list[RunResult] = []
    try:
        site_rps = measure(site_url, n, seconds=2.0)
        if not args.no_baseline:
            results.append(run_baseline(servers, site_url, n, os.cpu_count() or 1, workdir, args.timeout))
            print(f"# {results[-1].name}: {results[-1].per_second} articles/s", file=sys.stderr, flush=True)
        for c in layouts:
            if args.compare_with:
                results.append(
                    run_stack(servers, site_url, n, c, workdir, args.timeout, code=args.compare_with.resolve())
                )
                print(f"# {results[-1].name}: {results[-1].per_second} articles/s", file=sys.stderr, flush=True)
            results.append(run_stack(servers, site_url, n, c, workdir, args.timeout))
            print(f"# {results[-1].name}: {results[-1].per_second} articles/s", file=sys.stderr, flush=True)
            template = results[-1].database_url
            for size in sizes:
                results.append(
                    run_stack(servers, site_url, n, c, workdir, args.timeout, stored=size, template_url=template)
                )
                print(f"# {results[-1].name}: {results[-1].per_second} articles/s", file=sys.stderr, flush=True)
    finally:
        site.terminate()
        servers.close()
    print(f"machine: {json.dumps(machine())}\nlogs: {workdir}\n")
    print(report(results, site_rps, n))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine(), "site_rps": site_rps, "runs": [asdict(r) for r in results]}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
