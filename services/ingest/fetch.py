"""HTTP fetching, and nothing else: guarded against SSRF, size-capped, polite, robots-aware.

Every failure leaves as a FetchError with a stable reason, and statuses are mapped to reasons in
one place (`classify_status`). Redirects are followed by hand so that each hop goes through the
scheme check, the address guard, robots.txt and politeness again.
"""

from __future__ import annotations

import email.utils
import itertools
import logging
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urljoin, urlsplit

import brotli
import httpcore
import httpx

from services.ingest.guard import AddressPolicy, check_url_host, resolve_host
from services.ingest.politeness import Politeness
from services.ingest.robots import RobotsCache
from shared import metrics
from shared.config import Settings
from shared.errors import FetchError

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/xml",
    "text/xml",
    "application/feed+json",
    "application/json",
    "text/html",  # some servers label feeds as HTML
)
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 2.5: parse at least 500 KiB
KEPT_HEADERS = ("content-type", "etag", "last-modified", "cache-control", "retry-after", "content-language")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One successful fetch (200) or a conditional GET answered 304 (not_modified, empty body)."""

    url: str
    final_url: str
    status_code: int
    content_type: str | None
    charset: str | None
    body: bytes
    etag: str | None
    last_modified: str | None
    not_modified: bool
    redirects: tuple[str, ...]
    elapsed_ms: float
    headers: dict[str, str]
    # The response as received, for web archive export: status line and every header in order.
    status_line: str = ""
    raw_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class _Response:
    final_url: str
    status_code: int
    headers: httpx.Headers
    body: bytes
    redirects: tuple[str, ...]
    status_line: str = ""


class Fetcher:
    """One per worker process: an httpx transport (connection pool), robots cache and politeness
    shared by all workers through Redis.

    Without a `redis` client, `settings.shared_redis_url` is used when set; otherwise robots and
    politeness state stay in this process (embedded mode).
    """

    def __init__(self, settings: Settings, redis: redis.Redis | None = None):
        self._settings = settings
        self._policy = AddressPolicy.from_settings(settings)
        self._owned_redis: redis.Redis | None = None
        if redis is None and settings.shared_redis_url:
            import redis as redis_lib

            redis = self._owned_redis = redis_lib.Redis.from_url(
                settings.shared_redis_url, socket_timeout=10, socket_connect_timeout=5
            )
        # Requests go straight to the transport: httpx.Client's redirect machinery would parse every
        # Location itself (and fail on odd IP spellings) before our guard could look at it.
        self._transport = _guarded_transport(self._policy)
        self._headers = {"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate, br"}
        self.robots = RobotsCache(settings, self._fetch_robots, redis)
        self.politeness = Politeness(settings.politeness_delay, redis)

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: tuple[str, ...] = HTML_TYPES,
    ) -> FetchResult:
        """GET `url` (a conditional GET when a validator is given) and return the body; raises FetchError."""
        started = time.monotonic()
        headers = {"Accept": _accept_header(accept)}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response = self._transfer(
            url,
            headers,
            max_bytes=self._settings.fetch_max_bytes,
            check_robots=self._settings.fetch_respect_robots,
        )
        classify_status(response.status_code, response.headers, response.final_url)
        content_type, charset = parse_content_type(response.headers.get("content-type"))
        not_modified = response.status_code == 304
        if not not_modified:
            content_type = content_type or sniff_content_type(response.body)
            if content_type not in accept:
                raise FetchError(
                    "unsupported_content_type",
                    f"{content_type or 'unknown type'} from {response.final_url}, wanted {', '.join(accept)}",
                )
        result = _result(url, response, started, content_type, charset)
        if not not_modified:
            return result
        # A 304 answers with no validators of its own at times: the ones sent still hold.
        return replace(
            result, not_modified=True, etag=result.etag or etag, last_modified=result.last_modified or last_modified
        )

    def download(self, url: str, sink: BinaryIO, *, max_bytes: int, total_timeout: float) -> FetchResult:
        """GET a large file of any type (a web archive) into `sink`, through the same guard, robots and
        politeness as a page, with its own size and time caps; raises FetchError. The result's body is empty."""
        started = time.monotonic()
        response = self._transfer(
            url,
            {"Accept": "*/*"},
            max_bytes=max_bytes,
            check_robots=self._settings.fetch_respect_robots,
            sink=sink,
            total_timeout=total_timeout,
        )
        classify_status(response.status_code, response.headers, response.final_url)
        return _result(url, response, started, *parse_content_type(response.headers.get("content-type")))

    def request(
        self,
        url: str,
        *,
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        accept: tuple[str, ...] = ("application/json",),
    ) -> FetchResult:
        """One API request (a comment platform's read API) under the same guard, robots, politeness and
        caps as `fetch`; any status comes back with its body (the caller reads the platform's own error
        answer), and a request other than GET is never redirected. Network failures raise FetchError."""
        started = time.monotonic()
        sent = {"Accept": _accept_header(accept), **(headers or {})}
        response = self._transfer(
            url,
            sent,
            max_bytes=self._settings.fetch_max_bytes,
            check_robots=self._settings.fetch_respect_robots,
            method=method,
            content=body,
            error_bodies=True,
        )
        return _result(url, response, started, *parse_content_type(response.headers.get("content-type")))

    def close(self) -> None:
        """Close pooled connections (and the Redis client this fetcher opened itself)."""
        self._transport.close()
        if self._owned_redis is not None:
            self._owned_redis.close()

    def _fetch_robots(self, url: str) -> tuple[int, bytes]:
        # robots.txt goes through the same guarded client, without a robots check of its own.
        response = self._transfer(
            url, {"Accept": "text/plain,*/*;q=0.5"}, max_bytes=ROBOTS_MAX_BYTES, check_robots=False
        )
        return response.status_code, response.body

    def _transfer(
        self,
        url: str,
        headers: dict[str, str],
        *,
        max_bytes: int,
        check_robots: bool,
        method: str = "GET",
        content: bytes | None = None,
        error_bodies: bool = False,
        sink: BinaryIO | None = None,
        total_timeout: float | None = None,
    ) -> _Response:
        """Follow redirects by hand (GET only), re-checking every hop, and read a 2xx body within the
        caps (into `sink` when given, then the returned body is empty), or any status's body with
        `error_bodies` (an API's error answer says why)."""
        deadline: float | None = None
        redirects: list[str] = []
        seen = {url}
        current = url
        cookies = httpx.Cookies()
        while True:
            target = self._check_url(current)
            if check_robots:
                self.robots.check(str(target))
            delay = self._settings.politeness_delay
            if check_robots:
                delay = max(delay, self.robots.crawl_delay(str(target)) or 0.0)
            metrics.record_politeness_wait(self.politeness.wait(target.host, delay))
            # The total timeout starts after the first politeness wait: waiting is not the server's fault.
            deadline = deadline or time.monotonic() + (total_timeout or self._settings.fetch_total_timeout)
            response = self._send(target, headers, cookies, deadline, method, content)
            try:
                cookies.extract_cookies(response)
                redirect = response.status_code in REDIRECT_STATUSES and "location" in response.headers
                if redirect and method == "GET":
                    current = self._next_hop(target, response.headers["location"], redirects, seen)
                    continue
                body = b""
                if 200 <= response.status_code < 300 or error_bodies:
                    body = _read_body(response, max_bytes, deadline, sink)
                status_line = f"{response.http_version} {response.status_code} {response.reason_phrase}".rstrip()
                return _Response(
                    str(target), response.status_code, response.headers, body, tuple(redirects), status_line
                )
            finally:
                response.close()

    def _check_url(self, url: str) -> httpx.URL:
        """Scheme check and IP-literal guard before httpx parses the URL (it rejects some odd IPv4 forms)."""
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname, parts.port
        except ValueError as exc:
            raise FetchError("invalid_url", f"{url[:200]}: {exc}") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise FetchError("unsupported_scheme", f"{parts.scheme or 'no scheme'} in {url[:200]}")
        if not host:
            raise FetchError("invalid_url", f"no host in {url[:200]}")
        check_url_host(host, self._policy)
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise FetchError("invalid_url", f"{url[:200]}: {exc}") from None
        if parts.username or parts.password:
            raise FetchError("invalid_url", "URLs with credentials are not fetched")
        return target

    def _next_hop(self, target: httpx.URL, location: str, redirects: list[str], seen: set[str]) -> str:
        try:
            # urljoin, not httpx: the next hop is parsed by `_check_url`, guard first.
            next_url = urljoin(str(target), location.strip())
        except ValueError as exc:
            raise FetchError("invalid_url", f"bad redirect Location {location[:200]!r}: {exc}") from None
        if next_url in seen:
            raise FetchError("too_many_redirects", f"redirect loop at {next_url}")
        if len(redirects) >= self._settings.fetch_max_redirects:
            raise FetchError("too_many_redirects", f"more than {self._settings.fetch_max_redirects} redirects")
        seen.add(next_url)
        redirects.append(next_url)
        return next_url

    def _send(
        self,
        target: httpx.URL,
        headers: dict[str, str],
        cookies: httpx.Cookies,
        deadline: float,
        method: str = "GET",
        content: bytes | None = None,
    ) -> httpx.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timeout", f"total timeout of {self._settings.fetch_total_timeout}s at {target}")
        timeout = httpx.Timeout(
            connect=min(self._settings.fetch_connect_timeout, remaining),
            read=min(self._settings.fetch_read_timeout, remaining),
            write=min(self._settings.fetch_read_timeout, remaining),
            pool=min(self._settings.fetch_connect_timeout, remaining),
        )
        request = httpx.Request(
            method,
            target,
            headers={**self._headers, **headers},
            content=content,
            extensions={"timeout": timeout.as_dict()},
        )
        cookies.set_cookie_header(request)
        with _mapped_errors(str(target)):
            response = self._transport.handle_request(request)
        response.request = request
        return response


