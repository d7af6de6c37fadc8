"""The demo news site's HTTP server: pre-rendered pages on 127.0.0.1, HTTP/1.1 keep-alive, in a thread.

Tests drive it in-process (`DemoSite(...).start()`, `set_version`, `set_comments_api`, `hits`); other
processes switch the seed page with POST /_control/version?name=later. The comments JSON endpoint
lists every article's comments only when switched on (`make demo` does); off, it answers empty lists,
so the page's own comments stay the whole story for tests that count them.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from services.demosite.content import (
    COMMENTS_PATH,
    HTML,
    NOT_FOUND,
    TEXT,
    VERSIONS,
    Resource,
    build_site,
    render_comments_page,
)

log = logging.getLogger(__name__)

SLOW_SECONDS = 5.0
CONTROL_PATH = "/_control/version"


class DemoSite:
    """The local fixture news site; binds at construction so base_url is known before start()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, comments_api: bool = False):
        self._server = _Server((host, port), _Handler)
        self._server.site = self
        self.host = host
        self.port = self._server.server_address[1]
        self.base_url = f"http://{host}:{self.port}"
        self._content = build_site(self.base_url)
        self._version = VERSIONS[0]
        self._comments_api = comments_api
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> DemoSite:
        """Serve in a background daemon thread; returns self so `site = DemoSite().start()` reads well."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="demosite", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; slow requests in flight are cut short. Safe to call twice."""
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def set_version(self, name: str) -> None:
        """Serve the seed article as captured first ("first") or 3.5 hours later ("later")."""
        if name not in VERSIONS:
            raise ValueError(f"unknown version {name!r}; expected one of {VERSIONS}")
        with self._lock:
            self._version = name

    def set_comments_api(self, on: bool) -> None:
        """List comments at the comments JSON endpoint (on), or answer every request with none (off)."""
        with self._lock:
            self._comments_api = on

    def comments_page(self, article_id: str, page: int) -> Resource:
        """A page of the comments endpoint for an article (the seed's follow its current version)."""
        with self._lock:
            on, version = self._comments_api, self._version
        comments = []
        if on and article_id == self._content.seed_id:
            comments = self._content.seed_comments[version]
        elif on:
            comments = self._content.comments.get(article_id, [])
        return render_comments_page(comments, page)

    @property
    def version(self) -> str:
        """The seed version being served now."""
        return self._version

    def hits(self, path: str) -> int:
        """How many requests (any method, any status) reached this path, query string ignored."""
        with self._lock:
            return self._hits[path]

    def resource(self, path: str) -> Resource | None:
        """The pre-rendered response for a path (the seed in its current version), or None."""
        if path == self._content.seed_path:
            return self._content.seed_versions[self._version]
        return self._content.resources.get(path)

    def _count(self, path: str) -> None:
        with self._lock:
            self._hits[path] += 1

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung client or /broken/slow never blocks stop()
    site: DemoSite


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    server_version = "newsflow-demosite/1"
    timeout = 30  # close idle keep-alive connections
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus delayed ACKs add ~40 ms each.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_POST(self) -> None:
        site, url = self.server.site, urlsplit(self.path)
        site._count(url.path)
        self._drain_body()
        if url.path != CONTROL_PATH:
            self._send_text(HTTPStatus.METHOD_NOT_ALLOWED, "POST is only for /_control/version\n")
            return
        name = parse_qs(url.query).get("name", [""])[0]
        try:
            site.set_version(name)
        except ValueError as exc:
            self._send_text(HTTPStatus.BAD_REQUEST, f"{exc}\n")
            return
        self._send_text(HTTPStatus.OK, f"{name}\n")

    def _serve(self, head: bool) -> None:
        site, path = self.server.site, urlsplit(self.path).path
        site._count(path)
        if path == CONTROL_PATH:
            self._send_text(HTTPStatus.OK, f"{site.version}\n", head=head)
            return
        if path == COMMENTS_PATH:
            query = parse_qs(urlsplit(self.path).query)
            page = query.get("page", ["1"])[0]
            article_id = query.get("article_id", [""])[0]
            self._send(site.comments_page(article_id, int(page) if page.isdigit() else 1), head)
            return
        if path == "/broken/slow":
            # Event.wait instead of sleep: stop() cuts the delay short.
            site._stopping.wait(SLOW_SECONDS)
            self._send(Resource(200, HTML, b"<!DOCTYPE html>\n<html><body><p>finally</p></body></html>\n"), head)
            return
        resource = site.resource(path) or NOT_FOUND
        if resource.etag is not None and self._not_modified(resource):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._send_validators(resource)
            self.end_headers()
            return
        self._send(resource, head)

    def _not_modified(self, resource: Resource) -> bool:
        # RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since; weak comparison for GET/HEAD.
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or resource.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since and resource.last_modified is not None:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            return since.tzinfo is not None and resource.last_modified <= since
        return False

    def _send(self, resource: Resource, head: bool) -> None:
        self.send_response(resource.status)
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Content-Length", str(len(resource.body)))
        self._send_validators(resource)
        self.end_headers()
        if not head:
            self.wfile.write(resource.body)

    def _send_validators(self, resource: Resource) -> None:
        if resource.etag is not None:
            self.send_header("ETag", resource.etag)
            self.send_header("Cache-Control", "no-cache")
        if resource.last_modified is not None:
            self.send_header("Last-Modified", format_datetime(resource.last_modified, usegmt=True))

    def _send_text(self, status: HTTPStatus, text: str, head: bool = False) -> None:
        self._send(Resource(status, TEXT, text.encode()), head)

    def _drain_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1 << 20:
            self.close_connection = True  # not worth reading; the connection cannot be reused
        elif length > 0:
            self.rfile.read(length)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("demosite %s", format % args)
