"""Pages fetched from an article's separate comment sources (comments JSON endpoints, comment
platforms' API answers), compressed, one row per (article, source, page) holding the page as last
fetched; a source is named by its `CommentSource.key` (the endpoint's URL for a comments endpoint)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shared.models import CommentFetch, utcnow
from shared.store.upsert import Outcome, insert_for
from shared.urls import content_hash, url_hash


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One page of a comment source as fetched: its URL, type and body."""

    url: str
    content_type: str | None
    body: bytes


def save_comment_pages(
    session: Session, article_id: int, source_url: str, pages: Sequence[FetchedPage], fetched_at: datetime | None = None
) -> Outcome:
    """Store one round of a source's pages (all stamped `fetched_at`) in one upsert in page order;
    INSERTED when any page is new, UPDATED when any body changed, UNCHANGED when the round brought
    the very bytes already stored (a body is rewritten only when it changed)."""
    if not pages:
        return Outcome.UNCHANGED
    now = fetched_at or utcnow()
    source_hash = url_hash(source_url)
    table = CommentFetch.__table__
    before = dict(
        session.execute(
            select(CommentFetch.page, CommentFetch.content_hash).where(
                CommentFetch.article_id == article_id, CommentFetch.source_hash == source_hash
            )
        ).all()
    )
    rows = [
        {
            "article_id": article_id,
            "source_hash": source_hash,
            "page": number,
            "url": page.url,
            "content_type": page.content_type,
            "content_hash": content_hash(page.body),
            "body_zlib": zlib.compress(page.body, 6),
            "first_fetched_at": now,
            "fetched_at": now,
        }
        for number, page in enumerate(pages, start=1)
    ]
    stmt = insert_for(session, table).values(rows)
    body_changed = table.c.content_hash != stmt.excluded.content_hash
    keep = {c: stmt.excluded[c] for c in ("url", "content_hash", "fetched_at")}
    keep |= {c: case((body_changed, stmt.excluded[c]), else_=table.c[c]) for c in ("content_type", "body_zlib")}
    session.execute(stmt.on_conflict_do_update(index_elements=["article_id", "source_hash", "page"], set_=keep))
    if any(row["page"] not in before for row in rows):
        return Outcome.INSERTED
    if any(before[row["page"]] != row["content_hash"] for row in rows):
        return Outcome.UPDATED
    return Outcome.UNCHANGED


def load_comment_pages(session: Session, article_id: int, source_url: str) -> list[bytes]:
    """The bodies of the source's latest round, in page order (empty when never fetched)."""
    return [page.body for page in load_comment_round(session, article_id, source_url)]


def load_comment_round(session: Session, article_id: int, source_key: str) -> list[FetchedPage]:
    """The pages of the source's latest round (URL, type, body), in the order fetched."""
    mine = (CommentFetch.article_id == article_id, CommentFetch.source_hash == url_hash(source_key))
    latest = session.execute(select(func.max(CommentFetch.fetched_at)).where(*mine)).scalar()
    if latest is None:
        return []
    rows = session.execute(
        select(CommentFetch.url, CommentFetch.content_type, CommentFetch.body_zlib)
        .where(*mine, CommentFetch.fetched_at == latest)
        .order_by(CommentFetch.page)
    ).all()
    return [FetchedPage(url, content_type, zlib.decompress(body)) for url, content_type, body in rows]
