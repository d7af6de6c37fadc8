"""Fetched response bodies, stored compressed, one row per distinct body of a URL."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from shared.models import Fetch, Url, utcnow
from shared.records import Capture
from shared.store.upsert import Outcome, insert_ignore
from shared.urls import content_hash


@dataclass(frozen=True, slots=True)
class StoredBody:
    """A fetched body as the parse stage needs it."""

    fetch_id: int
    final_url: str
    content_type: str | None
    charset: str | None
    body: bytes


def save_fetch(
    session: Session,
    url_id: int,
    *,
    final_url: str,
    status_code: int,
    content_type: str | None,
    charset: str | None,
    etag: str | None,
    last_modified: str | None,
    headers: dict[str, Any],
    body: bytes,
    elapsed_ms: float | None = None,
    status_line: str | None = None,
    http_headers: Sequence[tuple[str, str]] | None = None,
    fetched_at: datetime | None = None,
) -> tuple[int, Outcome]:
    """Store a body unless the same one is stored for this URL already; then widen the times it was
    seen to include `fetched_at` (default now; a web archive's capture time may lie in the past) and,
    when this is its newest sighting, take its validators and final URL."""
    digest = content_hash(body)
    now = fetched_at or utcnow()
    new_id = insert_ignore(
        session,
        Fetch.__table__,
        {
            "url_id": url_id,
            "final_url": final_url,
            "status_code": status_code,
            "content_type": content_type,
            "charset": charset,
            "etag": etag,
            "last_modified": last_modified,
            "headers": headers,
            "status_line": status_line,
            "http_headers": [list(pair) for pair in http_headers] if http_headers is not None else None,
            "content_hash": digest,
            "body_size": len(body),
            "body_zlib": zlib.compress(body, 6),
            "first_fetched_at": now,
            "last_fetched_at": now,
            "elapsed_ms": elapsed_ms,
        },
        ["url_id", "content_hash"],
    )
    if new_id is not None:
        return new_id, Outcome.INSERTED
    existing, first, last = session.execute(
        select(Fetch.id, Fetch.first_fetched_at, Fetch.last_fetched_at).where(
            Fetch.url_id == url_id, Fetch.content_hash == digest
        )
    ).one()
    if now >= last:
        session.execute(
            update(Fetch)
            .where(Fetch.id == existing)
            .values(last_fetched_at=now, etag=etag, last_modified=last_modified, final_url=final_url)
        )
    elif now < first:
        session.execute(update(Fetch).where(Fetch.id == existing).values(first_fetched_at=now))
    return existing, Outcome.UNCHANGED


def last_seen(session: Session, fetch_id: int) -> datetime | None:
    """When the body of a stored fetch was last seen (fetched live or captured)."""
    return session.execute(select(Fetch.last_fetched_at).where(Fetch.id == fetch_id)).scalar_one_or_none()


def iter_captures(
    session: Session, *, since: datetime | None = None, hosts: Sequence[str] = (), batch: int = 50
) -> Iterator[Capture]:
    """Every stored fetch as the response it was, oldest first: captured when its body was first seen.
    Fetches stored before status lines and full headers were kept get them rebuilt from what is stored.
    `hosts` keep their subdomains; `since` is compared with the capture time. Bodies are read `batch`
    rows at a time, so an export of a large store stays within a little memory."""
    stmt = select(Fetch).join(Url, Url.id == Fetch.url_id).order_by(Fetch.first_fetched_at, Fetch.id)
    if since is not None:
        stmt = stmt.where(Fetch.first_fetched_at >= since)
    if hosts:
        stmt = stmt.where(or_(*(or_(Url.host == h, Url.host.endswith(f".{h}")) for h in hosts)))
    for row in session.execute(stmt.execution_options(yield_per=batch)).scalars():
        headers = row.http_headers
        if headers is None:
            headers = [[name, value] for name, value in row.headers.items()]
        yield Capture(
            url=row.final_url,
            captured_at=row.first_fetched_at,
            status_code=row.status_code,
            status_line=row.status_line or _status_line(row.status_code),
            headers=tuple((name, value) for name, value in headers),
            content_type=row.content_type,
            charset=row.charset,
            body=zlib.decompress(row.body_zlib),
        )


def _status_line(status_code: int) -> str:
    try:
        return f"HTTP/1.1 {status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:
        return f"HTTP/1.1 {status_code}"


def load_body(session: Session, fetch_id: int) -> StoredBody | None:
    """The decompressed body of a stored fetch."""
    row = session.get(Fetch, fetch_id)
    if row is None:
        return None
    return StoredBody(row.id, row.final_url, row.content_type, row.charset, zlib.decompress(row.body_zlib))
