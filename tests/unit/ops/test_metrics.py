"""The metric helpers: site groups, task accounting by outcome and reason, stage records, JSON logs."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from shared import logs, metrics

GROUPS = "bbc=bbc.co.uk|bbc.com,reuters.com, demo=127.0.0.1"


@pytest.mark.parametrize(
    ("url", "group"),
    [
        ("https://www.bbc.co.uk/news/world-1", "bbc"),
        ("https://bbc.com/x", "bbc"),
        ("https://notbbc.com/x", "other"),
        ("https://feeds.reuters.com/rss", "reuters.com"),
        ("http://127.0.0.1:8080/page", "demo"),
        ("REUTERS.COM", "reuters.com"),
        ("http://10.0.0.1/", "other"),
        ("", "other"),
        (None, "other"),
        ("http://[::1/broken", "other"),
    ],
)
def test_site_group_is_a_configured_group_or_other(url, group):
    assert metrics.site_group(url, GROUPS) == group


def test_site_groups_lists_every_label_value():
    assert metrics.site_groups(GROUPS) == ["bbc", "demo", "other", "reuters.com"]
    assert metrics.site_groups("") == ["other"]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@dataclass
class Delta:
    """Sample values before a block, to compare after it (the registry is process-wide)."""

    samples: list[tuple[str, dict[str, str]]]
    before: list[float] = field(default_factory=list)

    def __enter__(self) -> Delta:
        self.before = [value(n, **ls) for n, ls in self.samples]
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def changes(self) -> list[float]:
        return [value(n, **ls) - b for (n, ls), b in zip(self.samples, self.before, strict=True)]


@pytest.mark.parametrize(
    ("stage", "result", "reason", "retrying", "counted", "also"),
    [
        (
            "parse",
            "inserted",
            None,
            False,
            ("succeeded", "none"),
            ("newsflow_articles_stored_total", {"result": "inserted"}),
        ),
        (
            "fetch",
            "succeeded",
            None,
            False,
            ("succeeded", "none"),
            ("newsflow_fetch_responses_total", {"site_group": "other", "status_class": "2xx"}),
        ),
        (
            "fetch",
            "not_modified",
            None,
            False,
            ("skipped", "not_modified"),
            ("newsflow_fetch_not_modified_total", {"site_group": "other"}),
        ),
        (
            "enrich",
            "skipped",
            None,
            False,
            ("skipped", "nothing_to_do"),
            ("newsflow_tasks_in_progress", {"stage": "nothing"}),
        ),
        (
            "fetch",
            None,
            "http_5xx",
            True,
            ("retried", "http_5xx"),
            ("newsflow_fetch_responses_total", {"site_group": "other", "status_class": "5xx"}),
        ),
        (
            "fetch",
            None,
            "blocked_address",
            False,
            ("failed", "blocked_address"),
            ("newsflow_fetch_refused_total", {"reason": "blocked_address"}),
        ),
        (
            "feed",
            None,
            "robots_disallowed",
            False,
            ("failed", "robots_disallowed"),
            ("newsflow_fetch_robots_denied_total", {"site_group": "other"}),
        ),
        (
            "parse",
            None,
            "no_content",
            False,
            ("failed", "no_content"),
            ("newsflow_parse_errors_total", {"reason": "no_content"}),
        ),
    ],
)
def test_finish_task_counts_outcome_reason_and_stage_specifics(stage, result, reason, retrying, counted, also):
    outcome, label = counted
    samples = [
        ("newsflow_tasks_total", {"stage": stage, "outcome": outcome, "reason": label}),
        ("newsflow_task_duration_seconds_count", {"stage": stage}),
        also,
    ]
    with Delta(samples) as delta, metrics.task_clock(stage, "http://example.org/a") as clock:
        assert value("newsflow_tasks_in_progress", stage=stage) >= 1
        assert metrics.finish_task(clock, result, reason=reason, retrying=retrying) == counted
    expected_also = 0 if also[0] == "newsflow_tasks_in_progress" else 1
    assert delta.changes() == [1, 1, expected_also]
    assert value("newsflow_tasks_in_progress", stage=stage) == 0


def test_success_sets_last_success_and_a_new_article_observes_the_lag():
    enqueued = datetime.now(UTC) - timedelta(seconds=42)
    with Delta([("newsflow_pipeline_lag_seconds_count", {}), ("newsflow_pipeline_lag_seconds_sum", {})]) as delta:
        with metrics.task_clock("parse") as clock:
            metrics.finish_task(clock, "inserted", enqueued_at=enqueued)
        with metrics.task_clock("parse") as clock:
            metrics.finish_task(clock, "updated", enqueued_at=enqueued)  # a re-parse is not end-to-end lag
    count, total = delta.changes()
    assert count == 1 and 42 <= total < 60
    assert value("newsflow_stage_last_success_timestamp_seconds", stage="parse") == pytest.approx(
        datetime.now(UTC).timestamp(), abs=5
    )


def test_a_stopped_clock_leaves_out_what_runs_after_it():
    with metrics.task_clock("enrich") as clock:
        sum(range(200_000))  # some CPU of the task itself
        clock.stop()
        elapsed, cpu = clock.elapsed(), clock.cpu()
        deadline = time.process_time() + 0.05
        while time.process_time() < deadline:  # an inline follow-up's CPU: not the task's
            pass
        assert (clock.elapsed(), clock.cpu()) == (elapsed, cpu)
    assert cpu > 0 and elapsed > 0


def test_in_progress_drops_even_when_accounting_raises():
    with pytest.raises(RuntimeError), metrics.task_clock("links"):
        assert value("newsflow_tasks_in_progress", stage="links") == 1
        raise RuntimeError("record_failure could not reach the database")
    assert value("newsflow_tasks_in_progress", stage="links") == 0


@dataclass
class Record:
    published_at: datetime | None
    body_paragraphs: list[str]
    comments: list[object]


def test_stage_helpers_count_records_comments_links_and_bytes():
    samples = [
        ("newsflow_parse_records_total", {"has_date": "true", "has_body": "true", "has_comments": "true"}),
        ("newsflow_parse_records_total", {"has_date": "false", "has_body": "false", "has_comments": "false"}),
        ("newsflow_parse_comments_found_total", {}),
        ("newsflow_comment_changes_total", {"change": "new"}),
        ("newsflow_comment_changes_total", {"change": "edited"}),
        ("newsflow_comment_changes_total", {"change": "deleted"}),
        ("newsflow_links_total", {"state": "resolved"}),
        ("newsflow_links_total", {"state": "queued"}),
        ("newsflow_fetch_bytes_total", {"site_group": "other"}),
        ("newsflow_enrich_tags_total", {}),
        ("newsflow_repolls_done_total", {"changed": "true"}),
    ]
    with Delta(samples) as delta:
        metrics.record_parse(Record(datetime.now(UTC), ["text"], [object(), object(), object()]))
        metrics.record_parse(Record(None, [" "], []))
        metrics.record_comment_changes(inserted=3, edited=1, deleted=2)
        metrics.record_links(resolved=4, queued=2)
        metrics.record_fetch("https://example.org/a", 1234)
        metrics.record_tags(5)
        metrics.record_repoll_done(changed=True)
    assert delta.changes() == [1, 1, 3, 3, 1, 2, 4, 2, 1234, 5, 1]


def test_json_log_lines_carry_bound_task_url_and_reason():
    record = logging.LogRecord("newsflow.tasks", logging.WARNING, __file__, 1, "task %s", ("failed",), None)
    record.reason = "http_5xx"
    with logs.bind(task="ingest.fetch_url", task_id="abc", url="http://example.org/a", item_id=None):
        line = json.loads(logs.JsonFormatter().format(record))
    assert list(line)[:7] == ["ts", "level", "logger", "message", "task", "task_id", "url"]
    assert line | {"ts": None} == {
        "ts": None,
        "level": "warning",
        "logger": "newsflow.tasks",
        "message": "task failed",
        "task": "ingest.fetch_url",
        "task_id": "abc",
        "url": "http://example.org/a",
        "reason": "http_5xx",
    }
    assert "task" not in json.loads(logs.JsonFormatter().format(record))  # unbound after the block
