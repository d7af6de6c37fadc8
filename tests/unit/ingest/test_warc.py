"""The WARC reader and writer (services.ingest.warc) on files written record by record in the test:
what becomes a capture, what is skipped and why, with exact counts and offsets."""

from __future__ import annotations

import gzip
import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from warcio.archiveiterator import ArchiveIterator

from services.ingest.warc import CaptureFilter, Skipped, read_captures, write_warc
from shared.records import Capture
from tests.helpers.warcs import WarcBuilder

T0 = datetime(2024, 5, 3, 15, 47, 42, 389000, tzinfo=UTC)
PAGE = b"<!DOCTYPE html><html><head><title>A</title></head><body><p>Story.</p></body></html>"
MAX = 10_000


def read_all(data: bytes, **kwargs) -> list[Capture | Skipped]:
    return list(read_captures(io.BytesIO(data), max_body_bytes=kwargs.pop("max_body_bytes", MAX), **kwargs))


def summary(items: list[Capture | Skipped]) -> tuple[list[tuple[str, int | None]], Counter[str]]:
    captures = [(i.url, i.offset) for i in items if isinstance(i, Capture)]
    return captures, Counter(i.reason for i in items if isinstance(i, Skipped))


def test_every_kind_of_record_is_a_capture_or_a_counted_skip():
    w = WarcBuilder()
    w.warcinfo()
    w.request("https://news.example/a", T0)
    a = w.response("https://news.example/a", PAGE, T0)
    w.metadata("https://news.example/a", T0)
    w.response("https://news.example/moved", b"", T0, status="301 Moved Permanently", content_type=None)
    w.response("https://news.example/404", PAGE, T0, status="404 Not Found")
    w.response("https://news.example/photo.png", b"\x89PNG\r\n\x1a\n....", T0, content_type="image/png")
    w.response("https://news.example/feed", b"<rss/>", T0, content_type="application/rss+xml")
    w.revisit("https://news.example/a", T0 + timedelta(days=1), T0)
    w.response("https://news.example/cut", PAGE, T0, extra_warc_headers={"WARC-Truncated": "length"})
    b = w.gzip_encoded("https://news.example/b", PAGE, T0)
    w.response("https://news.example/big", b"<html>" + b"x" * MAX + b"</html>", T0)
    c = w.response("https://news.example/c", PAGE, T0, content_type=None)  # sniffed as HTML
    w.response("https://news.example/blob", b"\x00\x01\x02", T0, content_type=None)
    w.response("dns:news.example", b"93.184.216.34", T0, content_type="text/dns")
    w.response("https://news.example/x", PAGE, T0, headers=[("Content-Encoding", "gzip")])  # says gzip, is not
    corrupt = w.corrupt("https://news.example/lost", PAGE * 20, T0)
    d = w.response("http://other.example/d", PAGE, T0, content_type="application/xhtml+xml")
    cut = w.cut("https://news.example/short", PAGE * 20, T0, missing=300)
    e = w.response("https://news.example/e", PAGE, T0)

    items = read_all(w.getvalue())

    captures, skipped = summary(items)
    assert captures == [
        ("https://news.example/a", a),
        ("https://news.example/b", b),
        ("https://news.example/c", c),
        ("http://other.example/d", d),
        ("https://news.example/e", e),
    ]
    assert skipped == {
        "warcinfo": 1,
        "request": 1,
        "metadata": 1,
        "not_200": 2,
        "not_html": 3,
        "revisit": 1,
        "crawler_truncated": 1,
        "too_large": 1,
        "not_http": 1,
        "undecodable": 1,
        "corrupt": 1,
        "truncated": 1,
    }
    assert len(items) == len(w.offsets) == 20
    problems = [(i.reason, i.offset) for i in items if isinstance(i, Skipped) and i.reason in ("corrupt", "truncated")]
    assert problems == [("corrupt", corrupt), ("truncated", cut)]
    assert all(i.body == PAGE for i in items if isinstance(i, Capture))  # gzip undone, as a live fetch does


