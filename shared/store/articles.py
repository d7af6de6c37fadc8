"""Articles, their images and their reader comments with every version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared import models
from shared.models import utcnow
from shared.records import ArticleRecord
from shared.records import Comment as CommentRecord
from shared.store.upsert import Outcome, insert_ignore
from shared.urls import content_hash, url_hash, url_host


def article_content_hash(record: ArticleRecord) -> str:
    """Hash of what makes an article's content: a change here is a revision, anything else is noise."""
    published = record.published_at.isoformat() if record.published_at else ""
    return content_hash(
        record.title, record.lead, "\n".join(record.body_paragraphs), "|".join(record.authors), published
    )


def upsert_article(session: Session, record: ArticleRecord, url_id: int | None) -> tuple[int, Outcome]:
    """Insert or update the article keyed by its canonical URL; images follow the record."""
    key = url_hash(record.canonical_url)
    digest = article_content_hash(record)
    now = utcnow()
    values = {
        "canonical_url": record.canonical_url,
        "canonical_hash": key,
        "url_id": url_id,
        "host": url_host(record.canonical_url),
        "title": record.title,
        "published_at": record.published_at,
        "updated_at": record.updated_at,
        "authors": list(record.authors),
        "lead": record.lead,
        "body": "\n\n".join(record.body_paragraphs),
        "language": record.language,
        "section": record.section,
        "site_name": record.site_name,
        "comment_count": record.comment_count,
        "record": record.to_dict(),
        "content_hash": digest,
    }
    new_id = insert_ignore(
        session,
        models.Article.__table__,
        {**values, "first_seen_at": now, "last_seen_at": now, "changed_at": now},
        ["canonical_hash"],
    )
    if new_id is not None:
        _replace_images(session, new_id, record)
        return new_id, Outcome.INSERTED
    row = session.execute(
        select(models.Article).where(models.Article.canonical_hash == key).with_for_update()
    ).scalar_one()
    row.last_seen_at = now
    row.comment_count = record.comment_count
    row.record = values["record"]
    if row.content_hash == digest:
        return row.id, Outcome.UNCHANGED
    for name, value in values.items():
        if name != "url_id" or value is not None:
            setattr(row, name, value)
    row.changed_at = now
    _replace_images(session, row.id, record)
    return row.id, Outcome.UPDATED


def _replace_images(session: Session, article_id: int, record: ArticleRecord) -> None:
    session.execute(delete(models.Image).where(models.Image.article_id == article_id))
    for position, image in enumerate(record.images):
        session.add(
            models.Image(
                article_id=article_id, position=position, src=image.src, caption=image.caption, credit=image.credit
            )
        )
    session.flush()


@dataclass(frozen=True, slots=True)
class CommentChanges:
    """What one pass over an article's comments changed."""

    inserted: int = 0
    edited: int = 0
    unchanged: int = 0
    missing: int = 0


def upsert_comments(
    session: Session, article_id: int, comments: Sequence[CommentRecord], seen_at: datetime | None = None
) -> CommentChanges:
    """Merge the comments seen on a page into the store: new ones inserted, changed text kept as a
    new version, ones no longer on the page marked deleted with the time first missed (never removed)."""
    seen_at = seen_at or utcnow()
    existing = {
        row.key: row
        for row in session.execute(select(models.Comment).where(models.Comment.article_id == article_id)).scalars()
    }
    inserted = edited = unchanged = 0
    for position, comment in enumerate(comments):
        digest = content_hash(comment.text, comment.author)
        row = existing.get(comment.id)
        if row is None:
            row = _insert_comment(session, article_id, position, comment, digest, seen_at)
            existing[comment.id] = row
            inserted += 1
            continue
        row.last_seen_at = seen_at
        row.missing_since = None
        row.position = position
        row.deleted = comment.deleted
        if row.content_hash == digest:
            unchanged += 1
            continue
        new_version = insert_ignore(
            session,
            models.CommentVersion.__table__,
            {
                "comment_id": row.id,
                "version": row.version_count + 1,
                "text": comment.text,
                "content_hash": digest,
                "edited_at": comment.edited_at,
                "seen_at": seen_at,
            },
            ["comment_id", "content_hash"],
        )
        if new_version is not None:
            row.version_count += 1
        row.text, row.content_hash, row.author = comment.text, digest, comment.author
        row.edited_at = comment.edited_at
        edited += 1
    seen = {c.id for c in comments}
    missing = 0
    if comments:
        gone = [k for k, row in existing.items() if k not in seen and row.missing_since is None]
        if gone:
            session.execute(
                update(models.Comment)
                .where(models.Comment.article_id == article_id, models.Comment.key.in_(gone))
                .values(missing_since=seen_at, deleted=True)
            )
            missing = len(gone)
    session.flush()
    return CommentChanges(inserted, edited, unchanged, missing)


def _insert_comment(
    session: Session, article_id: int, position: int, comment: CommentRecord, digest: str, seen_at: datetime
) -> models.Comment:
    row = models.Comment(
        article_id=article_id,
        key=comment.id,
        parent_key=comment.parent_id,
        position=position,
        author=comment.author,
        reply_to_author=comment.reply_to_author,
        text=comment.text,
        content_hash=digest,
        posted_at=comment.posted_at,
        edited_at=comment.edited_at,
        deleted=comment.deleted,
        version_count=1,
        first_seen_at=seen_at,
        last_seen_at=seen_at,
    )
    session.add(row)
    session.flush()
    session.add(
        models.CommentVersion(
            comment_id=row.id,
            version=1,
            text=comment.text,
            content_hash=digest,
            edited_at=comment.edited_at,
            seen_at=seen_at,
        )
    )
    return row


def get_article(session: Session, article_id: int) -> models.Article | None:
    """The article row by id."""
    return session.get(models.Article, article_id)


def find_article(session: Session, canonical_url: str) -> models.Article | None:
    """The article row by its canonical URL."""
    return session.execute(
        select(models.Article).where(models.Article.canonical_hash == url_hash(canonical_url))
    ).scalar_one_or_none()
