"""The Grafana dashboards as code: `python -m bench.ops_dashboards` writes ops/grafana/dashboards/*.json.

Kept in Python so that panels stay uniform and every query is in one reviewable place; a unit test
checks the committed JSON is what this module writes, and that every metric it uses is exported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DASHBOARDS_DIR = Path(__file__).resolve().parents[1] / "ops" / "grafana" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    """One PromQL query of a panel and its legend."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    """A time series or stat panel: title, queries, unit, and its width in the 24-column grid."""

    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    description: str = ""
    stack: bool = False


@dataclass(frozen=True)
class Dashboard:
    """A dashboard file: uid, title, panels in reading order, template variables."""

    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def q(expr: str, legend: str = "") -> Query:
    """A query; whitespace is collapsed so long expressions can be split over lines."""
    return Query(" ".join(expr.split()), legend)


def rate(metric: str, selector: str = "") -> str:
    """`rate(metric{selector}[$__rate_interval])`."""
    return f"rate({metric}{{{selector}}}[{RATE}])" if selector else f"rate({metric}[{RATE}])"


def p(quantile: float, metric: str, by: str = "le", selector: str = "") -> str:
    """A quantile of a histogram's buckets summed by `by`."""
    return f"histogram_quantile({quantile}, sum by ({by}) ({rate(metric + '_bucket', selector)}))"


SG = 'site_group=~"$site_group"'
NOT_OK = 'outcome=~"failed|retried"'
ERRORS = 'status_class=~"4xx|5xx"'


SITE_GROUP_VAR = {
    "name": "site_group",
    "label": "Site group",
    "type": "query",
    "datasource": DATASOURCE,
    "query": {"query": "label_values(newsflow_fetch_responses_total, site_group)", "refId": "site_group"},
    "definition": "label_values(newsflow_fetch_responses_total, site_group)",
    "includeAll": True,
    "multi": True,
    "allValue": ".*",
    "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
    "refresh": 2,
    "sort": 1,
}

OVERVIEW = Dashboard(
    uid="newsflow-overview",
    title="newsflow / Pipeline overview",
    description="Does each stage keep up? Throughput, failures, queues, lag and freshness.",
    panels=(
        Panel(
            "Articles stored per minute",
            (q(f'sum(rate(newsflow_articles_stored_total{{result="inserted"}}[{RATE}])) * 60', "new articles"),),
            kind="stat",
            width=6,
            height=4,
        ),
        Panel(
            "Failed tasks per minute",
            (q(f'sum(rate(newsflow_tasks_total{{outcome="failed"}}[{RATE}])) * 60', "failed"),),
            kind="stat",
            width=6,
            height=4,
        ),
        Panel(
            "Messages waiting",
            (q("sum(newsflow_queue_messages)", "messages"),),
            kind="stat",
            width=6,
            height=4,
        ),
        Panel(
            "Workers up",
            (q('sum(up{job="newsflow-workers"})', "up"),),
            kind="stat",
            width=6,
            height=4,
        ),
        Panel(
            "Tasks per second by stage and outcome",
            (q(f"sum by (stage, outcome) (rate(newsflow_tasks_total[{RATE}]))", "{{stage}} {{outcome}}"),),
            unit="ops",
            description="succeeded, retried, failed or skipped (not modified, nothing to do).",
        ),
        Panel(
            "Failures and retries by reason",
            (
                q(
                    f"sum by (stage, outcome, reason) ({rate('newsflow_tasks_total', NOT_OK)})",
                    "{{stage}} {{outcome}} {{reason}}",
                ),
            ),
            unit="ops",
        ),
        Panel(
            "Write conflicts by stage",
            (
                q(
                    f"sum by (stage, outcome) (rate(newsflow_write_conflicts_total[{RATE}]))",
                    "{{stage}} {{outcome}}",
                ),
            ),
            unit="ops",
            description="Transactions rolled back over a deadlock or serialization failure: retried in place,"
            " or gave_up after the last attempt. The database is up; these are not store_unavailable.",
        ),
        Panel(
            "Queue depth (ready and reserved)",
            (q("sum by (queue, state) (newsflow_queue_messages)", "{{queue}} {{state}}"),),
            description="ready: in the queue; unacked: reserved by a worker or held for a retry countdown.",
            stack=True,
        ),
        Panel(
            "Tasks in progress",
            (q("sum by (stage) (newsflow_tasks_in_progress)", "{{stage}}"),),
            stack=True,
        ),
        Panel(
            "Task duration p95 by stage",
            (
                q(
                    p(0.95, "newsflow_task_duration_seconds", "stage, le"),
                    "{{stage}}",
                ),
            ),
            unit="s",
        ),
        Panel(
            "End-to-end lag, enqueue to stored",
            (
                q(
                    p(0.5, "newsflow_pipeline_lag_seconds"),
                    "p50",
                ),
                q(
                    p(0.95, "newsflow_pipeline_lag_seconds"),
                    "p95",
                ),
            ),
            unit="s",
        ),
        Panel(
            "Newest article age by feed group",
            (q("max by (group) (newsflow_feed_group_newest_article_age_seconds)", "{{group}}"),),
            unit="s",
        ),
        Panel(
            "Time since last success by stage",
            (q("time() - max by (stage) (newsflow_stage_last_success_timestamp_seconds)", "{{stage}}"),),
            unit="s",
        ),
        Panel(
            "Frontier URLs by state",
            (q("sum by (state) (newsflow_urls)", "{{state}}"),),
            stack=True,
        ),
        Panel(
            "Parsed records: share with date, body, comments",
            (
                q(
                    f'sum(rate(newsflow_parse_records_total{{has_date="true"}}[{RATE}]))'
                    f" / sum(rate(newsflow_parse_records_total[{RATE}]))",
                    "has date",
                ),
                q(
                    f'sum(rate(newsflow_parse_records_total{{has_body="true"}}[{RATE}]))'
                    f" / sum(rate(newsflow_parse_records_total[{RATE}]))",
                    "has body",
                ),
                q(
                    f'sum(rate(newsflow_parse_records_total{{has_comments="true"}}[{RATE}]))'
                    f" / sum(rate(newsflow_parse_records_total[{RATE}]))",
                    "comments found",
                ),
            ),
            unit="percentunit",
        ),
    ),
)