def classify_status(status: int, headers: httpx.Headers, url: str) -> None:
    """The one place where an HTTP status becomes a FetchError reason; 2xx and 304 pass."""
    if 200 <= status < 300 or status == 304:
        return
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status == 404:
        raise FetchError("http_404", f"404 from {url}")
    if status == 410:
        raise FetchError("http_410", f"410 from {url}")
    if status == 429:
        raise FetchError("http_429", f"429 from {url}", retry_after=retry_after)
    if status >= 500:
        raise FetchError("http_5xx", f"{status} from {url}", retry_after=retry_after)
    if status >= 400:
        raise FetchError("http_4xx", f"{status} from {url}")
    # 1xx cannot get here; 3xx without a usable Location is a redirect to nowhere.
    raise FetchError("invalid_url", f"{status} without a Location from {url}")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header, given in seconds or as an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type, charset) from a Content-Type header, both lower-case, or None when absent."""
    if not value:
        return None, None
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip("\"'").lower()
    return media.strip().lower() or None, charset


def sniff_content_type(body: bytes) -> str | None:
    """Guess the media type of a body sent without Content-Type, from its first bytes."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if head.startswith(b"<rss"):
        return "application/rss+xml"
    if head.startswith(b"<feed"):
        return "application/atom+xml"
    if head.startswith(b"<?xml"):
        if b"<html" in head:
            return "application/xhtml+xml"
        if b"<rss" in head:
            return "application/rss+xml"
        if b"<feed" in head:
            return "application/atom+xml"
        return "application/xml"
    if head.startswith(b"<!doctype"):
        return "text/html"
    return None