def test_a_capture_carries_the_response_as_archived():
    w = WarcBuilder()
    w.response(
        "<https://news.example/a?id=1>",  # WARC/1.0 writers may bracket the URI
        PAGE,
        T0,
        content_type="text/html; charset=ISO-8859-1",
        headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("ETag", '"v1"')],
    )
    (capture,) = read_all(w.getvalue())
    assert capture == Capture(
        url="https://news.example/a?id=1",
        captured_at=T0,
        status_code=200,
        status_line="HTTP/1.1 200 OK",
        headers=(
            ("Content-Type", "text/html; charset=ISO-8859-1"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("ETag", '"v1"'),
            ("Content-Length", str(len(PAGE))),
        ),
        content_type="text/html",
        charset="iso-8859-1",
        body=PAGE,
        offset=0,
    )


def test_a_file_cut_in_its_last_record_reports_it_with_its_offset():
    w = WarcBuilder()
    w.response("https://news.example/a", PAGE, T0)
    last = w.response("https://news.example/b", PAGE * 50, T0)
    data = w.getvalue()
    items = read_all(data[: last + (len(data) - last) // 2])
    assert summary(items) == ([("https://news.example/a", 0)], Counter({"truncated": 1}))
    assert items[1].offset == last


@pytest.mark.parametrize("junk", [b"garbage!!", b"\x1f\x8b\x08 not gzip at all", b"\x00" * 5000])
def test_bytes_between_records_are_one_corrupt_record_and_reading_goes_on(junk):
    w = WarcBuilder()
    w.response("https://news.example/a", PAGE, T0)
    bad = w.raw(junk)
    after = w.response("https://news.example/b", PAGE, T0)
    items = read_all(w.getvalue())
    assert summary(items) == (
        [("https://news.example/a", 0), ("https://news.example/b", after)],
        Counter({"corrupt": 1}),
    )
    assert items[1].offset == bad
    assert items[1].detail.isprintable()


def test_an_uncompressed_warc_reads_and_resyncs_at_the_next_record():
    w = WarcBuilder(gzip=False)
    w.warcinfo()
    a = w.response("https://news.example/a", PAGE, T0)
    bad = w.raw(b"this line is not a WARC header\r\n\r\n")
    b = w.response("https://news.example/b", PAGE, T0)
    items = read_all(w.getvalue())
    assert summary(items) == (
        [("https://news.example/a", a), ("https://news.example/b", b)],
        Counter({"warcinfo": 1, "corrupt": 1}),
    )
    assert [i.offset for i in items if isinstance(i, Skipped) and i.reason == "corrupt"] == [bad]


def test_filters_by_host_and_capture_time():
    w = WarcBuilder()
    w.response("https://www.news.example/old", PAGE, T0 - timedelta(days=2))
    w.response("https://www.news.example/new", PAGE, T0)
    w.response("https://news.example.org/new", PAGE, T0)  # not a subdomain of news.example
    w.response("https://news.example/new", PAGE, T0 + timedelta(seconds=1))
    items = read_all(w.getvalue(), keep=CaptureFilter(hosts=("news.example",), since=T0))
    captures, skipped = summary(items)
    assert [url for url, _ in captures] == ["https://www.news.example/new", "https://news.example/new"]
    assert skipped == {"before_since": 1, "other_host": 1}


def capture(url: str, body: bytes, when: datetime, headers: tuple[tuple[str, str], ...]) -> Capture:
    return Capture(url, when, 200, "HTTP/1.1 200 OK", headers, "text/html", "utf-8", body)


def test_written_warc_reads_back_in_warcio_and_in_newsflow_byte_for_byte():
    pages = [
        capture(
            "https://news.example/a",
            PAGE,
            T0,
            (
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "gzip"),  # the stored body is decoded: renamed, not claimed
                ("Content-Length", "57"),
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
            ),
        ),
        capture("https://news.example/b", "<html><p>Grüße</p></html>".encode(), T0 + timedelta(hours=1), ()),
    ]
    out = io.BytesIO()
    assert write_warc(out, pages, info={"software": "newsflow"}, filename="x.warc.gz") == 2
    data = out.getvalue()
    assert gzip.decompress(data).count(b"WARC/1.1\r\n") == 3

    records = []
    for record in ArchiveIterator(io.BytesIO(data)):
        body = record.content_stream().read()
        headers = record.http_headers.headers if record.http_headers else None
        records.append((record.rec_type, record.rec_headers.get_header("WARC-Date"), headers, body))
    assert [r[0] for r in records] == ["warcinfo", "response", "response"]
    assert records[1][1:] == (
        "2024-05-03T15:47:42.389000Z",
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("X-Crawler-Content-Encoding", "gzip"),
            ("X-Crawler-Content-Length", "57"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("Content-Length", str(len(PAGE))),
        ],
        PAGE,
    )
    assert records[2][3] == "<html><p>Grüße</p></html>".encode()

    again = read_all(data)
    assert [(c.url, c.captured_at, c.body) for c in again if isinstance(c, Capture)] == [
        (p.url, p.captured_at, p.body) for p in pages
    ]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # Describes the stored body: kept as it was.
        (
            [("Content-Type", "text/html"), ("Content-Length", "10")],
            [("Content-Type", "text/html"), ("Content-Length", "10")],
        ),
        ([("Content-Type", "text/html")], [("Content-Type", "text/html")]),
        # Came compressed or chunked: the stored body is decoded, so the transfer headers are renamed.
        (
            [("Content-Encoding", "br"), ("Content-Length", "4")],
            [("X-Crawler-Content-Encoding", "br"), ("X-Crawler-Content-Length", "4"), ("Content-Length", "10")],
        ),
        ([("transfer-encoding", "chunked")], [("X-Crawler-transfer-encoding", "chunked"), ("Content-Length", "10")]),
    ],
)
def test_export_headers_describe_the_stored_body(headers, expected):
    from services.ingest.warc import export_headers

    assert export_headers(headers, 10) == expected
