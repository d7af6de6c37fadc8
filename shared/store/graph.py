"""Tags on articles and links between articles: related blocks, in-body links and near-duplicates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from shared import models
from shared.models import utcnow
from shared.records import LinkEdge, TagRecord
from shared.store.upsert import find_or_insert, insert_missing, replace_article_rows, upsert_rows


def upsert_tags(session: Session, tags: Sequence[TagRecord]) -> dict[str, int]:
    """The ids of the tags by key, those not stored yet inserted in one statement in key order
    (`find_or_insert`); a known tag without a kind takes the first kind given for it (those rows updated
    in key order too)."""
    if not tags:
        return {}
    table = models.Tag.__table__
    rows = [{"key": t.key, "name": t.name, "kind": t.kind} for t in tags]
    stored = find_or_insert(session, table, rows, "key", ["kind"])
    with_kind: dict[str, TagRecord] = {}
    for t in tags:
        if t.kind is not None:
            with_kind.setdefault(t.key, t)
    kinds = [
        {"key": key, "name": with_kind[key].name, "kind": with_kind[key].kind}
        for key, _, kind in stored
        if kind is None and key in with_kind
    ]
    if kinds:
        upsert_rows(session, table, kinds, ["key"], ["kind"], where=table.c.kind.is_(None))
    return {key: tag_id for key, tag_id, _ in stored}


def set_article_tags(
    session: Session, article_id: int, tags: Sequence[TagRecord], *, ids: Mapping[str, int] | None = None
) -> int:
    """Make the article's tag set exactly `tags` (tags themselves are shared and never removed);
    `ids` are the tags' ids when the caller upserted them already, in its lock order."""
    ids = ids if ids is not None else upsert_tags(session, tags)
    rows = [{"tag_id": ids[tag.key], "raw": tag.raw} for tag in tags]
    replace_article_rows(session, models.ArticleTag.__table__, article_id, "tag_id", rows)
    return len(rows)


def set_article_links(
    session: Session, article_id: int, links: Sequence[LinkEdge], *, exact_kinds: Iterable[str] = ()
) -> None:
    """Upsert the article's outgoing edges on (article, target, kind) in one statement, each with its
    position among the edges of its kind; edges of `exact_kinds` that are no longer in `links` are
    removed (the page dropped them) by one more statement, so a re-parse leaves the set exact. The
    links stage locks the rows first (`lock_links`)."""
    positions: dict[str, int] = {}
    rows = []
    for link in links:
        position = positions[link.kind] = positions.get(link.kind, -1) + 1
        rows.append(
            {
                "article_id": article_id,
                "kind": link.kind,
                "position": position,
                "anchor": link.anchor,
                "target_url": link.target_url,
                "target_hash": link.target_hash,
            }
        )
    if rows:
        upsert_rows(session, models.Link.__table__, rows, ["article_id", "target_hash", "kind"], ["anchor", "position"])
    dropped = [
        and_(models.Link.kind == kind, models.Link.target_hash.not_in([k.target_hash for k in links if k.kind == kind]))
        for kind in exact_kinds
    ]
    if dropped:
        session.execute(delete(models.Link).where(models.Link.article_id == article_id, or_(*dropped)))


def lock_links(session: Session, article_id: int, canonical_hash: str, alias_hashes: Sequence[str] = ()) -> list[int]:
    """Lock every link row the links stage of this article may write, in (article, target, kind)
    order: its own edges and the unresolved edges of other articles that point at it. Two articles
    that link each other are resolved at the same moment without a deadlock this way. Returns the
    ids of those other articles' edges (what `resolve_links` may point at this article)."""
    hashes = {canonical_hash, *alias_hashes}
    hashes |= set(session.execute(select(models.Url.url_hash).where(models.Url.article_id == article_id)).scalars())
    link = models.Link
    waiting = (link.target_hash.in_(hashes), link.target_article_id.is_(None), link.article_id != article_id)
    rows = session.execute(
        select(link.id, link.article_id)
        .where(or_(link.article_id == article_id, and_(*waiting)))
        .order_by(link.article_id, link.target_hash, link.kind)
        .with_for_update()
    ).all()
    return [link_id for link_id, owner in rows if owner != article_id]


def resolve_links(
    session: Session,
    article_id: int,
    canonical_hash: str,
    *,
    alias_hashes: Sequence[str] = (),
    target_variants: dict[str, str] | None = None,
    waiting: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Point edges at stored articles, both ways: this article's edges to targets already stored,
    and older edges that were waiting for this article. Returns (outgoing, incoming) resolved.

    A target matches an article by canonical URL, by the URL as linked when the frontier row of that
    URL led to the article (redirects, short links), or by `target_variants` (target hash -> the hash
    of its trailing-slash twin). Incoming edges match `canonical_hash` and `alias_hashes` (the twin of
    this article's URL, and the URLs the frontier followed to it); `waiting` are their ids when the
    caller locked them already (`lock_links`), else they are locked here."""
    if waiting is None:
        waiting = lock_links(session, article_id, canonical_hash, alias_hashes)
    now = utcnow()
    pending = session.execute(
        select(models.Link.id, models.Link.target_hash)
        .where(models.Link.article_id == article_id, models.Link.target_article_id.is_(None))
        .order_by(models.Link.id)
    ).all()
    resolved: list[dict[str, object]] = []
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
            if target is not None and target != article_id:
                resolved.append({"link_id": link_id, "target": target})
    if resolved:
        table = models.Link.__table__
        stmt = (
            update(table)
            .where(table.c.id == bindparam("link_id"))
            .values(target_article_id=bindparam("target"), resolved_at=now)
        )
        session.execute(stmt.execution_options(synchronize_session=False), resolved)
    incoming = 0
    if waiting:
        incoming = session.execute(
            update(models.Link)
            .where(models.Link.id.in_(waiting), models.Link.target_article_id.is_(None))
            .values(target_article_id=article_id, resolved_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    return len(resolved), incoming


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


def link_duplicates(session: Session, pairs: Sequence[tuple[int, int, float]]) -> int:
    """Record each (copy, earlier original, similarity) pair and add a 'duplicate' edge from the copy to
    the original, so the graph (and `newsflow show`) lists the pair both ways: three statements for any
    number of pairs, each in key order. Returns how many pairs were not recorded before."""
    if not pairs:
        return 0
    now = utcnow()
    new = insert_missing(
        session,
        models.ArticleDuplicate.__table__,
        [{"article_id": a, "duplicate_of_id": b, "similarity": score, "found_at": now} for a, b, score in pairs],
        ["article_id", "duplicate_of_id"],
        ["id"],
    )
    originals = {
        i: (u, h)
        for i, u, h in session.execute(
            select(models.Article.id, models.Article.canonical_url, models.Article.canonical_hash).where(
                models.Article.id.in_(sorted({b for _, b, _ in pairs}))
            )
        ).all()
    }
    edges = [
        {
            "article_id": a,
            "kind": "duplicate",
            "position": 0,
            "anchor": None,
            "target_url": originals[b][0],
            "target_hash": originals[b][1],
            "target_article_id": b,
            "resolved_at": now,
        }
        for a, b, _ in pairs
    ]
    insert_missing(session, models.Link.__table__, edges, ["article_id", "target_hash", "kind"], ["id"])
    return len(new)


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
