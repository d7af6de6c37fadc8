"""A tiny threaded HTTP server on 127.0.0.1 for tests: canned routes with status, headers, body,
compression, delays, slow drip and redirects, and a log of the requests it received.

    with serve({"/": Route(body="<html>hi</html>")}) as server:
        fetcher.fetch(server.url("/"))
        assert server.requests[0].headers["user-agent"].startswith("newsflow")

Routes may be replaced while the server runs (`server.routes["/x"] = Route(...)`), and a route
may be a callable taking the `Request` and returning a `Route`, for answers that depend on it.
"""

from __future__ import annotations

import gzip as gzip_lib
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli


@dataclass
class Route:
    """One canned answer. `encoding` compresses `body` ("gzip", "deflate", "br"); `raw_encoding`
    only sets the Content-Encoding header over a body you compressed yourself (e.g. a bomb)."""

    status: int = 200
    body: bytes | str = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    raw_encoding: str | None = None
    redirect: str | None = None  # sets Location (and status 302 unless a 3xx status is given)
    delay: float = 0.0  # seconds before the status line (read timeouts)
    drip: float = 0.0  # seconds between body pieces (slow drip)
    drip_size: int = 1
    chunked: bool = False  # Transfer-Encoding: chunked instead of Content-Length
    content_length: int | None = None  # override the Content-Length header (e.g. a lie)


@dataclass(frozen=True)
class Request:
    """A request as the server saw it (header names lower-cased, the body of a POST)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


RouteSpec = Route | Callable[[Request], Route]


class LocalServer:
    """The running server: `base_url`, `url(path)`, the mutable `routes` and the `requests` log."""

    def __init__(self, routes: Mapping[str, RouteSpec] | None = None, host: str = "127.0.0.1"):
        self.routes: dict[str, RouteSpec] = dict(routes or {})
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = _Server((host, 0), _handler_for(self))
        self.host, self.port = self._httpd.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), daemon=True, name="test-httpserver"
        )

    def url(self, path: str = "/") -> str:
        """The absolute URL of `path` on this server."""
        return self.base_url + path

    def hits(self, path: str) -> int:
        """How many requests asked for `path` (query strings included in the path)."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def start(self) -> LocalServer:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; handlers still dripping are daemon threads and are not waited for."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _route(self, request: Request) -> Route:
        spec = self.routes.get(request.path) or self.routes.get(request.path.split("?", 1)[0])
        if spec is None:
            return Route(status=404, body="not found", content_type="text/plain")
        return spec(request) if callable(spec) else spec

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def serve(routes: Mapping[str, RouteSpec] | None = None) -> Iterator[LocalServer]:
    """Run a LocalServer for the duration of a `with` block."""
    with LocalServer(routes) as server:
        yield server


def start_server(routes: Mapping[str, RouteSpec] | None = None) -> tuple[str, Callable[[], None]]:
    """Start a server and return (base_url, stop), for tests that manage the lifetime themselves."""
    server = LocalServer(routes).start()
    return server.base_url, server.stop


def compress(body: bytes, encoding: str) -> bytes:
    """`body` compressed with a Content-Encoding: gzip, deflate (zlib-wrapped) or br."""
    if encoding == "gzip":
        return gzip_lib.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "br":
        return brotli.compress(body)
    raise ValueError(f"unknown encoding {encoding!r}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # do not wait for slow-drip handlers on stop
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that hang up early (timeouts, size caps) are expected; anything else is printed.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _handler_for(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(send_body=True, body=self.rfile.read(length))

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            return

        def _answer(self, send_body: bool, body: bytes = b"") -> None:
            request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            server._record(request)
            route = server._route(request)
            try:
                self._write(route, send_body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (timeouts, size caps)

        def _write(self, route: Route, send_body: bool) -> None:
            if route.delay:
                time.sleep(route.delay)
            body = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
            headers = dict(route.headers)
            if route.encoding:
                body = compress(body, route.encoding)
                headers["Content-Encoding"] = route.encoding
            elif route.raw_encoding:
                headers["Content-Encoding"] = route.raw_encoding
            status = route.status
            if route.redirect is not None:
                headers["Location"] = route.redirect
                status = status if 300 <= status < 400 else 302
            if route.content_type is not None:
                headers.setdefault("Content-Type", route.content_type)
            if route.chunked:
                headers["Transfer-Encoding"] = "chunked"
            else:
                headers["Content-Length"] = str(route.content_length if route.content_length is not None else len(body))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not send_body or status == 304 or status < 200:
                return
            step = route.drip_size if route.drip else 64 * 1024
            for start in range(0, len(body), step):
                piece = body[start : start + step]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if route.chunked else piece)
                self.wfile.flush()
                if route.drip:
                    time.sleep(route.drip)
            if route.chunked:
                self.wfile.write(b"0\r\n\r\n")
            if route.content_length is not None and route.content_length != len(body):
                self.close_connection = True  # a lying Content-Length leaves the connection unusable

    return Handler
