"""Web archives (WARC, ISO 28500) in and out, and nothing else: records to captures and back.

Reading keeps the HTTP responses of HTML pages (status 200, text/html or XHTML) as `Capture`s, the
fetch newsflow would have made, and turns every other record into a `Skipped` with a stable reason,
so an import can say what it left out and why. A corrupt or truncated record is reported with its
offset and reading goes on at the next record that starts cleanly: gzip-per-record files (as CC-NEWS
ships them) resume at the next gzip member that holds a WARC record, plain files at the next
`WARC/1.x` line.

warcio reads and writes. It was measured against FastWARC (BENCHMARKS.md, `make bench-warc`): FastWARC's
native iterator reads twice as fast, but it reads a gzip-per-record file as one stream, so a record cut
short inside its member silently takes the next record's bytes as its own; warcio stops at the member's
end, which makes a short record detectable. Either reader costs ~1% of the parse time of the same pages.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataException, ChunkedDataReader
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from services.ingest.fetch import HTML_TYPES, decode_body, parse_content_type, sniff_content_type
from shared.errors import FetchError, InvalidURLError
from shared.records import Capture
from shared.urls import canonicalize_url, url_host

GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_MAGIC = (b"WARC/1.0\r\n", b"WARC/1.1\r\n")
SCAN_WINDOW = 1 << 20
CHUNK_READ = 1 << 16

# Why a record is not imported (stable keys: summaries, --json, tests).
RECORD_TYPE_REASONS = {
    "request": "request",  # what the crawler sent, no page
    "revisit": "revisit",  # "same as an earlier capture": the payload is in that record, not here
    "warcinfo": "warcinfo",
    "metadata": "metadata",
}
SKIP_REASONS = (
    *RECORD_TYPE_REASONS.values(),
    "other_record",  # resource, conversion, continuation, ARC-era types
    "not_http",  # a response without an HTTP status line (dns:, ftp:)
    "not_200",  # redirects, errors, 304s: no page to parse
    "not_html",  # images, feeds, PDFs, scripts
    "crawler_truncated",  # WARC-Truncated: the crawler kept only the start of the page
    "too_large",  # over NEWSFLOW_FETCH_MAX_BYTES, as a live fetch would be
    "invalid_url",
    "undecodable",  # a Content-Encoding or chunked body that does not decode
    "other_host",  # --filter-host
    "before_since",  # --since
    "truncated",  # the record is shorter than its Content-Length (a cut file)
    "corrupt",  # bytes that are no WARC record (a damaged gzip member, garbage)
)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record that is not imported, the reason why and where it starts in the file."""

    reason: str
    offset: int
    url: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CaptureFilter:
    """Which captures to keep: hosts (a host keeps its subdomains) and the earliest capture time."""

    hosts: tuple[str, ...] = ()
    since: datetime | None = None

    def skip_reason(self, url: str, captured_at: datetime) -> str | None:
        """Why a capture is filtered out, or None when it is kept."""
        if self.hosts:
            host = url_host(url)
            if not any(host == h or host.endswith(f".{h}") for h in self.hosts):
                return "other_host"
        if self.since is not None and captured_at < self.since:
            return "before_since"
        return None


def read_captures(
    stream: BinaryIO, *, max_body_bytes: int, keep: CaptureFilter = CaptureFilter()
) -> Iterator[Capture | Skipped]:
    """Every record of a WARC file (gzip per record or plain) as a Capture of an HTML page or a
    Skipped saying why not, in file order. `stream` must be seekable: corrupt spans are stepped over."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    gzipped = stream.read(2) == GZIP_MAGIC[:2]
    start: int | None = 0
    while start is not None and start < size:
        stream.seek(start)
        records = _Records(stream)
        end = start  # where the last record read whole ends: the next one starts here
        try:
            for record in records:
                offset = records.offset
                item = _to_capture(record, offset, max_body_bytes, keep)
                records.read_to_end()
                end = records.offset
                if getattr(record.raw_stream, "limit", 0) > 0:
                    # The member (or the file) ended before the record's Content-Length did.
                    yield Skipped("truncated", offset, _target(record), f"{record.raw_stream.limit} bytes missing")
                else:
                    yield item
        except Exception as exc:  # any failure of the parser on bad bytes: report the record, step over it
            yield Skipped("corrupt", end, None, _describe(exc))
            start = _next_record_start(stream, end + 1, gzipped)
            continue
        if end < size:
            # warcio ends quietly on a last record it cannot read (a file cut mid-record).
            after = _next_record_start(stream, end + 1, gzipped)
            missing = (after if after is not None else size) - end
            yield Skipped("truncated", end, None, f"{missing} bytes at {end} are no whole record")
            start = after
            continue
        start = None


class _Records(ArchiveIterator):  # type: ignore[misc]
    """warcio's iterator without its stderr warning about a record followed by stray bytes."""

    INC_RECORD = ""


