"""Articles with every revision of their content, their images, and reader comments with every
version and change event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from shared import models
from shared.changes import (
    HTML_SOURCE,
    ArticleContent,
    StoredComment,
    comment_hash,
    compare_content,
    diff_comments,
)
from shared.errors import WriteConflictError
from shared.models import utcnow
from shared.records import ArticleRecord, CommentSource
from shared.records import Comment as CommentRecord
from shared.store.upsert import Outcome, insert_ignore, insert_missing
from shared.urls import url_hash, url_host


@dataclass(frozen=True, slots=True)
class ArticleWrite:
    """What upsert_article did: the article id, the outcome, and for a distrusted page why."""

    article_id: int
    outcome: Outcome
    changed_fields: tuple[str, ...] = ()
    suspect_reason: str | None = None


def _columns(record: ArticleRecord, content: ArticleContent) -> dict[str, object]:
    return {
        "canonical_url": record.canonical_url,
        "host": url_host(record.canonical_url),
        "title": record.title,
        "published_at": record.published_at,
        "updated_at": record.updated_at,
        "authors": list(record.authors),
        "lead": record.lead,
        "body": content.body,
        "language": record.language,
        "section": record.section,
        "site_name": record.site_name,
        "comment_count": record.comment_count,
        "record": record.to_dict(),
        "content_hash": content.hash,
    }


def upsert_article(
    session: Session, record: ArticleRecord, url_id: int | None, seen_at: datetime | None = None
) -> ArticleWrite:
    """Insert or update the article keyed by its canonical URL. A change of title, lead or body is
    stored as a new revision (earlier ones kept); content that looks like a bad fetch is not taken."""
    now = seen_at or utcnow()
    key = url_hash(record.canonical_url)
    content = ArticleContent.of(record)
    values = _columns(record, content)
    new_id = insert_ignore(
        session,
        models.Article.__table__,
        {
            **values,
            "canonical_hash": key,
            "url_id": url_id,
            "first_seen_at": now,
            "last_seen_at": now,
            "changed_at": now,
        },
        ["canonical_hash"],
    )
    if new_id is not None:
        _add_revision(session, new_id, 1, content, (), None, now)
        _replace_images(session, new_id, record, new=True)
        return ArticleWrite(new_id, Outcome.INSERTED)
    row = session.execute(
        select(models.Article).where(models.Article.canonical_hash == key).with_for_update(key_share=True)
    ).scalar_one()
    row.last_seen_at = now
    if row.content_hash == content.hash:
        for name in (
            "published_at",
            "updated_at",
            "authors",
            "language",
            "section",
            "site_name",
            "comment_count",
            "record",
        ):
            setattr(row, name, values[name])
        return ArticleWrite(row.id, Outcome.UNCHANGED)
    change = compare_content(ArticleContent(row.title, row.lead, row.body), content)
    if change.suspect_reason:
        return ArticleWrite(row.id, Outcome.UNCHANGED, change.changed_fields, change.suspect_reason)
    for name, value in values.items():
        setattr(row, name, value)
    if url_id is not None:
        row.url_id = url_id
    row.changed_at = now
    row.revision_count += 1
    _add_revision(session, row.id, row.revision_count, content, change.changed_fields, change.diff, now)
    _replace_images(session, row.id, record)
    return ArticleWrite(row.id, Outcome.UPDATED, change.changed_fields)


def _add_revision(
    session: Session,
    article_id: int,
    revision: int,
    content: ArticleContent,
    fields: tuple[str, ...],
    diff: str | None,
    seen_at: datetime,
) -> None:
    session.add(
        models.ArticleRevision(
            article_id=article_id,
            revision=revision,
            content_hash=content.hash,
            title=content.title,
            lead=content.lead,
            body=content.body,
            changed_fields=list(fields),
            diff=diff,
            seen_at=seen_at,
        )
    )


def _replace_images(session: Session, article_id: int, record: ArticleRecord, *, new: bool = False) -> None:
    """Images follow the current revision (earlier revisions keep theirs in the stored records); an
    article just inserted has none to delete."""
    if not new:
        session.execute(delete(models.Image).where(models.Image.article_id == article_id))
    for position, image in enumerate(record.images):
        session.add(
            models.Image(
                article_id=article_id, position=position, src=image.src, caption=image.caption, credit=image.credit
            )
        )
    session.flush()


OTHER_SOURCE_POSITIONS = 100_000


@dataclass(frozen=True, slots=True)
class CommentChanges:
    """What one pass over an article's comments changed."""

    inserted: int = 0
    edited: int = 0
    unchanged: int = 0
    missing: int = 0
    restored: int = 0

    @property
    def changed(self) -> bool:
        """True when anything about the comments changed."""
        return bool(self.inserted or self.edited or self.missing or self.restored)