FETCH = Dashboard(
    uid="newsflow-fetch",
    title="newsflow / Fetch health by site group",
    description="Which sites fail and why: responses, failures, refusals, bytes and politeness by site group.",
    variables=(SITE_GROUP_VAR,),
    panels=(
        Panel(
            "Responses by site group and status class",
            (
                q(
                    f"sum by (site_group, status_class) ({rate('newsflow_fetch_responses_total', SG)})",
                    "{{site_group}} {{status_class}}",
                ),
            ),
            unit="reqps",
            stack=True,
        ),
        Panel(
            "Error ratio by site group (4xx and 5xx)",
            (
                q(
                    f"sum by (site_group) ({rate('newsflow_fetch_responses_total', SG + ', ' + ERRORS)})"
                    f" / sum by (site_group) ({rate('newsflow_fetch_responses_total', SG)})",
                    "{{site_group}}",
                ),
            ),
            unit="percentunit",
        ),
        Panel(
            "Failed fetch attempts by site group and reason",
            (
                q(
                    f"sum by (site_group, reason) ({rate('newsflow_fetch_failures_total', SG)})",
                    "{{site_group}} {{reason}}",
                ),
            ),
            unit="ops",
        ),
        Panel(
            "Refused addresses and robots denials",
            (
                q(f"sum by (reason) (rate(newsflow_fetch_refused_total[{RATE}]))", "refused {{reason}}"),
                q(
                    f"sum by (site_group) ({rate('newsflow_fetch_robots_denied_total', SG)})",
                    "robots {{site_group}}",
                ),
            ),
            unit="ops",
        ),
        Panel(
            "Bytes fetched by site group",
            (
                q(
                    f"sum by (site_group) ({rate('newsflow_fetch_bytes_total', SG)})",
                    "{{site_group}}",
                ),
            ),
            unit="Bps",
            stack=True,
        ),
        Panel(
            "Not modified (304) share by site group",
            (
                q(
                    f"sum by (site_group) ({rate('newsflow_fetch_not_modified_total', SG)})"
                    f" / sum by (site_group) ({rate('newsflow_fetch_responses_total', SG)})",
                    "{{site_group}}",
                ),
            ),
            unit="percentunit",
        ),
        Panel(
            "Politeness wait p50 / p95",
            (
                q(
                    p(0.5, "newsflow_fetch_politeness_wait_seconds"),
                    "p50",
                ),
                q(
                    p(0.95, "newsflow_fetch_politeness_wait_seconds"),
                    "p95",
                ),
            ),
            unit="s",
        ),
        Panel(
            "Fetch and feed task duration p95",
            (
                q(
                    p(0.95, "newsflow_task_duration_seconds", "stage, le", 'stage=~"fetch|feed"'),
                    "{{stage}}",
                ),
            ),
            unit="s",
        ),
        Panel(
            "Feeds by site group and state",
            (q('sum by (group, state) (newsflow_feeds{group=~"$site_group"})', "{{group}} {{state}}"),),
            stack=True,
        ),
        Panel(
            "Fetch queue depth",
            (q('sum by (queue, state) (newsflow_queue_messages{queue=~"fetch|feeds"})', "{{queue}} {{state}}"),),
            stack=True,
        ),
    ),
)

