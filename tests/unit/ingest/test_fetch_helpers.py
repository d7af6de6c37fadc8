"""Pure helpers of the fetch layer: status mapping, headers, sniffing, bounded decoding, robots rules."""

from __future__ import annotations

import gzip
import time
import zlib
from email.utils import formatdate

import brotli
import httpx
import pytest

from services.ingest.fetch import (
    _Decoder,
    classify_status,
    parse_content_type,
    parse_retry_after,
    sniff_content_type,
)
from services.ingest.robots import (
    ALLOW_ALL,
    DISALLOW_ALL,
    RobotsCache,
    classify_robots_response,
    robots_origin,
)
from shared.config import Settings
from shared.errors import FetchError


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (200, None),
        (203, None),
        (304, None),
        (404, "http_404"),
        (410, "http_410"),
        (401, "http_4xx"),
        (451, "http_4xx"),
        (429, "http_429"),
        (500, "http_5xx"),
        (502, "http_5xx"),
        (599, "http_5xx"),
        (300, "invalid_url"),
    ],
)
def test_classify_status(status: int, reason: str | None) -> None:
    if reason is None:
        classify_status(status, httpx.Headers(), "http://x/")
    else:
        with pytest.raises(FetchError) as err:
            classify_status(status, httpx.Headers({"Retry-After": "7"}), "http://x/")
        assert err.value.reason == reason
        assert err.value.retry_after == (7.0 if reason in ("http_429", "http_5xx") else None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 5 ", 5.0),
        ("-1", None),
        ("tomorrow", None),
        (formatdate(time.time() - 60, usegmt=True), 0.0),  # a date in the past: retry now
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    assert parse_retry_after(formatdate(time.time() + 100, usegmt=True)) == pytest.approx(100, abs=2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (None, None)),
        ("text/html", ("text/html", None)),
        ("Text/HTML; Charset=UTF-8", ("text/html", "utf-8")),
        ('text/html; charset="windows-1251"', ("text/html", "windows-1251")),
        ("application/xhtml+xml;charset=utf-8;q=1", ("application/xhtml+xml", "utf-8")),
        ("text/html; charset=", ("text/html", None)),
        ("; charset=utf-8", (None, "utf-8")),
    ],
)
def test_parse_content_type(value: str | None, expected: tuple[str | None, str | None]) -> None:
    assert parse_content_type(value) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<!DOCTYPE html><html>", "text/html"),
        (b"\xef\xbb\xbf\n  <html lang=en>", "text/html"),
        (b'<?xml version="1.0"?>\n<rss version="2.0">', "application/rss+xml"),
        (b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">', "application/atom+xml"),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">', "application/xhtml+xml"),
        (b'<?xml version="1.0"?><urlset/>', "application/xml"),
        (b"<rss>", "application/rss+xml"),
        (b"<feed>", "application/atom+xml"),
        (b"%PDF-1.7", None),
        (b"", None),
        (b'{"version": "https://jsonfeed.org/version/1"}', None),
    ],
)
def test_sniff_content_type(body: bytes, expected: str | None) -> None:
    assert sniff_content_type(body) == expected


def _decode_all(header: str, data: bytes, limit: int) -> list[bytes]:
    decoder = _Decoder(header, "http://x/")
    pieces = []
    for start in range(0, len(data), 1000):
        pieces.extend(decoder.decode(data[start : start + 1000], limit))
    pieces.extend(decoder.flush(limit))
    return pieces


PAYLOAD = b"<html>" + b"news " * 20_000


@pytest.mark.parametrize(
    ("header", "encoded"),
    [
        ("", PAYLOAD),
        ("identity", PAYLOAD),
        ("utf-8", PAYLOAD),  # nonsense coding: treated as identity
        ("gzip", gzip.compress(PAYLOAD)),
        ("x-gzip", gzip.compress(PAYLOAD)),
        ("deflate", zlib.compress(PAYLOAD)),
        ("deflate", zlib.compress(PAYLOAD)[2:-4]),  # raw deflate, no zlib header
        ("br", brotli.compress(PAYLOAD)),
        ("gzip, br", brotli.compress(gzip.compress(PAYLOAD))),
    ],
)
def test_decoder_round_trip(header: str, encoded: bytes) -> None:
    assert b"".join(_decode_all(header, encoded, len(PAYLOAD) + 1)) == PAYLOAD


