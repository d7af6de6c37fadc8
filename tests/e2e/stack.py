"""The deployed stack as local processes: the commands docker-compose.yml runs, started for real.

`Stack` owns a fresh Postgres database, two Redis databases (broker and shared state) and the
worker, beat and CLI processes, all configured through NEWSFLOW_* variables as in compose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis as redis_lib
from sqlalchemy import func, select, text

from shared.broker import read_entry
from shared.db import engine_for, session_scope
from shared.models import Base, Feed, Url
from shared.store import frontier
from tests.helpers.databases import create_database, drop_database

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "parse", "enrich")
# `newsflow` from this checkout; the image test passes an installed venv's console script instead.
CHECKOUT_COMMAND = (sys.executable, "-m", "shared.cli")


def redis_db(url: str, db: int) -> str:
    """The same Redis server as `url`, another database number."""
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{db}"


@dataclass
class Stack:
    """Processes of one newsflow deployment on this machine."""

    database_url: str
    broker_url: str
    redis_url: str
    logs: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = CHECKOUT_COMMAND
    cwd: Path = REPO
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """The environment every process of the stack gets, as compose sets it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
        env.update(
            NEWSFLOW_DATABASE_URL=self.database_url,
            NEWSFLOW_BROKER_URL=self.broker_url,
            NEWSFLOW_REDIS_URL=self.redis_url,
            NEWSFLOW_FETCH_ALLOW_HOSTS="127.0.0.1",
            NEWSFLOW_POLITENESS_DELAY="0",
            NEWSFLOW_SWEEP_INTERVAL_SECONDS="2",
            NEWSFLOW_SWEEP_STALE_SECONDS="20",
            NEWSFLOW_RETRY_BACKOFF_BASE="0.5",
            NEWSFLOW_RETRY_BACKOFF_MAX="2",
            NEWSFLOW_TASK_MAX_ATTEMPTS="3",
            NEWSFLOW_LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run `newsflow ARGS` as a user would, in this stack's environment."""
        result = subprocess.run(
            [*self.command, *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"newsflow {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """Start `newsflow ARGS` in the background, its output in logs/NAME.log."""
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [*self.command, *args],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def start_workers(self, concurrency: int = 1, beat: bool = True) -> None:
        """One worker process per service (as compose runs them), and beat."""
        for service in SERVICES:
            self.start(f"worker-{service}", "worker", service, f"--concurrency={concurrency}")
        if beat:
            self.start("beat", "beat")

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Stop one process (its whole process group: a prefork worker's children too)."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        """Stop every process of the stack."""
        for name in list(self.procs):
            self.stop(name)

    def log_tail(self, lines: int = 60) -> str:
        """The end of every process log, for a failing test's message."""
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            content = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(content))
        return "\n".join(parts)

    def wait_idle(self, timeout: float = 120, settle: float = 1.5, extra: Callable[[], bool] | None = None) -> None:
        """Wait until no URL is on its way and no feed poll is pending, twice in a row `settle` apart."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise AssertionError(f"{name} exited with {proc.returncode}\n{self.log_tail()}")
            if self.is_idle() and (extra is None or extra()):
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle:
                    return
            else:
                quiet_since = None
            time.sleep(0.3)
        raise AssertionError(f"pipeline not idle after {timeout}s: {self.status()}\n{self.log_tail()}")

    def is_idle(self) -> bool:
        """No URL in a non-final state and every feed polled at least once."""
        with session_scope(self.database_url) as session:
            pending = frontier.pending_count(session)
            unpolled = session.execute(
                select(func.count()).select_from(Feed).where(Feed.last_checked_at.is_(None), Feed.parked.is_(False))
            ).scalar_one()
        return pending == 0 and unpolled == 0

    def queues_drained(self, queues: tuple[str, ...] = ("fetch", "parse", "enrich", "links")) -> bool:
        """No message waiting on, or taken but not yet acknowledged from, these broker queues: follow-up
        tasks that no URL state tracks (comment fetches and their retries) are done too."""
        client = redis_lib.Redis.from_url(self.broker_url)
        try:
            if any(client.llen(queue) for queue in queues):
                return False
            for raw in client.hvals("unacked"):
                _, _, routing_key, _ = read_entry(raw)
                if routing_key in queues:
                    return False
            return True
        finally:
            client.close()

    def status(self) -> dict[str, Any]:
        """URL counts per state."""
        with session_scope(self.database_url) as session:
            return frontier.state_counts(session)

    def counts(self) -> dict[str, int]:
        """Rows per table: what 'nothing duplicated' compares."""
        with engine_for(self.database_url).connect() as conn:
            return {
                t.name: conn.execute(text(f"SELECT count(*) FROM {t.name}")).scalar_one()
                for t in Base.metadata.sorted_tables
            }

    def url_states(self) -> dict[str, tuple[str, str | None]]:
        """Every queued URL with its state and last error reason."""
        with session_scope(self.database_url) as session:
            rows = session.execute(select(Url.url, Url.state, Url.last_error_reason)).all()
        return {u: (s, r) for u, s, r in rows}


LEASE_TTL = 1800  # seconds; a crashed test's lease expires on its own


@contextmanager
def leased_redis_dbs(redis_url: str, count: int = 2) -> Iterator[list[str]]:
    """Redis databases (1 to 12) no other test process on this server is using: concurrent e2e runs
    (parallel CI jobs, a developer's second terminal) must not flush each other's broker."""
    admin = redis_lib.Redis.from_url(redis_db(redis_url, 0))
    token = uuid.uuid4().hex
    held: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(held) < count:
            for db in range(1, 13):
                if db not in held and admin.set(f"newsflow:test-lease:{db}", token, nx=True, ex=LEASE_TTL):
                    held.append(db)
                    if len(held) == count:
                        break
            else:
                if time.monotonic() > deadline:
                    raise AssertionError("no free Redis database for an end-to-end stack")
                time.sleep(0.5)
        urls = [redis_db(redis_url, db) for db in held]
        for url in urls:
            client = redis_lib.Redis.from_url(url)
            client.flushdb()
            client.close()
        yield urls
    finally:
        for db in held:
            key = f"newsflow:test-lease:{db}"
            if admin.get(key) == token.encode():
                admin.delete(key)
        admin.close()


@contextmanager
def running_stack(
    postgres_admin_url: str,
    redis_url: str,
    logs: Path,
    *,
    command: tuple[str, ...] = CHECKOUT_COMMAND,
    cwd: Path = REPO,
    **extra_env: str,
) -> Iterator[Stack]:
    """A stack on a new database and emptied Redis databases, its processes started as `command` in `cwd`;
    everything is stopped and dropped after."""
    db_url = create_database(postgres_admin_url, f"newsflow_e2e_{uuid.uuid4().hex[:10]}")
    logs.mkdir(parents=True, exist_ok=True)
    with leased_redis_dbs(redis_url) as (broker, state):
        stack = Stack(db_url, broker, state, logs, extra_env=dict(extra_env), command=command, cwd=cwd)
        try:
            stack.cli("db", "upgrade")
            yield stack
        finally:
            stack.stop_all()
            engine_for(db_url).dispose()
            drop_database(postgres_admin_url, db_url)
