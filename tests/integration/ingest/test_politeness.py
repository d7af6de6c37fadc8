"""Per-host politeness and the robots cache, shared by workers through a real Redis (and in-process)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry

from services.ingest.fetch import Fetcher
from services.ingest.politeness import KEY_PREFIX, Politeness
from shared.errors import FetchError
from tests.helpers.httpserver import Route, serve
from tests.integration.ingest.test_fetch import HTML, make_settings

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_clients(redis_url: str) -> Iterator[list[redis_lib.Redis]]:
    """Three clients on the test Redis, one per simulated worker; keys are unique per test, no flush."""
    clients = [redis_lib.Redis.from_url(redis_url) for _ in range(3)]
    yield clients
    for client in clients:
        client.close()


@pytest.fixture
def host() -> str:
    return f"site-{uuid.uuid4().hex[:12]}.test"


@pytest.fixture(params=["redis", "local"])
def make_politeness(request: pytest.FixtureRequest):
    """Builds Politeness instances that share state: through Redis, or one in-process instance."""
    if request.param == "redis":
        clients = request.getfixturevalue("redis_clients")
        return lambda i, **kw: Politeness(kw.pop("delay", 0.3), clients[i % len(clients)], **kw)
    shared: dict[tuple, Politeness] = {}

    def local(i: int, **kw: object) -> Politeness:
        key = tuple(sorted(kw.items()))
        return shared.setdefault(key, Politeness(kw.pop("delay", 0.3), None, **kw))  # type: ignore[arg-type]

    return local


def test_second_request_waits_the_delay(make_politeness, host: str) -> None:
    first, second = make_politeness(0), make_politeness(1)
    assert first.reserve(host) == 0
    assert second.reserve(host) == pytest.approx(0.3, abs=0.05)
    assert first.reserve(host) == pytest.approx(0.6, abs=0.05)
    assert first.reserve("other-" + host) == 0  # hosts are independent


def test_slots_are_spaced_across_concurrent_workers(make_politeness, host: str) -> None:
    waits: list[float] = []
    lock = threading.Lock()
    workers = [make_politeness(i, delay=0.2) for i in range(6)]

    def work(p: Politeness) -> None:
        wait = p.reserve(host)
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=work, args=(p,)) for p in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Every worker got its own slot: 0, 0.2, 0.4, ... (give or take the threads' start times).
    for expected, got in zip([0.2 * i for i in range(6)], sorted(waits), strict=True):
        assert got == pytest.approx(expected, abs=0.08)


def test_too_long_a_wait_raises_and_reserves_nothing(make_politeness, host: str) -> None:
    p = make_politeness(0, delay=5.0, max_wait=1.0)
    other = make_politeness(1, delay=5.0, max_wait=1.0)
    assert p.reserve(host) == 0
    for worker in (other, p):
        with pytest.raises(FetchError) as err:
            worker.reserve(host)
        assert (err.value.reason, err.value.transient) == ("politeness_wait", True)
        # The refusals did not push the slot back: still about 5 s from the first request.
        assert err.value.retry_after == pytest.approx(5.0, abs=0.3)


def test_wait_sleeps_and_returns_the_seconds(redis_clients: list[redis_lib.Redis], host: str) -> None:
    slept: list[float] = []
    p = Politeness(0.25, redis_clients[0], sleep=slept.append)
    assert p.wait(host) == 0
    assert p.wait(host) == pytest.approx(0.25, abs=0.05)
    assert slept == [pytest.approx(0.25, abs=0.05)]
    # The key expires on its own, shortly after the host is free again.
    assert 0 < redis_clients[0].pttl(KEY_PREFIX + host) <= 250 + 250 + 1000  # ms: wait + delay + 1 s


def test_zero_delay_touches_nothing(redis_clients: list[redis_lib.Redis], host: str) -> None:
    p = Politeness(0.0, redis_clients[0])
    assert p.wait(host) == 0 and p.wait(host) == 0
    assert redis_clients[0].exists(KEY_PREFIX + host) == 0


def test_redis_outage_falls_back_to_local_state(host: str) -> None:
    dead = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    p = Politeness(0.3, dead)
    assert p.reserve(host) == 0
    assert p.reserve(host) == pytest.approx(0.3, abs=0.05)


def test_fetcher_spaces_requests_to_one_host(redis_clients: list[redis_lib.Redis]) -> None:
    # Two workers' fetchers on one Redis: the second request waits out the delay.
    with serve({"/a": Route(body=HTML), "/b": Route(body=HTML)}) as server:
        settings = make_settings(politeness_delay=0.3, fetch_respect_robots=False)
        workers = [Fetcher(settings, redis_clients[0]), Fetcher(settings, redis_clients[1])]
        redis_clients[0].delete(KEY_PREFIX + "127.0.0.1")
        try:
            started = time.monotonic()
            workers[0].fetch(server.url("/a"))
            workers[1].fetch(server.url("/b"))
            assert time.monotonic() - started >= 0.28
        finally:
            for f in workers:
                f.close()
            redis_clients[0].delete(KEY_PREFIX + "127.0.0.1")


def test_robots_cache_is_shared_through_redis(redis_clients: list[redis_lib.Redis]) -> None:
    routes = {
        "/robots.txt": Route(body="User-agent: *\nDisallow: /private\n", content_type="text/plain"),
        "/ok": Route(body=HTML),
    }
    with serve(routes) as server:
        settings = make_settings(robots_cache_seconds=30)
        workers = [Fetcher(settings, redis_clients[0]), Fetcher(settings, redis_clients[1])]
        try:
            workers[0].fetch(server.url("/ok"))
            with pytest.raises(FetchError, match="robots_disallowed"):
                workers[1].fetch(server.url("/private"))
        finally:
            for f in workers:
                f.close()
        assert server.hits("/robots.txt") == 1
        key = f"newsflow:robots:{server.base_url}"
        assert 0 < redis_clients[0].ttl(key) <= 30


def test_unreachable_robots_is_cached_briefly(redis_clients: list[redis_lib.Redis]) -> None:
    with serve({"/robots.txt": Route(status=503), "/ok": Route(body=HTML)}) as server:
        fetcher = Fetcher(make_settings(), redis_clients[0])
        try:
            with pytest.raises(FetchError) as err:
                fetcher.fetch(server.url("/ok"))
        finally:
            fetcher.close()
        assert (err.value.reason, err.value.transient) == ("http_5xx", True)
        assert 0 < redis_clients[0].ttl(f"newsflow:robots:{server.base_url}") <= 60