@pytest.mark.parametrize("header", ["gzip", "deflate", "br"])
def test_decoder_pieces_are_bounded(header: str) -> None:
    bomb = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}[header](b"\0" * 5_000_000)
    for limit in (4096, 1_000_000):
        first = next(iter(_Decoder(header, "http://x/").decode(bomb, limit)))
        # A bomb never gets to inflate in one go; brotli's limit is soft by one internal buffer.
        assert len(first) <= limit + (64 * 1024 if header == "br" else 0)


def test_decoder_rejects_garbage() -> None:
    with pytest.raises(FetchError) as err:
        _decode_all("gzip", b"this is not gzip", 100)
    assert err.value.reason == "read_error"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://Example.COM/a/b?c", "http://example.com"),
        ("https://example.com:443/", "https://example.com"),
        ("http://example.com:8080/x", "http://example.com:8080"),
        ("http://127.0.0.1:5000/robots.txt", "http://127.0.0.1:5000"),
        ("http://[::1]:81/", "http://[::1]:81"),
    ],
)
def test_robots_origin(url: str, origin: str) -> None:
    assert robots_origin(url) == origin


@pytest.mark.parametrize(
    ("status", "error", "entry", "ttl"),
    [
        (200, None, "Rbody", None),
        (404, None, ALLOW_ALL, None),
        (410, None, ALLOW_ALL, None),
        (400, None, ALLOW_ALL, None),
        (401, None, DISALLOW_ALL, None),
        (403, None, DISALLOW_ALL, None),
        (429, None, "Uhttp_429", 60),
        (500, None, "Uhttp_5xx", 60),
        (503, None, "Uhttp_5xx", 60),
        (None, FetchError("timeout"), "Utimeout", 60),
        (None, FetchError("connect_error"), "Uconnect_error", 60),
        (None, FetchError("too_many_redirects"), ALLOW_ALL, None),
        (None, FetchError("blocked_address"), ALLOW_ALL, None),
    ],
)
def test_classify_robots_response(status: int | None, error: FetchError | None, entry: str, ttl: int | None) -> None:
    assert classify_robots_response(status, b"body", error) == (entry, ttl)


def test_robots_cache_in_process() -> None:
    calls: list[str] = []

    def fetch_robots(url: str) -> tuple[int, bytes]:
        calls.append(url)
        return 200, b"User-agent: *\nDisallow: /private\n\nUser-agent: newsflow\nCrawl-delay: 3\nDisallow: /x\n"

    robots = RobotsCache(Settings(), fetch_robots)
    assert robots.allowed("http://a.test/private")  # our own group replaces '*'
    assert not robots.allowed("http://a.test/x/1")
    assert robots.crawl_delay("http://a.test/") == 3.0
    with pytest.raises(FetchError, match="robots_disallowed"):
        robots.check("http://a.test/x/2")
    assert calls == ["http://a.test/robots.txt"]
    assert robots.allowed("http://b.test/")  # another origin, another file
    assert calls == ["http://a.test/robots.txt", "http://b.test/robots.txt"]


def test_robots_politeness_wait_is_not_cached() -> None:
    answers = iter([FetchError("politeness_wait", retry_after=3), (404, b"")])

    def fetch_robots(url: str) -> tuple[int, bytes]:
        answer = next(answers)
        if isinstance(answer, FetchError):
            raise answer
        return answer

    robots = RobotsCache(Settings(), fetch_robots)
    with pytest.raises(FetchError, match="politeness_wait"):
        robots.check("http://a.test/")
    robots.check("http://a.test/")  # asked again, and allowed by the 404
