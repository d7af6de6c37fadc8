"""Faults with real processes: workers killed with SIGKILL mid-batch, Redis and Postgres restarted
mid-run, every message delivered twice, two schedulers, and poison pages that crash or hang the
parser. After each, every URL is stored exactly once (or failed with its reason) and no row is
duplicated. Redis and Postgres restarts use throwaway servers (tests/helpers/servers.py), never the
ones other tests share.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select

from services.demosite.generated import GeneratedServer, article_path, generate_article
from shared.db import engine_for, session_scope
from shared.models import Url
from tests.e2e.stack import REPO, Stack, leased_redis_dbs
from tests.helpers.databases import create_database, drop_database
from tests.helpers.servers import PostgresServer, RedisServer

pytestmark = pytest.mark.e2e

N = 80
PROGRESS = {"ingest": ("fetched", "parsed", "enriched", "done"), "parse": ("parsed", "enriched", "done")}
PROGRESS["enrich"] = ("done",)
POISON_HOOK = '''
"""Test-only: make the parser crash (SIGKILL, like a segfault in C code) or hang on marked pages."""
import os, signal, time
if os.environ.get("NEWSFLOW_TEST_POISON"):
    from services.parse import stages

    _parse = stages.parse_article

    def parse_article(body, *args, **kwargs):
        if b"newsflow-poison-crash" in body:
            os.kill(os.getpid(), signal.SIGKILL)
        if b"newsflow-poison-hang" in body:
            time.sleep(3600)
        return _parse(body, *args, **kwargs)

    stages.parse_article = parse_article
'''


@pytest.fixture
def gensite() -> Iterator[GeneratedServer]:
    """N generated articles, each answered after 50 ms so a test can catch every stage mid-batch."""
    with GeneratedServer(N, delay=0.05) as server:
        yield server


def expected_comments(n: int) -> int:
    """Comments the generated site's first n articles carry."""
    return sum(len(generate_article(i, n)["comments"]) for i in range(n))


def urls(site: GeneratedServer, n: int = N) -> list[str]:
    """The article URLs of the generated site."""
    return [site.base_url + article_path(i) for i in range(n)]


