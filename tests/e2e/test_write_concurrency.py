"""Many writers at once on one Postgres database, all real processes: 10 API clients posting overlapping
batches of URLs in different orders, two `newsflow enqueue --file` runs of overlapping files, two feeds
listing the same articles polled at the same moment, and enrich workers storing articles that share tags,
entities and related links in different orders. Every request must be answered 2xx, every table must hold
exactly the rows the inputs imply, and Postgres must have detected no deadlock in the test database.

The API and the CLI runs publish to a broker database no worker reads, so the thousands of URLs they
queue are never fetched (only their writes matter here); the feeds' articles go through the whole
pipeline on the real broker."""

from __future__ import annotations

import contextlib
import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from services.demosite.content import COMMENTS_PATH, _json_comment, render_article, render_comments_page
from services.enrich.enrichment import enrich_record
from services.enrich.fingerprint import similarity
from services.enrich.gazetteer import load_gazetteer
from services.enrich.links import link_edges
from services.parse.article import parse_article
from services.parse.stages import trusted_canonical
from shared import models
from shared.db import session_scope
from tests.e2e.stack import Stack, leased_redis_dbs
from tests.e2e.test_api_e2e import free_port, wait_ready
from tests.helpers.httpserver import LocalServer, Request, Route

pytestmark = pytest.mark.e2e

TOKEN = "concurrency-token-0123456789abcdef0123"  # the API refuses tokens under 32 characters
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CLIENTS, MIN_ROUNDS, MAX_ROUNDS, BATCH = 10, 3, 8, 500
API_POOL, CLI_POOL = range(0, 3000), range(2000, 3500)  # the CLI files overlap each other and the API's URLs
ARTICLES = 24
HTML = "text/html; charset=utf-8"
TAGS = ["Ukraine", "Sergei Lavrov", "Rex Tillerson", "G20", "NATO", "Diplomacy", "Sanctions", "Energy", "Bonn"]
ENTITIES = ["Berlin", "Moscow", "Paris", "Angela Merkel", "Vladimir Putin", "Donald Trump", "Kremlin", "Warsaw"]
SYLLABLES = ["ka", "lo", "mir", "ten", "vos", "dre", "pul", "sa", "nor", "bik", "zel", "tam", "ro", "fin", "gu"]


def pool_url(k: int) -> str:
    """A URL that is queued, never fetched (its port has no server; nothing consumes its message)."""
    return f"http://127.0.0.1:9/pool/{k:05d}/story/"


def article_path(i: int) -> str:
    return f"/world/2017/{i:03d}-shared-story/"


def _words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choices(SYLLABLES, k=3)) for _ in range(n))


def make_article(i: int) -> dict:
    """Article `i`: a sample of the shared tags and entities in its own order, related links to its two
    neighbours (which link back), filler text of its own (so no two articles are near-duplicates)."""
    rng = random.Random(1000 + i)
    mentions = rng.sample(ENTITIES, 5)
    body = [f"Officials in {a} and {b} spoke about it. {_words(rng, 40)}." for a, b in itertools.pairwise(mentions)]
    published = datetime(2017, 2, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=37 * i)
    return {
        "path": article_path(i),
        "id": f"77{i:06d}",
        "section": "World",
        "rubric": "world",
        "title": f"Shared story number {i}: {_words(rng, 3)}",
        "lead": f"{_words(rng, 12)}.",
        "published_at": published.isoformat(),
        "updated_at": None,
        "image_caption": f"Photo {i}.",
        "credit": "© test",
        "body": body,
        "tags": [{"name": t, "slug": t.replace(" ", "")} for t in rng.sample(TAGS, 6)],
        "views": 1,
        "comments": [
            {
                "id": f"{i + 1}{c:02d}",
                "user_id": str(500 + c),
                "author": f"Reader {c}",
                "posted_at": (published + timedelta(minutes=5 + c)).strftime("%Y-%m-%dT%H:%M:%S"),
                "parent_id": None,
                "text": f"Comment {c} on story {i}: {_words(rng, 6)}",
            }
            for c in range(3)
        ],
        "related": [article_path((i + 1) % ARTICLES), article_path((i - 1) % ARTICLES)],
    }


def feed(base_url: str, order: list[int]) -> bytes:
    items = "".join(
        f"<item><title>Story {i}</title><link>{base_url}{article_path(i)}</link>"
        f"<pubDate>{format_datetime(datetime(2017, 2, 1, tzinfo=UTC) + timedelta(minutes=37 * i))}</pubDate></item>"
        for i in order
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title><link>{base_url}/</link>'
        f"<description>d</description>{items}</channel></rss>"
    ).encode()


