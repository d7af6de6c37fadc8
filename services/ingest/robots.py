"""robots.txt (RFC 9309) checks, cached per origin in Redis (shared by workers) or in this process.

The robots file itself is fetched by the caller's guarded client, passed in as `fetch_robots`,
so it goes through the same address guard, size cap and timeouts as any page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from protego import Protego

from shared.config import Settings
from shared.errors import FetchError

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

KEY_PREFIX = "newsflow:robots:"
UNREACHABLE_CACHE_SECONDS = 60
MAX_CRAWL_DELAY = 60.0
ALLOW_ALL = "A"
DISALLOW_ALL = "D"
UNREACHABLE = "U"  # followed by the transient reason (timeout, http_5xx...)
RULES = "R"  # followed by the robots.txt text
DEFAULT_PORTS = {"http": 80, "https": 443}

# fetch_robots(url) -> (status code, body); raises FetchError when no response came back.
RobotsFetcher = Callable[[str], tuple[int, bytes]]


def robots_origin(url: str) -> str:
    """The scheme://host[:port] a robots.txt applies to (RFC 9309 2.3: per scheme, host and port)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS.get(scheme)) else f"{scheme}://{host}:{port}"


def classify_robots_response(
    status: int | None, body: bytes, error: FetchError | None = None
) -> tuple[str, int | None]:
    """Turn a robots.txt fetch outcome into a cache entry and its TTL (None = the configured TTL).

    RFC 9309 2.3.1: 4xx means "unavailable" (allow all), 5xx or no answer means "unreachable"
    (disallow all, remembered briefly). We also disallow on 401/403, as most crawlers do.
    """
    if error is not None:
        if error.transient:
            return UNREACHABLE + error.reason, UNREACHABLE_CACHE_SECONDS
        return ALLOW_ALL, None  # redirect loops, too large, blocked redirect target: unavailable
    if status is None or status == 429:
        return UNREACHABLE + "http_429", UNREACHABLE_CACHE_SECONDS
    if 200 <= status < 300:
        return RULES + body.decode("utf-8", errors="replace"), None
    if status in (401, 403):
        return DISALLOW_ALL, None
    if status >= 500:
        return UNREACHABLE + "http_5xx", UNREACHABLE_CACHE_SECONDS
    return ALLOW_ALL, None


# With Redis, an entry is also kept in-process this long: a fetch asks twice (allowed, crawl delay) and a
# site's pages come in runs, so most lookups cost no Redis round trip (four per article before, measured in
# BENCHMARKS.md); a robots.txt fetched again by another worker reaches this one within this time.
NEAR_CACHE_SECONDS = 60.0


class RobotsCache:
    """Answers "may newsflow fetch this URL?" from robots.txt, fetching each origin's file once per TTL."""

    def __init__(
        self,
        settings: Settings,
        fetch_robots: RobotsFetcher,
        redis_client: redis.Redis | None = None,
    ):
        self._settings = settings
        self._fetch_robots = fetch_robots
        self._redis = redis_client
        self._local: dict[str, tuple[float, str]] = {}
        self._parsed: dict[str, tuple[str, Protego]] = {}
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        """Raise robots_disallowed when robots.txt forbids `url` (no-op when fetch_respect_robots is off).

        An unreachable robots.txt disallows everything for a minute, raised with its own transient
        reason so the page is retried later instead of being recorded as forbidden for good.
        """
        if not self._settings.fetch_respect_robots or self.allowed(url):
            return
        entry = self._entry(robots_origin(url))
        if entry.startswith(UNREACHABLE):
            raise FetchError(
                entry[len(UNREACHABLE) :],
                f"robots.txt of {robots_origin(url)} is unreachable",
                retry_after=UNREACHABLE_CACHE_SECONDS,
            )
        raise FetchError("robots_disallowed", f"robots.txt of {robots_origin(url)} disallows {url}")

    def allowed(self, url: str) -> bool:
        """True when robots.txt lets our user agent fetch `url`."""
        entry = self._entry(robots_origin(url))
        if entry == ALLOW_ALL:
            return True
        if entry == DISALLOW_ALL or entry.startswith(UNREACHABLE):
            return False
        return self._parse(robots_origin(url), entry).can_fetch(url, self._settings.user_agent)

    def crawl_delay(self, url: str) -> float | None:
        """The Crawl-delay robots.txt asks of our user agent, capped at MAX_CRAWL_DELAY, or None."""
        entry = self._entry(robots_origin(url))
        if not entry.startswith(RULES):
            return None
        delay = self._parse(robots_origin(url), entry).crawl_delay(self._settings.user_agent)
        return None if delay is None else min(float(delay), MAX_CRAWL_DELAY)

    def _entry(self, origin: str) -> str:
        entry = self._get(origin)
        if entry is None:
            try:
                status, body = self._fetch_robots(origin + "/robots.txt")
                entry, ttl = classify_robots_response(status, body)
            except FetchError as exc:
                if exc.reason == "politeness_wait":
                    raise  # nothing learnt about robots.txt: retry the whole fetch later
                entry, ttl = classify_robots_response(None, b"", exc)
                log.info("robots.txt unavailable: url=%s/robots.txt reason=%s", origin, exc.reason)
            self._set(origin, entry, ttl or self._settings.robots_cache_seconds)
        return entry

    def _parse(self, origin: str, entry: str) -> Protego:
        with self._lock:
            cached = self._parsed.get(origin)
            if cached is not None and cached[0] == entry:
                return cached[1]
        parsed = Protego.parse(entry[len(RULES) :])
        with self._lock:
            if len(self._parsed) > 1000:
                self._parsed.clear()
            self._parsed[origin] = (entry, parsed)
        return parsed

    def _get(self, origin: str) -> str | None:
        with self._lock:
            cached = self._local.get(origin)
        if cached is not None and cached[0] >= time.monotonic():
            return cached[1]
        if self._redis is not None:
            try:
                value = self._redis.get(KEY_PREFIX + origin)
            except Exception as exc:  # a Redis outage should not stop fetching; fall back to local
                log.warning("robots cache falling back to in-process state: reason=redis_error error=%s", exc)
                return None
            if value is None:
                return None
            entry = value.decode("utf-8") if isinstance(value, bytes) else value
            self._remember(origin, entry, NEAR_CACHE_SECONDS)
            return entry
        return None

    def _set(self, origin: str, entry: str, ttl: int) -> None:
        if self._redis is not None:
            try:
                self._redis.set(KEY_PREFIX + origin, entry.encode("utf-8"), ex=ttl)
                self._remember(origin, entry, min(ttl, NEAR_CACHE_SECONDS))
                return
            except Exception as exc:
                log.warning("robots cache falling back to in-process state: reason=redis_error error=%s", exc)
        self._remember(origin, entry, ttl)

    def _remember(self, origin: str, entry: str, ttl: float) -> None:
        with self._lock:
            if len(self._local) > 10_000:
                now = time.monotonic()
                self._local = {o: c for o, c in self._local.items() if c[0] > now}
            self._local[origin] = (time.monotonic() + ttl, entry)