def progressed(stack: Stack, states: tuple[str, ...]) -> int:
    """URLs in one of `states`."""
    with session_scope(stack.database_url) as session:
        return len(session.execute(select(Url.id).where(Url.state.in_(states))).all())


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def assert_stored_exactly_once(stack: Stack, site: GeneratedServer, n: int = N) -> None:
    """Every URL done, one article, one body and each comment once per URL, nothing else."""
    states = stack.url_states()
    assert states == {u: ("done", None) for u in urls(site, n)}, stack.status()
    counts = stack.counts()
    assert counts["urls"] == n
    assert counts["articles"] == n
    assert counts["fetches"] == n
    assert counts["comments"] == counts["comment_versions"] == expected_comments(n)


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and all its children at once: no shutdown, no acknowledgement."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_kill_9_a_worker_of_each_stage_mid_batch(stack: Stack, gensite: GeneratedServer) -> None:
    stack.start_workers(concurrency=2)
    stack.cli("enqueue", "--file", "-", input="\n".join(urls(gensite)))
    for service in ("ingest", "parse", "enrich"):
        done = PROGRESS[service]
        wait_for(lambda done=done: progressed(stack, done) >= N // 5, 60, f"{service} to be under way")
        assert progressed(stack, done) < N, f"{service} finished before it could be killed"
        name = f"worker-{service}"
        kill_tree(stack.procs.pop(name))
        stack.start(name, "worker", service, "--concurrency=2")  # as compose's restart policy does
    stack.wait_idle(timeout=100)
    assert_stored_exactly_once(stack, gensite)


def test_same_message_twice_and_two_schedulers(stack: Stack, gensite: GeneratedServer, tmp_path: Path) -> None:
    stack.start_workers(concurrency=1)
    second_beat = subprocess.Popen(  # a second scheduler, as on another host: its own schedule file
        [sys.executable, "-m", "celery", "-A", "shared.celery_app", "beat", f"--schedule={tmp_path / 'beat-b'}"],
        cwd=REPO,
        env=stack.env,
        stdout=(stack.logs / "beat-b.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack.procs["beat-b"] = second_beat
    feed = f"{gensite.base_url}/feeds/0.xml"
    stack.cli("feeds", "add", feed)
    stack.cli("enqueue", "--file", "-", input="\n".join(urls(gensite)))
    from celery import Celery

    app = Celery(broker=stack.broker_url)
    with session_scope(stack.database_url) as session:
        ids = [row.id for row in session.execute(select(Url.id)).all()]
    # Every stage's message for every URL, once more, while the first deliveries are in flight.
    for _stage, task, queue in (
        ("fetch", "ingest.fetch_url", "fetch"),
        ("parse", "parse.parse_page", "parse"),
        ("enrich", "enrich.enrich_article", "enrich"),
        ("links", "enrich.resolve_links", "links"),
    ):
        for url_id in ids:
            app.send_task(task, args=[url_id], queue=queue)
        time.sleep(0.5)
    app.close()
    # Comment fetches (the generated pages name a comments endpoint) run after their URL is done.
    stack.wait_idle(timeout=100, extra=stack.queues_drained)
    assert_stored_exactly_once(stack, gensite)
    before = stack.counts()
    # Both schedulers sweep and poll the feed again for a while: still nothing new.
    time.sleep(5)
    stack.wait_idle(timeout=30, extra=stack.queues_drained)
    assert stack.counts() == before


def run_on(
    database_url: str, broker: str, state: str, logs: Path, site: GeneratedServer, fault: Callable[[Stack], None]
) -> Stack:
    """Start a stack on the given servers, queue the site, inject `fault` mid-run, wait until idle."""
    stack = Stack(database_url, broker, state, logs, extra_env={"NEWSFLOW_TASK_MAX_ATTEMPTS": "5"})
    logs.mkdir(parents=True, exist_ok=True)
    stack.cli("db", "upgrade")
    stack.start_workers(concurrency=1)
    stack.cli("enqueue", "--file", "-", input="\n".join(urls(site)))
    wait_for(lambda: progressed(stack, ("done",)) >= N // 4, 60, "a quarter of the run")
    assert progressed(stack, ("done",)) < N
    fault(stack)
    return stack


def test_redis_restart_mid_run(postgres_admin_url: str, tmp_path: Path, gensite: GeneratedServer) -> None:
    db_url = create_database(postgres_admin_url, f"newsflow_fault_{uuid.uuid4().hex[:10]}")
    stack: Stack | None = None
    with RedisServer() as server:
        try:
            # The restart loses every queued and unacknowledged message (no persistence): the sweep
            # finds them again from the frontier's states in Postgres.
            stack = run_on(
                db_url,
                server.url(0),
                server.url(1),
                tmp_path / "logs",
                gensite,
                lambda _: server.restart(down_seconds=2),
            )
            stack.wait_idle(timeout=100)
            assert_stored_exactly_once(stack, gensite)
        finally:
            if stack is not None:
                stack.stop_all()
            engine_for(db_url).dispose()
            drop_database(postgres_admin_url, db_url)


def test_postgres_restart_mid_run(redis_url: str, tmp_path: Path, gensite: GeneratedServer) -> None:
    stack: Stack | None = None
    # Leased databases: a fixed pair would be flushed by, or flush, another run on the same Redis server.
    with leased_redis_dbs(redis_url) as (broker, state), PostgresServer(fsync=False) as server:
        db_url = create_database(server.admin_url, "newsflow_fault")
        try:
            # An immediate stop is a crash: every session is cut, the server recovers at start.
            stack = run_on(
                db_url,
                broker,
                state,
                tmp_path / "logs",
                gensite,
                lambda _: server.restart(down_seconds=2, mode="immediate"),
            )
            stack.wait_idle(timeout=100)
            assert_stored_exactly_once(stack, gensite)
        finally:
            if stack is not None:
                stack.stop_all()
            engine_for(db_url).dispose()


@pytest.mark.parametrize("kind", ["crash", "hang"])
def test_poison_page_fails_with_its_reason_and_the_rest_flows(stack: Stack, tmp_path: Path, kind: str) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(POISON_HOOK)
    n, poison = 20, f"/poison/{kind}/"
    with GeneratedServer(n) as site:
        body = (
            f"<!DOCTYPE html><html><head><title>poison</title></head><body><p>newsflow-poison-{kind}</p></body></html>"
        )
        site.site.put(poison, body.encode())
        # Deployed limits are 120 s soft, 180 s hard. Every process gets the short ones: a published
        # message carries the publisher's limits for its task, and the worker honours those.
        stack.extra_env.update(NEWSFLOW_TASK_SOFT_TIME_LIMIT="3", NEWSFLOW_TASK_TIME_LIMIT="20")
        for service in ("ingest", "enrich"):
            stack.start(f"worker-{service}", "worker", service, "--concurrency=1")
        stack.start("beat", "beat")
        stack.extra_env.update(NEWSFLOW_TEST_POISON="1", PYTHONPATH=f"{hook}{os.pathsep}{REPO}")
        parse = stack.start("worker-parse", "worker", "parse", "--concurrency=1")
        del stack.extra_env["NEWSFLOW_TEST_POISON"], stack.extra_env["PYTHONPATH"]
        stack.cli("enqueue", "--file", "-", input="\n".join([site.base_url + poison, *urls(site, n)]))
        stack.wait_idle(timeout=100)
        states = stack.url_states()
        reason = {"crash": "worker_lost", "hang": "stage_timeout"}[kind]
        assert states.pop(site.base_url + poison) == ("failed", reason)
        assert states == {u: ("done", None) for u in urls(site, n)}
        with session_scope(stack.database_url) as session:
            row = session.execute(select(Url).where(Url.url == site.base_url + poison)).scalar_one()
            assert row.last_error_stage == "parse"
            assert row.attempts == 3  # NEWSFLOW_TASK_MAX_ATTEMPTS in the stack: bounded, then failed
        assert parse.poll() is None and psutil.pid_exists(parse.pid)  # the worker itself lives on