def _accept_header(accept: tuple[str, ...]) -> str:
    return ",".join(accept) + ",*/*;q=0.1"


def _result(
    url: str, response: _Response, started: float, content_type: str | None, charset: str | None
) -> FetchResult:
    """The FetchResult of a transfer: its body, validators, redirects, kept and raw headers, time taken."""
    return FetchResult(
        url=url,
        final_url=response.final_url,
        status_code=response.status_code,
        content_type=content_type,
        charset=charset,
        body=response.body,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        not_modified=False,
        redirects=response.redirects,
        elapsed_ms=(time.monotonic() - started) * 1000,
        headers={k: response.headers[k] for k in KEPT_HEADERS if k in response.headers},
        status_line=response.status_line,
        # RFC 9110 5.5: field values are octets; latin-1 maps each to one character and back.
        raw_headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw),
    )


def _read_body(response: httpx.Response, max_bytes: int, deadline: float, sink: BinaryIO | None = None) -> bytes:
    """Stream the body, capping raw and decoded sizes (gzip/brotli bombs) and the total time; into
    `sink` when given (then nothing is kept in memory and b"" is returned)."""
    url = str(response.request.url)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("too_large", f"Content-Length {declared} > {max_bytes} at {url}")
    decoder = _Decoder(response.headers.get("content-encoding", ""), url)
    raw_size = 0
    parts: list[bytes] = []
    size = 0
    with _mapped_errors(url):
        for chunk in response.iter_raw():  # no chunk_size: httpx would buffer up to it
            raw_size += len(chunk)
            if raw_size > max_bytes:
                raise FetchError("too_large", f"body over {max_bytes} bytes at {url}")
            for piece in decoder.decode(chunk, max_bytes - size + 1):
                size += len(piece)
                if size > max_bytes:
                    raise FetchError("too_large", f"decoded body over {max_bytes} bytes at {url}")
                _keep(piece, parts, sink)
            if time.monotonic() > deadline:
                raise FetchError("timeout", f"total timeout while reading {url}")
        for piece in decoder.flush(max_bytes - size + 1):
            size += len(piece)
            if size > max_bytes:
                raise FetchError("too_large", f"decoded body over {max_bytes} bytes at {url}")
            _keep(piece, parts, sink)
    return b"".join(parts)


def decode_body(data: bytes, content_encoding: str, max_bytes: int, url: str) -> bytes:
    """Undo a Content-Encoding on a body already in hand (a web archive's payload) with the decoders
    and the cap a fetch uses; raises FetchError (`read_error` for bytes that do not decode, `too_large`)."""
    decoder = _Decoder(content_encoding, url)
    parts: list[bytes] = []
    size = 0
    for piece in itertools.chain(decoder.decode(data, max_bytes + 1), decoder.flush(max_bytes + 1)):
        size += len(piece)
        if size > max_bytes:
            raise FetchError("too_large", f"decoded body over {max_bytes} bytes at {url}")
        parts.append(piece)
    return b"".join(parts)


