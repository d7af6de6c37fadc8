"""The embedded mode: every stage's handler run in this process, off an in-memory queue.

The database stays the source of truth: the queue is filled from what the frontier says is due
(the same query the sweep uses), so a run that is stopped and started again picks up where it was.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import partial

from shared.config import Settings
from shared.conflicts import retry_write_conflicts
from shared.db import session_scope
from shared.pipeline import Handler, StageResult, record_failure
from shared.store import feeds, frontier

log = logging.getLogger("newsflow.embedded")


class LocalRunner:
    """Runs stage handlers in-process until the pipeline is idle (or forever)."""

    def __init__(
        self, settings: Settings, handlers: Mapping[str, Handler], *, on_result: Callable[..., None] | None = None
    ):
        self.settings = settings
        self.handlers = handlers
        self.ready: deque[tuple[str, int]] = deque()
        self.delayed: list[tuple[float, str, int]] = []
        self.counts: dict[str, int] = {}
        self.on_result = on_result

    def run(
        self, *, until_idle: bool = True, poll_seconds: float = 2.0, deadline: float | None = None
    ) -> dict[str, int]:
        """Process work until nothing is due (until_idle) or forever; returns outcome counts."""
        while deadline is None or time.monotonic() < deadline:
            self._release_delayed()
            if not self.ready and not self._load_due():
                if until_idle and not self.delayed:
                    break
                wait = poll_seconds
                if self.delayed:
                    wait = min(wait, max(0.0, self.delayed[0][0] - time.monotonic()))
                time.sleep(wait)
                continue
            stage, item_id = self.ready.popleft()
            self._run_one(stage, item_id)
        return dict(self.counts)

    def _run_one(self, stage: str, item_id: int) -> None:
        try:
            result = retry_write_conflicts(partial(self.handlers[stage], item_id), stage=stage)
        except Exception as exc:
            delay = record_failure(self.settings, stage, item_id, exc)
            outcome = "retried" if delay is not None else "failed"
            if delay is not None:
                heapq.heappush(self.delayed, (time.monotonic() + delay, stage, item_id))
            result = StageResult(outcome)
        self.counts[f"{stage}:{result.outcome}"] = self.counts.get(f"{stage}:{result.outcome}", 0) + 1
        if self.on_result:
            self.on_result(stage, item_id, result)
        self.ready.extend(result.next)

    def _release_delayed(self) -> None:
        now = time.monotonic()
        while self.delayed and self.delayed[0][0] <= now:
            _, stage, item_id = heapq.heappop(self.delayed)
            self.ready.append((stage, item_id))

    def _load_due(self) -> bool:
        """Fill the queue from the database: due feeds and URLs whose stage has not run."""
        waiting = {(stage, item_id) for _, stage, item_id in self.delayed}
        with session_scope(self.settings.database_url) as session:
            due_urls = [
                (stage, url_id)
                for url_id, stage in frontier.due_for_dispatch(session, stale_after=timedelta(0))
                if (stage, url_id) not in waiting
            ]
            due_feeds = [("feed", f) for f in feeds.due_feeds(session, stale_after=timedelta(0))]
            due_urls += [("fetch", url_id) for url_id in frontier.claim_due_repolls(session)]
            frontier.mark_dispatched(session, [url_id for _, url_id in due_urls])
            feeds.mark_feeds_dispatched(session, [f for _, f in due_feeds])
        self.ready.extend(due_feeds + due_urls)
        return bool(self.ready)
