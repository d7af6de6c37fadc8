"""Metrics end to end: real prefork workers (concurrency 2) and beat serve /metrics; the counters they
report must match what the run did, summed over every child process, and the logs must be JSON lines."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from shared import models
from shared.db import session_scope

pytestmark = pytest.mark.e2e

PRIVATE = "/private/201702171050800011-g20-coverage-planning/"
REFUSED = "http://10.255.255.1/internal/page"  # a private address not on the allow-list
SERVICES = ("ingest", "parse", "enrich")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int, timeout: float = 30) -> Samples:
    """Every sample of http://127.0.0.1:PORT/metrics by (name, labels); waits for the endpoint to come up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
                text = response.read().decode()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def per_process(metrics_dir: Path, name: str, **labels: str) -> dict[int, float]:
    """One counter's value per process, read from the multiprocess files themselves."""
    out: dict[int, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            _, sample, sample_labels, _ = json.loads(key)
            if sample == name and labels.items() <= sample_labels.items():
                out[pid] = out.get(pid, 0.0) + value
    return out


def test_worker_metrics_match_what_happened(stack, site, tmp_path):
    base = site.base_url
    metrics_dir = tmp_path / "metrics"
    # A politeness delay makes fetches of the one demo host wait, so both prefork children take tasks.
    stack.extra_env.update(
        NEWSFLOW_METRICS_SITE_GROUPS="demo=127.0.0.1",
        NEWSFLOW_METRICS_DIR=str(metrics_dir),
        NEWSFLOW_POLITENESS_DELAY="0.3",
    )
    ports = {}
    for name in (*SERVICES, "beat"):
        ports[name] = free_port()
        stack.extra_env["NEWSFLOW_METRICS_PORT"] = str(ports[name])
        if name == "beat":
            stack.start("beat", "beat")
        else:
            stack.start(f"worker-{name}", "worker", name, "--concurrency=2")
    started = time.time()
    stack.cli("feeds", "add", f"{base}/rss.xml")
    stack.cli("enqueue", f"{base}/broken/500", REFUSED, f"{base}{PRIVATE}")
    stack.wait_idle(timeout=150)

    states = stack.url_states()
    assert states[f"{base}/broken/500"] == ("failed", "http_5xx")
    assert states[REFUSED] == ("failed", "blocked_address")
    assert states[f"{base}{PRIVATE}"] == ("failed", "robots_disallowed")
    done = sum(1 for state, _ in states.values() if state == "done")
    with session_scope(stack.database_url) as session:
        articles = session.execute(select(func.count()).select_from(models.Article)).scalar_one()
        comments = session.execute(select(func.count()).select_from(models.Comment)).scalar_one()
        tags = session.execute(select(func.count()).select_from(models.ArticleTag)).scalar_one()
        pending_links = session.execute(
            select(func.count()).select_from(models.Link).where(models.Link.target_article_id.is_(None))
        ).scalar_one()
    assert done == articles == 6 and comments > 20

    ingest, parse, enrich = (scrape(ports[s]) for s in SERVICES)

    # Task outcomes and reasons, as the base task counted them in every child of every worker.
    assert total(ingest, "newsflow_tasks_total", stage="fetch", outcome="succeeded") == done
    assert total(ingest, "newsflow_tasks_total", stage="fetch", outcome="retried", reason="http_5xx") == 2
    assert total(ingest, "newsflow_tasks_total", stage="fetch", outcome="failed", reason="http_5xx") == 1
    assert total(ingest, "newsflow_tasks_total", stage="fetch", outcome="failed", reason="blocked_address") == 1
    assert total(ingest, "newsflow_tasks_total", stage="fetch", outcome="failed", reason="robots_disallowed") == 1
    assert total(ingest, "newsflow_tasks_total", stage="fetch", outcome="failed") == 3
    feed_polls = total(ingest, "newsflow_tasks_total", stage="feed", outcome="succeeded")
    assert feed_polls >= 1
    assert total(ingest, "newsflow_task_duration_seconds_count", stage="fetch") == total(
        ingest, "newsflow_tasks_total", stage="fetch"
    )
    # Fetch health by site group: the demo host is its own group, the refused address is "other".
    assert total(ingest, "newsflow_fetch_responses_total", site_group="demo", status_class="5xx") == 3
    assert total(ingest, "newsflow_fetch_responses_total", site_group="demo", status_class="2xx") == done + feed_polls
    assert total(ingest, "newsflow_fetch_failures_total", site_group="demo", reason="http_5xx") == 3
    assert total(ingest, "newsflow_fetch_failures_total", site_group="other", reason="blocked_address") == 1
    assert total(ingest, "newsflow_fetch_refused_total", reason="blocked_address") == 1
    assert total(ingest, "newsflow_fetch_robots_denied_total", site_group="demo") == 1
    assert total(ingest, "newsflow_tasks_in_progress") == 0

    assert total(parse, "newsflow_tasks_total", stage="parse", outcome="succeeded") == articles
    assert total(parse, "newsflow_articles_stored_total", result="inserted") == articles
    assert total(parse, "newsflow_pipeline_lag_seconds_count") == articles
    assert 0 < total(parse, "newsflow_pipeline_lag_seconds_sum") < articles * (time.time() - started + 5)
    assert total(parse, "newsflow_parse_errors_total") == 0
    assert total(enrich, "newsflow_tasks_total", stage="enrich", outcome="succeeded") == articles
    assert total(enrich, "newsflow_tasks_total", stage="links", outcome="succeeded") == articles
    for samples, stage in ((ingest, "fetch"), (parse, "parse"), (enrich, "enrich"), (enrich, "links")):
        last = total(samples, "newsflow_stage_last_success_timestamp_seconds", stage=stage)
        assert started - 1 <= last <= time.time() + 1, stage

    # Stage-level counters, called by the stage handlers.
    assert total(ingest, "newsflow_fetch_bytes_total", site_group="demo") > 0
    assert total(parse, "newsflow_parse_records_total") == articles
    assert total(parse, "newsflow_parse_records_total", has_body="true") == articles
    assert total(parse, "newsflow_parse_comments_found_total") == comments
    assert total(parse, "newsflow_comment_changes_total", change="new") == comments
    assert total(enrich, "newsflow_enrich_tags_total") == tags

    # Counts from all prefork children add up: the files of two or more children sum to what was served.
    ingest_dir = metrics_dir / f"metrics-ingest-{ports['ingest']}"
    by_pid = per_process(ingest_dir, "newsflow_tasks_total", stage="fetch")
    assert sum(by_pid.values()) == total(ingest, "newsflow_tasks_total", stage="fetch")
    assert len([pid for pid, n in by_pid.items() if n]) >= 2, by_pid

    # The stack-wide gauges that beat serves: frontier, feeds by group, freshness, queues.
    stack_samples = scrape(ports["beat"])
    assert total(stack_samples, "newsflow_exporter_source_up", source="redis") == 1
    assert total(stack_samples, "newsflow_exporter_source_up", source="postgres") == 1
    assert total(stack_samples, "newsflow_urls", state="done") == done
    assert total(stack_samples, "newsflow_urls", state="failed") == 3
    assert total(stack_samples, "newsflow_feeds", group="demo", state="ok") == 1
    age = total(stack_samples, "newsflow_feed_group_newest_article_age_seconds", group="demo")
    assert 0 <= age <= time.time() - started + 5
    assert total(stack_samples, "newsflow_links_pending") == pending_links
    queues = {dict(ls)["queue"] for (n, ls) in stack_samples if n == "newsflow_queue_messages"}
    assert queues == {"enrich", "feeds", "fetch", "links", "parse"}
    assert total(stack_samples, "newsflow_queue_messages", queue="fetch") == 0

    # Logs: JSON lines carrying the task, URL and reason.
    lines = [
        json.loads(line) for line in (stack.logs / "worker-ingest.log").read_text().splitlines() if line[:1] == "{"
    ]
    failures = [line for line in lines if line.get("reason") == "http_5xx" and line.get("url") == f"{base}/broken/500"]
    assert failures and all(line["task"] == "ingest.fetch_url" and line["task_id"] for line in failures)
    outcomes = Counter(line.get("outcome") for line in lines if line.get("message", "").startswith("task "))
    assert outcomes["failed"] == 3 and outcomes["retried"] == 2