def _keep(piece: bytes, parts: list[bytes], sink: BinaryIO | None) -> None:
    if sink is None:
        parts.append(piece)
    else:
        sink.write(piece)


class _Decoder:
    """Content-Encoding decoding with bounded output per call, so a bomb is caught before it fills memory."""

    def __init__(self, header: str, url: str):
        self._url = url
        # Codings are listed in the order applied (RFC 9110 8.4); undo them in reverse. Unknown
        # codings (servers send "utf-8" here) are treated as identity, as browsers do.
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        self._stages: list[_ZlibStage | _BrotliStage] = [
            _new_stage(c) for c in reversed(codings) if c in ("gzip", "x-gzip", "deflate", "br")
        ]

    def decode(self, data: bytes, limit: int) -> Iterator[bytes]:
        """Decoded pieces of `data`, each at most `limit` bytes long, produced lazily so that the
        caller can stop a bomb after the first piece over its cap."""
        pieces: Iterator[bytes] = iter([data])
        for stage in self._stages:
            pieces = self._run(stage, pieces, limit)
        yield from pieces

    def flush(self, limit: int) -> Iterator[bytes]:
        """Whatever the decoders still hold at the end of the body."""
        pieces: Iterator[bytes] = iter(())
        for stage in self._stages:
            pieces = itertools.chain(self._run(stage, pieces, limit), self._run_flush(stage))
        yield from pieces

    def _run(self, stage: _ZlibStage | _BrotliStage, pieces: Iterator[bytes], limit: int) -> Iterator[bytes]:
        try:
            for piece in pieces:
                yield from stage.feed(piece, limit)
        except (zlib.error, brotli.error) as exc:
            raise FetchError("read_error", f"bad content encoding at {self._url}: {exc}") from None

    def _run_flush(self, stage: _ZlibStage | _BrotliStage) -> Iterator[bytes]:
        try:
            yield stage.flush()
        except (zlib.error, brotli.error) as exc:
            raise FetchError("read_error", f"bad content encoding at {self._url}: {exc}") from None


class _ZlibStage:
    """gzip or deflate; deflate may come with or without its zlib header (servers disagree)."""

    def __init__(self, gzip: bool):
        self._gzip = gzip
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        if not self._started and not self._gzip and data:
            self._started = True
            try:
                first = self._obj.decompress(data, max(limit, 1))
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate
                first = self._obj.decompress(data, max(limit, 1))
            yield first
        else:
            yield self._obj.decompress(data, max(limit, 1))
        # A bounded call leaves input behind; every further piece is again at most `limit` long,
        # and the caller stops us as soon as the running total passes the cap.
        while self._obj.unconsumed_tail:
            yield self._obj.decompress(self._obj.unconsumed_tail, max(limit, 1))

    def flush(self) -> bytes:
        return self._obj.flush(CHUNK_SIZE)


class _BrotliStage:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        yield self._obj.process(data, output_buffer_limit=max(limit, 1))
        while not self._obj.can_accept_more_data():
            yield self._obj.process(b"", output_buffer_limit=max(limit, 1))

    def flush(self) -> bytes:
        return b""


def _new_stage(coding: str) -> _ZlibStage | _BrotliStage:
    return _BrotliStage() if coding == "br" else _ZlibStage(gzip=coding != "deflate")


class _mapped_errors:
    """Turn httpx/httpcore exceptions into FetchErrors with stable reasons."""

    def __init__(self, url: str):
        self._url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, FetchError):
            return False
        reason = _error_reason(exc)
        if reason is None:
            return False
        raise FetchError(reason, f"{self._url}: {type(exc).__name__}: {exc}") from exc


def _error_reason(exc: BaseException) -> str | None:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported_scheme"
    if isinstance(exc, httpx.InvalidURL):
        return "invalid_url"
    if isinstance(exc, httpx.TransportError | httpx.StreamError):
        return "read_error"
    return None


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself, checks every address, then connects to a checked IP.

    httpcore still uses the URL's host for TLS SNI and certificate checks, and httpx sends it as
    the Host header; only the TCP connection goes to the vetted IP, so a DNS answer that changes
    between check and connect (rebinding) cannot redirect us.
    """

    def __init__(self, policy: AddressPolicy):
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve_host(host, port, self._policy)
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error


def _guarded_transport(policy: AddressPolicy) -> httpx.HTTPTransport:
    # httpx.HTTPTransport cannot take a network backend, but its httpcore pool can: swap the pool
    # for one built the same way (default SSL context, limits) around the guarded backend.
    transport = httpx.HTTPTransport(trust_env=False)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_GuardedBackend(policy),
    )
    return transport
