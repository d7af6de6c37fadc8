"""The fetcher against real HTTP servers on 127.0.0.1 (allow-listed); nothing else is ever contacted."""

from __future__ import annotations

import contextlib
import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import brotli
import pytest

from services.ingest.fetch import FEED_TYPES, Fetcher
from shared.config import Settings
from shared.errors import FetchError
from tests.helpers.httpserver import LocalServer, Request, Route, serve

HTML = "<!doctype html><html><head><title>t</title></head><body><p>hello</p></body></html>"
CAP = 64 * 1024


def make_settings(**overrides: object) -> Settings:
    """Short timeouts, small cap, no politeness delay, in-process state, 127.0.0.1 allowed."""
    values: dict[str, object] = {
        "fetch_allow_hosts": "127.0.0.1",
        "redis_url": "",
        "broker_url": "memory://",
        "fetch_connect_timeout": 1.0,
        "fetch_read_timeout": 1.0,
        "fetch_total_timeout": 5.0,
        "fetch_max_bytes": CAP,
        "fetch_max_redirects": 3,
        "politeness_delay": 0.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connection attempt is recorded; anything but 127.0.0.1 is refused without a packet."""
    attempts: list[tuple[str, int]] = []
    real = socket.create_connection

    def create_connection(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        attempts.append((address[0], address[1]))
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"test refused a connection to {address}")
        return real(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempts


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as running:
        yield running


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    instance = Fetcher(make_settings())
    yield instance
    instance.close()


def fetch_error(fetcher: Fetcher, url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as err:
        fetcher.fetch(url, **kwargs)  # type: ignore[arg-type]
    return err.value


def test_fetch_ok(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/a"] = Route(
        body=HTML,
        content_type="text/html; charset=ISO-8859-1",
        headers={"ETag": '"v1"', "Cache-Control": "max-age=60", "X-Other": "no"},
    )
    result = fetcher.fetch(server.url("/a"))
    assert result.status_code == 200
    assert result.body == HTML.encode()
    assert (result.content_type, result.charset) == ("text/html", "iso-8859-1")
    assert result.etag == '"v1"'
    assert not result.not_modified
    assert result.url == result.final_url == server.url("/a")
    assert result.redirects == ()
    assert result.headers == {
        "content-type": "text/html; charset=ISO-8859-1",
        "etag": '"v1"',
        "cache-control": "max-age=60",
    }
    assert result.elapsed_ms > 0
    request = server.requests[-1]
    assert request.headers["user-agent"] == make_settings().user_agent
    assert "text/html" in request.headers["accept"]
    assert "gzip" in request.headers["accept-encoding"]


def test_the_response_is_kept_as_received_for_web_archives(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/z"] = Route(body=HTML, encoding="gzip", headers={"X-Served-By": "cache-1"})
    result = fetcher.fetch(server.url("/z"))
    assert result.body == HTML.encode()  # decoded; the headers still say how it came
    assert result.status_line == "HTTP/1.1 200 OK"
    names = [name for name, _ in result.raw_headers]
    assert names == ["Server", "Date", "X-Served-By", "Content-Encoding", "Content-Type", "Content-Length"]
    assert dict(result.raw_headers)["Content-Encoding"] == "gzip"


def test_conditional_get_and_304(server: LocalServer, fetcher: Fetcher) -> None:
    modified = formatdate(time.time() - 3600, usegmt=True)

    def page(request: Request) -> Route:
        if request.headers.get("if-none-match") == '"v1"':
            return Route(status=304, headers={"ETag": '"v1"'})
        return Route(body=HTML, headers={"ETag": '"v1"', "Last-Modified": modified})

    server.routes["/p"] = page
    first = fetcher.fetch(server.url("/p"))
    second = fetcher.fetch(server.url("/p"), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.status_code == 304
    assert second.body == b""
    assert second.etag == '"v1"'
    assert second.last_modified == modified  # kept from the request when the 304 omits it
    assert server.requests[-1].headers["if-modified-since"] == modified


@pytest.mark.parametrize(
    ("status", "headers", "reason", "transient", "retry_after"),
    [
        (404, {}, "http_404", False, None),
        (410, {}, "http_410", False, None),
        (403, {}, "http_4xx", False, None),
        (400, {}, "http_4xx", False, None),
        (500, {}, "http_5xx", True, None),
        (503, {"Retry-After": "120"}, "http_5xx", True, 120.0),
        (429, {"Retry-After": "30"}, "http_429", True, 30.0),
        (429, {"Retry-After": "HTTP-DATE+90"}, "http_429", True, 90.0),
        (429, {"Retry-After": "soon"}, "http_429", True, None),
        (300, {}, "invalid_url", False, None),  # a 3xx without Location
    ],
)
def test_status_mapping(
    server: LocalServer,
    fetcher: Fetcher,
    status: int,
    headers: dict[str, str],
    reason: str,
    transient: bool,
    retry_after: float | None,
) -> None:
    if headers.get("Retry-After") == "HTTP-DATE+90":
        # Made now, not at collection time: a long suite would otherwise eat into the 90 s.
        headers = {"Retry-After": formatdate(time.time() + 90, usegmt=True)}
    server.routes["/s"] = Route(status=status, headers=headers, body="nope")
    error = fetch_error(fetcher, server.url("/s"))
    assert (error.reason, error.transient) == (reason, transient)
    if retry_after is None:
        assert error.retry_after is None
    else:
        assert error.retry_after == pytest.approx(retry_after, abs=3)  # HTTP-dates have 1 s steps


def test_redirect_chain(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/a"] = Route(redirect="/b", status=301)
    server.routes["/b"] = Route(redirect=server.url("/c"), status=307)
    server.routes["/c"] = Route(redirect="d", status=308)
    server.routes["/d"] = Route(body=HTML)
    result = fetcher.fetch(server.url("/a"))
    assert result.final_url == server.url("/d")
    assert result.redirects == (server.url("/b"), server.url("/c"), server.url("/d"))
    assert result.url == server.url("/a")


def test_redirect_keeps_cookies_within_one_fetch_only(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/wall"] = Route(redirect="/page", headers={"Set-Cookie": "consent=yes; Path=/"})
    server.routes["/page"] = Route(body=HTML)
    fetcher.fetch(server.url("/wall"))
    assert server.requests[-1].headers.get("cookie") == "consent=yes"
    fetcher.fetch(server.url("/page"))
    assert "cookie" not in server.requests[-1].headers


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://0xa9fea9fe/",
        "http://0251.0376.0251.0376/",
        "http://192.168.1.1:8080/admin",
        "http://[fd00:ec2::254]/",
    ],
)
def test_redirect_to_blocked_address_is_refused_before_connecting(
    server: LocalServer, fetcher: Fetcher, only_loopback: list[tuple[str, int]], location: str
) -> None:
    server.routes["/go"] = Route(redirect=location)
    error = fetch_error(fetcher, server.url("/go"))
    assert error.reason == "blocked_address"
    assert not error.transient
    assert {host for host, _ in only_loopback} == {"127.0.0.1"}


def test_redirect_to_other_scheme(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/go"] = Route(redirect="file:///etc/passwd")
    assert fetch_error(fetcher, server.url("/go")).reason == "unsupported_scheme"


def test_redirect_loop(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/x"] = Route(redirect="/y")
    server.routes["/y"] = Route(redirect="/x")
    assert fetch_error(fetcher, server.url("/x")).reason == "too_many_redirects"
    assert server.hits("/x") == 1


def test_too_many_redirects(server: LocalServer, fetcher: Fetcher) -> None:
    for n in range(6):
        server.routes[f"/r{n}"] = Route(redirect=f"/r{n + 1}")
    server.routes["/r6"] = Route(body=HTML)
    assert fetch_error(fetcher, server.url("/r0")).reason == "too_many_redirects"
    assert server.hits("/r4") == 0  # stopped after fetch_max_redirects=3 hops


def test_unlisted_loopback_is_blocked(server: LocalServer) -> None:
    fetcher = Fetcher(make_settings(fetch_allow_hosts=""))
    try:
        assert fetch_error(fetcher, server.url("/")).reason == "blocked_address"
    finally:
        fetcher.close()
    assert server.requests == []


def test_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetcher = Fetcher(make_settings(fetch_respect_robots=False))
    try:
        error = fetch_error(fetcher, f"http://127.0.0.1:{port}/")
    finally:
        fetcher.close()
    assert (error.reason, error.transient) == ("connect_error", True)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/x", "unsupported_scheme"),
        ("/relative", "unsupported_scheme"),
        ("http:///nohost", "invalid_url"),
        ("http://user:pw@127.0.0.1/", "invalid_url"),
        ("http://127.0.0.1:99999/", "invalid_url"),
    ],
)
def test_bad_urls(fetcher: Fetcher, url: str, reason: str) -> None:
    assert fetch_error(fetcher, url).reason == reason


def test_too_large_by_content_length(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/big"] = Route(body="x" * (CAP + 1))
    assert fetch_error(fetcher, server.url("/big")).reason == "too_large"


def test_too_large_while_streaming(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/big"] = Route(body="<html>" + "x" * (CAP * 4), chunked=True)
    error = fetch_error(fetcher, server.url("/big"))
    assert (error.reason, error.transient) == ("too_large", False)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compression_bomb(server: LocalServer, fetcher: Fetcher, encoding: str) -> None:
    payload = b"\0" * (20 * 1024 * 1024)
    bomb = gzip.compress(payload) if encoding == "gzip" else brotli.compress(payload)
    assert len(bomb) < CAP  # small on the wire
    server.routes["/bomb"] = Route(body=bomb, raw_encoding=encoding)
    assert fetch_error(fetcher, server.url("/bomb")).reason == "too_large"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_compressed_body_is_decoded(server: LocalServer, fetcher: Fetcher, encoding: str) -> None:
    server.routes["/z"] = Route(body=HTML * 50, encoding=encoding)
    assert fetcher.fetch(server.url("/z")).body == (HTML * 50).encode()


def test_bad_compressed_body(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/z"] = Route(body=b"not gzip at all", raw_encoding="gzip")
    assert fetch_error(fetcher, server.url("/z")).reason == "read_error"


@pytest.mark.parametrize(
    ("content_type", "body", "accept", "expected"),
    [
        ("application/pdf", b"%PDF-1.4", None, "unsupported_content_type"),
        ("text/plain", HTML.encode(), None, "unsupported_content_type"),
        ("application/rss+xml", b"<rss/>", None, "unsupported_content_type"),
        ("application/rss+xml", b"<rss/>", FEED_TYPES, "application/rss+xml"),
        ("text/html", HTML.encode(), FEED_TYPES, "text/html"),
        ("APPLICATION/XHTML+XML; charset=utf-8", HTML.encode(), None, "application/xhtml+xml"),
        (None, HTML.encode(), None, "text/html"),  # sniffed
        (None, b"  <HTML><body>x</body></HTML>", None, "text/html"),
        (None, b'<?xml version="1.0"?><rss version="2.0"/>', FEED_TYPES, "application/rss+xml"),
        (None, b"<feed xmlns='http://www.w3.org/2005/Atom'/>", FEED_TYPES, "application/atom+xml"),
        (None, b"\x89PNG\r\n", None, "unsupported_content_type"),
    ],
)
def test_content_type(
    server: LocalServer,
    fetcher: Fetcher,
    content_type: str | None,
    body: bytes,
    accept: tuple[str, ...] | None,
    expected: str,
) -> None:
    server.routes["/t"] = Route(body=body, content_type=content_type)
    kwargs = {"accept": accept} if accept else {}
    if expected == "unsupported_content_type":
        assert fetch_error(fetcher, server.url("/t"), **kwargs).reason == expected
    else:
        assert fetcher.fetch(server.url("/t"), **kwargs).content_type == expected


def test_read_timeout(server: LocalServer) -> None:
    server.routes["/slow"] = Route(body=HTML, delay=2.0)
    fetcher = Fetcher(make_settings(fetch_read_timeout=0.3))
    started = time.monotonic()
    try:
        error = fetch_error(fetcher, server.url("/slow"))
    finally:
        fetcher.close()
    assert (error.reason, error.transient) == ("timeout", True)
    assert time.monotonic() - started < 1.5


def test_total_timeout_on_slow_drip(server: LocalServer) -> None:
    # Each byte arrives well within the read timeout; only the total timeout can stop this.
    server.routes["/drip"] = Route(body=HTML * 10, drip=0.02, drip_size=1)
    fetcher = Fetcher(make_settings(fetch_read_timeout=1.0, fetch_total_timeout=0.5))
    started = time.monotonic()
    try:
        error = fetch_error(fetcher, server.url("/drip"))
    finally:
        fetcher.close()
    assert error.reason == "timeout"
    assert time.monotonic() - started < 1.5


ROBOTS = "User-agent: *\nDisallow: /private\n\nUser-agent: newsflow\nDisallow: /nf-only\nCrawl-delay: 0.2\n"


def test_robots_disallow(server: LocalServer, fetcher: Fetcher) -> None:
    server.routes["/robots.txt"] = Route(body=ROBOTS, content_type="text/plain")
    server.routes["/ok"] = Route(body=HTML)
    server.routes["/nf-only/x"] = Route(body=HTML)
    server.routes["/to-private"] = Route(redirect="/nf-only/x")
    assert fetcher.fetch(server.url("/ok")).status_code == 200
    for path in ("/nf-only/x", "/to-private"):
        error = fetch_error(fetcher, server.url(path))
        assert (error.reason, error.transient) == ("robots_disallowed", False)
    assert server.hits("/nf-only/x") == 0
    assert server.hits("/robots.txt") == 1  # cached for the origin
    assert fetcher.robots.crawl_delay(server.url("/ok")) == pytest.approx(0.2)


def test_robots_ignored_when_configured_so(server: LocalServer) -> None:
    server.routes["/robots.txt"] = Route(body="User-agent: *\nDisallow: /\n", content_type="text/plain")
    server.routes["/p"] = Route(body=HTML)
    fetcher = Fetcher(make_settings(fetch_respect_robots=False))
    try:
        assert fetcher.fetch(server.url("/p")).status_code == 200
    finally:
        fetcher.close()
    assert server.hits("/robots.txt") == 0


@pytest.mark.parametrize(
    ("robots", "reason"),
    [
        (Route(status=404), None),
        (Route(status=410), None),
        (Route(status=401), "robots_disallowed"),
        (Route(status=403), "robots_disallowed"),
        (Route(status=500), "http_5xx"),  # unreachable: transient, the page is retried later
        (Route(status=429), "http_429"),
        (Route(body="User-agent: *\nAllow: /\n", content_type="text/plain", encoding="gzip"), None),
        (Route(body="User-agent: *\nDisallow: /\n", content_type=None), "robots_disallowed"),
    ],
)
def test_robots_statuses(server: LocalServer, fetcher: Fetcher, robots: Route, reason: str | None) -> None:
    server.routes["/robots.txt"] = robots
    server.routes["/p"] = Route(body=HTML)
    if reason is None:
        assert fetcher.fetch(server.url("/p")).status_code == 200
    else:
        assert fetch_error(fetcher, server.url("/p")).reason == reason


def test_robots_timeout_is_transient(server: LocalServer) -> None:
    server.routes["/robots.txt"] = Route(status=200, body="User-agent: *\nAllow: /\n", delay=1.0)
    server.routes["/p"] = Route(body=HTML)
    fetcher = Fetcher(make_settings(fetch_read_timeout=0.2))
    try:
        error = fetch_error(fetcher, server.url("/p"))
    finally:
        fetcher.close()
    assert (error.reason, error.transient) == ("timeout", True)
    assert server.hits("/p") == 0


def test_allow_listed_host_name_connects_to_the_checked_address(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, only_loopback: list[tuple[str, int]]
) -> None:
    lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        lookups.append(host)
        if host == "fixtures.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    server.routes["/p"] = Route(body=HTML)
    fetcher = Fetcher(make_settings(fetch_allow_hosts="fixtures.test", fetch_respect_robots=False))
    try:
        result = fetcher.fetch(f"http://fixtures.test:{server.port}/p")
    finally:
        fetcher.close()
    assert result.final_url == f"http://fixtures.test:{server.port}/p"
    assert server.requests[-1].headers["host"] == f"fixtures.test:{server.port}"
    assert lookups.count("fixtures.test") == 1
    assert only_loopback == [("127.0.0.1", server.port)]  # the checked IP, not the name


def test_dns_rebinding_cannot_switch_the_address(
    monkeypatch: pytest.MonkeyPatch, only_loopback: list[tuple[str, int]]
) -> None:
    # First answer public (passes the check), any later answer loopback: the connection must go to
    # the first answer, i.e. the name is resolved once and never handed to the socket layer.
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    fetcher = Fetcher(make_settings(fetch_allow_hosts="", fetch_respect_robots=False))
    try:
        error = fetch_error(fetcher, "http://rebind.test:8080/")
    finally:
        fetcher.close()
    assert error.reason == "connect_error"  # refused by the test before any packet
    assert only_loopback == [("93.184.216.34", 8080)]


def test_name_resolving_to_private_address(monkeypatch: pytest.MonkeyPatch, only_loopback: list) -> None:
    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    fetcher = Fetcher(make_settings(fetch_respect_robots=False))
    try:
        assert fetch_error(fetcher, "http://intranet.test/").reason == "blocked_address"
    finally:
        fetcher.close()
    assert only_loopback == []


def test_dns_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_getaddrinfo(host: str, *args: object, **kwargs: object) -> list[tuple]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    fetcher = Fetcher(make_settings(fetch_respect_robots=False))
    try:
        error = fetch_error(fetcher, "http://no-such-host.test/")
    finally:
        fetcher.close()
    assert (error.reason, error.transient) == ("dns_error", True)


@pytest.fixture
def tls_listener(tmp_path: Path) -> Iterator[tuple[int, list[str | None]]]:
    """A TLS listener on 127.0.0.1 with a self-signed certificate that records the SNI names it sees."""
    if shutil.which("openssl") is None:
        pytest.fail("the TLS test needs the openssl command line tool", pytrace=False)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=tls.test"]
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment, return-value]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(5)

    def accept_one() -> None:
        with contextlib.suppress(OSError), listener.accept()[0] as conn, context.wrap_socket(conn, server_side=True):
            pass  # the client refuses our certificate during the handshake

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()
    yield listener.getsockname()[1], names
    thread.join(5)
    listener.close()


def test_tls_uses_the_host_name_for_sni_while_connecting_to_the_checked_ip(
    tls_listener: tuple[int, list[str | None]],
    monkeypatch: pytest.MonkeyPatch,
    only_loopback: list[tuple[str, int]],
) -> None:
    port, names = tls_listener

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    fetcher = Fetcher(make_settings(fetch_allow_hosts="tls.test", fetch_respect_robots=False))
    try:
        error = fetch_error(fetcher, f"https://tls.test:{port}/")
    finally:
        fetcher.close()
    assert error.reason == "connect_error"  # self-signed: verification stays on and refuses it
    assert "CERTIFICATE_VERIFY_FAILED" in error.detail
    assert names == ["tls.test"]
    assert only_loopback == [("127.0.0.1", port)]
