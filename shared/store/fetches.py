"""Fetched response bodies, stored compressed, one row per distinct body of a URL."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from shared.models import Fetch, Url, utcnow
from shared.records import Capture
from shared.store.upsert import Outcome, insert_ignore, insert_missing
from shared.urls import content_hash


@dataclass(frozen=True, slots=True)
class StoredBody:
    """A fetched body as the parse stage needs it."""

    fetch_id: int
    final_url: str
    content_type: str | None
    charset: str | None
    body: bytes


@dataclass(frozen=True, slots=True)
class NewFetch:
    """A response to store as a fetch of a URL (see save_fetches)."""

    url_id: int
    final_url: str
    status_code: int
    content_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None
    headers: dict[str, Any]
    body: bytes
    fetched_at: datetime
    status_line: str | None = None
    http_headers: Sequence[tuple[str, str]] | None = None
    elapsed_ms: float | None = None
    # (content hash, zlib bytes) from compress_body, when the caller compressed it already (in
    # another thread than the one that writes, for a bulk import).
    compressed: tuple[str, bytes] | None = None


def compress_body(body: bytes, zlib_level: int) -> tuple[str, bytes]:
    """A body's content hash (the natural key) and its stored, compressed form."""
    return content_hash(body), zlib.compress(body, zlib_level)


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
    keep: int = 0,
) -> tuple[int, Outcome]:
    """Store a body unless the same one is stored for this URL already (then bump its time). With
    `keep`, a new body drops the URL's bodies beyond the newest `keep` (see prune_fetches)."""
    fetch = NewFetch(
        url_id,
        final_url,
        status_code,
        content_type,
        charset,
        etag,
        last_modified,
        headers,
        body,
        utcnow(),
        status_line,
        http_headers,
        elapsed_ms,
    )
    digest, body_zlib = compress_body(body, ZLIB_LEVEL)
    new_id = insert_ignore(session, Fetch.__table__, _row(fetch, digest, body_zlib), ["url_id", "content_hash"])
    if new_id is not None:
        if keep:
            prune_fetches(session, [url_id], keep)
        return new_id, Outcome.INSERTED
    existing = session.execute(
        select(Fetch.id).where(Fetch.url_id == url_id, Fetch.content_hash == digest)
    ).scalar_one()
    session.execute(
        update(Fetch)
        .where(Fetch.id == existing)
        .values(last_fetched_at=fetch.fetched_at, etag=etag, last_modified=last_modified, final_url=final_url)
    )
    return existing, Outcome.UNCHANGED


def prune_fetches(session: Session, url_ids: Sequence[int], keep: int) -> int:
    """Delete these URLs' fetched bodies beyond the newest `keep` of each (by last time fetched), in one
    statement on the (url_id, content_hash) index; never the body a URL's parse reads (its last fetch
    id). Only raw responses go: articles, their revisions, comments and comment versions are other
    tables and stay. Returns how many were deleted. A body fetched again later is stored again."""
    if keep < 1 or not url_ids:
        return 0
    ranked = (
        select(
            Fetch.id,
            func.row_number()
            .over(partition_by=Fetch.url_id, order_by=(Fetch.last_fetched_at.desc(), Fetch.id.desc()))
            .label("rank"),
        )
        .where(Fetch.url_id.in_(url_ids))
        .subquery()
    )
    parsed = select(Url.last_fetch_id).where(Url.id.in_(url_ids), Url.last_fetch_id.is_not(None))
    stmt = delete(Fetch).where(
        Fetch.id.in_(select(ranked.c.id).where(ranked.c.rank > keep)),
        Fetch.id.not_in(parsed),
    )
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount


def prune_stored_fetches(session: Session, keep: int, *, after_url_id: int = 0, batch: int = 1000) -> tuple[int, int]:
    """Apply the retention to a stored batch of URLs: those with ids after `after_url_id`, `batch` of
    them, keep their newest `keep` bodies and the parsed one (`prune_fetches`). For a store that turns
    retention on later, or lowers it: the caller walks the frontier batch by batch, one transaction
    each. Returns (the last URL id of the batch, 0 when none is left; bodies deleted)."""
    url_ids = list(session.execute(select(Url.id).where(Url.id > after_url_id).order_by(Url.id).limit(batch)).scalars())
    if not url_ids:
        return 0, 0
    return url_ids[-1], prune_fetches(session, url_ids, keep)


