"""Read-side views: everything stored about an article, as JSON-ready dicts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from shared import models
from shared.store.article_detail import article_detail_postgres
from shared.store.comment_threads import thread_states
from shared.store.enrichment import enrichment_view
from shared.store.listing import article_revisions


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def article_view(session: Session, article_id: int) -> dict[str, Any] | None:
    """The article's record, tags, links both ways, comments with all their versions and the source
    each came from, and the state of its separate comment sources (platform threads, endpoints)."""
    article = session.get(models.Article, article_id)
    if article is None:
        return None
    tags = session.execute(
        select(models.Tag.key, models.Tag.name, models.Tag.kind, models.ArticleTag.raw)
        .join(models.ArticleTag, models.ArticleTag.tag_id == models.Tag.id)
        .where(models.ArticleTag.article_id == article_id)
        .order_by(models.ArticleTag.position)
    ).all()
    target = aliased(models.Article)
    links_out = session.execute(
        select(models.Link, target.title)
        .outerjoin(target, target.id == models.Link.target_article_id)
        .where(models.Link.article_id == article_id)
        .order_by(models.Link.kind, models.Link.position)
    ).all()
    source = aliased(models.Article)
    links_in = session.execute(
        select(models.Link, source.canonical_url, source.title)
        .join(source, source.id == models.Link.article_id)
        .where(models.Link.target_article_id == article_id)
        .order_by(models.Link.id)
    ).all()
    comments = list(
        session.execute(
            select(models.Comment).where(models.Comment.article_id == article_id).order_by(models.Comment.position)
        ).scalars()
    )
    versions: dict[int, list[dict[str, Any]]] = {}
    if comments:
        for v in session.execute(
            select(models.CommentVersion)
            .where(models.CommentVersion.comment_id.in_([c.id for c in comments]))
            .order_by(models.CommentVersion.comment_id, models.CommentVersion.version)
        ).scalars():
            versions.setdefault(v.comment_id, []).append(
                {"version": v.version, "text": v.text, "edited_at": _iso(v.edited_at), "seen_at": _iso(v.seen_at)}
            )
    return {
        **enrichment_view(session, article_id),
        "id": article.id,
        "canonical_url": article.canonical_url,
        "first_seen_at": _iso(article.first_seen_at),
        "last_seen_at": _iso(article.last_seen_at),
        "record": article.record,
        "tags": [{"key": k, "name": n, "kind": kind, "raw": raw} for k, n, kind, raw in tags],
        "links_out": [
            {
                "url": link.target_url,
                "anchor": link.anchor,
                "kind": link.kind,
                "target_article_id": link.target_article_id,
                "target_title": title,
            }
            for link, title in links_out
        ],
        "links_in": [
            {"article_id": link.article_id, "url": url, "title": title, "anchor": link.anchor, "kind": link.kind}
            for link, url, title in links_in
        ],
        "comments": [
            {
                "id": c.key,
                "parent_id": c.parent_key,
                "author": c.author,
                "reply_to_author": c.reply_to_author,
                "text": c.text,
                "posted_at": _iso(c.posted_at),
                "edited_at": _iso(c.edited_at),
                "deleted": c.deleted,
                "source": c.source,
                "sources": (c.sources or "").split(),
                "likes": c.likes,
                "dislikes": c.dislikes,
                "moderation": c.moderation,
                "missing_since": _iso(c.missing_since),
                "first_seen_at": _iso(c.first_seen_at),
                "last_seen_at": _iso(c.last_seen_at),
                "versions": versions.get(c.id, []),
            }
            for c in comments
        ],
        "comment_sources": [t.to_dict() for t in thread_states(session, article_id)],
    }


def article_detail(session: Session, article_id: int) -> dict[str, Any] | None:
    """What `GET /articles/{id}` answers: the view without key phrases and near-duplicates (the API
    does not show them), with every revision; one statement on Postgres, where stores are large."""
    if session.get_bind().dialect.name == "postgresql":
        return article_detail_postgres(session, article_id)
    return article_detail_per_list(session, article_id)


def article_detail_per_list(session: Session, article_id: int) -> dict[str, Any] | None:
    """`article_detail` read one query per list (SQLite's way; on Postgres, what tests compare with)."""
    view = article_view(session, article_id)
    if view is None:
        return None
    del view["keywords"], view["duplicates"]
    return view | {"revisions": article_revisions(session, article_id)}
