"""The demo news site over real HTTP on 127.0.0.1, fetched with plain httpx (no newsflow fetcher)."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.utils import format_datetime, parsedate_to_datetime
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.demosite import DemoSite
from services.ingest.feeds import discover_feeds, parse_feed, parse_sitemap
from shared.errors import FeedError

ROOT = Path(__file__).resolve().parents[3]
EXPECTED: dict[str, Any] = {
    path: summary
    for path, summary in json.loads((ROOT / "services/demosite/expected.json").read_text(encoding="utf-8")).items()
    if path.startswith("/")
}
SEED = "/politics/201702161050766466-tillerson-lavrov-meeting-awkward-moment/"
RELATED = [
    "/politics/201702151050718436-lavrov-tillerson-ukraine-bonn/",
    "/politics/201702151050687841-tillerson-kosovo-support/",
    "/us/201702161050779807-tillerson-georgia-japan-ministers/",
    "/politics/201702101050526390-tillerson-mogherini-syria-ukraine/",
    "/politics/201702091050491406-tillerson-mexico-dialogue/",
]
PRIVATE = "/private/201702171050800011-g20-coverage-planning/"
# Seed and related articles, newest first: the order of the RSS, Atom and sitemap entries.
FEED_ORDER = [RELATED[2], SEED, RELATED[0], RELATED[1], RELATED[3], RELATED[4]]
SPUTNIK_ORIGIN = re.compile(r"(?:https?:)?//sputniknews\.com(?![\w.-])")


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with DemoSite() as running:
        yield running


@pytest.fixture
def client(site: DemoSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=5, follow_redirects=False) as http:
        yield http
    site.set_version("first")


def test_expected_json_covers_the_generated_articles() -> None:
    assert sorted(EXPECTED) == sorted([*RELATED, PRIVATE])


@pytest.mark.parametrize(
    ("path", "status", "content_type"),
    [
        ("/", 200, "text/html; charset=utf-8"),
        ("/rss.xml", 200, "application/rss+xml; charset=utf-8"),
        ("/export/rss2/archive/index.xml", 200, "application/rss+xml; charset=utf-8"),
        ("/atom.xml", 200, "application/atom+xml; charset=utf-8"),
        ("/sitemap.xml", 200, "application/xml; charset=utf-8"),
        ("/robots.txt", 200, "text/plain; charset=utf-8"),
        (SEED, 200, "text/html; charset=utf-8"),
        *[(path, 200, "text/html; charset=utf-8") for path in RELATED],
        (PRIVATE, 200, "text/html; charset=utf-8"),
        ("/broken/500", 500, "text/html; charset=utf-8"),
        ("/broken/404", 404, "text/html; charset=utf-8"),
        ("/broken/notfound-feed.xml", 404, "text/html; charset=utf-8"),
        ("/broken/garbage.xml", 200, "application/xml; charset=utf-8"),
        ("/broken/image.png", 200, "image/png"),
        ("/i/avatar-default.png", 200, "image/png"),
        ("/i/photo-1050718436.png", 200, "image/png"),
        ("/no/such/page/", 404, "text/html; charset=utf-8"),
        ("/_control/version", 200, "text/plain; charset=utf-8"),
    ],
)
def test_status_and_content_type(client: httpx.Client, path: str, status: int, content_type: str) -> None:
    response = client.get(path)
    assert (response.status_code, response.headers["content-type"]) == (status, content_type)
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.http_version == "HTTP/1.1"


def test_png_is_a_png(client: httpx.Client) -> None:
    assert client.get("/broken/image.png").content.startswith(b"\x89PNG\r\n\x1a\n")


def test_garbage_is_not_a_feed(client: httpx.Client) -> None:
    body = client.get("/broken/garbage.xml").content
    with pytest.raises(FeedError) as caught:
        parse_feed(body, "http://127.0.0.1/broken/garbage.xml")
    assert caught.value.reason == "invalid_feed"


def test_slow_page_times_out_a_short_client(site: DemoSite) -> None:
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{site.base_url}/broken/slow", timeout=0.3)


def test_robots_txt(client: httpx.Client, site: DemoSite) -> None:
    assert client.get("/robots.txt").text == (
        f"User-agent: *\nDisallow: /private/\n\nSitemap: {site.base_url}/sitemap.xml\n"
    )


def test_home_page_links_every_article_and_advertises_the_feeds(client: httpx.Client, site: DemoSite) -> None:
    home = client.get("/").text
    assert discover_feeds(home, f"{site.base_url}/") == [f"{site.base_url}/rss.xml", f"{site.base_url}/atom.xml"]
    linked = re.findall(r'<a class="b-news-stripe__item-title" href="([^"]+)"', home)
    assert linked == [site.base_url + path for path in [SEED, *RELATED, PRIVATE]]


@pytest.mark.parametrize("path", ["/rss.xml", "/atom.xml", "/export/rss2/archive/index.xml"])
def test_feeds_list_the_seed_and_related_articles(client: httpx.Client, site: DemoSite, path: str) -> None:
    feed = parse_feed(client.get(path).content, site.base_url + path)
    assert feed.site_url == f"{site.base_url}/"
    assert [entry.url for entry in feed.entries] == [site.base_url + p for p in FEED_ORDER]
    by_path = {entry.url.removeprefix(site.base_url): entry for entry in feed.entries}
    for related in RELATED:
        assert by_path[related].title == EXPECTED[related]["title"]
    assert by_path[SEED].title == "Awkward: Tillerson and Lavrov First Meeting Makes Journalists Cringe"
    assert by_path[SEED].published_at is not None
    assert by_path[SEED].published_at.isoformat() == "2017-02-16T15:47:00+00:00"


def test_news_sitemap(client: httpx.Client, site: DemoSite) -> None:
    entries = parse_sitemap(client.get("/sitemap.xml").content, f"{site.base_url}/sitemap.xml")
    assert [entry.url for entry in entries] == [site.base_url + p for p in FEED_ORDER]
    assert [entry.title for entry in entries][2] == EXPECTED[RELATED[0]]["title"]


@pytest.mark.parametrize("version", ["first", "later"])
def test_seed_points_at_the_local_site(client: httpx.Client, site: DemoSite, version: str) -> None:
    site.set_version(version)
    page = client.get(SEED).text
    assert SPUTNIK_ORIGIN.search(page) is None
    seed_url = site.base_url + SEED
    assert f'<link rel="canonical" href="{seed_url}">' in page
    assert f'<meta property="og:url" content="{seed_url}">' in page
    assert f'"url": "{seed_url}"' in page
    related_hrefs = re.findall(r'<div class="b-article__related-item"><a href="([^"]+)"', page)
    authority = site.base_url.removeprefix("http:")
    assert related_hrefs == [
        RELATED[0],
        site.base_url + RELATED[1],
        authority + RELATED[2],  # the protocol-relative link stays protocol-relative
        site.base_url + RELATED[3],
        RELATED[4],
    ]
    assert "cdn2.img.sputniknews.com" in page  # only the origin is rewritten, not the CDN hosts


def test_related_links_of_the_seed_all_resolve(client: httpx.Client) -> None:
    for path in RELATED:
        assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", [*RELATED, PRIVATE])
def test_generated_article_matches_expected(client: httpx.Client, site: DemoSite, path: str) -> None:
    page = client.get(path).text
    expected = EXPECTED[path]
    json_ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    text = re.search(r'<div class="b-article__text" itemprop="articleBody">(.*?)</div>', page, re.S).group(1)
    related = re.search(r'<div class="b-article__related">(.*?)</div>\n', page).group(1)
    summary = {
        "title": unescape(re.search(r'<h1 itemprop="headline">(.*?)</h1>', page).group(1)),
        "section": json_ld["articleSection"],
        "published_at": json_ld["datePublished"],
        "lead": unescape(re.search(r'<div class="b-article__lead" itemprop="description"><p>(.*?)</p>', page).group(1)),
        "body_paragraph_count": text.count("<p>"),
        "tags": [unescape(t) for t in re.findall(r'class="b-article__tags-item"[^>]*>(.*?)</a>', page)],
        "comment_authors": [unescape(a) for a in re.findall(r'class="b-comment__author"[^>]*>(.*?)</a>', page)],
        "comment_count": int(re.search(r'<div class="b-comments" [^>]*data-count="(\d+)"', page).group(1)),
        "related_paths": re.findall(r'<a href="([^"]+)">', related),
        "robots_allowed": not path.startswith("/private/"),
    }
    assert summary == expected
    assert json_ld["url"] == site.base_url + path
    assert json_ld["@type"] == "NewsArticle"
    assert SPUTNIK_ORIGIN.search(page) is None


def test_version_switch_changes_body_etag_and_last_modified(client: httpx.Client, site: DemoSite) -> None:
    first = client.get(SEED)
    site.set_version("later")
    later = client.get(SEED)
    assert later.content != first.content
    assert later.headers["etag"] != first.headers["etag"]
    assert parsedate_to_datetime(later.headers["last-modified"]) > parsedate_to_datetime(first.headers["last-modified"])
    assert "b-comment__edited" in later.text and "b-comment__edited" not in first.text
    assert first.text.count('class="b-comments__item" id="comment_') == 20
    assert later.text.count('class="b-comments__item" id="comment_') == 23


def test_version_switch_over_http(client: httpx.Client, site: DemoSite) -> None:
    first_etag = client.get(SEED).headers["etag"]
    switched = client.post("/_control/version", params={"name": "later"})
    assert (switched.status_code, switched.text) == (200, "later\n")
    assert site.version == "later"
    assert client.get("/_control/version").text == "later\n"
    assert client.get(SEED).headers["etag"] != first_etag
    assert client.post("/_control/version", params={"name": "first"}).status_code == 200
    assert client.get(SEED).headers["etag"] == first_etag
    assert client.post("/_control/version", params={"name": "sideways"}).status_code == 400
    assert client.post("/rss.xml").status_code == 405
    with pytest.raises(ValueError):
        site.set_version("sideways")


@pytest.mark.parametrize("path", ["/rss.xml", "/atom.xml", "/sitemap.xml", SEED, RELATED[0]])
def test_conditional_get(client: httpx.Client, path: str) -> None:
    full = client.get(path)
    etag, last_modified = full.headers["etag"], full.headers["last-modified"]

    by_etag = client.get(path, headers={"If-None-Match": etag})
    assert (by_etag.status_code, by_etag.content) == (304, b"")
    assert by_etag.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": f'"stale", W/{etag}'}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304

    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    both = {"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    assert client.get(path, headers=both).status_code == 200
    earlier = format_datetime(parsedate_to_datetime(last_modified).replace(year=2016), usegmt=True)
    assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200


def test_old_seed_etag_is_not_modified_only_for_its_version(client: httpx.Client, site: DemoSite) -> None:
    etag = client.get(SEED).headers["etag"]
    assert client.get(SEED, headers={"If-None-Match": etag}).status_code == 304
    site.set_version("later")
    assert client.get(SEED, headers={"If-None-Match": etag}).status_code == 200


def test_head_has_headers_without_body(client: httpx.Client) -> None:
    response = client.head("/rss.xml")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) == len(client.get("/rss.xml").content)


def test_hits_count_requests_per_path(client: httpx.Client, site: DemoSite) -> None:
    before = site.hits("/atom.xml")
    client.get("/atom.xml")
    client.get("/atom.xml?x=1")
    client.head("/atom.xml")
    assert site.hits("/atom.xml") == before + 3
    assert site.hits("/never/requested") == 0


def test_keep_alive_reuses_one_connection(site: DemoSite) -> None:
    with httpx.Client(base_url=site.base_url, timeout=5) as http:
        responses = [http.get("/robots.txt") for _ in range(5)]
    assert all(r.headers.get("connection", "").lower() != "close" for r in responses)
    assert {r.http_version for r in responses} == {"HTTP/1.1"}


def test_cli_prints_base_url_first_and_serves_until_terminated() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.demosite", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        assert httpx.get(f"{base_url}/robots.txt", timeout=5).status_code == 200
        assert httpx.post(f"{base_url}/_control/version?name=later", timeout=5).text == "later\n"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_stop_is_prompt_even_with_a_slow_request_in_flight() -> None:
    site = DemoSite().start()
    started = threading.Event()

    def slow() -> None:
        started.set()
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{site.base_url}/broken/slow", timeout=10)

    worker = threading.Thread(target=slow, daemon=True)
    worker.start()
    started.wait()
    time.sleep(0.2)
    began = time.monotonic()
    site.stop()
    site.stop()  # a second stop is harmless
    assert time.monotonic() - began < 2
    worker.join(timeout=5)
