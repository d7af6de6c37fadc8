"""parse_feed, discover_feeds and parse_sitemap against the files in tests/fixtures/feeds/.

Each input file has a `<stem>.expected.json` beside it naming the function, the document URL and
either the exact result or the FeedError reason.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest

from services.ingest import feeds
from services.ingest.feeds import FeedEntry, discover_feeds, parse_feed, parse_sitemap
from shared.errors import FeedError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "feeds"
EXPECTED_FILES = sorted(FIXTURES.glob("*.expected.json"))


def _input_for(expected_path: Path) -> Path:
    stem = expected_path.name.removesuffix(".expected.json")
    (source,) = [p for p in FIXTURES.glob(f"{stem}.*") if not p.name.endswith(".expected.json")]
    return source


def _entry_dict(entry: FeedEntry) -> dict[str, Any]:
    if entry.published_at is not None:
        assert entry.published_at.tzinfo is not None, "published_at must be timezone-aware"
    return {
        "url": entry.url,
        "title": entry.title,
        "published_at": entry.published_at.isoformat() if entry.published_at else None,
        "guid": entry.guid,
    }


def _run(function: str, body: bytes, url: str) -> dict[str, Any]:
    if function == "parse_feed":
        parsed = parse_feed(body, url)
        return {
            "title": parsed.title,
            "site_url": parsed.site_url,
            "entries": [_entry_dict(e) for e in parsed.entries],
        }
    if function == "parse_sitemap":
        return {"entries": [_entry_dict(e) for e in parse_sitemap(body, url)]}
    if function == "discover_feeds":
        return {"feeds": discover_feeds(body.decode("utf-8"), url)}
    raise AssertionError(f"unknown function {function}")


def test_every_fixture_has_an_expectation() -> None:
    inputs = {p.name for p in FIXTURES.iterdir() if not p.name.endswith(".expected.json")}
    covered = {_input_for(p).name for p in EXPECTED_FILES}
    assert inputs == covered
    assert len(EXPECTED_FILES) >= 14


@pytest.mark.parametrize("expected_path", EXPECTED_FILES, ids=lambda p: p.name.removesuffix(".expected.json"))
def test_fixture(expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    function, url = expected.pop("function"), expected.pop("url")
    body = _input_for(expected_path).read_bytes()
    if "error" in expected:
        with pytest.raises(FeedError) as caught:
            _run(function, body, url)
        assert caught.value.reason == expected["error"]
        assert caught.value.transient is False
    else:
        assert _run(function, body, url) == expected


def test_entity_expansion_is_never_done() -> None:
    started = time.monotonic()
    parsed = parse_feed((FIXTURES / "billion_laughs.xml").read_bytes(), "https://laughs.example.org/rss.xml")
    sitemap = parse_sitemap((FIXTURES / "sitemap_entities.xml").read_bytes(), "https://laughs.example.org/sitemap.xml")
    assert time.monotonic() - started < 2
    texts = [parsed.title or ""] + [f"{e.title} {e.guid} {e.url}" for e in (*parsed.entries, *sitemap)]
    assert not any("lollol" in t or "root:" in t for t in texts)


def test_gzipped_sitemap_reads_like_the_plain_one() -> None:
    body = (FIXTURES / "news_sitemap.xml").read_bytes()
    url = "https://news.example.org/sitemap-news.xml.gz"
    assert parse_sitemap(gzip.compress(body), url) == parse_sitemap(body, url)


def test_corrupt_gzip_sitemap_is_invalid() -> None:
    with pytest.raises(FeedError) as caught:
        parse_sitemap(b"\x1f\x8b\x08\x00garbage", "https://news.example.org/sitemap.xml.gz")
    assert caught.value.reason == "invalid_feed"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"title": "no version", "items": []}', "invalid_feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "title": "no items"}', "invalid_feed"),
        (b"[1, 2, 3]", "invalid_feed"),
        (b"{not json", "invalid_feed"),
        (b"<html><head><title>A page</title></head><body><p>not a feed</p></body></html>", "invalid_feed"),
        (b"", "empty_feed"),
    ],
    ids=["json-no-version", "json-no-items", "json-array", "json-broken", "html-page", "zero-bytes"],
)
def test_not_a_feed(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed(body, "https://example.org/feed")
    assert caught.value.reason == reason


def test_valid_feed_without_items_is_not_an_error() -> None:
    body = b'<rss version="2.0"><channel><title>Quiet</title><link>https://q.example/</link></channel></rss>'
    assert parse_feed(body, "https://q.example/rss") == feeds.ParsedFeed("Quiet", "https://q.example/", ())


def test_entries_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds, "MAX_FEED_ENTRIES", 3)
    monkeypatch.setattr(feeds, "MAX_SITEMAP_ENTRIES", 2)
    items = "".join(f"<item><link>/a/{i}</link></item>" for i in range(10))
    rss = f'<rss version="2.0"><channel><title>Many</title>{items}</channel></rss>'.encode()
    parsed = parse_feed(rss, "https://m.example/rss")
    assert [e.url for e in parsed.entries] == [f"https://m.example/a/{i}" for i in range(3)]
    json_feed = json.dumps(
        {"version": "https://jsonfeed.org/version/1", "items": [{"url": f"/j/{i}"} for i in range(10)]}
    ).encode()
    assert len(parse_feed(json_feed, "https://m.example/feed.json").entries) == 3
    urls = "".join(f"<url><loc>https://m.example/s/{i}</loc></url>" for i in range(10))
    sitemap = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()
    assert len(parse_sitemap(sitemap, "https://m.example/sitemap.xml")) == 2
