"""A generated news site of N articles (feeds, comments, related links) and a fast server for it.

Article `i` is rendered on demand from a seeded RNG through the demo site's article template, so
100,000 articles cost no disk and every run serves the very same bytes. The server is a bare
asyncio protocol (keep-alive, GET/HEAD, pre-rendered responses cached in memory) so that it is
never the bottleneck of a benchmark: `python -m services.demosite.generated --measure` gives its rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from html import escape
from typing import Any

from services.demosite.content import HTML, RSS, TEXT, load_articles, render_article

FEED_PAGE = 500  # entries per feed page: /feeds/K.xml lists articles K*FEED_PAGE .. (K+1)*FEED_PAGE-1
EPOCH = datetime(2017, 1, 1, 6, 0, tzinfo=UTC)
LAST_MODIFIED = format_datetime(datetime(2017, 3, 29, 22, 51, tzinfo=UTC), usegmt=True)
HOSTILE_TITLE = "<script>alert('x')</script> Robert'); DROP TABLE articles;-- & \"quotes\" {{7*7}} ${x}"


def article_path(i: int) -> str:
    """The path of article `i`."""
    return f"/news/2017/{i:06d}-generated-story-{i}/"


def article_index(path: str) -> int | None:
    """The index of the article at `path`, or None when it is not an article path."""
    if not path.startswith("/news/2017/") or len(path) < 18:
        return None
    head = path[11:17]
    return int(head) if head.isdigit() and path == article_path(int(head)) else None


@cache
def _corpus() -> tuple[list[str], list[str], list[dict[str, Any]], list[dict[str, str]], list[str]]:
    """Sentences, titles, tags, comment authors and comment texts drawn from the demo articles."""
    data = load_articles()
    articles = [*data["related"], data["private"]]
    paragraphs = [p for a in articles for p in a["body"]]
    titles = [a["title"] for a in articles]
    tags = list({t["slug"]: t for a in articles for t in a["tags"]}.values())
    comments = [c for a in articles for c in a["comments"]]
    people = list({c["user_id"]: {"user_id": c["user_id"], "author": c["author"]} for c in comments}.values())
    texts = [c["text"] for c in comments] or ["Interesting."]
    return paragraphs, titles, tags, people, texts


def generate_article(i: int, n: int) -> dict[str, Any]:
    """Article `i` of a site of `n`, in articles.json's format (deterministic in i and n)."""
    paragraphs, titles, tags, people, texts = _corpus()
    rng = random.Random(i * 7919 + 17)
    published = EPOCH + timedelta(minutes=7 * i)
    body = rng.sample(paragraphs, k=min(len(paragraphs), rng.randint(6, 12)))
    comments: list[dict[str, Any]] = []
    for c in range(rng.randint(0, 12)):
        who = rng.choice(people)
        parent = comments[rng.randrange(len(comments))]["id"] if comments and rng.random() < 0.4 else None
        comments.append(
            {
                "id": f"{i:06d}{c:03d}",
                "user_id": who["user_id"],
                "author": who["author"],
                "posted_at": (published + timedelta(minutes=5 + 3 * c)).strftime("%Y-%m-%dT%H:%M:%S"),
                "parent_id": parent,
                "text": rng.choice(texts),
            }
        )
    related = sorted({rng.randrange(n) for _ in range(3)} - {i}) if n > 1 else []
    title = f"{rng.choice(titles)} ({i})"
    if i % 97 == 13:
        title = f"{HOSTILE_TITLE} ({i})"  # stored text is data: markup and SQL-looking strings
    return {
        "path": article_path(i),
        "id": f"9{i:09d}",
        "section": "News",
        "rubric": "news",
        "title": title,
        "lead": body[0][:180],
        "published_at": published.isoformat(),
        "updated_at": None,
        "image_caption": f"Generated photo {i}.",
        "credit": "© newsflow generated site",
        "body": body,
        "tags": rng.sample(tags, k=min(len(tags), rng.randint(2, 5))),
        "views": rng.randint(10, 90000),
        "comments": comments,
        "related": [article_path(r) for r in related],
    }


