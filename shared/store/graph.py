"""Tags on articles and links between articles: related blocks, in-body links and near-duplicates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from shared import models
from shared.models import utcnow
from shared.records import LinkEdge, TagRecord
from shared.store.upsert import insert_for, insert_ignore, replace_article_rows


def upsert_tag(session: Session, tag: TagRecord) -> int:
    """The id of the tag with `tag.key`, inserted if new; a known tag without a kind takes this one's."""
    tag_id = insert_ignore(session, models.Tag.__table__, {"key": tag.key, "name": tag.name, "kind": tag.kind}, ["key"])
    if tag_id is not None:
        return tag_id
    tag_id = session.execute(select(models.Tag.id).where(models.Tag.key == tag.key)).scalar_one()
    if tag.kind is not None:
        session.execute(
            update(models.Tag).where(models.Tag.id == tag_id, models.Tag.kind.is_(None)).values(kind=tag.kind)
        )
    return tag_id


def set_article_tags(session: Session, article_id: int, tags: Sequence[TagRecord]) -> int:
    """Make the article's tag set exactly `tags` (tags themselves are shared and never removed)."""
    rows = [{"tag_id": upsert_tag(session, tag), "raw": tag.raw} for tag in tags]
    replace_article_rows(session, models.ArticleTag.__table__, article_id, "tag_id", rows)
    return len(rows)


def set_article_links(
    session: Session, article_id: int, links: Sequence[LinkEdge], *, exact_kinds: Iterable[str] = ()
) -> None:
    """Upsert the article's outgoing edges on (article, target, kind); edges of `exact_kinds` that are
    no longer in `links` are removed (the page dropped them), so a re-parse leaves the set exact."""
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
    for kind in exact_kinds:
        keep = [link.target_hash for link in links if link.kind == kind]
        session.execute(
            delete(models.Link).where(
                models.Link.article_id == article_id, models.Link.kind == kind, models.Link.target_hash.not_in(keep)
            )
        )


def resolve_links(
    session: Session,
    article_id: int,
    canonical_hash: str,
    *,
    alias_hashes: Sequence[str] = (),
    target_variants: dict[str, str] | None = None,
) -> tuple[int, int]:
    """Point edges at stored articles, both ways: this article's edges to targets already stored,
    and older edges that were waiting for this article. Returns (outgoing, incoming) resolved.

    A target matches an article by canonical URL, by the URL as linked when the frontier row of that
    URL led to the article (redirects, short links), or by `target_variants` (target hash -> the hash
    of its trailing-slash twin). Incoming edges match `canonical_hash` and `alias_hashes` (the twin of
    this article's URL, and the URLs the frontier followed to it)."""
    now = utcnow()
    outgoing = 0
    pending = session.execute(
        select(models.Link.id, models.Link.target_hash).where(
            models.Link.article_id == article_id, models.Link.target_article_id.is_(None)
        )
    ).all()
    if pending:
        wanted = {h for _, h in pending} | set((target_variants or {}).values())
        by_hash = dict(
            session.execute(
                select(models.Article.canonical_hash, models.Article.id).where(
                    models.Article.canonical_hash.in_(wanted)
                )
            ).all()
        )
        via_frontier = dict(
            session.execute(
                select(models.Url.url_hash, models.Url.article_id).where(
                    models.Url.url_hash.in_(wanted), models.Url.article_id.is_not(None)
                )
            ).all()
        )
        for link_id, target_hash in pending:
            variant = (target_variants or {}).get(target_hash)
            target = (
                by_hash.get(target_hash)
                or via_frontier.get(target_hash)
                or (by_hash.get(variant) if variant else None)
                or (via_frontier.get(variant) if variant else None)
            )
            if target is None or target == article_id:
                continue
            session.execute(
                update(models.Link).where(models.Link.id == link_id).values(target_article_id=target, resolved_at=now)
            )
            outgoing += 1
    incoming_hashes = {canonical_hash, *alias_hashes}
    incoming_hashes |= set(
        session.execute(select(models.Url.url_hash).where(models.Url.article_id == article_id)).scalars()
    )
    incoming = session.execute(
        update(models.Link)
        .where(
            models.Link.target_hash.in_(incoming_hashes),
            models.Link.target_article_id.is_(None),
            models.Link.article_id != article_id,
        )
        .values(target_article_id=article_id, resolved_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return outgoing, incoming


def unresolved_targets(session: Session, article_id: int, kinds: Sequence[str] = ("related",)) -> list[str]:
    """Target URLs of the article's edges of `kinds` that point at no stored article yet, in page order."""
    return list(
        session.execute(
            select(models.Link.target_url)
            .where(
                models.Link.article_id == article_id,
                models.Link.target_article_id.is_(None),
                models.Link.kind.in_(list(kinds)),
            )
            .order_by(models.Link.kind, models.Link.position)
        ).scalars()
    )


def link_duplicate(session: Session, article_id: int, original_id: int, similarity: float) -> bool:
    """Record that `article_id` near-duplicates the earlier `original_id`, and add a 'duplicate' edge
    so the graph (and `newsflow show`) lists the pair both ways. False when already recorded."""
    new = insert_ignore(
        session,
        models.ArticleDuplicate.__table__,
        {"article_id": article_id, "duplicate_of_id": original_id, "similarity": similarity, "found_at": utcnow()},
        ["article_id", "duplicate_of_id"],
    )
    original = session.execute(
        select(models.Article.canonical_url, models.Article.canonical_hash).where(models.Article.id == original_id)
    ).one()
    stmt = insert_for(session, models.Link.__table__).values(
        article_id=article_id,
        kind="duplicate",
        position=0,
        anchor=None,
        target_url=original.canonical_url,
        target_hash=original.canonical_hash,
        target_article_id=original_id,
        resolved_at=utcnow(),
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["article_id", "target_hash", "kind"]))
    return new is not None


def duplicates_of(session: Session, article_id: int) -> list[tuple[int, int, float]]:
    """(article, duplicate of, similarity) for every pair the article is part of."""
    rows = session.execute(
        select(
            models.ArticleDuplicate.article_id,
            models.ArticleDuplicate.duplicate_of_id,
            models.ArticleDuplicate.similarity,
        ).where(
            or_(
                models.ArticleDuplicate.article_id == article_id,
                models.ArticleDuplicate.duplicate_of_id == article_id,
            )
        )
    ).all()
    return [(a, b, s) for a, b, s in rows]
