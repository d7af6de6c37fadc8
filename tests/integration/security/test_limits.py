"""Resource limits the earlier suites do not cover: endless and huge response headers, and a feed
with a million entries (bounded time, capped entries, no entity expansion)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from services.ingest import feeds
from services.ingest.fetch import Fetcher
from shared.config import Settings
from shared.errors import FetchError


def settings() -> Settings:
    """Fetch settings for 127.0.0.1 only, no robots, short timeouts."""
    return Settings(
        fetch_allow_hosts="127.0.0.1",
        fetch_respect_robots=False,
        politeness_delay=0,
        fetch_read_timeout=3,
        fetch_total_timeout=6,
        broker_url="memory://",
        redis_url="",
    )


def raw_server(payload: bytes, *, endless: bytes = b"") -> Iterator[str]:
    """A TCP server on 127.0.0.1 that answers each connection with `payload` then `endless` forever."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                try:
                    conn.recv(65536)
                    conn.sendall(payload)
                    while endless and not stop.is_set():
                        conn.sendall(endless)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    thread.join(timeout=5)
    listener.close()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    instance = Fetcher(settings())
    yield instance
    instance.close()


@pytest.mark.parametrize(
    ("payload", "endless"),
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nX-Big: ", b"a" * 65536, id="one-endless-header"),
        pytest.param(b"HTTP/1.1 200 OK\r\n", b"X-Many: " + b"b" * 100 + b"\r\n", id="endless-header-lines"),
        pytest.param(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"c" * (2 << 20) + b"\r\n\r\n", b"", id="2mb-header"),
    ],
)
def test_huge_headers_are_refused_quickly_and_bounded(fetcher: Fetcher, payload: bytes, endless: bytes) -> None:
    for url in raw_server(payload, endless=endless):
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetcher.fetch(url)
        assert caught.value.reason in ("read_error", "timeout")
        assert time.monotonic() - started < 7


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_a_million_entry_feed_is_refused_by_the_body_cap(fetcher: Fetcher, declared: bool) -> None:
    # ~53 MB: over NEWSFLOW_FETCH_MAX_BYTES, so it never reaches the feed parser (which needs ~90 us
    # per entry even past its entry cap: see BENCHMARKS.md, "left undone").
    items = b"".join(b"<item><title>&amp; t</title><link>/a/%d</link></item>" % i for i in range(1_000_000))
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>' + items + b"</channel></rss>"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
    head += b"Content-Length: %d\r\n\r\n" % len(body) if declared else b"Connection: close\r\n\r\n"
    for url in raw_server(head + body):
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetcher.fetch(url, accept=("application/rss+xml",))
        assert caught.value.reason == "too_large"
        assert time.monotonic() - started < 5


def test_entity_declarations_in_a_huge_feed_are_not_expanded() -> None:
    lol = (
        b'<!DOCTYPE rss [<!ENTITY a "'
        + b"x" * 1000
        + b'">'
        + b"".join(b'<!ENTITY a%d "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' % i for i in range(1, 6))
        + b"]>"
    )
    rss = b'<?xml version="1.0"?>' + lol + b'<rss version="2.0"><channel><title>&a5;</title>'
    rss += b"<item><title>&a5;</title><link>/x</link></item></channel></rss>"
    try:
        parsed = feeds.parse_feed(rss, "https://m.example/rss")
    except Exception as exc:  # refusing the document is as good as not expanding it
        assert getattr(exc, "reason", "") or str(exc)
        return
    assert len(parsed.title or "") < 1000
    assert all(len(e.title or "") < 1000 for e in parsed.entries)
