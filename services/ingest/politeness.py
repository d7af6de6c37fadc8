"""Per-host politeness: at most one request per host every `delay` seconds, across all workers.

With Redis every worker reserves the host's next free slot atomically (one Lua script, Redis
clock), so N workers fetching one site still space their requests. Without Redis (embedded mode)
the same bookkeeping lives in this process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.errors import FetchError

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 30.0
KEY_PREFIX = "newsflow:polite:"

# KEYS[1]: the host's key, holding the epoch millisecond at which the host is free again.
# ARGV[1]: delay in ms; ARGV[2]: longest wait in ms worth reserving.
# Returns {1, wait_ms} when a slot was reserved, {0, wait_ms} when the wait is too long (nothing
# reserved, so a refused caller does not push the others back). Uses the Redis clock so that
# workers on machines with skewed clocks agree.
RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free_at = tonumber(redis.call('GET', KEYS[1]) or '0')
local wait = math.max(0, free_at - now)
if wait > tonumber(ARGV[2]) then
  return {0, wait}
end
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], now + wait + delay, 'PX', wait + delay + 1000)
return {1, wait}
"""


class Politeness:
    """Spaces requests to one host by at least `delay` seconds, shared through Redis when given."""

    def __init__(
        self,
        delay: float,
        redis_client: redis.Redis | None = None,
        *,
        max_wait: float = MAX_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.delay = delay
        self.max_wait = max_wait
        self._redis = redis_client
        self._script = redis_client.register_script(RESERVE_SCRIPT) if redis_client is not None else None
        self._sleep = sleep
        self._free_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, host: str, delay: float | None = None) -> float:
        """Reserve the host's next slot and return the seconds until it; raise politeness_wait
        (transient, with retry_after) when that is longer than `max_wait`, reserving nothing."""
        delay = self.delay if delay is None else delay
        if delay <= 0:
            return 0.0
        host = host.rstrip(".").lower()
        if self._script is not None:
            try:
                granted, wait_ms = self._script(
                    keys=[KEY_PREFIX + host], args=[int(delay * 1000), int(self.max_wait * 1000)]
                )
                wait = int(wait_ms) / 1000
            except Exception as exc:  # a Redis outage should slow this worker, not stop it
                log.warning("politeness falling back to in-process state: reason=redis_error error=%s", exc)
            else:
                if not granted:
                    raise FetchError("politeness_wait", f"{host} is busy for {wait:.1f}s", retry_after=wait)
                return wait
        return self._reserve_local(host, delay)

    def _reserve_local(self, host: str, delay: float) -> float:
        with self._lock:
            now = time.monotonic()
            wait = max(0.0, self._free_at.get(host, 0.0) - now)
            if wait > self.max_wait:
                raise FetchError("politeness_wait", f"{host} is busy for {wait:.1f}s", retry_after=wait)
            self._free_at[host] = now + wait + delay
            if len(self._free_at) > 10_000:  # forget hosts that are free again
                self._free_at = {h: t for h, t in self._free_at.items() if t > now}
            return wait

    def wait(self, host: str, delay: float | None = None) -> float:
        """Block until this worker may send the next request to `host`; return the seconds waited."""
        wait = self.reserve(host, delay)
        if wait > 0:
            self._sleep(wait)
        return wait