def upsert_comments(
    session: Session,
    article_id: int,
    comments: Sequence[CommentRecord],
    seen_at: datetime | None = None,
    *,
    source: str = HTML_SOURCE,
    complete: bool = True,
) -> CommentChanges:
    """Merge the comments one source shows (the page's HTML, a comments endpoint) into the store: new
    ones inserted, changed text kept as a new version, ones no source shows any more (or replaced by a
    removal notice) marked deleted with the time first missed, never removed. A comment that another
    source still shows only loses this source. Every change is also an event row, in order. Like
    counts and moderation state follow the source that owns the comment, without events; an
    incomplete round (`complete=False`) marks nothing gone.

    New comments, versions and events are each written by one statement in natural-key order; the
    caller holds the article's row lock (parse stages), so merges of one article never interleave."""
    seen_at = seen_at or utcnow()
    rows = {
        row.key: row
        for row in session.execute(select(models.Comment).where(models.Comment.article_id == article_id)).scalars()
    }
    stored = {k: StoredComment(k, r.content_hash, r.deleted, _sources(r)) for k, r in rows.items()}
    diff = diff_comments(stored, comments, source, complete=complete)
    edited_ids = {c.id for c in diff.edited}
    # Comments only another source shows are listed after the page's own, each source in its order.
    offset = 0 if source == HTML_SOURCE else OTHER_SOURCE_POSITIONS
    fresh: dict[str, tuple[int, CommentRecord]] = {}
    changed: list[tuple[models.Comment, CommentRecord]] = []  # needing a version if the text differs
    events: list[tuple[str, models.Comment | str]] = []  # (kind, stored row or the key of a new comment)
    for position, comment in enumerate(comments, start=offset):
        row = rows.get(comment.id)
        if row is None:
            if comment.id not in fresh:
                fresh[comment.id] = (position, comment)
                events.append(("new", comment.id))
            continue
        row.last_seen_at = seen_at
        owner = _sources(row)[:1] in ((), (source,))
        if owner:
            row.position = position
            row.likes, row.dislikes, row.moderation = comment.likes, comment.dislikes, comment.moderation
        if comment.deleted:
            continue
        if row.deleted:
            row.sources = row.source = source  # the source that brings a comment back owns it
        elif source not in _sources(row):
            row.sources = " ".join((*_sources(row), source))
        if comment.id in edited_ids or row.deleted:
            changed.append((row, comment))
        if row.deleted:
            row.deleted, row.missing_since = False, None
            events.append(("restored", row))
        elif comment.id in edited_ids:
            events.append(("edited", row))
    new_ids = _insert_comments(session, article_id, fresh, seen_at, source)
    _add_versions(session, changed, seen_at)
    for key in diff.left:
        rows[key].sources = " ".join(s for s in _sources(rows[key]) if s != source)
    for key in (*diff.removed, *diff.gone):
        row = rows[key]
        row.deleted, row.missing_since = True, seen_at
        if key in diff.gone:
            row.sources = ""
        events.append(("deleted", row))
    _add_events(session, article_id, events, new_ids, seen_at)
    session.flush()
    return CommentChanges(
        inserted=len(diff.new),
        edited=len(diff.edited),
        unchanged=len(diff.unchanged),
        missing=len(diff.removed) + len(diff.gone),
        restored=len(diff.restored),
    )


def _sources(row: models.Comment) -> tuple[str, ...]:
    return tuple((row.sources or "").split())


def comment_sources(session: Session, article_id: int) -> tuple[CommentSource, ...]:
    """The separate comment sources the article's latest parse found (from its stored record)."""
    record = session.execute(select(models.Article.record).where(models.Article.id == article_id)).scalar()
    return tuple(CommentSource(**s) for s in (record or {}).get("comment_sources") or ())


