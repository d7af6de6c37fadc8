"""What the broker still holds: how far each queue has drained, so that the sweep re-publishes only
items whose message can no longer be waiting in a queue.

Every Celery message newsflow publishes carries its publish time (`shared.pipeline.STAMP_HEADER`).
A Redis queue is a list consumed in order, so the stamp of its oldest message says that every message
published before it has been taken off the list. Each sweep notes, per queue, when it looked and that
stamp (`drained_before`), or the time it looked when the queue was empty.

An item of a stage, stamped `dispatched_at = t` in the transaction that handed it on, is due again only
when an observation made at least `stale` seconds ago saw the stage's queue (and the batch queue that
`ingest.dispatch` fans out from) drained past `t + stale`:

- its message was published at most `stale` after `t` (the publish follows the commit; the slowest path,
  an inline follow-up that failed, takes at most the task time limit, which `stale` must exceed), so the
  message had left the queue when that observation was made;
- a message that left the queue was taken by a worker; it ran, or waited in the worker's prefetch
  buffer behind a running task, for at most the task time limit; `stale` later the item still has not
  moved on: the worker died or the message was lost (broker restart), and re-publishing duplicates nothing
  that is still queued.

A backlog of any depth thus delays the sweep instead of duplicating it; the only duplicates left are
those of a worker killed with messages it had taken (its unacknowledged messages come back after the
visibility timeout as well). The cost is a few Redis commands per queue and sweep, whatever the backlog.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache

import redis

from shared.config import get_settings
from shared.pipeline import ROUTES, STAMP_HEADER, URL_STAGES

# kombu's Redis transport keeps a queue's priority levels in lists named queue + separator + level.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)
OBSERVATIONS_KEY = "newsflow:sweep:drained:{queue}"


@cache
def broker_redis() -> redis.Redis | None:
    """A client on the broker's Redis database, or None when the broker is not Redis (embedded)."""
    url = get_settings().broker_url
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


def queue_keys(queue: str) -> list[str]:
    """The Redis lists holding a queue's messages, one per priority level."""
    return [queue if level == 0 else f"{queue}{PRIORITY_SEPARATOR}{level}" for level in PRIORITY_STEPS]


def message_stamp(raw: bytes | str | None) -> float | None:
    """The publish time a queued message carries, None when it carries none (or is not a message)."""
    if raw is None:
        return None
    try:
        stamp = json.loads(raw)["headers"][STAMP_HEADER]
    except (ValueError, KeyError, TypeError):
        return None
    return float(stamp) if isinstance(stamp, int | float) else None


def drained_before(oldest: list[bytes | None], looked_at: float) -> float | None:
    """The time before which every message of a queue had left it: the stamp of its oldest message,
    or `looked_at` when it is empty; None when the oldest message carries no stamp (nothing is known)."""
    stamps = []
    for raw in oldest:
        if raw is None:
            continue
        stamp = message_stamp(raw)
        if stamp is None:
            return None
        stamps.append(stamp)
    return min(stamps, default=looked_at)


def stage_queues(stage: str) -> tuple[str, ...]:
    """The queues an item's message for `stage` may wait in: the stage's own, and the batch queue
    (`ingest.dispatch` publishes an item's task after re-stamping it)."""
    return tuple(sorted({ROUTES[stage].queue, ROUTES["dispatch"].queue}))


def observe(client: redis.Redis, stale: float, now: float | None = None) -> dict[str, float | None]:
    """Note how far each URL stage's queue has drained now, and return per queue the drain point seen
    by the newest observation at least `stale` seconds old (None: no such observation yet). Older
    observations are dropped. Two round trips, whatever the queues hold."""
    queues = sorted({ROUTES["feed"].queue, *(q for stage in URL_STAGES for q in stage_queues(stage))})
    looked_at = time.time() if now is None else now
    reads = client.pipeline(transaction=False)
    for queue in queues:
        for key in queue_keys(queue):
            reads.lindex(key, -1)  # kombu pushes on the left and pops on the right: -1 is the oldest
    oldest = reads.execute()
    seen_at = time.time() if now is None else now
    writes = client.pipeline(transaction=False)
    levels, is_range = len(PRIORITY_STEPS), []
    for i, queue in enumerate(queues):
        point = drained_before(oldest[i * levels : (i + 1) * levels], looked_at)
        key = OBSERVATIONS_KEY.format(queue=queue)
        if point is not None:
            writes.zadd(key, {f"{seen_at!r}:{point!r}": seen_at})
            is_range.append(False)
        writes.zrevrangebyscore(key, seen_at - stale, "-inf", start=0, num=1, withscores=True)
        is_range.append(True)
    newest = [answer for answer, wanted in zip(writes.execute(), is_range, strict=True) if wanted]
    found: dict[str, float | None] = {}
    cleanup = client.pipeline(transaction=False)
    for queue, observation in zip(queues, newest, strict=True):
        if not observation:
            found[queue] = None
            continue
        member, score = observation[0]
        found[queue] = float(member.decode().split(":", 1)[1])
        # Observations older than the newest one that is old enough are of no further use.
        cleanup.zremrangebyscore(OBSERVATIONS_KEY.format(queue=queue), "-inf", f"({score!r}")
    cleanup.execute()
    return found


def queue_cutoff(drained: Mapping[str, float | None], queues: tuple[str, ...], stale: float) -> datetime | None:
    """The dispatch stamp before which an item's message, waiting in any of `queues`, can no longer be
    queued (None: none can be known yet), from the queues' drain points of `observe`."""
    points = [drained.get(q) for q in queues]
    if not points or any(p is None for p in points):
        return None
    return datetime.fromtimestamp(min(p for p in points if p is not None), UTC) - timedelta(seconds=stale)


def dispatch_cutoffs(drained: Mapping[str, float | None], stale: float) -> dict[str, datetime | None]:
    """Per URL stage, the `dispatched_at` before which an item's message can no longer be queued."""
    return {stage: queue_cutoff(drained, stage_queues(stage), stale) for stage in URL_STAGES}


def feed_cutoff(drained: Mapping[str, float | None], stale: float) -> datetime | None:
    """The same for feed polls (their queue also carries `ingest.dispatch` batches)."""
    return queue_cutoff(drained, (ROUTES["feed"].queue,), stale)
