"""Write conflicts are run again in place a bounded number of times, counted per stage; other errors
are not retried here (a database that is away is the task's backoff to handle)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from shared import conflicts
from shared.errors import StoreUnavailableError, WriteConflictError


def counted(stage: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("newsflow_write_conflicts_total", {"stage": stage, "outcome": outcome}) or 0.0


class Work:
    """Raises the given errors in turn, then returns "done"."""

    def __init__(self, *errors: Exception):
        self.errors = list(errors)
        self.runs = 0

    def __call__(self) -> str:
        self.runs += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conflicts, "BACKOFF_SECONDS", 0.0)


@pytest.mark.parametrize(
    ("errors", "result", "runs", "retried", "gave_up"),
    [
        ((), "done", 1, 0, 0),
        ((WriteConflictError(detail="deadlock detected"),), "done", 2, 1, 0),
        (tuple(WriteConflictError() for _ in range(3)), "done", 4, 3, 0),
        (tuple(WriteConflictError() for _ in range(4)), WriteConflictError, 4, 3, 1),
        ((StoreUnavailableError(detail="connection refused"),), StoreUnavailableError, 1, 0, 0),
    ],
    ids=["no-conflict", "one-conflict", "three-conflicts", "four-conflicts-give-up", "store-down-not-retried"],
)
def test_conflicts_are_run_again_a_bounded_number_of_times(errors, result, runs, retried, gave_up):
    stage = f"unit-{runs}-{retried}-{gave_up}-{len(errors)}"
    work = Work(*errors)
    if isinstance(result, type):
        with pytest.raises(result):
            conflicts.retry_write_conflicts(work, stage=stage)
    else:
        assert conflicts.retry_write_conflicts(work, stage=stage) == result
    assert work.runs == runs
    assert (counted(stage, "retried"), counted(stage, "gave_up")) == (retried, gave_up)
