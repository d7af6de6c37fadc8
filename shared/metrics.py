"""Prometheus metrics, declared once, labelled only with small fixed sets (never URLs or ids)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram

TASKS = Counter("newsflow_tasks_total", "Stage tasks by outcome and failure reason.", ["stage", "outcome", "reason"])
TASK_SECONDS = Histogram(
    "newsflow_task_duration_seconds",
    "Time a stage task took.",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


def observe_task(stage: str, outcome: str, exc: BaseException | None, started: float) -> None:
    """Count one finished task and its duration."""
    reason = getattr(exc, "reason", None) or (type(exc).__name__.lower() if exc else "none")
    TASKS.labels(stage, outcome, reason).inc()
    TASK_SECONDS.labels(stage).observe(time.perf_counter() - started)
