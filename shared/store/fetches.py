"""Fetched response bodies, stored compressed, one row per distinct body of a URL."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.models import Fetch, utcnow
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
) -> tuple[int, Outcome]:
    """Store a body unless the same one is stored for this URL already (then bump its time)."""
    digest = content_hash(body)
    now = utcnow()
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
    existing = session.execute(
        select(Fetch.id).where(Fetch.url_id == url_id, Fetch.content_hash == digest)
    ).scalar_one()
    session.execute(
        update(Fetch)
        .where(Fetch.id == existing)
        .values(last_fetched_at=now, etag=etag, last_modified=last_modified, final_url=final_url)
    )
    return existing, Outcome.UNCHANGED


def load_body(session: Session, fetch_id: int) -> StoredBody | None:
    """The decompressed body of a stored fetch."""
    row = session.get(Fetch, fetch_id)
    if row is None:
        return None
    return StoredBody(row.id, row.final_url, row.content_type, row.charset, zlib.decompress(row.body_zlib))
