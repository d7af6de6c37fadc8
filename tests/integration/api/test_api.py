"""The HTTP API on a real Postgres store: auth, queueing, URL state, feeds, articles, comment events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.api.app import create_app
from shared import models
from shared.config import Settings
from shared.db import session_scope
from shared.errors import WriteConflictError
from shared.records import LinkEdge, TagRecord
from shared.store import articles, frontier, graph
from shared.urls import url_hash
from tests.integration.api.conftest import AUTH, TOKEN, add_article, load_record

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def url_count(url: str) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(models.Url)).scalar_one()


# Auth ------------------------------------------------------------------------------------------


def test_writes_need_the_bearer_token(client, db_url):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        answer = client.post("/urls", json={"url": "https://example.com/a"}, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["error"] == "unauthorized"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert url_count(db_url) == 0
    assert client.post("/urls", json={"url": "https://example.com/a"}, headers=AUTH).status_code == 202


def test_reads_need_the_token_unless_public(client, settings):
    assert client.get("/articles").status_code == 401
    assert client.get("/articles", headers=AUTH).status_code == 200
    public = TestClient(create_app(settings.model_copy(update={"api_public_reads": True})))
    assert public.get("/articles").status_code == 200
    assert public.post("/urls", json={"url": "https://example.com/a"}).status_code == 401


def test_without_a_configured_token_writes_are_closed(settings):
    closed = TestClient(create_app(settings.model_copy(update={"api_token": "", "api_public_reads": True})))
    answer = closed.post("/urls", json={"url": "https://example.com/a"}, headers={"Authorization": "Bearer "})
    assert answer.status_code == 401
    assert answer.json()["error"] == "writes_disabled"
    assert "NEWSFLOW_API_TOKEN" in answer.json()["detail"]
    assert closed.get("/articles").status_code == 200


def test_probes_and_metrics_are_open(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["ok"] is True
    client.get("/urls/12345", headers=AUTH)
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'newsflow_api_requests_total{method="GET",route="/urls/{url_id}",status="4xx"}' in metrics.text


# Queueing --------------------------------------------------------------------------------------


def test_queue_one_then_a_batch_says_what_was_known(client, db_url):
    one = client.post("/urls", json={"url": "https://Example.com/a?utm_source=x#top", "priority": 5}, headers=AUTH)
    assert one.status_code == 202
    first = one.json()
    assert first["items"] == [{"id": first["items"][0]["id"], "url": "https://example.com/a", "status": "queued"}]
    assert (first["queued"], first["known"], first["published"]) == (1, 0, False)

    batch = client.post(
        "/urls", json={"urls": ["https://example.com/a", "https://example.com/b"], "priority": 1}, headers=AUTH
    ).json()
    assert [i["status"] for i in batch["items"]] == ["known", "queued"]
    assert batch["items"][0]["id"] == first["items"][0]["id"]
    assert (batch["queued"], batch["known"]) == (1, 1)

    state = client.get(f"/urls/{first['items'][0]['id']}", headers=AUTH).json()
    assert (state["state"], state["next_stage"], state["priority"], state["source"]) == ("queued", "fetch", 5, "api")
    assert state["attempts"] == 0 and state["last_error"] is None
    assert url_count(db_url) == 2


def test_a_repoll_policy_is_stored_on_every_url_of_the_request(client, db_url):
    plain = client.post("/urls", json={"url": "https://example.com/plain"}, headers=AUTH).json()
    assert plain["repoll_applied"] is False
    policy = {"every_seconds": 1800, "stop_after_days": 2}
    answer = client.post(
        "/urls", json={"urls": ["https://example.com/plain", "https://example.com/new"], "repoll": policy}, headers=AUTH
    ).json()
    assert answer["repoll_applied"] is True
    off = client.post(
        "/urls", json={"url": "https://example.com/quiet", "repoll": {"stop_after_days": 0}}, headers=AUTH
    )
    assert off.json()["repoll_applied"] is True
    with session_scope(db_url) as session:
        stored = dict(session.execute(select(models.Url.url, models.Url.repoll_schedule)).all())
    assert stored == {
        "https://example.com/plain": "2d=1800s",
        "https://example.com/new": "2d=1800s",
        "https://example.com/quiet": "off",
    }


def test_a_bad_url_refuses_the_whole_batch_with_its_index(client, db_url):
    answer = client.post(
        "/urls", json={"urls": ["https://example.com/ok", "ftp://example.com/x", "http://"]}, headers=AUTH
    )
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "invalid_url"
    assert [p["index"] for p in body["problems"]] == [1, 2]
    assert "nothing was stored" in body["detail"]
    assert url_count(db_url) == 0


def test_oversized_batches_and_bodies_are_413(client, db_url):
    urls = [f"https://example.com/{i}" for i in range(6)]
    answer = client.post("/urls", json={"urls": urls}, headers=AUTH)
    assert answer.status_code == 413
    assert answer.json()["error"] == "batch_too_large"
    huge = client.post(
        "/urls", content=b'{"url": "' + b"x" * 300_000 + b'"}', headers={**AUTH, "Content-Type": "application/json"}
    )
    assert huge.status_code == 413
    assert huge.json()["error"] == "body_too_large"
    assert url_count(db_url) == 0


def test_invalid_bodies_and_parameters_are_json_4xx(client):
    cases = [
        ("post", "/urls", {"json": {}}),
        ("post", "/urls", {"json": {"url": "https://a.com", "urls": ["https://b.com"]}}),
        ("post", "/urls", {"json": {"urls": []}}),
        ("post", "/urls", {"json": {"url": "https://a.com", "priority": 10**9}}),
        ("post", "/urls", {"json": {"url": "https://a.com", "repoll": {"every_seconds": 1}}}),
        ("post", "/urls", {"json": {"url": "https://a.com/\x00"}}),
        ("post", "/urls", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
        ("get", "/urls/0", {}),
        ("get", f"/urls/{2**70}", {}),
        ("get", "/articles?limit=0", {}),
        ("get", "/articles?since=yesterday", {}),
        ("get", "/articles?site=%00", {}),
        ("get", "/search", {}),
    ]
    for method, path, kwargs in cases:
        headers = {**AUTH, **kwargs.pop("headers", {})}
        answer = getattr(client, method)(path, headers=headers, **kwargs)
        assert answer.status_code == 422, (path, kwargs, answer.text)
        assert answer.json()["error"] in {"invalid_request", "invalid_url"}
        assert answer.json()["detail"]


def test_unknown_ids_and_routes_are_404(client):
    for path in ("/urls/999", "/articles/999", "/articles/999/comments/events", "/nowhere"):
        answer = client.get(path, headers=AUTH)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "not_found"
    assert client.delete("/urls/1", headers=AUTH).json()["error"] == "method_not_allowed"


def test_url_state_shows_attempts_and_last_error(client, db_url):
    url_id = client.post("/urls", json={"url": "https://example.com/gone"}, headers=AUTH).json()["items"][0]["id"]
    with session_scope(db_url) as session:
        frontier.record_attempt_failure(
            session, url_id, "fetch", "http_404", "404 Not Found", retry_delay=lambda _: None
        )
    state = client.get(f"/urls/{url_id}", headers=AUTH).json()
    assert (state["state"], state["attempts"], state["next_stage"]) == ("failed", 1, None)
    assert state["last_error"]["reason"] == "http_404"
    assert state["last_error"]["stage"] == "fetch"


def test_feeds_are_registered_once_and_listed(client):
    added = client.post("/feeds", json={"urls": ["https://example.com/rss", "https://example.com/rss#x"]}, headers=AUTH)
    assert added.status_code == 201
    assert [i["status"] for i in added.json()["items"]] == ["added", "known"]
    listed = client.get("/feeds", headers=AUTH).json()["items"]
    assert [(f["url"], f["state"], f["error_count"]) for f in listed] == [("https://example.com/rss", "ok", 0)]
    assert client.post("/feeds", json={"url": "javascript:alert(1)"}, headers=AUTH).status_code == 422


def test_store_down_is_503_json(settings):
    down = settings.model_copy(update={"database_url": "postgresql+psycopg://postgres@127.0.0.1:1/none"})
    with TestClient(create_app(down), raise_server_exceptions=False) as client:
        answer = client.get("/urls/1", headers=AUTH)
        assert answer.status_code == 503
        assert answer.json()["error"] == "store_unavailable"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"]["ok"] is False


def test_readyz_checks_the_broker(settings, redis_url):
    with TestClient(create_app(settings.model_copy(update={"broker_url": redis_url}))) as client:
        assert client.get("/readyz").json()["checks"]["broker"] == {"ok": True, "detail": None}
    with TestClient(create_app(settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"}))) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["broker"]["ok"] is False


# Articles --------------------------------------------------------------------------------------


def test_article_detail_has_everything_stored(client, db_url):
    record = load_record()
    seed_id = add_article(db_url)
    other_url = "https://sputniknews.com/politics/201702151050687841-tillerson-kosovo-support/"
    other_id = add_article(db_url, url=other_url, canonical_url=other_url, title="Kosovo", comments=())
    with session_scope(db_url) as session:
        articles.upsert_comments(session, seed_id, record.comments)
        graph.set_article_tags(session, seed_id, [TagRecord("bonn", "Bonn", "Bonn")])
        graph.set_article_links(
            session, other_id, [LinkEdge(record.canonical_url, url_hash(record.canonical_url), "x")]
        )
        graph.resolve_links(session, other_id, url_hash(other_url))

    detail = client.get(f"/articles/{seed_id}", headers=AUTH).json()
    assert detail["record"]["title"] == record.title
    assert detail["tags"] == [{"key": "bonn", "name": "Bonn", "kind": None, "raw": "Bonn"}]
    assert detail["links_in"] == [
        {"article_id": other_id, "url": other_url, "title": "Kosovo", "anchor": "x", "kind": "related"}
    ]
    assert len(detail["comments"]) == len(record.comments) == 20
    assert all(len(c["versions"]) == 1 for c in detail["comments"])
    assert [(r["revision"], r["changed_fields"], r["title"]) for r in detail["revisions"]] == [(1, [], record.title)]
    out = client.get(f"/articles/{other_id}", headers=AUTH).json()["links_out"]
    assert [(link["target_article_id"], link["target_title"]) for link in out] == [(seed_id, record.title)]


def test_article_listing_filters(client, db_url):
    record = load_record()
    with_comments = add_article(db_url)
    with session_scope(db_url) as session:
        articles.upsert_comments(session, with_comments, record.comments)
        graph.set_article_tags(session, with_comments, [TagRecord("bonn", "Bonn", "Bonn")])
    old = add_article(
        db_url,
        url="https://other.example/x",
        canonical_url="https://other.example/x",
        published_at=T0 - timedelta(days=400),
    )
    new = add_article(
        db_url, url="https://www.other.example/y", canonical_url="https://www.other.example/y", published_at=T0
    )

    def ids(**params: object) -> list[int]:
        answer = client.get("/articles", params=params, headers=AUTH)
        assert answer.status_code == 200, answer.text
        return [a["id"] for a in answer.json()["items"]]

    assert ids() == [new, old, with_comments]
    assert ids(site="other.example") == [new, old]
    assert ids(site="www.other.example") == [new]
    assert ids(site="nowhere.example") == []
    assert ids(site="SPUTNIKNEWS.com") == [with_comments]
    assert ids(tag="bonn") == [with_comments]
    assert ids(tag="nope") == []
    assert ids(has_comments="true") == [with_comments]
    assert ids(has_comments="false") == [new, old]
    assert ids(since=(T0 - timedelta(days=1)).isoformat()) == [new]
    assert ids(entity="Rex Tillerson") == []
    summary = client.get("/articles", params={"tag": "bonn"}, headers=AUTH).json()["items"][0]
    assert summary["tags"] == ["bonn"] and summary["host"] == "sputniknews.com"


def test_pagination_is_stable_under_inserts(client, db_url):
    def add(i: int) -> int:
        url = f"https://example.com/{i}"
        return add_article(db_url, url=url, canonical_url=url, title=f"Article {i}", comments=())

    before = [add(i) for i in range(7)]
    page = client.get("/articles", params={"limit": 3}, headers=AUTH).json()
    seen = [a["id"] for a in page["items"]]
    added = [add(100 + i) for i in range(4)]  # arrive while the client pages
    while page["next_cursor"]:
        page = client.get("/articles", params={"limit": 3, "cursor": page["next_cursor"]}, headers=AUTH).json()
        seen += [a["id"] for a in page["items"]]
    assert seen == sorted(before, reverse=True)
    fresh = client.get("/articles", params={"limit": 4}, headers=AUTH).json()
    assert [a["id"] for a in fresh["items"]] == sorted(added, reverse=True)
    bad = client.get("/articles", params={"cursor": "bm9wZQ"}, headers=AUTH)
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_cursor")


def test_comment_events_in_order_with_since_cursor(client, db_url):
    first, later = load_record(), load_record("sputnik_2017_tillerson_lavrov.later")
    article_id = add_article(db_url, first)
    t1, t2, t3 = T0, T0 + timedelta(hours=3), T0 + timedelta(hours=6)
    with session_scope(db_url) as session:
        articles.upsert_comments(session, article_id, first.comments, seen_at=t1)
        articles.upsert_comments(session, article_id, later.comments, seen_at=t2)
        articles.upsert_comments(session, article_id, [c for c in later.comments if c.id != "1050773838"], seen_at=t3)

    events, since = [], None
    for _ in range(10):
        params = {"limit": 7, **({"since": since} if since else {})}
        page = client.get(f"/articles/{article_id}/comments/events", params=params, headers=AUTH).json()
        if not page["events"]:
            assert page["next_since"] == since
            break
        events += page["events"]
        since = page["next_since"]
    kinds = [(e["kind"], e["at"]) for e in events]
    assert len(events) == 20 + 3 + 1 + 1
    assert [k for k, _ in kinds].count("new") == 23
    assert [e["comment_id"] for e in events if e["kind"] == "edited"] == ["1050774166"]
    assert events[-1]["kind"] == "deleted" and events[-1]["comment_id"] == "1050773838"
    assert [at for _, at in kinds] == sorted(at for _, at in kinds)
    assert len({e["cursor"] for e in events}) == len(events)

    from_t2 = client.get(
        f"/articles/{article_id}/comments/events", params={"since": t2.isoformat()}, headers=AUTH
    ).json()["events"]
    assert sorted(e["kind"] for e in from_t2) == ["deleted", "edited", "new", "new", "new"]
    bad = client.get(f"/articles/{article_id}/comments/events", params={"since": "garbage"}, headers=AUTH)
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_cursor")


def test_search_ranks_title_matches_first(client, db_url):
    seed = load_record()
    in_title = add_article(db_url, seed)
    url = "https://example.com/body-only"
    in_body = add_article(
        db_url,
        seed,
        url=url,
        canonical_url=url,
        title="A quiet day in Bonn",
        lead="Nothing happened.",
        body_paragraphs=("Diplomats met; Tillerson was mentioned once.",),
    )
    unrelated = "https://example.com/weather"
    add_article(
        db_url, seed, url=unrelated, canonical_url=unrelated, title="Weather", lead="Sun.", body_paragraphs=("Rain.",)
    )

    hits = client.get("/search", params={"q": "tillerson"}, headers=AUTH).json()["items"]
    assert [h["id"] for h in hits] == [in_title, in_body]
    assert hits[0]["rank"] > hits[1]["rank"]
    assert "[" in (hits[0]["snippet"] or "")
    assert [
        h["id"] for h in client.get("/search", params={"q": '"quiet day" -weather'}, headers=AUTH).json()["items"]
    ] == [in_body]
    for odd in ('"unbalanced', "-", "or", "NEAR(a b", "*", "a & | ! b", "'); drop table articles; --"):
        assert client.get("/search", params={"q": odd}, headers=AUTH).status_code == 200, odd


def test_search_ranks_the_newest_matches_and_pages_past_them(client, db_url, monkeypatch):
    # Postgres ranks the newest RANK_WINDOW matches (ranking every match of a common word in a large
    # store reads every match's vector); a page beyond the window widens it to reach that page.
    from shared.store import search

    seed = load_record()
    body = ("Diplomats met; Tillerson was mentioned once.",)
    ids = []
    for n in range(3):
        url = f"https://example.com/story-{n}"
        title = "Tillerson in Bonn" if n == 0 else f"A quiet day {n}"
        ids.append(add_article(db_url, seed, url=url, canonical_url=url, title=title, lead="", body_paragraphs=body))
    monkeypatch.setattr(search, "RANK_WINDOW", 2)
    # The oldest article has the best match (its title) but is outside the window of the newest two.
    first = client.get("/search", params={"q": "tillerson", "limit": 2}, headers=AUTH).json()["items"]
    assert [h["id"] for h in first] == [ids[2], ids[1]]
    assert [
        h["id"] for h in client.get("/search", params={"q": "tillerson", "limit": 3}, headers=AUTH).json()["items"]
    ] == [
        ids[0],
        ids[2],
        ids[1],
    ]
    page = client.get("/search", params={"q": "tillerson", "limit": 1, "offset": 2}, headers=AUTH).json()["items"]
    assert [h["id"] for h in page] == [ids[1]]


def test_search_finds_the_newest_matches_tier_by_tier(client, db_url, monkeypatch):
    # Postgres looks for the newest matches in id ranges, newest first, each wider than the one
    # before (window 2, growth 2, 3 tiers: over ids 1-12, tiers 9-12, 5-8 and 1-4 at first).
    from shared.store import search

    seed = load_record()
    mentions = {1: ("Tillerson in Bonn", "Tillerson spoke."), 3: ("Day 3", "Tillerson."), 6: ("Day 6", "Tillerson.")}
    ids = []
    for n in range(1, 13):
        url = f"https://example.com/story-{n}"
        title, body = mentions.get(n, (f"Day {n}", "Nothing to see." if n != 2 else "An aardvark."))
        ids.append(add_article(db_url, seed, url=url, canonical_url=url, title=title, lead="", body_paragraphs=(body,)))
    assert ids == list(range(1, 13))
    monkeypatch.setattr(search, "RANK_WINDOW", 2)
    monkeypatch.setattr(search, "TIER_GROWTH", 2)
    monkeypatch.setattr(search, "TIERS", 3)

    def found(q: str, **params: int) -> list[int]:
        items = client.get("/search", params={"q": q, **params}, headers=AUTH).json()["items"]
        return [h["id"] for h in items]

    # The newest two matches lie in the second and third tiers; the best match (1) is older than both.
    assert found("tillerson", limit=2) == [6, 3]
    # A page past the window widens it (and the tiers with it) to the three newest matches.
    assert found("tillerson", limit=3) == [1, 6, 3]
    assert found("tillerson", limit=1, offset=2) == [3]
    # A word of one old article only is found in the last tier; a word of none, nowhere.
    assert found("aardvark") == [2]
    assert found("okapi") == []


def test_search_on_sqlite_embedded_mode(sqlite_url):
    seed = load_record()
    settings = Settings(database_url=sqlite_url, api_token=TOKEN, api_public_reads=True)
    in_title = add_article(sqlite_url, seed)
    url = "https://example.com/body-only"
    in_body = add_article(
        sqlite_url, seed, url=url, canonical_url=url, title="A quiet day", lead="", body_paragraphs=("Tillerson once.",)
    )
    # An update re-indexes through the triggers: the old title no longer matches.
    add_article(sqlite_url, dataclasses.replace(seed, title="Renamed headline about Lavrov"))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        hits = client.get("/search", params={"q": "tillerson"}).json()["items"]
        assert [h["id"] for h in hits] == [in_title, in_body]
        assert hits[0]["rank"] > hits[1]["rank"]
        assert [h["id"] for h in client.get("/search", params={"q": "renamed headline"}).json()["items"]] == [in_title]
        assert client.get("/search", params={"q": "awkward cringe"}).json()["items"] == []
        for odd in ('"unbalanced', "-", "or", "NEAR(a b", "*", "a AND", "title:x", "^x"):
            assert client.get("/search", params={"q": odd}).status_code == 200, odd
        queued = client.post("/urls", json={"url": "https://example.com/n"}, headers=AUTH).json()
        assert (queued["queued"], queued["published"]) == (1, False)


def test_a_write_conflict_is_503_write_conflict_not_store_unavailable(settings):
    app = create_app(settings)

    @app.get("/conflict")
    def conflict() -> None:
        raise WriteConflictError(detail="deadlock detected")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/conflict")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert answer.json() == {
        "error": "write_conflict",
        "detail": "the write collided with concurrent writes and was rolled back; nothing was stored; try again",
        "problems": [],
    }