def render_generated(i: int, n: int, base_url: str) -> bytes:
    """The HTML page of article `i`, with the navigation, sidebar and scripts of a real news page
    around it (~80 KB, as sites serve them), so that parsing costs what it costs in the wild."""
    article = generate_article(i, n)
    titles = {p: f"Related story {article_index(p)}" for p in article["related"]}
    page = render_article(article, titles, base_url)
    head, _, rest = page.partition(b"</head>")
    main, _, tail = rest.partition(b'<div class="l-main m-oh">')
    return head + _boilerplate()[0] + b"</head>" + main + _boilerplate()[1] + b'<div class="l-main m-oh">' + tail


@cache
def _boilerplate() -> tuple[bytes, bytes]:
    """(scripts for <head>, navigation and sidebar markup): the same on every page, as on real sites."""
    rng = random.Random(4242)
    words = " ".join(_corpus()[0]).split()
    script = "\n".join(
        f"window.cfg{k} = {{id: {rng.randint(1, 10**6)}, tags: {[rng.choice(words) for _ in range(12)]!r}}};"
        for k in range(150)
    )
    menu = "".join(
        f'<li class="b-menu__item"><a href="/section/{k}/">{escape(" ".join(rng.sample(words, 2)))}</a>'
        + "".join(f'<a class="b-menu__sub" href="/section/{k}/{j}/">{escape(rng.choice(words))}</a>' for j in range(6))
        + "</li>"
        for k in range(60)
    )
    most_read = "".join(
        f'<li class="b-most__item"><a href="/news/archive/{k}/"><img src="/i/thumb-{k}.png" alt="">'
        f"<span>{escape(' '.join(rng.sample(words, 9)))}</span></a><time>{k % 24:02d}:00</time></li>"
        for k in range(40)
    )
    head = f'<script type="text/javascript">\n{script}\n</script>\n'.encode()
    body = (
        f'<div class="b-header"><ul class="b-menu">{menu}</ul></div>'
        f'<aside class="b-sidebar"><h3>Most read</h3><ul class="b-most">{most_read}</ul></aside>\n'
    ).encode()
    return head, body


def render_feed(page: int, n: int, base_url: str) -> bytes:
    """RSS 2.0 page `page` of the site's articles."""
    first, last = page * FEED_PAGE, min(n, (page + 1) * FEED_PAGE)
    items = "".join(
        f"<item><title>Story {i}</title><link>{base_url}{article_path(i)}</link>"
        f'<guid isPermaLink="true">{base_url}{article_path(i)}</guid>'
        f"<pubDate>{format_datetime(EPOCH + timedelta(minutes=7 * i))}</pubDate></item>\n"
        for i in range(first, last)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Generated news {page}</title><link>{base_url}/</link><description>generated</description>\n"
        f"{items}</channel></rss>\n"
    ).encode()


def render_home(n: int, base_url: str) -> bytes:
    """A home page that links every feed page."""
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="/feeds/{k}.xml">\n'
        for k in range((n + FEED_PAGE - 1) // FEED_PAGE)
    )
    return f"<!DOCTYPE html><html><head><title>{escape('Generated news')}</title>\n{links}</head></html>".encode()


def _response(status: int, content_type: str, body: bytes, head: bool = False) -> bytes:
    reason = {200: "OK", 304: "Not Modified", 404: "Not Found", 405: "Method Not Allowed"}[status]
    etag = hashlib.blake2b(body, digest_size=10).hexdigest()
    header = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f'ETag: "{etag}"\r\nLast-Modified: {LAST_MODIFIED}\r\nConnection: keep-alive\r\n\r\n'
    ).encode()
    return header if head else header + body


class GeneratedSite:
    """The site's responses for a base URL: rendered on first request, kept in a bounded cache."""

    def __init__(self, n: int, base_url: str, cache_size: int = 20_000):
        self.n = n
        self.base_url = base_url
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._pinned: set[str] = set()
        self.requests = 0

    def put(self, path: str, body: bytes, content_type: str = HTML, status: int = 200) -> None:
        """Serve `body` at `path` from now on (tests add hostile or poison pages this way)."""
        self._cache[path] = _response(status, content_type, body)
        self._pinned.add(path)

    def response(self, method: str, path: str) -> bytes:
        """The full HTTP response (status line, headers, body) for a request."""
        self.requests += 1
        if method not in ("GET", "HEAD"):
            return _response(405, TEXT, b"GET only\n")
        path = path.split("?", 1)[0]
        cached = self._cache.get(path)
        if cached is None:
            cached = self._render(path)
            self._cache[path] = cached
            if len(self._cache) > self._cache_size:
                oldest = next(p for p in self._cache if p not in self._pinned)
                del self._cache[oldest]
        if method == "HEAD":
            return cached.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        return cached

    def _render(self, path: str) -> bytes:
        i = article_index(path)
        if i is not None and i < self.n:
            return _response(200, HTML, render_generated(i, self.n, self.base_url))
        if path == "/robots.txt":
            return _response(200, TEXT, b"User-agent: *\nDisallow: /private/\n")
        if path == "/":
            return _response(200, HTML, render_home(self.n, self.base_url))
        if path.startswith("/feeds/") and path.endswith(".xml") and path[7:-4].isdigit():
            page = int(path[7:-4])
            if page * FEED_PAGE < self.n:
                return _response(200, RSS, render_feed(page, self.n, self.base_url))
        return _response(404, TEXT, b"not found\n")


