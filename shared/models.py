"""Database models (SQLAlchemy 2.0, typed). Every table has a natural key with a unique constraint.

The same models serve Postgres (the deployment store) and SQLite (the embedded default), so
types stick to what both have: JSON becomes JSONB on Postgres, times are stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# URLs on their way through the pipeline (the states with a stage to run; see shared.store.frontier).
PENDING_URLS = "state IN ('queued', 'fetched', 'parsed', 'enriched')"

# BIGINT on Postgres, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; SQLite's naive values come back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Feed(Base):
    """A registered RSS/Atom/JSON feed (or sitemap) and its polling state."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="feed")
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error_reason: Mapped[str | None] = mapped_column(String(64))
    last_error_detail: Mapped[str | None] = mapped_column(Text)
    parked: Mapped[bool] = mapped_column(Boolean, default=False)
    entries_seen: Mapped[int] = mapped_column(Integer, default=0)
    poll_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Url(Base):
    """The URL frontier: one row per canonical URL and its state through the pipeline."""

    __tablename__ = "urls"
    __table_args__ = (
        Index("ix_urls_state_due", "state", "next_due_at"),
        # The sweep's scan: items on their way, by stage and dispatch stamp (finished URLs stay out).
        Index(
            "ix_urls_pending_dispatched",
            "state",
            "dispatched_at",
            postgresql_where=text(PENDING_URLS),
            sqlite_where=text(PENDING_URLS),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(64), default="cli")
    feed_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("feeds.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    stage_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error_stage: Mapped[str | None] = mapped_column(String(16))
    last_error_reason: Mapped[str | None] = mapped_column(String(64))
    last_error_detail: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_fetch_id: Mapped[int | None] = mapped_column(BigId)
    article_id: Mapped[int | None] = mapped_column(BigId, index=True)
    repoll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    repoll_schedule: Mapped[str | None] = mapped_column(String(200))
    repoll_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_polls: Mapped[int] = mapped_column(Integer, default=0)
    poll_changed: Mapped[bool] = mapped_column(Boolean, default=False)
    last_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Fetch(Base):
    """One distinct response body for a URL; a refetch with the same content adds no row."""

    __tablename__ = "fetches"
    __table_args__ = (UniqueConstraint("url_id", "content_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url_id: Mapped[int] = mapped_column(BigId, ForeignKey("urls.id", ondelete="CASCADE"))
    final_url: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(128))
    charset: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # The response as received, for web archive export: "HTTP/1.1 200 OK" and every header as
    # [name, value] in order, duplicates kept (None on fetches stored before they were kept).
    status_line: Mapped[str | None] = mapped_column(Text)
    http_headers: Mapped[list[list[str]] | None] = mapped_column(JsonType)
    content_hash: Mapped[str] = mapped_column(String(64))
    body_size: Mapped[int] = mapped_column(Integer)
    body_zlib: Mapped[bytes] = mapped_column(LargeBinary)
    first_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    elapsed_ms: Mapped[float | None] = mapped_column()


class Article(Base):
    """A parsed article, keyed by its canonical URL."""

    __tablename__ = "articles"
    # `GET /articles?since=` filters on the published time, else the first seen (migration 0010).
    # (host, id): a site's articles in id order, for `GET /articles?site=` pages (migration 0010).
    __table_args__ = (
        Index("ix_articles_published_or_seen", func.coalesce(text("published_at"), text("first_seen_at"))),
        Index("ix_articles_host", "host", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    canonical_url: Mapped[str] = mapped_column(Text)
    canonical_hash: Mapped[str] = mapped_column(String(64), unique=True)
    url_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("urls.id", ondelete="SET NULL"))
    host: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authors: Mapped[list[str]] = mapped_column(JsonType, default=list)
    lead: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(16))
    section: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    revision_count: Mapped[int] = mapped_column(Integer, default=1)
    record: Mapped[dict[str, Any]] = mapped_column(JsonType)
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Image(Base):
    """An image of an article with caption and credit, in page order."""

    __tablename__ = "images"
    __table_args__ = (UniqueConstraint("article_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    src: Mapped[str | None] = mapped_column(Text)
    caption: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[str | None] = mapped_column(Text)


class Tag(Base):
    """A normalised tag: `key` is the folded form, `name` the display form first seen."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(32))


class ArticleTag(Base):
    """A tag on an article, with the site's raw spelling and its position."""

    __tablename__ = "article_tags"
    # (tag, article): a tag's articles in id order, for `GET /articles?tag=` pages (migration 0010).
    __table_args__ = (UniqueConstraint("article_id", "tag_id"), Index("ix_article_tags_tag_id", "tag_id", "article_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(BigId, ForeignKey("tags.id", ondelete="CASCADE"))
    raw: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Link(Base):
    """An edge from an article to a URL it links (related block), resolved to a stored article."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("article_id", "target_hash", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="related")
    position: Mapped[int] = mapped_column(Integer, default=0)
    anchor: Mapped[str | None] = mapped_column(Text)
    target_url: Mapped[str] = mapped_column(Text)
    target_hash: Mapped[str] = mapped_column(String(64), index=True)
    target_article_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Comment(Base):
    """A reader comment keyed by (article, site comment id or stable hash); never hard-deleted."""

    __tablename__ = "comments"
    __table_args__ = (UniqueConstraint("article_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    parent_key: Mapped[str | None] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer, default=0)
    author: Mapped[str | None] = mapped_column(Text)
    reply_to_author: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    version_count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    # Space-separated sources that showed the comment on their last poll ("html", "site_json"), the
    # one that owns its text first; it is deleted only when none shows it (shared.changes).
    sources: Mapped[str] = mapped_column(String(200), default="html")
    # The source that first showed the comment (kept when it is gone, unlike `sources`), and what a
    # comment platform says of it beyond its text: like counts and moderation state (no events).
    source: Mapped[str] = mapped_column(String(32), default="html")
    likes: Mapped[int | None] = mapped_column(Integer)
    dislikes: Mapped[int | None] = mapped_column(Integer)
    moderation: Mapped[str | None] = mapped_column(String(16))


class CommentFetch(Base):
    """One page of an article's comments endpoint as last fetched; the pages of the latest round of
    a source share its `fetched_at` (a page beyond the end of a thread that shrank stays, unread)."""

    __tablename__ = "comment_fetches"
    __table_args__ = (UniqueConstraint("article_id", "source_hash", "page"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    source_hash: Mapped[str] = mapped_column(String(64))
    page: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(128))
    content_hash: Mapped[str] = mapped_column(String(64))
    body_zlib: Mapped[bytes] = mapped_column(LargeBinary)
    first_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommentThread(Base):
    """The state of one of an article's separate comment sources (a platform thread, a comments
    endpoint): the last outcome with its reason, failures in a row, comments in the last round."""

    __tablename__ = "comment_threads"
    __table_args__ = (UniqueConstraint("article_id", "source_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    source_hash: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(32))
    thread: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # ok, failed, unsupported
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int | None] = mapped_column(Integer)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CommentVersion(Base):
    """One distinct text of a comment; an edit adds a version, earlier ones are kept."""

    __tablename__ = "comment_versions"
    __table_args__ = (UniqueConstraint("comment_id", "content_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    comment_id: Mapped[int] = mapped_column(BigId, ForeignKey("comments.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommentEvent(Base):
    """A change to a comment (new, edited, deleted, restored), in the order newsflow saw it."""

    __tablename__ = "comment_events"
    __table_args__ = (UniqueConstraint("comment_id", "seq"), Index("ix_comment_events_article", "article_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(BigId, ForeignKey("comments.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleRevision(Base):
    """One distinct content (title, lead, body) of an article; revision 1 is the first seen."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "revision"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    lead: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    changed_fields: Mapped[list[str]] = mapped_column(JsonType, default=list)
    diff: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Entity(Base):
    """A canonical person, place or organisation, keyed by its folded name, with known spellings."""

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    aliases: Mapped[list[str]] = mapped_column(JsonType, default=list)


class ArticleEntity(Base):
    """An entity mentioned in an article, with how often, in order of prominence."""

    __tablename__ = "article_entities"
    __table_args__ = (UniqueConstraint("article_id", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(BigId, ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    mentions: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ArticleKeyword(Base):
    """A key phrase of an article: a topic tag with its relevance score (higher is more relevant)."""

    __tablename__ = "article_keywords"
    __table_args__ = (UniqueConstraint("article_id", "tag_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(BigId, ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(default=0.0)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ArticleFingerprint(Base):
    """An article's MinHash signature for near-duplicate detection, for the text with `content_hash`."""

    __tablename__ = "article_fingerprints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"), unique=True)
    signature: Mapped[list[int]] = mapped_column(JsonType)
    shingles: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))


class FingerprintBand(Base):
    """One LSH band key of an article's fingerprint: equal keys make near-duplicate candidates."""

    __tablename__ = "fingerprint_bands"
    __table_args__ = (UniqueConstraint("article_id", "band"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    band: Mapped[int] = mapped_column(BigInteger, index=True)


class ArticleDuplicate(Base):
    """A near-duplicate pair: `article_id` was found to copy the earlier `duplicate_of_id`."""

    __tablename__ = "article_duplicates"
    __table_args__ = (UniqueConstraint("article_id", "duplicate_of_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    duplicate_of_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    similarity: Mapped[float] = mapped_column()
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
