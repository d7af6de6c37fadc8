"""Build WARC files in tests, record by record, as crawlers write them: gzip per record, with the
offset of every record kept, and damaged records on request (a corrupt member, a cut record).

Written with warcio; newsflow reads them with its own reader (services.ingest.warc).
"""

from __future__ import annotations

import gzip as gzip_lib
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from services.demosite.content import Resource

HTML = "text/html; charset=utf-8"


def warc_date(when: datetime) -> str:
    """A WARC-Date for an aware datetime."""
    return datetime_to_iso_date(when.astimezone(UTC).replace(tzinfo=None), use_micros=True)


class WarcBuilder:
    """A WARC file in memory; every method appends one record and returns its offset."""

    def __init__(self, gzip: bool = True):
        self.gzip = gzip
        self.buffer = io.BytesIO()
        self.offsets: list[int] = []

    def _write(self, record: object) -> int:
        offset = self.buffer.tell()
        WARCWriter(self.buffer, gzip=self.gzip, warc_version="1.0").write_record(record)
        self.offsets.append(offset)
        return offset

    @property
    def _builder(self) -> WARCWriter:
        return WARCWriter(io.BytesIO(), gzip=self.gzip, warc_version="1.0")

    def warcinfo(self) -> int:
        """The file's warcinfo record."""
        return self._write(self._builder.create_warcinfo_record("test.warc.gz", {"software": "newsflow tests"}))

    def response(
        self,
        url: str,
        body: bytes,
        when: datetime,
        *,
        status: str = "200 OK",
        content_type: str | None = HTML,
        headers: Sequence[tuple[str, str]] = (),
        extra_warc_headers: dict[str, str] | None = None,
    ) -> int:
        """An HTTP response record with `body` as its payload bytes, exactly."""
        http = [("Content-Type", content_type)] if content_type else []
        http += [*headers, ("Content-Length", str(len(body)))]
        record = self._builder.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=StatusAndHeaders(status, http, protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": warc_date(when), **(extra_warc_headers or {})},
        )
        return self._write(record)

    def resource(self, url: str, resource: Resource, when: datetime) -> int:
        """A demo site page as the site serves it."""
        status = {200: "200 OK", 404: "404 Not Found", 500: "500 Internal Server Error"}[resource.status]
        return self.response(url, resource.body, when, status=status, content_type=resource.content_type)

    def gzip_encoded(self, url: str, body: bytes, when: datetime) -> int:
        """A response whose payload is still Content-Encoding: gzip, as warcio's own capture writes."""
        return self.response(url, gzip_lib.compress(body), when, headers=[("Content-Encoding", "gzip")])

    def request(self, url: str, when: datetime) -> int:
        """The GET request a crawler sent for `url`."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        http = StatusAndHeaders(f"GET {target} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True)
        record = self._builder.create_warc_record(
            url, "request", http_headers=http, warc_headers_dict={"WARC-Date": warc_date(when)}
        )
        return self._write(record)

    def revisit(self, url: str, when: datetime, refers_to: datetime) -> int:
        """An identical-payload revisit of an earlier capture of `url` (no payload of its own)."""
        http = StatusAndHeaders("200 OK", [("Content-Type", HTML)], protocol="HTTP/1.1")
        record = self._builder.create_revisit_record(
            url,
            "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            url,
            warc_date(refers_to),
            http_headers=http,
            warc_headers_dict={"WARC-Date": warc_date(when)},
        )
        return self._write(record)

    def metadata(self, url: str, when: datetime) -> int:
        """A metadata record about `url`."""
        record = self._builder.create_warc_record(
            url,
            "metadata",
            payload=io.BytesIO(b"fetchTimeMs: 120\r\n"),
            length=18,
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Date": warc_date(when)},
        )
        return self._write(record)

    def raw(self, data: bytes) -> int:
        """Bytes as given (a damaged record)."""
        offset = self.buffer.tell()
        self.buffer.write(data)
        self.offsets.append(offset)
        return offset

    def corrupt(self, url: str, body: bytes, when: datetime) -> int:
        """A response record whose gzip member has bytes flipped in the middle: unreadable."""
        member = bytearray(self.render(lambda b: b.response(url, body, when)))
        middle = len(member) // 2
        member[middle : middle + 8] = bytes(b ^ 0xFF for b in member[middle : middle + 8])
        return self.raw(bytes(member))

    def cut(self, url: str, body: bytes, when: datetime, missing: int) -> int:
        """A response record `missing` bytes shorter than its Content-Length, in a whole gzip member."""
        record = self.render(lambda b: b.response(url, body, when))
        plain = gzip_lib.decompress(record) if self.gzip else record
        cut = plain[: len(plain) - missing - 4]  # the record's two closing CRLFs go too
        return self.raw(gzip_lib.compress(cut) if self.gzip else cut)

    def render(self, write: object) -> bytes:
        """The bytes one record would have, without appending it."""
        other = WarcBuilder(self.gzip)
        write(other)  # type: ignore[operator]
        return other.getvalue()

    def getvalue(self) -> bytes:
        """The file's bytes so far."""
        return self.buffer.getvalue()
