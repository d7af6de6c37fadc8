"""import-warc's store side on real Postgres and SQLite: captures become fetches with their capture
time, handed to parse only when they are news for their URL; re-importing changes nothing; the
export gives every fetch back. Remote archives come through the guarded fetcher."""

from __future__ import annotations

import io
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from warcio.archiveiterator import ArchiveIterator

from services.ingest.archives import WarcImporter, export_warc
from services.ingest.warc import CaptureFilter
from shared import models
from shared.config import Settings
from shared.db import engine_for, session_scope
from shared.store import fetches, frontier
from tests.helpers.httpserver import Route, serve
from tests.helpers.pages import store_fetched
from tests.helpers.warcs import WarcBuilder

T0 = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)


def page(title: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body><p>{title} body.</p></body></html>".encode()


def settings_for(store_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": store_url, "broker_url": "memory://", "redis_url": ""}
    return Settings(**(values | overrides))


def import_bytes(settings: Settings, tmp_path: Path, data: bytes, **kwargs: object) -> dict:
    path = tmp_path / f"in-{len(list(tmp_path.glob('in-*')))}.warc.gz"
    path.write_bytes(data)
    importer = WarcImporter(settings, **kwargs)  # type: ignore[arg-type]
    importer.import_source(str(path))
    importer.finish()
    return importer.report.to_dict()


def table_counts(url: str) -> dict[str, int]:
    with engine_for(url).connect() as conn:
        return {
            t.name: conn.execute(text(f"SELECT count(*) FROM {t.name}")).scalar_one()
            for t in models.Base.metadata.sorted_tables
        }


def urls(url: str) -> dict[str, tuple[str, int | None]]:
    with session_scope(url) as session:
        return {u.url: (u.state, u.last_fetch_id) for u in session.execute(select(models.Url)).scalars()}


def test_captures_become_fetches_to_parse_and_reimport_changes_nothing(store_url, tmp_path):
    settings = settings_for(store_url)
    w = WarcBuilder()
    w.warcinfo()
    w.request("https://news.example/a", T0)
    w.response("https://news.example/a", page("A"), T0, headers=[("ETag", '"a1"'), ("Set-Cookie", "x=1")])
    w.response("https://news.example/b", page("B"), T0 + timedelta(minutes=1))
    w.response("https://news.example/b", page("B"), T0 + timedelta(minutes=5))  # same bytes, captured again
    w.response("https://news.example/logo.png", b"\x89PNG....", T0, content_type="image/png")

    report = import_bytes(settings, tmp_path, w.getvalue())

    assert {k: report[k] for k in ("records", "captures", "queued", "unchanged", "older", "waiting")} == {
        "records": 6,
        "captures": 3,
        "queued": 2,
        "unchanged": 1,
        "older": 0,
        "waiting": 0,
    }
    assert report["skipped"] == {"warcinfo": 1, "request": 1, "not_html": 1}
    with session_scope(store_url) as session:
        # Rows of one batch are inserted in natural-key order (the lock order), so their ids follow it.
        rows = session.execute(select(models.Fetch).order_by(models.Fetch.final_url)).scalars().all()
        got = [
            (r.final_url, r.status_code, r.status_line, r.first_fetched_at, r.last_fetched_at, r.etag, r.elapsed_ms)
            for r in rows
        ]
        assert got == [
            ("https://news.example/a", 200, "HTTP/1.1 200 OK", T0, T0, '"a1"', None),
            (
                "https://news.example/b",
                200,
                "HTTP/1.1 200 OK",
                T0 + timedelta(minutes=1),
                T0 + timedelta(minutes=5),
                None,
                None,
            ),
        ]
        assert rows[0].http_headers == [
            ["Content-Type", "text/html; charset=utf-8"],
            ["ETag", '"a1"'],
            ["Set-Cookie", "x=1"],
            ["Content-Length", str(len(page("A")))],
        ]
        assert zlib.decompress(rows[0].body_zlib) == page("A")
        assert rows[0].content_type == "text/html" and rows[0].charset == "utf-8"
        # Imported URLs are not re-polled live unless asked: archived pages stay archived.
        assert [u.repoll_schedule for u in session.execute(select(models.Url)).scalars()] == ["off", "off"]
        fetch_of = {r.final_url: r.id for r in rows}
    assert urls(store_url) == {
        "https://news.example/a": ("fetched", fetch_of["https://news.example/a"]),
        "https://news.example/b": ("fetched", fetch_of["https://news.example/b"]),
    }

    before = table_counts(store_url)
    again = import_bytes(settings, tmp_path, w.getvalue())
    assert (again["queued"], again["unchanged"], again["older"]) == (0, 3, 0)
    assert table_counts(store_url) == before


def live_fetch(session, url: str, body: bytes) -> tuple[int, int]:
    """A URL fetched live just now and taken through the pipeline (its state `done`)."""
    return store_fetched(session, url, body, state="done")


def test_a_stored_url_gets_a_capture_only_when_it_differs_and_is_newer(store_url, tmp_path):
    settings = settings_for(store_url)
    with session_scope(store_url) as session:
        live_id, live_fetch_id = live_fetch(session, "https://news.example/live", page("Live"))
    now = datetime.now(UTC)
    w = WarcBuilder()
    w.response("https://news.example/live", page("Live"), now + timedelta(minutes=1))  # same bytes
    w.response("https://news.example/live", page("Old"), now - timedelta(days=30))  # older, different
    report = import_bytes(settings, tmp_path, w.getvalue())
    assert (report["queued"], report["unchanged"], report["older"]) == (0, 1, 1)
    assert urls(store_url) == {"https://news.example/live": ("done", live_fetch_id)}

    newer = WarcBuilder()
    newer.response("https://news.example/live", page("Edited"), now + timedelta(days=1))
    report = import_bytes(settings, tmp_path, newer.getvalue())
    assert (report["queued"], report["unchanged"], report["older"]) == (1, 0, 0)
    with session_scope(store_url) as session:
        row = frontier.get_url(session, live_id)
        assert (row.state, row.url) == ("fetched", "https://news.example/live")
        assert fetches.load_body(session, row.last_fetch_id).body == page("Edited")
        assert session.execute(select(func.count()).select_from(models.Fetch)).scalar_one() == 3


def test_a_second_capture_waits_until_the_first_is_through_the_pipeline(store_url, tmp_path):
    settings = settings_for(store_url)
    w = WarcBuilder()
    w.response("https://news.example/a", page("First"), T0)
    w.response("https://news.example/a", page("Second"), T0 + timedelta(hours=2))
    handed: list[tuple[bytes, str]] = []

    def settle(url_ids):
        # Stands in for the workers: parse the URL's body up to `done`.
        with session_scope(store_url) as session:
            for url_id in url_ids:
                row = frontier.get_url(session, url_id)
                handed.append((fetches.load_body(session, row.last_fetch_id).body, row.state))
                frontier.advance(session, url_id, "fetched", "done")
        return True

    report = import_bytes(settings, tmp_path, w.getvalue(), settle=settle)
    assert (report["queued"], report["waiting"]) == (2, 0)
    assert handed == [(page("First"), "fetched")]
    with session_scope(store_url) as session:
        row = frontier.get_url(session, 1)
        assert row.state == "fetched"
        assert fetches.load_body(session, row.last_fetch_id).body == page("Second")

    # Without anyone to wait for, the later capture is stored and waits for the next import.
    with session_scope(store_url) as session:
        session.execute(text("DELETE FROM fetches"))
        session.execute(text("DELETE FROM urls"))
    report = import_bytes(settings, tmp_path, w.getvalue())
    assert (report["queued"], report["waiting"]) == (1, 1)


def test_limit_and_filters(store_url, tmp_path):
    w = WarcBuilder()
    for i in range(5):
        w.response(f"https://news.example/{i}", page(str(i)), T0 + timedelta(days=i))
    w.response("https://other.example/x", page("x"), T0 + timedelta(days=9))
    settings = settings_for(store_url)
    report = import_bytes(settings, tmp_path, w.getvalue(), limit=2)
    assert (report["records"], report["captures"], report["queued"]) == (2, 2, 2)
    report = import_bytes(
        settings, tmp_path, w.getvalue(), keep=CaptureFilter(hosts=("news.example",), since=T0 + timedelta(days=3))
    )
    assert (report["captures"], report["queued"], report["skipped"]) == (
        2,
        2,
        {"before_since": 3, "other_host": 1},
    )
    assert sorted(urls(store_url)) == [f"https://news.example/{i}" for i in (0, 1, 3, 4)]


def test_export_gives_every_fetch_back_with_headers_and_bytes(store_url, tmp_path):
    settings = settings_for(store_url)
    with session_scope(store_url) as session:
        live_fetch(session, "https://news.example/live", page("Live"))  # stored before headers were kept
    w = WarcBuilder()
    w.response("https://news.example/a", page("A"), T0, headers=[("Content-Encoding", "identity")])
    w.response("https://other.example/b", page("B"), T0 + timedelta(hours=1))
    import_bytes(settings, tmp_path, w.getvalue())

    out = tmp_path / "out.warc.gz"
    assert export_warc(settings, out) == 3
    records = [
        (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.http_headers, r.content_stream().read())
        for r in ArchiveIterator(io.BytesIO(out.read_bytes()))
    ]
    assert records[0][3].startswith(b"software: newsflow\r\nformat: WARC File Format 1.1\r\n")
    assert [(kind, uri, body) for kind, uri, _, body in records[1:]] == [
        ("response", "https://news.example/a", page("A")),
        ("response", "https://other.example/b", page("B")),
        ("response", "https://news.example/live", page("Live")),
    ]
    assert records[1][2].protocol == "HTTP/1.1" and records[1][2].statusline == "200 OK"
    assert records[1][2].headers == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("X-Crawler-Content-Encoding", "identity"),
        ("Content-Length", str(len(page("A")))),
    ]
    assert records[2][2].headers == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(page("B")))),
    ]
    assert records[3][2].headers == []  # a fetch stored before headers were kept, with none of the few it kept

    assert export_warc(settings, out, hosts=("other.example",)) == 1
    assert export_warc(settings, out, since=T0 + timedelta(minutes=30), hosts=("news.example",)) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == ["out.warc.gz"]


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_remote_archive_comes_through_the_guarded_fetcher(store_url, tmp_path):
    w = WarcBuilder()
    w.response("https://news.example/a", page("A"), T0)
    data = w.getvalue()
    with serve({"/cc-news.warc.gz": Route(body=data, content_type="application/octet-stream")}) as server:
        url = server.url("/cc-news.warc.gz")
        blocked = import_bytes_from(settings_for(store_url, politeness_delay=0), url)
        assert blocked["files"] == [
            {"source": url, "records": 0, "captures": 0, "error": "blocked_address", "detail": blocked_detail(blocked)}
        ]
        allowed = settings_for(store_url, fetch_allow_hosts="127.0.0.1", politeness_delay=0)
        too_big = import_bytes_from(allowed.model_copy(update={"warc_max_bytes": len(data) - 1}), url)
        assert too_big["files"][0]["error"] == "too_large"
        report = import_bytes_from(allowed, url)
        assert (report["files"][0].get("error"), report["queued"]) == (None, 1)
        # Robots first, as for any fetch (each import has its own fetcher, so its own robots cache).
        assert [r.path for r in server.requests] == ["/robots.txt", "/cc-news.warc.gz"] * 2


def import_bytes_from(settings: Settings, source: str) -> dict:
    importer = WarcImporter(settings)
    importer.import_source(source)
    return importer.report.to_dict()


def blocked_detail(report: dict) -> str:
    detail = report["files"][0]["detail"]
    assert detail.startswith("blocked_address: ") and "127.0.0.1" in detail
    return detail