def _target(record: Any) -> str | None:
    uri = record.rec_headers.get_header("WARC-Target-URI")
    # WARC/1.0 writers sometimes wrap the URI in angle brackets (the WARC/1.1 grammar dropped them).
    return uri.strip().strip("<>") if uri else None


def _to_capture(record: Any, offset: int, max_body_bytes: int, keep: CaptureFilter) -> Capture | Skipped:
    url = _target(record)
    kind = record.rec_type
    if kind != "response":
        return Skipped(RECORD_TYPE_REASONS.get(kind, "other_record"), offset, url)
    http = record.http_headers
    if http is None or not url or not url.lower().startswith(("http://", "https://")):
        return Skipped("not_http", offset, url)
    try:
        canonicalize_url(url)  # the store keys on the canonical form; the capture keeps the URL as archived
    except InvalidURLError as exc:
        return Skipped("invalid_url", offset, url, exc.detail)
    status = http.get_statuscode()
    if status != "200":
        return Skipped("not_200", offset, url, status or "")
    if record.rec_headers.get_header("WARC-Truncated"):
        return Skipped("crawler_truncated", offset, url, record.rec_headers.get_header("WARC-Truncated"))
    try:
        captured_at = _parse_warc_date(record.rec_headers.get_header("WARC-Date") or "")
    except ValueError as exc:
        return Skipped("corrupt", offset, url, f"bad WARC-Date: {exc}")
    filtered = keep.skip_reason(url, captured_at)
    if filtered:
        return Skipped(filtered, offset, url)
    content_type, charset = parse_content_type(http.get_header("Content-Type"))
    if content_type is not None and content_type not in HTML_TYPES:
        return Skipped("not_html", offset, url, content_type)
    payload = record.raw_stream.read(max_body_bytes + 1)
    if len(payload) > max_body_bytes:
        return Skipped("too_large", offset, url, f"over {max_body_bytes} bytes")
    try:
        body = _decode_payload(payload, http, max_body_bytes, url)
    except FetchError as exc:
        return Skipped("too_large" if exc.reason == "too_large" else "undecodable", offset, url, exc.detail[:120])
    content_type = content_type or sniff_content_type(body)
    if content_type not in HTML_TYPES:
        return Skipped("not_html", offset, url, content_type or "unknown type")
    return Capture(
        url=url,
        captured_at=captured_at,
        status_code=200,
        status_line=f"{http.protocol} {http.statusline}".strip(),
        headers=tuple((str(k), str(v)) for k, v in http.headers),
        content_type=content_type,
        charset=charset,
        body=body,
        offset=offset,
    )


def _decode_payload(payload: bytes, http: StatusAndHeaders, max_body_bytes: int, url: str) -> bytes:
    """The body as a live fetch would store it: de-chunked and with its Content-Encoding undone, by
    the fetcher's own decoders (strict, and capped against bombs). Crawlers that store decoded
    payloads (Common Crawl) rename these headers, so most records need neither step."""
    if "chunked" in (http.get_header("Transfer-Encoding") or "").lower():
        reader = ChunkedDataReader(io.BytesIO(payload), raise_exceptions=True)
        parts = []
        try:
            while piece := reader.read(CHUNK_READ):
                parts.append(piece)
        except ChunkedDataException as exc:
            raise FetchError("read_error", f"bad chunked encoding at {url}: {_describe(exc)}") from None
        payload = b"".join(parts)
    return decode_body(payload, http.get_header("Content-Encoding") or "", max_body_bytes, url)


