"""What each stage costs per article, run in-process: CPU, SQL statements, commits (`make bench-stages`).

The pipeline benchmark (bench/pipeline_bench.py) measures whole processes; this one runs the stage
handlers themselves, one article at a time in one process with no broker (as the no-queue baseline
does), on the generated site against a throwaway Postgres server, and counts per stage the CPU time of
the handler, the SQL statements it sends and the transactions it commits (SQLAlchemy engine events), and
the CPU of `enrich_record` (the enrichment logic without the store). With `--compare-with CHECKOUT` the
same measurement runs first from another checkout (the code before a change), in the same invocation on
the same server and site, and the report prints the ratios; `--repeat` rounds alternate the checkouts
and keep each stage's least CPU (other load on the machine only ever adds). Nothing leaves 127.0.0.1.

    python -m bench.stage_cost --articles 300 --compare-with ../before
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ("fetch", "parse", "enrich", "links", "comments")


def measure(database_url: str, site_url: str, n: int) -> dict[str, dict[str, float]]:
    """Run every stage for `n` generated articles in this process; per stage: CPU ms, statements and
    commits per article (and `enrich_record` CPU ms within enrich)."""
    from sqlalchemy import event

    import services.enrich.stages as enrich_stages
    from bench.pipeline_bench import enqueue_all
    from services.demosite.generated import article_path
    from services.ingest import stages as ingest
    from shared.cli import stage_handlers
    from shared.config import get_settings
    from shared.db import engine_for
    from shared.pipeline import record_failure

    engine = engine_for(get_settings().database_url)
    current = ["setup"]
    statements: Counter[str] = Counter()
    commits: Counter[str] = Counter()
    cpu: Counter[str] = Counter()
    event.listen(engine, "before_cursor_execute", lambda *_: statements.update([current[0]]))
    event.listen(engine, "commit", lambda *_: commits.update([current[0]]))
    plain = enrich_stages.enrich_record

    def timed_enrich_record(*args: object, **kwargs: object) -> object:
        started = time.process_time()
        try:
            return plain(*args, **kwargs)
        finally:
            cpu["enrich_record"] += time.process_time() - started

    ingest.fetcher()
    enrich_stages.warm_up()  # before the timer goes in: loading the gazetteer is not an article's cost
    enrich_stages.enrich_record = timed_enrich_record
    gc.collect()
    gc.freeze()  # as an enrich worker does after its warm-up (services/enrich/tasks.py; a no-op cost before)
    handlers = stage_handlers()
    settings = get_settings()
    ids = enqueue_all(database_url, [f"{site_url}{article_path(i)}" for i in range(n)], publish=False)
    statements.clear()
    commits.clear()
    for url_id in ids:
        work = [("fetch", url_id)]
        while work:
            stage, item_id = work.pop(0)
            current[0] = stage
            started = time.process_time()
            try:
                work.extend(handlers[stage](item_id).next)
            except Exception as exc:  # recorded as a worker would (the generated site has no comments endpoint)
                record_failure(settings, stage, item_id, exc)
            cpu[stage] += time.process_time() - started
    per = {s: {"cpu_ms": cpu[s] * 1000 / n, "statements": statements[s] / n, "commits": commits[s] / n} for s in cpu}
    per["enrich_record"] = {"cpu_ms": cpu["enrich_record"] * 1000 / n}
    return per


def run_from(code: Path, admin_url: str, site_url: str, n: int, label: str) -> dict[str, dict[str, float]]:
    """`measure` in a fresh process of checkout `code`, on a fresh migrated database."""
    from tests.helpers.databases import create_database

    url = create_database(admin_url, f"stage_cost_{label}_{int(time.time())}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(
        NEWSFLOW_DATABASE_URL=url,
        NEWSFLOW_FETCH_ALLOW_HOSTS="127.0.0.1",
        NEWSFLOW_POLITENESS_DELAY="0",
        NEWSFLOW_LOG_LEVEL="WARNING",
        PYTHONPATH=str(code),
    )
    subprocess.run(  # the checkout's own migrations
        [sys.executable, "-c", f"from shared.db import upgrade_database; upgrade_database({url!r})"],
        cwd=code,
        env=env,
        check=True,
    )
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", site_url, str(n)],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ratio(values: list[float]) -> str:
    """The last run over the first, as a table cell (empty with one run)."""
    if len(values) < 2:
        return ""
    return f" {values[-1] / values[0]:.2f}x |" if values[0] else " - |"


def report(runs: dict[str, dict[str, dict[str, float]]], n: int) -> str:
    """A Markdown table per measure, one column per run, and the ratio of the last run to the first."""
    names = list(runs)
    lines = [f"N = {n} generated articles, stages run in-process (no broker), per article:", ""]
    header = "| stage | " + " | ".join(names) + (" | ratio |" if len(names) > 1 else " |")
    rule = "|---|" + "---|" * (len(names) + (1 if len(names) > 1 else 0))
    for measure_name, unit in (("cpu_ms", "CPU ms"), ("statements", "SQL statements"), ("commits", "commits")):
        lines += [f"**{unit}**", "", header, rule]
        rows = [*STAGES, "enrich_record"] if measure_name == "cpu_ms" else list(STAGES)
        totals = dict.fromkeys(names, 0.0)
        for stage in rows:
            values = [runs[r].get(stage, {}).get(measure_name, 0.0) for r in names]
            if stage != "enrich_record":
                for r, v in zip(names, values, strict=True):
                    totals[r] += v
            label = "(enrich_record, within enrich)" if stage == "enrich_record" else stage
            lines.append(f"| {label} | " + " | ".join(f"{v:.2f}" for v in values) + " |" + _ratio(values))
        values = [totals[r] for r in names]
        lines += ["| all stages | " + " | ".join(f"{v:.2f}" for v in values) + " |" + _ratio(values), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.stage_cost", description=__doc__)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--postgres-url", help="an existing Postgres admin URL instead of a throwaway server")
    parser.add_argument("--compare-with", type=Path, help="another checkout, measured first in the same invocation")
    parser.add_argument("--repeat", type=int, default=2, help="rounds (alternating checkouts); least CPU kept")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        site_url, n = args.worker
        print(json.dumps(measure(os.environ["NEWSFLOW_DATABASE_URL"], site_url, int(n))))
        return 0
    from services.demosite.generated import start_process
    from tests.helpers.servers import PostgresServer

    workdir = Path(tempfile.mkdtemp(prefix="nf-stage-cost-"))
    server = None if args.postgres_url else PostgresServer(workdir, settings={"shared_buffers": "512MB"}).start()
    admin_url = args.postgres_url or server.admin_url
    site, site_url = start_process(args.articles)
    checkouts = {"before": args.compare_with.resolve()} if args.compare_with else {}
    checkouts["this checkout"] = REPO
    runs: dict[str, dict[str, dict[str, float]]] = {}
    try:
        for round_ in range(args.repeat):  # alternating, each stage's least CPU kept: other load only adds
            for name, code in checkouts.items():
                got = run_from(code, admin_url, site_url, args.articles, f"{name.split()[0]}{round_}")
                best = runs.setdefault(name, got)
                for stage, values in got.items():
                    best[stage]["cpu_ms"] = min(best[stage]["cpu_ms"], values["cpu_ms"])
    finally:
        site.terminate()
        if server is not None:
            server.stop()
    print(report(runs, args.articles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
