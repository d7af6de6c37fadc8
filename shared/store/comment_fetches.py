"""Pages fetched from an article's separate comment sources (comments JSON endpoints, comment
platforms' API answers), compressed, one row per (article, source, page) holding the page as last
fetched; a source is named by its `CommentSource.key` (the endpoint's URL for a comments endpoint)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.models import CommentFetch, utcnow
from shared.store.upsert import Outcome, insert_ignore
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
    """Store one round of a source's pages (all stamped `fetched_at`); INSERTED when any page is new,
    UPDATED when any body changed, UNCHANGED when the round brought the very bytes already stored."""
    now = fetched_at or utcnow()
    source_hash = url_hash(source_url)
    outcome = Outcome.UNCHANGED
    for number, page in enumerate(pages, start=1):
        digest = content_hash(page.body)
        values = {"url": page.url, "content_type": page.content_type, "content_hash": digest, "fetched_at": now}
        body = {"body_zlib": zlib.compress(page.body, 6)}
        new_id = insert_ignore(
            session,
            CommentFetch.__table__,
            {"article_id": article_id, "source_hash": source_hash, "page": number, "first_fetched_at": now}
            | values
            | body,
            ["article_id", "source_hash", "page"],
        )
        if new_id is not None:
            outcome = Outcome.INSERTED
            continue
        key = (
            CommentFetch.article_id == article_id,
            CommentFetch.source_hash == source_hash,
            CommentFetch.page == number,
        )
        changed = session.execute(
            update(CommentFetch).where(*key, CommentFetch.content_hash != digest).values(**values, **body)
        ).rowcount
        if changed:
            outcome = Outcome.INSERTED if outcome is Outcome.INSERTED else Outcome.UPDATED
        else:
            session.execute(update(CommentFetch).where(*key).values(fetched_at=now, url=page.url))
    return outcome


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