class _HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive with pipelining-safe buffering; requests carry no body (GET/HEAD)."""

    def __init__(self, site: GeneratedSite, delay: float = 0.0):
        self._site = site
        self._delay = delay
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > 64 * 1024:
            assert self._transport is not None
            self._transport.close()
            return
        while b"\r\n\r\n" in self._buffer:
            head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
            line = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            method, path = (line[0], line[1]) if len(line) >= 2 else ("GET", "/")
            assert self._transport is not None
            response = self._site.response(method, path)
            if self._delay:
                # A slower origin, for tests that must catch a stage mid-batch.
                asyncio.get_running_loop().call_later(self._delay, self._write, response)
            else:
                self._transport.write(response)

    def _write(self, response: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(response)


class GeneratedServer:
    """Serves a GeneratedSite on 127.0.0.1 from an event loop in a thread (or the calling thread)."""

    def __init__(self, n: int, host: str = "127.0.0.1", port: int = 0, *, delay: float = 0.0):
        self._delay = delay
        self._sock = socket.create_server((host, port), reuse_port=False, backlog=1024)
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://{host}:{self.port}"
        self.site = GeneratedSite(n, self.base_url)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    async def serve(self) -> None:
        """Serve until stop() is called."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._loop.create_server(lambda: _HttpProtocol(self.site, self._delay), sock=self._sock)
        async with server:
            await self._stop.wait()

    def start(self) -> GeneratedServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=asyncio.run, args=(self.serve(),), daemon=True, name="gensite")
        self._thread.start()
        while self._stop is None:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> GeneratedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def measure(base_url: str, n: int, seconds: float = 3.0, connections: int = 4) -> float:
    """Requests per second the server answers (article pages, keep-alive, `connections` clients)."""
    import httpx

    paths = [article_path(i) for i in range(min(n, 300))]
    with httpx.Client() as warm:  # render once, as a run fetches each page once after rendering
        for p in paths:
            warm.get(base_url + p)
    counts = [0] * connections
    deadline = time.monotonic() + seconds

    def client(k: int) -> None:
        with httpx.Client() as http:
            j = k
            while time.monotonic() < deadline:
                http.get(base_url + paths[j % len(paths)]).raise_for_status()
                counts[k] += 1
                j += connections

    threads = [threading.Thread(target=client, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def start_process(n: int) -> tuple[subprocess.Popen[bytes], str]:
    """The server in its own process (its own GIL, as in a benchmark); returns it and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.demosite.generated", "--articles", str(n)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().decode().strip()


def measure_server(n: int) -> float:
    """Requests per second of a server process, measured from this one (the client is the limit)."""
    proc, base_url = start_process(n)
    try:
        return measure(base_url, n)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    """Serve N generated articles until killed (prints the base URL first), or --measure the rate."""
    parser = argparse.ArgumentParser(prog="python -m services.demosite.generated", description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--measure", action="store_true", help="print requests/second and the render cost, then exit")
    args = parser.parse_args(argv)
    if args.measure:
        started = time.perf_counter()
        for i in range(200):
            render_generated(i, args.articles, "http://127.0.0.1:1")
        render_ms = (time.perf_counter() - started) / 200 * 1000
        rate = measure_server(args.articles)
        print(f"render_ms_per_page={render_ms:.2f} requests_per_second={rate:.0f} (server in its own process)")
        return 0
    server = GeneratedServer(args.articles, port=args.port)
    print(server.base_url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
