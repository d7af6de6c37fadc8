"""What ships in ops/: every metric a dashboard or an alert uses is one newsflow exports, the dashboards
are the ones bench/ops_dashboards.py writes, and promtool accepts the config and the rules' unit tests."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import services.api.metrics  # noqa: F401 (registers the API's metrics)
import shared.metrics  # noqa: F401 (registers the workers' metrics)
from bench import ops_dashboards
from shared.config import Settings
from shared.exporter import StackCollector

OPS = Path(__file__).resolve().parents[3] / "ops"
PROMETHEUS = OPS / "prometheus"
DASHBOARDS = OPS / "grafana" / "dashboards"
METRIC_NAME = re.compile(r"\b(newsflow_[a-z0-9_]+)\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def exported_names() -> set[str]:
    """Every sample name newsflow's processes can expose."""
    names = set()
    for collector in (REGISTRY, StackCollector(Settings())):
        for family in collector.describe() if collector is not REGISTRY else REGISTRY.collect():
            if family.name.startswith("newsflow_"):
                names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def dashboard_exprs() -> dict[str, list[str]]:
    return {
        path.name: [t["expr"] for p in json.loads(path.read_text())["panels"] for t in p["targets"]]
        for path in sorted(DASHBOARDS.glob("*.json"))
    }


def alert_rules() -> list[dict]:
    return [
        rule for group in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"] for rule in group["rules"]
    ]


def test_every_metric_used_by_dashboards_and_alerts_is_exported():
    exported = exported_names()
    assert {"newsflow_tasks_total", "newsflow_queue_messages", "newsflow_pipeline_lag_seconds_bucket"} <= exported
    used = {f"{name}: {m}" for name, exprs in dashboard_exprs().items() for e in exprs for m in METRIC_NAME.findall(e)}
    used |= {f"alerts.yml {r['alert']}: {m}" for r in alert_rules() for m in METRIC_NAME.findall(r["expr"])}
    unknown = sorted(u for u in used if u.rsplit(": ", 1)[1] not in exported)
    assert not unknown, unknown
    assert len(used) > 40


def test_alerts_name_only_scrape_jobs_that_exist():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    used = {j for r in alert_rules() for j in re.findall(r'job=~?"([^"]+)"', r["expr"])}
    assert {job for j in used for job in j.split("|")} <= jobs
    assert config["rule_files"] == ["alerts.yml"]


def test_alerts_cover_what_ops_asked_for():
    alerts = {r["alert"]: r for r in alert_rules()}
    assert set(alerts) >= {
        "NewsflowStageFailing",
        "NewsflowQueueGrowing",
        "NewsflowNoArticlesStored",
        "NewsflowWorkerDown",
        "NewsflowFeedGroupStale",
        "NewsflowRepollsFallingBehind",
    }
    for rule in alerts.values():
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["for"] and rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_dashboards_are_what_the_generator_writes():
    assert {p.name: p.read_text() for p in DASHBOARDS.glob("*.json")} == ops_dashboards.render_all()


def test_dashboards_are_well_formed_for_provisioning():
    datasource = yaml.safe_load((OPS / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    titles = set()
    for path in DASHBOARDS.glob("*.json"):
        board = json.loads(path.read_text())
        assert board["uid"] == path.stem and board["title"] not in titles
        titles.add(board["title"])
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == uid and panel["targets"], panel["title"]
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24
    assert {"newsflow-overview", "newsflow-fetch", "newsflow-comments"} <= {p.stem for p in DASHBOARDS.glob("*.json")}


def promtool() -> str:
    """promtool from Debian's `prometheus` package; CI must have it, a developer may not."""
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: apt-get install -y --no-install-recommends prometheus", pytrace=False)
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "tests/alerts_test.yml"],
    ],
    ids=["check-config", "check-rules", "test-rules"],
)
def test_promtool_accepts_config_rules_and_alert_unit_tests(args):
    result = subprocess.run([promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
