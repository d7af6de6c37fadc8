"""Read-side listings for the HTTP API: filtered article pages, comment event streams, and the
parts of an article's view that the API adds (revisions).

Pages are keyset-paginated on immutable keys (article id; event time, kind, row id), so rows
inserted while a client pages never shift, repeat or hide rows it has not reached yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from shared import models
from shared.db import plan_per_call


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """Filters of an article listing; None means 'any'."""

    site: str | None = None
    tag: str | None = None
    entity: str | None = None
    since: datetime | None = None
    has_comments: bool | None = None


@dataclass(frozen=True, slots=True)
class ArticlePage:
    """One page of articles, newest stored first, and the id to continue below (None: last page)."""

    articles: list[models.Article]
    tags: dict[int, list[str]]
    next_before_id: int | None


def list_articles(
    session: Session, filters: ArticleFilter, *, limit: int = 20, before_id: int | None = None
) -> ArticlePage:
    """Articles matching `filters`, ordered by id descending, starting below `before_id`."""
    tag_id = None
    if filters.tag:
        # The tag's id first, as a value the planner sees: with the tag's own row count it reads a
        # rare tag's articles on (tag_id, article_id) in id order and a common one's along the primary
        # key (migration 0010); behind a subquery it had to guess, and a guess of "common" for a tag
        # on no article read the whole store (2 s at a million articles). No such tag: no articles.
        key = filters.tag.strip().lower()
        tag_id = session.execute(select(models.Tag.id).where(models.Tag.key == key)).scalar()
        if tag_id is None:
            return ArticlePage([], {}, None)
    hosts: list[str] = []
    if filters.site:
        # The stored spellings of the site (with www. or without: nearly always one of them), so the
        # listing is one ordered range of (host, id) (migration 0010): an OR of two hosts reads every
        # article of both to sort them, or walks the whole store backwards picking them out.
        site = filters.site.strip().lower().rstrip(".")
        variants = [site, f"www.{site}"]
        stored = session.execute(select(*(exists().where(models.Article.host == h) for h in variants))).one()
        hosts = [h for h, found in zip(variants, stored, strict=True) if found]
        if not hosts:
            return ArticlePage([], {}, None)
    plan_per_call(session)  # the best plan depends on the filter values (how common a tag or host is)
    stmt = select(models.Article).where(*_article_clauses(filters, tag_id, hosts))
    if before_id is not None:
        stmt = stmt.where(models.Article.id < before_id)
    rows = list(session.execute(stmt.order_by(models.Article.id.desc()).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return ArticlePage(rows, tag_keys(session, [a.id for a in rows]), rows[-1].id if more and rows else None)


def _article_clauses(filters: ArticleFilter, tag_id: int | None, hosts: list[str]) -> list[ColumnElement[bool]]:
    article = models.Article
    clauses: list[ColumnElement[bool]] = []
    if hosts:
        clauses.append(article.host == hosts[0] if len(hosts) == 1 else article.host.in_(hosts))
    if tag_id is not None:
        clauses.append(exists().where(models.ArticleTag.article_id == article.id, models.ArticleTag.tag_id == tag_id))
    if filters.entity:
        clauses.append(entity_clause(filters.entity))
    if filters.since is not None:
        clauses.append(func.coalesce(article.published_at, article.first_seen_at) >= filters.since)
    if filters.has_comments is not None:
        has = exists().where(models.Comment.article_id == article.id)
        clauses.append(has if filters.has_comments else ~has)
    return clauses


def entity_clause(entity: str) -> ColumnElement[bool]:
    """Articles mentioning `entity`, given by its key or its name in any case."""
    wanted = " ".join(entity.split())
    return exists().where(
        models.ArticleEntity.article_id == models.Article.id,
        models.ArticleEntity.entity_id == models.Entity.id,
        or_(models.Entity.key == wanted.casefold(), func.lower(models.Entity.name) == wanted.lower()),
    )


def tag_keys(session: Session, article_ids: Sequence[int]) -> dict[int, list[str]]:
    """Tag keys of each article, in page order, in one query."""
    if not article_ids:
        return {}
    rows = session.execute(
        select(models.ArticleTag.article_id, models.Tag.key)
        .join(models.Tag, models.Tag.id == models.ArticleTag.tag_id)
        .where(models.ArticleTag.article_id.in_(article_ids))
        .order_by(models.ArticleTag.article_id, models.ArticleTag.position)
    ).all()
    keys: dict[int, list[str]] = {}
    for article_id, key in rows:
        keys.setdefault(article_id, []).append(key)
    return keys


def article_revisions(session: Session, article_id: int) -> list[dict[str, Any]]:
    """Every stored content of the article, oldest first: what changed, when it was seen, the diff."""
    rows = session.execute(
        select(models.ArticleRevision)
        .where(models.ArticleRevision.article_id == article_id)
        .order_by(models.ArticleRevision.revision)
    ).scalars()
    return [
        {
            "revision": r.revision,
            "seen_at": r.seen_at.isoformat(),
            "changed_fields": list(r.changed_fields or []),
            "title": r.title,
            "lead": r.lead,
            "body": r.body,
            "diff": r.diff,
        }
        for r in rows
    ]


# Comment events ---------------------------------------------------------------------------------
# Events are rows of `comment_events`, written by the store in the order newsflow saw the changes;
# their id is the stream position. A client may also start from a time (`since=` an ISO instant).

EVENT_RANK = 0


@dataclass(frozen=True, slots=True)
class EventPosition:
    """Where a client is in an article's event stream: after (time, rank, row id).
    `EventPosition(t, -1, 0)` starts at time t inclusive."""

    at: datetime
    rank: int
    row_id: int


@dataclass(frozen=True, slots=True)
class CommentEvent:
    """One change to one comment, with the position to continue after it."""

    kind: str
    at: datetime
    comment_id: str
    parent_id: str | None
    author: str | None
    version: int | None
    text: str | None
    edited_at: datetime | None
    position: EventPosition


def comment_events(
    session: Session, article_id: int, *, after: EventPosition | None = None, limit: int = 100
) -> list[CommentEvent]:
    """The article's comment changes in the order they were seen, strictly after `after`
    (or from a time on, for a position with rank -1; from the start when None)."""
    event, comment, version = models.CommentEvent, models.Comment, models.CommentVersion
    stmt = (
        select(event, comment.key, comment.parent_key, comment.author, version.text, version.edited_at)
        .join(comment, comment.id == event.comment_id)
        .outerjoin(version, and_(version.comment_id == event.comment_id, version.version == event.version))
        .where(event.article_id == article_id)
    )
    if after is not None:
        stmt = stmt.where(event.happened_at >= after.at if after.rank < EVENT_RANK else event.id > after.row_id)
    rows = session.execute(stmt.order_by(event.id).limit(limit)).all()
    return [
        CommentEvent(
            kind=e.kind,
            at=e.happened_at,
            comment_id=key,
            parent_id=parent,
            author=author,
            version=e.version,
            text=None if e.kind == "deleted" else text,
            edited_at=None if e.kind == "deleted" else edited_at,
            position=EventPosition(e.happened_at, EVENT_RANK, e.id),
        )
        for e, key, parent, author, text, edited_at in rows
    ]