def site_routes(base_url: str) -> tuple[dict, dict[str, bytes]]:
    """Routes of the test site and the article pages by URL. The two feeds list the same articles in
    opposite orders and answer only once both were asked for, so that both polls write at once; the
    comments endpoint the site profile names serves each article's comments as JSON too."""
    articles = [make_article(i) for i in range(ARTICLES)]
    titles = {a["path"]: a["title"] for a in articles}
    pages = {base_url + a["path"]: render_article(a, titles, base_url) for a in articles}
    both_asked = threading.Barrier(2)

    def feed_route(order: list[int]):
        def answer(_: Request) -> Route:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_asked.wait(timeout=20)
            return Route(body=feed(base_url, order), content_type="application/rss+xml")

        return answer

    comments = {a["id"]: [_json_comment(c) for c in a["comments"]] for a in articles}

    def comments_route(request: Request) -> Route:
        query = parse_qs(urlsplit(request.path).query)
        page = render_comments_page(comments[query["article_id"][0]], int(query["page"][0]))
        return Route(body=page.body, content_type=page.content_type)

    routes: dict = {path[len(base_url) :]: Route(body=html, content_type=HTML) for path, html in pages.items()}
    routes[COMMENTS_PATH] = comments_route
    routes["/robots.txt"] = Route(body="User-agent: *\nAllow: /\n", content_type="text/plain")
    routes["/feeds/a.xml"] = feed_route(list(range(ARTICLES)))
    routes["/feeds/b.xml"] = feed_route(list(reversed(range(ARTICLES))))
    return routes, pages


def expected_rows(pages: dict[str, bytes]) -> dict[str, int]:
    """Rows the articles must leave, from the same pure parse and enrich functions the workers run."""
    gazetteer = load_gazetteer(None)
    tags: set[str] = set()
    entities: set[str] = set()
    rows = dict.fromkeys(["article_tags", "article_entities", "article_keywords", "fingerprint_bands"], 0)
    rows |= dict.fromkeys(["links", "comments", "comment_versions", "article_duplicates"], 0)
    signatures = []
    for url, html in pages.items():
        record = trusted_canonical(parse_article(html, url, content_type=HTML))
        enriched = enrich_record(record, gazetteer)
        tags |= {t.key for t in enriched.tags} | {k.key for k in enriched.keywords}
        entities |= {e.key for e in enriched.entities}
        rows["article_tags"] += len(enriched.tags)
        rows["article_entities"] += len(enriched.entities)
        rows["article_keywords"] += len(enriched.keywords)
        rows["fingerprint_bands"] += len(set(enriched.fingerprint.bands)) if enriched.fingerprint else 0
        rows["links"] += len(link_edges(record.related_links, record.url))
        rows["links"] += len(link_edges(record.body_links, record.url, kind="body"))
        rows["comments"] += len(record.comments)
        rows["comment_versions"] += len(record.comments)
        if enriched.fingerprint:
            signatures.append(enriched.fingerprint.signature)
    rows["article_duplicates"] = sum(
        similarity(a, b) >= 0.6 for k, a in enumerate(signatures) for b in signatures[k + 1 :]
    )
    return rows | {"tags": len(tags), "entities": len(entities), "articles": len(pages)}


