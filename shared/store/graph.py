"""Tags on articles and links between articles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared import models
from shared.models import utcnow
from shared.records import LinkEdge, TagRecord
from shared.store.upsert import insert_for, insert_ignore


def set_article_tags(session: Session, article_id: int, tags: Sequence[TagRecord]) -> int:
    """Make the article's tag set exactly `tags` (tags themselves are shared and never removed)."""
    tag_ids: list[int] = []
    for tag in tags:
        tag_id = insert_ignore(
            session, models.Tag.__table__, {"key": tag.key, "name": tag.name, "kind": tag.kind}, ["key"]
        )
        if tag_id is None:
            tag_id = session.execute(select(models.Tag.id).where(models.Tag.key == tag.key)).scalar_one()
        tag_ids.append(tag_id)
    session.execute(
        delete(models.ArticleTag).where(
            models.ArticleTag.article_id == article_id, models.ArticleTag.tag_id.not_in(tag_ids)
        )
    )
    for position, (tag, tag_id) in enumerate(zip(tags, tag_ids, strict=True)):
        stmt = insert_for(session, models.ArticleTag.__table__).values(
            article_id=article_id, tag_id=tag_id, raw=tag.raw, position=position
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["article_id", "tag_id"], set_={"raw": tag.raw, "position": position}
            )
        )
    return len(tag_ids)


def set_article_links(session: Session, article_id: int, links: Sequence[LinkEdge]) -> None:
    """Upsert the article's outgoing edges on (article, target, kind)."""
    for position, link in enumerate(links):
        stmt = insert_for(session, models.Link.__table__).values(
            article_id=article_id,
            kind=link.kind,
            position=position,
            anchor=link.anchor,
            target_url=link.target_url,
            target_hash=link.target_hash,
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["article_id", "target_hash", "kind"], set_={"anchor": link.anchor, "position": position}
            )
        )


def resolve_links(session: Session, article_id: int, canonical_hash: str) -> tuple[int, int]:
    """Point edges at stored articles, both ways: this article's edges to targets already stored,
    and older edges that were waiting for this article. Returns (outgoing, incoming) resolved."""
    now = utcnow()
    match = select(models.Article.id).where(models.Article.canonical_hash == models.Link.target_hash)
    outgoing = session.execute(
        update(models.Link)
        .where(models.Link.article_id == article_id, models.Link.target_article_id.is_(None), match.exists())
        .values(target_article_id=match.scalar_subquery(), resolved_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    incoming = session.execute(
        update(models.Link)
        .where(models.Link.target_hash == canonical_hash, models.Link.target_article_id.is_(None))
        .values(target_article_id=article_id, resolved_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return outgoing, incoming
