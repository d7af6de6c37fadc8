"""Render the Grafana dashboards' panels from a real run: `python -m bench.ops_render_dashboard`.

Starts the stack as tests/e2e does (prefork workers, beat, Postgres, Redis, the demo site), a real
Prometheus (Debian's `prometheus` package) scraping their /metrics endpoints, drives some traffic
(feed, good and broken URLs, a refused address), then runs every panel's own PromQL through
Prometheus' query_range API and plots it in the dashboard's layout: docs/dashboard.png and
docs/dashboard-fetch.png. Needs NEWSFLOW_TEST_POSTGRES_URL, NEWSFLOW_TEST_REDIS_URL and matplotlib.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.ops_dashboards import DASHBOARDS, dashboard_json

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SCRAPE_SECONDS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prometheus_config(targets: dict[str, int]) -> str:
    """A scrape config like ops/prometheus/prometheus.yml, with static local targets and a short interval."""
    jobs = []
    for service, port in targets.items():
        job = "newsflow-beat" if service == "beat" else "newsflow-workers"
        jobs.append(
            f"  - job_name: {job}-{service}\n"
            f"    static_configs:\n"
            f"      - targets: ['127.0.0.1:{port}']\n"
            f"        labels: {{service: {service}}}\n"
            f"    relabel_configs:\n"
            f"      - target_label: job\n"
            f"        replacement: {job}\n"
        )
    return f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\nscrape_configs:\n" + "".join(jobs)


def query_range(base: str, expr: str, start: float, end: float) -> list[dict[str, Any]]:
    """Prometheus' /api/v1/query_range result for one expression."""
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": SCRAPE_SECONDS})
    with urllib.request.urlopen(f"{base}/api/v1/query_range?{params}", timeout=30) as response:
        body = json.load(response)
    if body["status"] != "success":
        raise RuntimeError(f"{expr}: {body}")
    return body["data"]["result"]


def legend(template: str, labels: dict[str, str]) -> str:
    out = template
    for key, value in labels.items():
        out = out.replace("{{" + key + "}}", value)
    return out or ", ".join(f"{k}={v}" for k, v in labels.items())