def deadlocks(admin_url: str, database_url: str) -> int:
    """Deadlocks Postgres detected in the stack's database so far (pg_stat_database)."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return conn.execute(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = :db"),
                {"db": make_url(database_url).database},
            ).scalar_one()
    finally:
        engine.dispose()


@dataclass
class Clients:
    """10 API clients posting random overlapping batches (each in its own order) until told to stop."""

    base_url: str
    stop: threading.Event = field(default_factory=threading.Event)
    posted: set[str] = field(default_factory=set)
    answers: list[tuple[int, str]] = field(default_factory=list)  # (status, error reason or "")
    queued: int = 0
    seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, client: int) -> None:
        with httpx.Client(base_url=self.base_url, headers=AUTH, timeout=60) as api:
            for round_ in range(MAX_ROUNDS):
                if round_ >= MIN_ROUNDS and self.stop.is_set():
                    return
                batch = [pool_url(k) for k in random.Random(client * 100 + round_).sample(API_POOL, BATCH)]
                started = time.perf_counter()
                answer = api.post("/urls", json={"urls": batch})
                took = time.perf_counter() - started
                body = answer.json()
                with self.lock:
                    self.seconds.append(took)
                    self.answers.append((answer.status_code, body.get("error", "")))
                    if answer.status_code == 202:
                        self.posted.update(batch)
                        self.queued += body["queued"]


def test_many_writers_at_once_no_deadlock_exact_rows(stack: Stack, postgres_admin_url: str, redis_url: str):
    started = time.monotonic()
    server = LocalServer().start()
    routes, pages = site_routes(server.base_url)
    server.routes.update(routes)
    expected = expected_rows(pages)
    files = {}
    for n, order_seed in ((1, 1), (2, 2)):
        urls = [pool_url(k) for k in CLI_POOL]
        random.Random(order_seed).shuffle(urls)
        files[n] = stack.logs / f"urls-{n}.txt"
        files[n].write_text("\n".join(urls) + "\n")
    before = deadlocks(postgres_admin_url, stack.database_url)
    port = free_port()
    with leased_redis_dbs(redis_url, 1) as (sink,):
        stack.extra_env.update(NEWSFLOW_API_TOKEN=TOKEN)
        for service, concurrency in (("ingest", 2), ("parse", 2), ("enrich", 4)):
            stack.start(f"worker-{service}", "worker", service, f"--concurrency={concurrency}")
        stack.extra_env["NEWSFLOW_BROKER_URL"] = sink  # the API and the CLI runs publish where no one reads
        stack.start("api", "api", "--host", "127.0.0.1", "--port", str(port))
        clients = Clients(f"http://127.0.0.1:{port}")
        with httpx.Client(base_url=clients.base_url, timeout=10) as probe:
            wait_ready(probe, stack)
        threads = [threading.Thread(target=clients.run, args=(c,)) for c in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            enqueues = [stack.start(f"enqueue-{n}", "enqueue", "--file", str(path)) for n, path in files.items()]
            del stack.extra_env["NEWSFLOW_BROKER_URL"]
            stack.cli("feeds", "add", server.url("/feeds/a.xml"), server.url("/feeds/b.xml"))
            done = _wait_articles_done(stack, list(pages), timeout=90)
        finally:
            clients.stop.set()
            for thread in threads:
                thread.join(timeout=120)
        enqueue_codes = [proc.wait(timeout=60) for proc in enqueues]
        cli_lines = [
            line.split("\t")
            for n in files
            for line in (stack.logs / f"enqueue-{n}.log").read_text().splitlines()
            if line.count("\t") == 2
        ]
        stack.stop_all()  # the workers' and the API's backends exit and flush their statistics
    server.stop()
    after = deadlocks(postgres_admin_url, stack.database_url)
    counts = stack.counts()
    with session_scope(stack.database_url) as session:
        unresolved = session.execute(
            select(func.count())
            .select_from(models.Link)
            .where(models.Link.kind == "related", models.Link.target_article_id.is_(None))
        ).scalar_one()
    statuses = sorted({s for s, _ in clients.answers})
    refused = [a for a in clients.answers if not 200 <= a[0] < 300]
    seconds = sorted(clients.seconds)
    summary = (
        f"deadlocks before={before} after={after}; API requests={len(clients.answers)} statuses={statuses} "
        f"refused={len(refused)} {sorted(set(refused))[:3]}; p95={seconds[int(0.95 * (len(seconds) - 1))]:.2f}s "
        f"max={seconds[-1]:.2f}s; CLI exit codes={enqueue_codes}; articles done={done}/{len(pages)}; "
        f"took {time.monotonic() - started:.0f}s"
    )
    print(f"\nwrite concurrency: {summary}")

    assert not refused and len(clients.answers) >= CLIENTS * MIN_ROUNDS, summary
    assert enqueue_codes == [0, 0], f"{summary}\n{stack.log_tail()}"
    assert done == len(pages), f"{summary}\n{stack.log_tail()}"
    cli_urls = {url for _, _, url in cli_lines}
    assert len(cli_lines) == 2 * len(CLI_POOL) and cli_urls == {pool_url(k) for k in CLI_POOL}
    # Every URL was created by exactly one writer: the API's and the CLI's "queued" add up to the distinct URLs.
    cli_queued = sum(status == "queued" for _, status, _ in cli_lines)
    assert clients.queued + cli_queued == len(clients.posted | cli_urls), summary
    assert counts["urls"] == len(clients.posted | cli_urls) + len(pages)
    assert counts["feeds"] == 2 and counts["comment_fetches"] == 2 * ARTICLES  # a page of 3, then an empty one
    tables = ["articles", "tags", "entities", "article_tags", "article_entities", "article_keywords"]
    tables += ["fingerprint_bands", "links", "comments", "comment_versions", "article_duplicates"]
    assert {t: counts[t] for t in tables} == {t: expected[t] for t in tables}, summary
    assert expected["tags"] < expected["article_tags"] and expected["entities"] < expected["article_entities"]
    assert unresolved == 0
    assert after == before, summary


def _wait_articles_done(stack: Stack, urls: list[str], timeout: float) -> int:
    """Wait until every article URL is done (or failed); returns how many are done."""
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        for name, proc in stack.procs.items():
            if name.startswith(("worker", "api")) and proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}\n{stack.log_tail()}")
        with session_scope(stack.database_url) as session:
            rows = session.execute(select(models.Url.url, models.Url.state).where(models.Url.url.in_(urls))).all()
        states = dict(rows)
        done = sum(s == "done" for s in states.values())
        if len(states) == len(urls) and all(s in ("done", "failed") for s in states.values()):
            return done
        time.sleep(0.5)
    return done
