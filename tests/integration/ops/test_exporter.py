"""The exporter against real services: queue depths incl. reserved messages on Redis, store gauges on
Postgres, and prefork-style children whose counts add up (and whose killed in-flight tasks stop counting)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from kombu import Connection, Consumer, Queue

from shared import models
from shared.broker import TRANSPORT
from shared.config import Settings
from shared.db import engine_for, session_scope
from shared.exporter import StackCollector, prepare_multiprocess_dir, queue_depths
from shared.models import utcnow
from shared.pipeline import QUEUES_BY_SERVICE
from tests.helpers.databases import create_database, drop_database, migrate

REPO = Path(__file__).resolve().parents[3]
QUEUES = sorted({q for qs in QUEUES_BY_SERVICE.values() for q in qs})


@pytest.mark.parametrize("transport", [None, TRANSPORT], ids=["stock-kombu", "newsflow-broker"])
def test_queue_depths_count_ready_and_reserved_messages(redis_client, redis_url, transport):
    app = Celery(broker=redis_url)
    app.conf.update(task_queues=[Queue(q) for q in QUEUES], task_default_queue="fetch")
    for _ in range(3):
        app.send_task("ingest.fetch_url", args=[1], queue="fetch")
    app.send_task("parse.parse_page", args=[1], queue="parse")
    app.send_task("ingest.fetch_url", args=[2], queue="fetch", priority=5)
    assert queue_depths(redis_url)["fetch"] == (4, 0)

    # A worker's prefetched (or countdown) message leaves the list for kombu's `unacked` hash.
    received = []
    with Connection(redis_url, transport=transport) as conn:
        queue = app.amqp.queues["fetch"]
        with Consumer(conn, queues=[queue], callbacks=[lambda body, msg: received.append(msg)], prefetch_count=2):
            while len(received) < 2:
                conn.drain_events(timeout=5)
        depths = queue_depths(redis_url)
        # Stock kombu writes [message, exchange, routing key]; newsflow's broker adds the delivery time.
        assert {len(json.loads(v)) for v in redis_client.hvals("unacked")} == {3 if transport is None else 4}
    assert depths == {"enrich": (0, 0), "feeds": (0, 0), "fetch": (2, 2), "links": (0, 0), "parse": (1, 0)}


@pytest.fixture
def store(postgres_admin_url: str) -> Iterator[str]:
    url = create_database(postgres_admin_url, f"newsflow_ops_{uuid.uuid4().hex[:10]}")
    migrate(url)
    yield url
    engine_for(url).dispose()
    drop_database(postgres_admin_url, url)


def add_article(session, n: int, feed_id: int | None, age: timedelta, state: str = "done") -> None:
    url = f"https://news.example.com/{n}"
    article = models.Article(
        canonical_url=url, canonical_hash=f"a{n}", host="news.example.com", record={}, content_hash=f"c{n}"
    )
    article.first_seen_at = utcnow() - age
    session.add(article)
    session.flush()
    session.add(
        models.Url(
            url=url, url_hash=f"u{n}", host="news.example.com", state=state, feed_id=feed_id, article_id=article.id
        )
    )


def test_stack_collector_reads_frontier_feeds_freshness_and_links(store, redis_client, redis_url):
    with session_scope(store) as session:
        feeds = [
            models.Feed(url="https://news.example.com/rss", url_hash="f1"),
            models.Feed(url="https://www.example.org/feed", url_hash="f2", error_count=2),
            models.Feed(url="https://blog.other.net/atom", url_hash="f3", parked=True),
        ]
        session.add_all(feeds)
        session.flush()
        add_article(session, 1, feeds[0].id, timedelta(hours=3))
        add_article(session, 2, feeds[0].id, timedelta(minutes=10))
        add_article(session, 3, feeds[1].id, timedelta(hours=8))
        add_article(session, 4, None, timedelta(seconds=1), state="parsed")
        session.add(models.Url(url="https://x.example.com/q", url_hash="u5", host="x.example.com", state="queued"))
        source = session.query(models.Article).first()
        session.add_all(
            [
                models.Link(article_id=source.id, target_url="https://a/1", target_hash="t1"),
                models.Link(
                    article_id=source.id, target_url="https://a/2", target_hash="t2", target_article_id=source.id
                ),
            ]
        )
    settings = Settings(
        database_url=store, broker_url=redis_url, metrics_site_groups="example=example.com,org=example.org"
    )
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in StackCollector(settings).collect()
        for s in family.samples
    }
    assert samples[("newsflow_urls", (("state", "done"),))] == 3
    assert samples[("newsflow_urls", (("state", "queued"),))] == 1
    assert samples[("newsflow_feeds", (("group", "example"), ("state", "ok")))] == 1
    assert samples[("newsflow_feeds", (("group", "org"), ("state", "failing")))] == 1
    assert samples[("newsflow_feeds", (("group", "other"), ("state", "parked")))] == 1
    assert 600 <= samples[("newsflow_feed_group_newest_article_age_seconds", (("group", "example"),))] < 660
    assert 8 * 3600 <= samples[("newsflow_feed_group_newest_article_age_seconds", (("group", "org"),))] < 8 * 3600 + 60
    assert ("newsflow_feed_group_newest_article_age_seconds", (("group", "other"),)) not in samples
    assert samples[("newsflow_links_pending", ())] == 1
    assert samples[("newsflow_queue_messages", (("queue", "parse"), ("state", "ready")))] == 0
    assert samples[("newsflow_exporter_source_up", (("source", "postgres"),))] == 1
    assert samples[("newsflow_exporter_source_up", (("source", "redis"),))] == 1


def test_stack_collector_answers_when_a_source_is_down():
    settings = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", broker_url="redis://127.0.0.1:1/0")
    samples = {
        (s.name, tuple(s.labels.values())): s.value
        for family in StackCollector(settings).collect()
        for s in family.samples
    }
    assert samples[("newsflow_exporter_source_up", ("redis",))] == 0
    assert samples[("newsflow_exporter_source_up", ("postgres",))] == 0


CHILDREN = textwrap.dedent(
    """
    import json, os, signal, sys, time
    from shared.config import Settings
    from shared.exporter import prepare_multiprocess_dir, worker_registry
    path = prepare_multiprocess_dir(Settings(metrics_dir=sys.argv[1]), "children")
    from shared import metrics

    def work(n):
        for i in range(n):
            with metrics.task_clock("fetch", "http://127.0.0.1/x") as clock:
                metrics.finish_task(clock, "succeeded" if i % 2 else None, reason="http_5xx", retrying=True)

    children = []
    for n in (3, 5, 8):  # like prefork children, forked after the parent imported the metrics
        pid = os.fork()
        if pid == 0:
            work(n)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a child killed in the middle of a task
        metrics.TASKS_IN_PROGRESS.labels("parse").inc()
        os.write(ready_w, b"x")
        time.sleep(60)
        os._exit(0)
    os.read(ready_r, 1)
    registry = worker_registry()
    value = lambda name, **labels: registry.get_sample_value(name, labels) or 0.0
    in_flight_before = value("newsflow_tasks_in_progress", stage="parse")
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    print(json.dumps({
        "files": sorted(os.listdir(path)),
        "succeeded": value("newsflow_tasks_total", stage="fetch", outcome="succeeded", reason="none"),
        "retried": value("newsflow_tasks_total", stage="fetch", outcome="retried", reason="http_5xx"),
        "durations": value("newsflow_task_duration_seconds_count", stage="fetch"),
        "responses_5xx": value("newsflow_fetch_responses_total", site_group="other", status_class="5xx"),
        "in_flight_before": in_flight_before,
        "in_flight_after": value("newsflow_tasks_in_progress", stage="parse"),
    }))
    """
)


def test_counts_from_all_forked_children_add_up_and_killed_children_stop_counting(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", CHILDREN, str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert len([f for f in got["files"] if f.startswith("counter_")]) >= 3  # one per child that counted
    assert (got["succeeded"], got["retried"], got["durations"], got["responses_5xx"]) == (1 + 2 + 4, 2 + 3 + 4, 16, 9)
    assert (got["in_flight_before"], got["in_flight_after"]) == (1, 0)


def test_the_multiprocess_folder_is_emptied_at_each_start_and_set_before_prometheus_client(tmp_path):
    stale = tmp_path / "metrics-ingest-9100" / "counter_1.db"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    script = (
        "import sys; from shared.config import Settings; from shared.exporter import prepare_multiprocess_dir;"
        "p = prepare_multiprocess_dir(Settings(metrics_dir=sys.argv[1]), 'ingest-9100');"
        "import os, prometheus_client.values as v; print(p, os.listdir(p), v.ValueClass.__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(stale.parent), "[]", "MmapedValue"]
    with pytest.raises(RuntimeError, match="imported before"):
        prepare_multiprocess_dir(Settings(metrics_dir=str(tmp_path)), "late")  # this process imported it already
