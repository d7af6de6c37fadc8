"""`GET /articles/{id}` in one Postgres statement.

The answer nests nine lists (tags, entities, links both ways, comments with their versions, comment
sources, revisions); read one query each, at a million articles the round trips and the ORM's
per-row work were most of the request (12 queries, ~8 ms of CPU). Here Postgres builds every list
as JSON (`json_agg`, ordered as the per-list queries order them) next to the article's columns, in
one round trip; Python only makes the times ISO 8601 in UTC and splits the comment sources, so the
answer is the same dict `views.article_view` and `listing.article_revisions` give (a test compares
them). SQLite, the small embedded store, keeps those per-list queries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.models import UTCDateTime


def _list(fields: str, source: str, order: str) -> str:
    """A scalar subquery: the rows of `source` as a JSON array of objects, in `order` ([] when none)."""
    return f"(SELECT coalesce(json_agg(json_build_object({fields}) ORDER BY {order}), '[]') FROM {source})"


# Every nested list: (JSON fields, rows, order), as the per-list queries read them.
_VERSIONS = (
    "'version', v.version, 'text', v.text, 'edited_at', v.edited_at, 'seen_at', v.seen_at",
    "comment_versions v WHERE v.comment_id = c.id",
    "v.version",
)
_LISTS = {
    "tags": (
        "'key', t.key, 'name', t.name, 'kind', t.kind, 'raw', x.raw",
        "article_tags x JOIN tags t ON t.id = x.tag_id WHERE x.article_id = a.id",
        "x.position",
    ),
    "entities": (
        "'key', e.key, 'name', e.name, 'kind', e.kind, 'aliases', coalesce(e.aliases, '[]'), 'mentions', x.mentions",
        "article_entities x JOIN entities e ON e.id = x.entity_id WHERE x.article_id = a.id",
        "x.position",
    ),
    "links_out": (
        "'url', l.target_url, 'anchor', l.anchor, 'kind', l.kind, 'target_article_id', l.target_article_id,"
        " 'target_title', t.title",
        "links l LEFT JOIN articles t ON t.id = l.target_article_id WHERE l.article_id = a.id",
        "l.kind, l.position",
    ),
    "links_in": (
        "'article_id', l.article_id, 'url', s.canonical_url, 'title', s.title, 'anchor', l.anchor, 'kind', l.kind",
        "links l JOIN articles s ON s.id = l.article_id WHERE l.target_article_id = a.id",
        "l.id",
    ),
    "comments": (
        "'id', c.key, 'parent_id', c.parent_key, 'author', c.author, 'reply_to_author', c.reply_to_author,"
        " 'text', c.text, 'posted_at', c.posted_at, 'edited_at', c.edited_at, 'deleted', c.deleted,"
        " 'source', c.source, 'sources', c.sources, 'likes', c.likes, 'dislikes', c.dislikes,"
        " 'moderation', c.moderation, 'missing_since', c.missing_since, 'first_seen_at', c.first_seen_at,"
        f" 'last_seen_at', c.last_seen_at, 'versions', {_list(*_VERSIONS)}",
        "comments c WHERE c.article_id = a.id",
        "c.position",
    ),
    "comment_sources": (
        "'provider', s.provider, 'thread', s.thread, 'status', s.status, 'reason', s.reason, 'detail', s.detail,"
        " 'failures', s.failures, 'comments', s.comments, 'checked_at', s.checked_at, 'fetched_at', s.fetched_at",
        "comment_threads s WHERE s.article_id = a.id",
        "s.id",
    ),
    "revisions": (
        "'revision', r.revision, 'seen_at', r.seen_at, 'changed_fields', coalesce(r.changed_fields, '[]'),"
        " 'title', r.title, 'lead', r.lead, 'body', r.body, 'diff', r.diff",
        "article_revisions r WHERE r.article_id = a.id",
        "r.revision",
    ),
}
_DETAIL = text(
    "SELECT a.id, a.canonical_url, a.first_seen_at, a.last_seen_at, a.record, "
    + ", ".join(f"{_list(*spec)} AS {name}" for name, spec in _LISTS.items())
    + " FROM articles a WHERE a.id = :article_id"
).columns(first_seen_at=UTCDateTime(), last_seen_at=UTCDateTime())

_COMMENT_TIMES = ("posted_at", "edited_at", "missing_since", "first_seen_at", "last_seen_at")


def _utc(value: str | None) -> str | None:
    """A JSON time (Postgres writes the session's offset and trims zero digits) as Python's isoformat in UTC."""
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC).isoformat()


def article_detail_postgres(session: Session, article_id: int) -> dict[str, Any] | None:
    """The API's answer for one article (None when there is none), read in one statement."""
    row = session.execute(_DETAIL, {"article_id": article_id}).mappings().one_or_none()
    if row is None:
        return None
    for comment in row["comments"]:
        for key in _COMMENT_TIMES:
            comment[key] = _utc(comment[key])
        comment["sources"] = (comment["sources"] or "").split()
        for version in comment["versions"]:
            version["edited_at"], version["seen_at"] = _utc(version["edited_at"]), _utc(version["seen_at"])
    for source in row["comment_sources"]:
        source["checked_at"], source["fetched_at"] = _utc(source["checked_at"]), _utc(source["fetched_at"])
    for revision in row["revisions"]:
        revision["seen_at"] = _utc(revision["seen_at"])
    return {
        **row,
        "first_seen_at": row["first_seen_at"].isoformat(),
        "last_seen_at": row["last_seen_at"].isoformat(),
    }