def _insert_comments(
    session: Session, article_id: int, fresh: dict[str, tuple[int, CommentRecord]], seen_at: datetime, source: str
) -> dict[str, int]:
    """Insert new comments (one event each, so event_count 1) and their first versions, one statement
    each in key order; returns their ids by key. A key another writer inserted meanwhile is a conflict."""
    if not fresh:
        return {}
    rows = [
        {
            "article_id": article_id,
            "key": key,
            "parent_key": comment.parent_id,
            "position": position,
            "author": comment.author,
            "reply_to_author": comment.reply_to_author,
            "text": comment.text,
            "content_hash": comment_hash(comment),
            "posted_at": comment.posted_at,
            "edited_at": comment.edited_at,
            "deleted": comment.deleted,
            "missing_since": seen_at if comment.deleted else None,
            "version_count": 1,
            "event_count": 1,
            "sources": source,
            "source": source,
            "likes": comment.likes,
            "dislikes": comment.dislikes,
            "moderation": comment.moderation,
            "first_seen_at": seen_at,
            "last_seen_at": seen_at,
        }
        for key, (position, comment) in fresh.items()
    ]
    ids = dict(insert_missing(session, models.Comment.__table__, rows, ["article_id", "key"], ["key", "id"]))
    if len(ids) != len(rows):
        raise WriteConflictError(detail=f"comments of article {article_id} were written by another merge meanwhile")
    versions = [
        {
            "comment_id": ids[row["key"]],
            "version": 1,
            "text": row["text"],
            "content_hash": row["content_hash"],
            "edited_at": row["edited_at"],
            "seen_at": seen_at,
        }
        for row in rows
    ]
    insert_missing(session, models.CommentVersion.__table__, versions, ["comment_id", "content_hash"], ["id"])
    return ids


def _add_versions(session: Session, changed: list[tuple[models.Comment, CommentRecord]], seen_at: datetime) -> None:
    """Store the new text of edited (or restored) comments: a version row each, in one statement, unless
    that very text was a version before (then only the current text changes back)."""
    texts = [(row, comment, comment_hash(comment)) for row, comment in changed]
    texts = [(row, comment, digest) for row, comment, digest in texts if digest != row.content_hash]
    versions = [
        {
            "comment_id": row.id,
            "version": row.version_count + 1,
            "text": comment.text,
            "content_hash": digest,
            "edited_at": comment.edited_at,
            "seen_at": seen_at,
        }
        for row, comment, digest in texts
    ]
    table = models.CommentVersion.__table__
    added = {cid for (cid,) in insert_missing(session, table, versions, ["comment_id", "content_hash"], ["comment_id"])}
    for row, comment, digest in texts:
        if row.id in added:
            row.version_count += 1
        row.text, row.content_hash, row.author, row.edited_at = comment.text, digest, comment.author, comment.edited_at


def _add_events(
    session: Session,
    article_id: int,
    events: list[tuple[str, models.Comment | str]],
    new_ids: dict[str, int],
    at: datetime,
) -> None:
    """Write the merge's events in the order they happened, in one statement."""
    rows = []
    for kind, target in events:
        if isinstance(target, str):  # a new comment: its first event
            rows.append({"comment_id": new_ids[target], "seq": 1, "version": 1})
        else:
            target.event_count += 1
            rows.append({"comment_id": target.id, "seq": target.event_count, "version": target.version_count})
        rows[-1] |= {"article_id": article_id, "kind": kind, "happened_at": at}
    if rows:
        session.execute(insert(models.CommentEvent.__table__), rows)


def lock_article(session: Session, article_id: int) -> bool:
    """Lock the article row (Postgres) so that two merges of its comments, from the page and from a
    comments endpoint, run one after the other; False when there is no such article. FOR NO KEY UPDATE:
    rows that only reference the article (links, duplicates) are not held up by it."""
    found = session.execute(
        select(models.Article.id).where(models.Article.id == article_id).with_for_update(key_share=True)
    ).scalar_one_or_none()
    return found is not None


def get_article(session: Session, article_id: int) -> models.Article | None:
    """The article row by id."""
    return session.get(models.Article, article_id)


def find_article(session: Session, canonical_url: str) -> models.Article | None:
    """The article row by its canonical URL."""
    return session.execute(
        select(models.Article).where(models.Article.canonical_hash == url_hash(canonical_url))
    ).scalar_one_or_none()
