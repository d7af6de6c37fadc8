"""The state of an article's separate comment sources (platform threads, comments endpoints): one row
per (article, source) saying how its last fetch went, why it failed, how many times in a row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.models import CommentThread
from shared.records import CommentSource
from shared.store.upsert import insert_for
from shared.urls import url_hash

DETAIL_MAX = 2000


@dataclass(frozen=True, slots=True)
class ThreadState:
    """What the store knows of one comment source, for `newsflow show` and the API."""

    provider: str
    thread: str
    status: str
    reason: str | None
    detail: str | None
    failures: int
    comments: int | None
    checked_at: datetime
    fetched_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, times in ISO 8601."""
        return {
            "provider": self.provider,
            "thread": self.thread,
            "status": self.status,
            "reason": self.reason,
            "detail": self.detail,
            "failures": self.failures,
            "comments": self.comments,
            "checked_at": self.checked_at.isoformat(),
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
        }


def record_fetched(session: Session, article_id: int, source: CommentSource, at: datetime) -> None:
    """The source answered in full: ok, its failure count back to zero."""
    _upsert(session, article_id, source, at, status="ok", reason=None, detail=None, failures=0, fetched_at=at)


def record_failure(
    session: Session, article_id: int, source: CommentSource, reason: str, detail: str, at: datetime
) -> int:
    """The source failed with `reason`; returns its failures in a row, this one included."""
    _upsert(session, article_id, source, at, status="failed", reason=reason, detail=detail[:DETAIL_MAX])
    key = _key(article_id, source)
    session.execute(update(CommentThread).where(*key).values(failures=CommentThread.failures + 1))
    return int(session.execute(select(CommentThread.failures).where(*key)).scalar_one())


def record_unsupported(session: Session, article_id: int, source: CommentSource, detail: str, at: datetime) -> bool:
    """The page embeds a platform newsflow cannot read (no public read path); True the first time."""
    key = _key(article_id, source)
    known = session.execute(select(CommentThread.status).where(*key)).scalar_one_or_none()
    _upsert(session, article_id, source, at, status="unsupported", reason="unsupported", detail=detail[:DETAIL_MAX])
    return known != "unsupported"


def record_comments(session: Session, article_id: int, source: CommentSource, comments: int) -> None:
    """How many comments the source's last round listed (set by parse, which maps them)."""
    session.execute(update(CommentThread).where(*_key(article_id, source)).values(comments=comments))


def failures_in_a_row(session: Session, article_id: int, source: CommentSource) -> int:
    """The source's failures since its last success (0 for a source never seen)."""
    found = session.execute(select(CommentThread.failures).where(*_key(article_id, source))).scalar_one_or_none()
    return int(found or 0)


def thread_states(session: Session, article_id: int) -> list[ThreadState]:
    """Every comment source recorded for the article, in the order first seen."""
    rows = session.execute(
        select(CommentThread).where(CommentThread.article_id == article_id).order_by(CommentThread.id)
    ).scalars()
    return [
        ThreadState(
            r.provider, r.thread, r.status, r.reason, r.detail, r.failures, r.comments, r.checked_at, r.fetched_at
        )
        for r in rows
    ]


def _key(article_id: int, source: CommentSource) -> tuple[Any, ...]:
    return (CommentThread.article_id == article_id, CommentThread.source_hash == url_hash(source.key))


def _upsert(session: Session, article_id: int, source: CommentSource, at: datetime, **state: Any) -> None:
    values = {"provider": source.provider, "thread": source.label[:1000], "checked_at": at, **state}
    stmt = insert_for(session, CommentThread.__table__).values(
        {"article_id": article_id, "source_hash": url_hash(source.key), "failures": 0} | values
    )
    session.execute(stmt.on_conflict_do_update(index_elements=["article_id", "source_hash"], set_=values))
