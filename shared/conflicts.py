"""Write conflicts: the database is up but rolled a transaction back because concurrent writers
collided (a deadlock it broke, a serialization failure, a lock it could not get). Told apart from an
unreachable database in one place, and retried in place a few times with jitter, because the whole
transaction is safe to run again and the other writer has usually finished by then.

Writers take their locks in one global order (see shared/store/upsert.py), so a conflict should be
rare; `newsflow_write_conflicts_total` counts each one by stage.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from shared.errors import WriteConflictError

log = logging.getLogger("newsflow.store")

T = TypeVar("T")

# SQLSTATEs of a transaction rolled back by concurrency: deadlock_detected, serialization_failure,
# lock_not_available (NOWAIT, lock_timeout).
CONFLICT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
# SQLite: SQLITE_BUSY and SQLITE_LOCKED (the primary code is the low byte of the extended one).
SQLITE_BUSY_CODES = frozenset({5, 6})
ATTEMPTS = 4
BACKOFF_SECONDS = 0.05


def is_write_conflict(dbapi_error: BaseException | None) -> bool:
    """True when a driver error means 'concurrent writers collided', not 'the database is away'."""
    if dbapi_error is None:
        return False
    sqlstate = getattr(dbapi_error, "sqlstate", None) or getattr(dbapi_error, "pgcode", None)
    if sqlstate in CONFLICT_SQLSTATES:
        return True
    code = getattr(dbapi_error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in SQLITE_BUSY_CODES


def retry_write_conflicts(work: Callable[[], T], *, stage: str, attempts: int = ATTEMPTS) -> T:
    """Run `work` (one or more whole transactions, safe to run again) and run it again when it lost
    a write conflict, up to `attempts` runs with jittered exponential pauses; the last conflict is raised."""
    from shared import metrics

    for attempt in range(1, attempts):
        try:
            return work()
        except WriteConflictError as exc:
            metrics.record_write_conflict(stage, retried=True)
            log.info("write conflict, running again", extra={"stage": stage, "attempt": attempt, "reason": exc.reason})
            time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))
    try:
        return work()
    except WriteConflictError:
        metrics.record_write_conflict(stage, retried=False)
        raise