# zlib levels, measured on the real-page set (tests/fixtures/realpages, 315 KB per page): level 6
# keeps 19.5% of the bytes at 4.4 ms a page, level 1 23.2% at 1.7 ms. A live fetch waits on the
# network anyway; a bulk archive import is bound by this, so it takes level 1 (BENCHMARKS.md).
ZLIB_LEVEL = 6
ZLIB_LEVEL_BULK = 1


def save_fetches(session: Session, items: Sequence[NewFetch], *, zlib_level: int = ZLIB_LEVEL_BULK) -> list[int]:
    """Store many responses (web archive captures) in a few statements, one fetch id per item in
    order. A body already stored for its URL (or twice in `items`) is one row whose first and last
    times seen widen to include every `fetched_at`; the newest sighting sets its validators."""
    compressed = [f.compressed or compress_body(f.body, zlib_level) for f in items]
    digests = [digest for digest, _ in compressed]
    groups: dict[tuple[int, str], list[NewFetch]] = {}
    bodies: dict[str, bytes] = {}
    for fetch, (digest, body_zlib) in zip(items, compressed, strict=True):
        groups.setdefault((fetch.url_id, digest), []).append(fetch)
        bodies[digest] = body_zlib
    rows = []
    for (_, digest), group in groups.items():
        row = _row(max(group, key=lambda f: f.fetched_at), digest, bodies[digest])
        row["first_fetched_at"] = min(f.fetched_at for f in group)
        rows.append(row)
    inserted = insert_missing(
        session, Fetch.__table__, rows, ["url_id", "content_hash"], ["id", "url_id", "content_hash"]
    )
    ids = {(url_id, digest): fetch_id for fetch_id, url_id, digest in inserted}
    known = [key for key in groups if key not in ids]
    if known:
        stmt = select(Fetch.id, Fetch.url_id, Fetch.content_hash, Fetch.first_fetched_at, Fetch.last_fetched_at)
        for fetch_id, url_id, digest, first, last in session.execute(
            stmt.where(tuple_(Fetch.url_id, Fetch.content_hash).in_(known))
        ):
            ids[(url_id, digest)] = fetch_id
            _widen(session, fetch_id, first, last, groups[(url_id, digest)])
    return [ids[(f.url_id, digest)] for f, digest in zip(items, digests, strict=True)]


def _widen(session: Session, fetch_id: int, first: datetime, last: datetime, group: list[NewFetch]) -> None:
    newest = max(group, key=lambda f: f.fetched_at)
    earliest = min(f.fetched_at for f in group)
    values: dict[str, Any] = {}
    if newest.fetched_at > last:
        values |= {
            "last_fetched_at": newest.fetched_at,
            "etag": newest.etag,
            "last_modified": newest.last_modified,
            "final_url": newest.final_url,
        }
    if earliest < first:
        values["first_fetched_at"] = earliest
    if values:
        session.execute(update(Fetch).where(Fetch.id == fetch_id).values(**values))


def _row(fetch: NewFetch, digest: str, body_zlib: bytes) -> dict[str, Any]:
    headers = fetch.http_headers
    return {
        "url_id": fetch.url_id,
        "final_url": fetch.final_url,
        "status_code": fetch.status_code,
        "content_type": fetch.content_type,
        "charset": fetch.charset,
        "etag": fetch.etag,
        "last_modified": fetch.last_modified,
        "headers": fetch.headers,
        "status_line": fetch.status_line,
        "http_headers": [list(pair) for pair in headers] if headers is not None else None,
        "content_hash": digest,
        "body_size": len(fetch.body),
        "body_zlib": body_zlib,
        "first_fetched_at": fetch.fetched_at,
        "last_fetched_at": fetch.fetched_at,
        "elapsed_ms": fetch.elapsed_ms,
    }


def last_seen_many(session: Session, fetch_ids: Iterable[int]) -> dict[int, datetime]:
    """When the bodies of these stored fetches were last seen (fetched live or captured)."""
    ids = sorted(set(fetch_ids))
    if not ids:
        return {}
    stmt = select(Fetch.id, Fetch.last_fetched_at).where(Fetch.id.in_(ids))
    return dict(session.execute(stmt).all())


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