def _describe(exc: Exception) -> str:
    """An exception as one short printable line (parsers quote the bad bytes they met)."""
    text = " ".join(str(exc).split())
    text = "".join(ch if ch.isprintable() and ord(ch) < 0x7F else "?" for ch in text)
    return f"{type(exc).__name__}: {text}"[:120]


def _parse_warc_date(value: str) -> datetime:
    """A WARC-Date (W3C-ISO8601, UTC, seconds or finer) as an aware datetime."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _next_record_start(stream: BinaryIO, position: int, gzipped: bool) -> int | None:
    """The first offset at or after `position` where a WARC record starts cleanly, or None."""
    magic = GZIP_MAGIC if gzipped else b"\nWARC/1."
    while True:
        stream.seek(position)
        window = stream.read(SCAN_WINDOW + 16)
        if len(window) < len(magic):
            return None
        found = window.find(magic)
        if found < 0:
            position += SCAN_WINDOW
            continue
        candidate = position + found + (0 if gzipped else 1)
        if _starts_record(stream, candidate, gzipped):
            return candidate
        position = position + found + 1


def _starts_record(stream: BinaryIO, offset: int, gzipped: bool) -> bool:
    """Whether a WARC record header starts at `offset` (inside a gzip member when `gzipped`): three
    magic bytes also occur by chance inside compressed data."""
    stream.seek(offset)
    head = stream.read(4096)
    if gzipped:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 16)
        except zlib.error:
            return False
    return head.startswith(WARC_MAGIC)


# Headers that describe the transfer, not the page. A stored body is decoded and whole, so when a
# response came encoded (or chunked, or its Content-Length is not the stored body's) these keep their
# value under the name Common Crawl gives them in the same case, and a true Content-Length is added.
TRANSFER_HEADERS = ("content-encoding", "transfer-encoding")


def export_headers(headers: Iterable[tuple[str, str]], body_length: int) -> list[tuple[str, str]]:
    """A capture's headers as they go into a WARC next to its stored (decoded) body: unchanged when
    they describe that body, else with the transfer headers renamed X-Crawler-* and a Content-Length."""
    headers = list(headers)
    lengths = [value.strip() for name, value in headers if name.lower() == "content-length"]
    true_length = bool(lengths) and all(value == str(body_length) for value in lengths)
    out: list[tuple[str, str]] = []
    renamed = False
    for name, value in headers:
        lower = name.lower()
        if lower in TRANSFER_HEADERS or (lower == "content-length" and not true_length):
            out.append((f"X-Crawler-{name}", value))
            renamed = True
        else:
            out.append((name, value))
    if renamed and not true_length:
        out.append(("Content-Length", str(body_length)))
    return out


def write_warc(
    out: BinaryIO, captures: Iterable[Capture], *, info: dict[str, str], filename: str = "", gzip: bool = True
) -> int:
    """Write a warcinfo record and one `response` record per capture (gzip per record when `gzip`),
    with each capture's status line, headers and body bytes; returns the number of responses."""
    # WARC/1.1 for WARC-Date with microseconds: a capture's time survives export and re-import exactly.
    writer = WARCWriter(out, gzip=gzip, warc_version="1.1")
    writer.write_record(writer.create_warcinfo_record(filename, info))
    written = 0
    for capture in captures:
        protocol, _, statusline = capture.status_line.partition(" ")
        headers = export_headers(capture.headers, len(capture.body))
        record = writer.create_warc_record(
            capture.url,
            "response",
            payload=io.BytesIO(capture.body),
            length=len(capture.body),
            http_headers=StatusAndHeaders(statusline, headers, protocol=protocol),
            warc_headers_dict={
                "WARC-Date": datetime_to_iso_date(capture.captured_at.astimezone(UTC).replace(tzinfo=None), True)
            },
        )
        writer.write_record(record)
        written += 1
    return written