def render(board: dict[str, Any], base: str, start: float, end: float, path: Path) -> None:
    """Plot every panel of `board` at its grid position, from the panel's own queries."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import UTC, datetime

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in board["panels"])
    fig = plt.figure(figsize=(18, rows * 0.42), facecolor="#111217")
    grid = fig.add_gridspec(rows, 24, hspace=2.2, wspace=1.2, top=0.97, bottom=0.03, left=0.04, right=0.99)
    fig.suptitle(f"{board['title']}  (a real run, panels' own PromQL)", color="#d8d9da", fontsize=13, y=0.995)
    rate_interval = f"{SCRAPE_SECONDS * 5}s"
    for panel in board["panels"]:
        g = panel["gridPos"]
        ax = fig.add_subplot(grid[g["y"] : g["y"] + g["h"], g["x"] : g["x"] + g["w"]])
        ax.set_facecolor("#181b1f")
        ax.set_title(panel["title"], color="#d8d9da", fontsize=9, loc="left")
        ax.tick_params(colors="#8e8e8e", labelsize=7)
        for spine in ax.spines.values():
            spine.set_color("#2c3235")
        series = []
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", rate_interval).replace("$site_group", ".*")
            for result in query_range(base, expr, start, end):
                points = [(float(t), float(v)) for t, v in result["values"] if v not in ("NaN", "+Inf", "-Inf")]
                if points:
                    series.append((legend(target["legendFormat"], result["metric"]), points))
        if panel["type"] == "stat":  # Grafana's stat: the last value over a sparkline of the range
            last = series[0][1][-1][1] if series else float("nan")
            if series:
                ax.fill_between([t for t, _ in series[0][1]], [v for _, v in series[0][1]], color="#73bf69", alpha=0.25)
            ax.text(
                0.5, 0.5, f"{last:.3g}", ha="center", va="center", fontsize=26, color="#73bf69", transform=ax.transAxes
            )
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        for name, points in sorted(series)[:12]:
            ax.plot([datetime.fromtimestamp(t, UTC) for t, _ in points], [v for _, v in points], lw=1.2, label=name)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
        ax.grid(color="#2c3235", lw=0.5)
        unit = panel["fieldConfig"]["defaults"].get("unit", "")
        if unit and unit != "short":
            ax.set_ylabel(unit, color="#8e8e8e", fontsize=7)
        if series:
            ax.legend(fontsize=6, loc="upper left", facecolor="#181b1f", labelcolor="#d8d9da", framealpha=0.7)
        else:
            ax.text(0.5, 0.5, "no data in this run", ha="center", va="center", color="#8e8e8e", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80, facecolor=fig.get_facecolor())
    plt.close(fig)


def drive(stack: Any, site: Any, seconds: float) -> None:
    """Traffic for the run: the feed and its articles, failing and refused URLs, in waves."""
    base = site.base_url
    stack.cli("feeds", "add", f"{base}/rss.xml")
    stack.wait_idle(timeout=120)
    time.sleep(seconds / 4)
    stack.cli("enqueue", f"{base}/broken/500", f"{base}/broken/404", "http://10.255.255.1/internal")
    stack.cli("enqueue", f"{base}/private/201702171050800011-g20-coverage-planning/")
    stack.wait_idle(timeout=120)
    time.sleep(seconds / 4)
    stack.cli("enqueue", *(f"{base}/broken/404?n={i}" for i in range(5)), f"{base}/broken/500?n=2")
    stack.wait_idle(timeout=120)
    time.sleep(SCRAPE_SECONDS * 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="quiet time spread between the waves")
    args = parser.parse_args()
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        raise SystemExit("needs Prometheus: apt-get install -y --no-install-recommends prometheus")
    from services.demosite.server import DemoSite
    from tests.e2e.stack import running_stack

    work = Path(tempfile.mkdtemp(prefix="newsflow-render-"))
    # A private Redis: other stacks on this machine (e2e runs) use the shared server's databases 13 and 14.
    redis_port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    with (
        DemoSite() as site,
        running_stack(
            os.environ["NEWSFLOW_TEST_POSTGRES_URL"], f"redis://127.0.0.1:{redis_port}/0", work / "logs"
        ) as stack,
    ):
        stack.extra_env.update(
            NEWSFLOW_METRICS_SITE_GROUPS="demo=127.0.0.1",
            NEWSFLOW_METRICS_DIR=str(work / "metrics"),
            NEWSFLOW_POLITENESS_DELAY="0.3",
        )
        targets = {}
        for service in ("ingest", "parse", "enrich", "beat"):
            targets[service] = free_port()
            stack.extra_env["NEWSFLOW_METRICS_PORT"] = str(targets[service])
            stack.start(service, "beat") if service == "beat" else stack.start(
                f"worker-{service}", "worker", service, "--concurrency=2"
            )
        (work / "prometheus.yml").write_text(prometheus_config(targets))
        prom_port = free_port()
        prom = subprocess.Popen(
            [
                prometheus,
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            stdout=(work / "prometheus.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            start = time.time()
            time.sleep(SCRAPE_SECONDS * 3)
            drive(stack, site, args.seconds)
            end = time.time()
            base = f"http://127.0.0.1:{prom_port}"
            names = {"newsflow-overview": "dashboard.png", "newsflow-fetch": "dashboard-fetch.png"}
            for dashboard in DASHBOARDS:
                if dashboard.uid in names:
                    render(dashboard_json(dashboard), base, start, end, DOCS / names[dashboard.uid])
                    print(DOCS / names[dashboard.uid])
        finally:
            prom.terminate()
            prom.wait(timeout=30)
    redis.terminate()
    redis.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
