"""Comment platforms without a network: each fixture page's embed gives its thread's identifiers, the
platform's walk (services/ingest/providers) runs over the recorded answers in tests/fixtures/providers
(routed in-process), and the platform's mapper (services/parse/providers) turns what the walk kept
into the expected records beside them; then every failure a platform can answer with, by reason."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from urllib.parse import quote

import pytest

from services.ingest.fetch import parse_retry_after
from services.ingest.providers import Answer, ApiRequest
from services.ingest.threads import WALKS, walk_thread
from services.parse.article import parse_article
from services.parse.threads import read_thread
from shared.config import Settings
from shared.errors import ProviderError
from shared.records import CommentSource, _jsonable
from tests.helpers.httpserver import Request, Route
from tests.helpers.providers import FIXTURES, PROVIDERS, ProviderSite

THREADS = {
    "disqus": {"forum": "metronews", "ident": "story-5521"},
    "viafoura": {"container_id": "mn-story-7781", "site": "127.0.0.1"},
    "openweb": {"spot_id": "sp_MtrNws01", "post_id": "story-3310"},
    "coral": {"root_url": "{base}", "story_id": "story-9902", "story_url": "{base}/news/coral-story"},
}


@pytest.fixture(scope="module")
def site():
    with ProviderSite() as site:
        yield site


def settings_for(site: ProviderSite, **extra: str) -> Settings:
    values = {k.removeprefix("NEWSFLOW_").lower(): v for k, v in site.env().items()}
    return Settings(**(values | extra))


def router(site: ProviderSite) -> Callable[[ApiRequest], Answer]:
    """A `send` that asks the fixture site in this process (no socket): what the fetcher would get."""

    def send(request: ApiRequest) -> Answer:
        path = request.url.removeprefix(site.base_url)
        headers = {k.lower(): v for k, v in request.headers}
        route = site._answer(Request(request.method, path, headers, request.body or b""))
        body = route.body.encode() if isinstance(route.body, str) else route.body
        return Answer(route.status, body, parse_retry_after(route.headers.get("Retry-After")))

    return send


def relative(site: ProviderSite, url: str) -> str:
    """A stored page's URL with this run's fixture origin written {base} (also inside a query)."""
    return url.replace(site.base_url, "{base}").replace(quote(site.base_url, safe=""), "{base}")


def source_of(site: ProviderSite, provider: str) -> CommentSource:
    html = (FIXTURES / "pages" / f"{provider}.html").read_text(encoding="utf-8").replace("{base}", site.base_url)
    record = parse_article(html.encode(), site.page_url(provider))
    (source,) = record.comment_sources
    return source


def read(site: ProviderSite, provider: str, settings: Settings | None = None, max_requests: int = 100):
    walk = WALKS[provider](source_of(site, provider), settings or settings_for(site))
    pages = walk_thread(walk, max_requests, router(site))
    return pages, read_thread(provider, [(p.url, p.body) for p in pages])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_embed_names_the_thread(site: ProviderSite, provider: str) -> None:
    source = source_of(site, provider)
    expected = {k: v.replace("{base}", site.base_url) for k, v in THREADS[provider].items()}
    assert (source.provider, source.thread) == (provider, expected)


def test_facebook_is_detected_not_fetched(site: ProviderSite) -> None:
    html = (FIXTURES / "pages" / "facebook.html").read_text(encoding="utf-8").replace("{base}", site.base_url)
    record = parse_article(html.encode(), site.page_url("facebook"))
    assert [(w.provider, w.thread_id) for w in record.comment_widgets] == [("facebook", site.page_url("facebook"))]
    assert record.comment_sources == ()


@pytest.mark.parametrize("version", ["first", "later"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_thread_maps_to_expected_comments(site: ProviderSite, provider: str, version: str) -> None:
    site.set_version(version)
    try:
        pages, thread = read(site, provider)
    finally:
        site.set_version("first")
    expected = json.loads((FIXTURES / provider / f"{version}.expected.json").read_text(encoding="utf-8"))
    assert [relative(site, p.url) for p in pages] == expected["requests"]
    assert thread.complete is expected["complete"]
    assert [_jsonable(asdict(c)) for c in thread.comments] == expected["comments"]


def test_no_secret_is_stored(site: ProviderSite) -> None:
    pages, _ = read(site, "disqus")
    assert pages and not any("test-public-key" in p.url or "api_key" in p.url for p in pages)
    pages, _ = read(site, "openweb")  # the guest token answer is not kept
    assert all("guests/token" not in p.url and b"accessToken" not in p.body for p in pages)


def test_a_walk_cut_by_the_request_bound_reads_as_incomplete(site: ProviderSite) -> None:
    # The site lookup, two comment pages and the replies: no user lookup fits, so no name is known.
    pages, thread = read(site, "viafoura", max_requests=4)
    assert len(pages) == 4 and thread.complete is False and thread.comments == ()
    _, thread = read(site, "disqus", max_requests=1)
    assert thread.complete is False and [c.id for c in thread.comments] == [f"disqus:612345670{n}" for n in (1, 2, 3)]


DISQUS = "/api/3.0/threads/listPosts.json"
RAW_REFUSED = json.dumps({"errors": [{"message": "no", "extensions": {"code": "RAW_QUERY_NOT_AUTHORIZED"}}]})
FAILURES = [
    ("disqus", DISQUS, Route(status=429, headers={"Retry-After": "7"}, body="{}"), "rate_limited", 7.0),
    ("viafoura", "/v3/sections/sites/127.0.0.1", Route(status=503, body="busy"), "provider_unavailable", None),
    ("disqus", DISQUS, Route(status=400, body='{"code": 5, "response": "Invalid API key"}'), "provider_auth", None),
    ("disqus", DISQUS, Route(status=200, body='{"code": 13, "response": "Rate limit"}', headers={"Retry-After": "60"}),
     "rate_limited", 60.0),
    ("disqus", DISQUS, Route(body='{"code": 0, "response": {"posts": []}, "cursor": {}}'), "provider_changed", None),
    ("disqus", DISQUS, Route(body="<html>Maintenance</html>", content_type="text/html"), "provider_changed", None),
    ("openweb", "/v1.0.0/guests/token", Route(status=403, body='{"error": "forbidden"}'), "provider_auth", None),
    ("openweb", "/v1.0.0/conversation/read", Route(body='{"conversation": {"messages": []}}'), "provider_changed",
     None),
    ("coral", "/api/graphql", Route(body=RAW_REFUSED), "provider_auth", None),
    ("coral", "/api/graphql", Route(body='{"data": {"story": {"comments": {"nodes": []}}}}'), "provider_changed", None),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "path", "route", "reason", "retry_after"), FAILURES)
def test_failures_have_reasons(site, provider, path, route, reason, retry_after) -> None:
    site.override(path, route)
    try:
        with pytest.raises(ProviderError) as raised:
            read(site, provider)
    finally:
        site.override(path, None)
    assert (raised.value.reason, raised.value.retry_after) == (reason, retry_after)
    assert raised.value.transient is (reason in ("rate_limited", "provider_unavailable"))


@pytest.mark.parametrize(
    ("provider", "path", "route"),
    [
        ("disqus", DISQUS, Route(status=400, body='{"code": 2, "response": "Invalid argument, \'thread\': Unable to'
                                 ' find thread \'ident:story-5521\'"}')),
        ("viafoura", "/v4/livecomments/00000000-0000-4000-8000-1f5e0a6c44b1", Route(status=404, body="{}")),
        ("coral", "/api/graphql", Route(body='{"data": {"story": null}}')),
    ],
)  # fmt: skip
def test_a_thread_nobody_started_is_an_empty_round(site, provider, path, route) -> None:
    site.override(path, route)
    try:
        pages, thread = read(site, provider)
    finally:
        site.override(path, None)
    assert pages == [] and thread.comments == ()


def test_disqus_without_a_key_asks_nothing(site: ProviderSite) -> None:
    before = len(site.server.requests)
    with pytest.raises(ProviderError) as raised:
        read(site, "disqus", settings_for(site, disqus_api_key=""))
    assert raised.value.reason == "provider_auth" and "NEWSFLOW_DISQUS_API_KEY" in raised.value.detail
    assert len(site.server.requests) == before


def test_coral_falls_back_from_the_persisted_query_to_a_token(site: ProviderSite) -> None:
    unknown = Route(body='{"errors": [{"message": "not found", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}')
    site.override("/api/graphql", unknown, method="GET")
    try:
        with pytest.raises(ProviderError) as raised:
            read(site, "coral")
        pages, thread = read(site, "coral", settings_for(site, coral_token="test-coral-token"))
    finally:
        site.override("/api/graphql", None, method="GET")
    assert raised.value.reason == "provider_auth" and "NEWSFLOW_CORAL_TOKEN" in raised.value.detail
    _, persisted = read(site, "coral")
    assert [relative(site, p.url) for p in pages] == [
        "{base}/api/graphql",
        "{base}/api/graphql#after=2024-03-02T10%3A05%3A47.112Z",
    ]
    assert thread == persisted


def test_a_stored_answer_that_is_not_the_platforms_shape_fails_loudly() -> None:
    with pytest.raises(ProviderError) as raised:
        read_thread("disqus", [("https://disqus.example/api", b'{"code": 0, "response": [{"id": "1"}], "cursor": {}}')])
    assert raised.value.reason == "provider_changed"
    with pytest.raises(ProviderError):
        read_thread("viafoura", [("https://lc.example/v4/livecomments/s", b"not json")])


@pytest.mark.parametrize("post_id", ["story\r\nX-Injected: 1", "störy-3310", ""])
def test_ids_that_cannot_travel_in_a_header_give_no_thread(site: ProviderSite, post_id: str) -> None:
    html = (FIXTURES / "pages" / "openweb.html").read_text(encoding="utf-8").replace("{base}", site.base_url)
    html = html.replace('data-post-id="story-3310"', f'data-post-id="{post_id}"')
    assert parse_article(html.encode(), site.page_url("openweb")).comment_sources == ()


REAL_PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "realpages"
# Real publishers' pages (the development set): what their embeds say about the thread.
REAL_THREADS = [
    ("us__TheGatewayPundit_2026_07_19", "disqus", {"forum": "thegatewaypundit", "ident": "1690335"}),
    ("de__Postillon_2024_04_25", "disqus",
     {"forum": "postillon", "link": "https://www.der-postillon.com/2018/04/ostsee-krokodil.html"}),
    ("uk__EveningStandard_2024_05_02", "viafoura", {"container_id": "1155186", "site": "www.standard.co.uk"}),
    ("uk__TheMirror_2024_04_28", "viafoura", {"container_id": "mirror-prod-32676317", "site": "www.mirror.co.uk"}),
    ("ca__NationalPost_2024_08_28", "viafoura",
     {"container_id": "6b2a85eb-fa84-4653-9404-30165f340113", "site": "nationalpost.com"}),
    ("de__Focus_2023_04_28", "coral", {"root_url": "https://kommentare.focus.de"}),
    ("us__Wired_2024_04_28", "coral", {"root_url": "https://condenast.coral.coralproject.net"}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "provider", "thread"), REAL_THREADS, ids=[c for c, _, _ in REAL_THREADS])
def test_real_pages_name_their_threads(case: str, provider: str, thread: dict[str, str]) -> None:
    url = next(json.loads(line)["url"] for line in (REAL_PAGES / "cases.jsonl").open() if f'"{case}"' in line)
    record = parse_article(gzip.decompress((REAL_PAGES / "pages" / f"{case}.html.gz").read_bytes()), url)
    (source,) = record.comment_sources
    assert source.provider == provider and {k: source.thread[k] for k in thread} == thread


def test_a_platform_id_too_long_for_the_store_is_hashed() -> None:
    long_id = "x" * 300
    page = json.dumps({"code": 0, "cursor": {"hasNext": False}, "response": [
        {"id": long_id, "parent": None, "message": "<p>hi</p>", "createdAt": "2024-03-02T09:00:00", "author": {}},
    ]}).encode()  # fmt: skip
    (comment,) = read_thread("disqus", [("https://disqus.example/api", page)]).comments
    assert len(comment.id) <= 128 and comment.id.startswith("disqus:h")
    assert comment.id == read_thread("disqus", [("https://disqus.example/api", page)]).comments[0].id