COMMENTS = Dashboard(
    uid="newsflow-comments",
    title="newsflow / Comment updates and revisions",
    description="What re-polls find: new, edited and deleted comments, revisions, re-polls due versus done.",
    panels=(
        Panel(
            "Comment changes per minute",
            (q(f"sum by (change) (rate(newsflow_comment_changes_total[{RATE}])) * 60", "{{change}}"),),
            stack=True,
        ),
        Panel(
            "Comments found per parsed page",
            (
                q(
                    f"sum(rate(newsflow_parse_comments_found_total[{RATE}]))"
                    f" / sum(rate(newsflow_parse_records_total[{RATE}]))",
                    "comments per page",
                ),
            ),
        ),
        Panel(
            "Re-polls due versus done per minute",
            (
                q(f"sum(rate(newsflow_repolls_due_total[{RATE}])) * 60", "due"),
                q(f"sum by (changed) (rate(newsflow_repolls_done_total[{RATE}])) * 60", "done, changed={{changed}}"),
            ),
        ),
        Panel(
            "Article revisions found per minute",
            (q(f"sum(rate(newsflow_article_revisions_total[{RATE}])) * 60", "revisions"),),
        ),
        Panel(
            "Parse errors by reason",
            (q(f"sum by (reason) (rate(newsflow_parse_errors_total[{RATE}]))", "{{reason}}"),),
            unit="ops",
        ),
        Panel(
            "Articles stored by result",
            (q(f"sum by (result) (rate(newsflow_articles_stored_total[{RATE}])) * 60", "{{result}}"),),
            stack=True,
        ),
        Panel(
            "Links resolved and queued per minute; pending",
            (
                q(f"sum by (state) (rate(newsflow_links_total[{RATE}])) * 60", "{{state}}"),
                q("sum(newsflow_links_pending)", "pending"),
            ),
        ),
        Panel(
            "Tags and entities stored per minute",
            (
                q(f"sum(rate(newsflow_enrich_tags_total[{RATE}])) * 60", "tags"),
                q(f"sum(rate(newsflow_enrich_entities_total[{RATE}])) * 60", "entities"),
            ),
        ),
        Panel(
            "Comment platforms: threads fetched and comments stored per minute",
            (
                q(
                    f"sum by (provider) (rate(newsflow_comment_threads_fetched_total[{RATE}])) * 60",
                    "{{provider}} threads",
                ),
                q(
                    f"sum by (provider) (rate(newsflow_comment_thread_comments_stored_total[{RATE}])) * 60",
                    "{{provider}} comment changes",
                ),
            ),
            description="Platform threads (Disqus, Viafoura, OpenWeb, Coral) and site comment endpoints read in full,"
            " and the new, edited and deleted comments they brought.",
        ),
        Panel(
            "Comment platform failures per minute by provider and reason",
            (
                q(
                    f"sum by (provider, reason) (rate(newsflow_comment_thread_failures_total[{RATE}])) * 60",
                    "{{provider}} {{reason}}",
                ),
            ),
            description="provider_changed means a platform's answer no longer has the shape newsflow reads: its"
            " threads stop updating until the adapter is fixed. provider_auth: a key or token is missing or refused.",
            stack=True,
        ),
    ),
)

DASHBOARDS = (OVERVIEW, FETCH, COMMENTS)


def panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    """One panel as Grafana's JSON model."""
    custom: dict[str, Any] = {"lineWidth": 1, "fillOpacity": 10, "showPoints": "never", "spanNulls": True}
    if panel.stack:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    options: dict[str, Any] = (
        {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value"}
        if panel.kind == "stat"
        else {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi"},
        }
    )
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {
            "defaults": {"unit": panel.unit, "custom": custom if panel.kind == "timeseries" else {}},
            "overrides": [],
        },
        "options": options,
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": query.expr, "legendFormat": query.legend}
            for i, query in enumerate(panel.queries)
        ],
    }


def dashboard_json(dashboard: Dashboard) -> dict[str, Any]:
    """A whole dashboard, panels laid out left to right, top to bottom."""
    panels, x, y, row_height = [], 0, 0, 0
    for panel_id, panel in enumerate(dashboard.panels, start=1):
        if x + panel.width > 24:
            x, y, row_height = 0, y + row_height, 0
        panels.append(panel_json(panel, panel_id, x, y))
        x, row_height = x + panel.width, max(row_height, panel.height)
    return {
        "uid": dashboard.uid,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": ["newsflow"],
        "timezone": "utc",
        "editable": False,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": list(dashboard.variables)},
        "annotations": {"list": []},
        "panels": panels,
    }


def render_all() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {f"{d.uid}.json": json.dumps(dashboard_json(d), indent=2) + "\n" for d in DASHBOARDS}


def main() -> None:
    DASHBOARDS_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (DASHBOARDS_DIR / name).write_text(text)
        print(DASHBOARDS_DIR / name)


if __name__ == "__main__":
    main()
