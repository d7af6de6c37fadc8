"""Entities, key phrases and near-duplicate fingerprints of articles.

Fingerprint writes take Postgres advisory locks on their LSH band keys (in sorted order, so two
workers never deadlock): two near-duplicates enriched at the same moment share a band, so one waits
for the other's commit and then sees its fingerprint. SQLite (embedded) runs one writer anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from shared import models
from shared.records import TagRecord
from shared.store.graph import set_article_tags, upsert_tags
from shared.store.upsert import find_or_insert, insert_for, insert_missing, replace_article_rows, upsert_rows


@dataclass(frozen=True, slots=True)
class EntityRow:
    """An entity to store for an article: canonical key, name, kind, spellings and mention count."""

    key: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    mentions: int


@dataclass(frozen=True, slots=True)
class KeywordRow:
    """A key phrase to store as a topic tag with its score."""

    key: str
    phrase: str
    score: float


def upsert_entities(session: Session, entities: Sequence[EntityRow]) -> dict[str, int]:
    """The ids of the entities by key, those not stored yet inserted in one statement in key order
    (`find_or_insert`); spellings not yet among a stored entity's aliases are added, its row locked
    (in key order) first so that two workers adding different spellings at once both keep theirs."""
    if not entities:
        return {}
    table = models.Entity.__table__
    rows = [{"key": e.key, "name": e.name, "kind": e.kind, "aliases": list(e.aliases)} for e in entities]
    first: dict[str, EntityRow] = {}
    given: dict[str, list[str]] = {}
    for e in entities:
        first.setdefault(e.key, e)
        given.setdefault(e.key, []).extend(e.aliases)
    stored = find_or_insert(session, table, rows, "key", ["aliases"])
    ids = {key: entity_id for key, entity_id, _ in stored}
    stale = [key for key, _, aliases in stored if not set(given[key]) <= set(aliases or [])]
    if stale:
        locked = session.execute(
            select(table.c.key, table.c.aliases)
            .where(table.c.key.in_(stale))
            .order_by(table.c.key)
            .with_for_update(key_share=True)
        ).all()
        merged = [
            {
                "key": key,
                "name": first[key].name,
                "kind": first[key].kind,
                "aliases": list(dict.fromkeys([*(aliases or []), *given[key]])),
            }
            for key, aliases in locked
        ]
        upsert_rows(session, table, merged, ["key"], ["aliases"])
    return ids


def set_article_entities(
    session: Session, article_id: int, entities: Sequence[EntityRow], *, ids: Mapping[str, int] | None = None
) -> int:
    """Make the article's entity mentions exactly `entities` (entities themselves are shared); `ids`
    are the entities' ids when the caller upserted them already, in its lock order."""
    ids = ids if ids is not None else upsert_entities(session, entities)
    rows = [{"entity_id": ids[e.key], "mentions": e.mentions} for e in entities]
    replace_article_rows(session, models.ArticleEntity.__table__, article_id, "entity_id", rows)
    return len(rows)


def set_article_language(session: Session, article_id: int, language: str | None) -> bool:
    """Store the language enrich resolved for the article (the declaration checked against the text);
    True when it changed."""
    result = session.execute(
        update(models.Article)
        .where(models.Article.id == article_id, models.Article.language.is_distinct_from(language))
        .values(language=language)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def keyword_tags(keywords: Sequence[KeywordRow]) -> list[TagRecord]:
    """The shared tags (of kind 'topic') key phrases are stored as."""
    return [TagRecord(key=k.key, name=k.phrase, raw=k.phrase, kind="topic") for k in keywords]


def set_article_keywords(
    session: Session, article_id: int, keywords: Sequence[KeywordRow], *, ids: Mapping[str, int] | None = None
) -> int:
    """Make the article's key phrases exactly `keywords`, each a shared tag of kind 'topic'; `ids`
    are the tags' ids when the caller upserted them already, in its lock order."""
    ids = ids if ids is not None else upsert_tags(session, keyword_tags(keywords))
    rows = [{"tag_id": ids[k.key], "score": k.score} for k in keywords]
    replace_article_rows(session, models.ArticleKeyword.__table__, article_id, "tag_id", rows)
    return len(rows)


def set_enrichment(
    session: Session,
    article_id: int,
    tags: Sequence[TagRecord],
    entities: Sequence[EntityRow],
    keywords: Sequence[KeywordRow],
) -> None:
    """Make the article's tags, entity mentions and key phrases exactly these, taking locks in the
    order every enrich worker keeps: all shared tags (its own and its key phrases', one statement),
    then shared entities, then the article's own rows. Two articles sharing tags and entities in
    different orders are then stored at the same moment without a deadlock."""
    tag_ids = upsert_tags(session, [*tags, *keyword_tags(keywords)])
    entity_ids = upsert_entities(session, entities)
    set_article_tags(session, article_id, tags, ids=tag_ids)
    set_article_entities(session, article_id, entities, ids=entity_ids)
    set_article_keywords(session, article_id, keywords, ids=tag_ids)


def lock_bands(session: Session, bands: Sequence[int]) -> None:
    """Serialise fingerprint writes that share a band (Postgres advisory transaction locks, taken in
    band order by one statement)."""
    if session.get_bind().dialect.name != "postgresql" or not bands:
        return
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(band) FROM unnest(CAST(:bands AS bigint[])) WITH ORDINALITY AS b(band, n)"
            " ORDER BY n"
        ),
        {"bands": sorted(set(bands))},
    )


def candidate_signatures(session: Session, article_id: int, bands: Sequence[int]) -> list[tuple[int, list[int]]]:
    """(article id, signature) of other articles sharing at least one band, oldest first."""
    others = (
        select(models.FingerprintBand.article_id)
        .where(models.FingerprintBand.band.in_(list(bands)), models.FingerprintBand.article_id != article_id)
        .distinct()
    )
    rows = session.execute(
        select(models.ArticleFingerprint.article_id, models.ArticleFingerprint.signature)
        .where(models.ArticleFingerprint.article_id.in_(others))
        .order_by(models.ArticleFingerprint.article_id)
    ).all()
    return [(a, list(s)) for a, s in rows]


def set_fingerprint(
    session: Session, article_id: int, signature: Sequence[int], bands: Sequence[int], shingles: int, digest: str
) -> bool:
    """Store the article's fingerprint and band keys for text `digest`; False when already stored."""
    current = session.execute(
        select(models.ArticleFingerprint.content_hash).where(models.ArticleFingerprint.article_id == article_id)
    ).scalar_one_or_none()
    if current == digest:
        return False
    if current is not None:  # bands are only ever written with their fingerprint
        session.execute(delete(models.FingerprintBand).where(models.FingerprintBand.article_id == article_id))
    stmt = insert_for(session, models.ArticleFingerprint.__table__).values(
        article_id=article_id, signature=list(signature), shingles=shingles, content_hash=digest
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["article_id"],
            set_={"signature": list(signature), "shingles": shingles, "content_hash": digest},
        )
    )
    rows = [{"article_id": article_id, "band": band} for band in bands]
    insert_missing(session, models.FingerprintBand.__table__, rows, ["article_id", "band"], ["id"])
    return True


def enrichment_view(session: Session, article_id: int) -> dict[str, Any]:
    """The article's entities (with mention counts and aliases), key phrases and near-duplicates."""
    entities = session.execute(
        select(
            models.Entity.key,
            models.Entity.name,
            models.Entity.kind,
            models.Entity.aliases,
            models.ArticleEntity.mentions,
        )
        .join(models.ArticleEntity, models.ArticleEntity.entity_id == models.Entity.id)
        .where(models.ArticleEntity.article_id == article_id)
        .order_by(models.ArticleEntity.position)
    ).all()
    keywords = session.execute(
        select(models.Tag.key, models.Tag.name, models.ArticleKeyword.score)
        .join(models.ArticleKeyword, models.ArticleKeyword.tag_id == models.Tag.id)
        .where(models.ArticleKeyword.article_id == article_id)
        .order_by(models.ArticleKeyword.position)
    ).all()
    dup = models.ArticleDuplicate
    pairs = session.execute(
        select(dup.article_id, dup.duplicate_of_id, dup.similarity).where(
            (dup.article_id == article_id) | (dup.duplicate_of_id == article_id)
        )
    ).all()
    others = {b if a == article_id else a for a, b, _ in pairs}
    urls: dict[int, str] = {
        i: u
        for i, u in session.execute(
            select(models.Article.id, models.Article.canonical_url).where(models.Article.id.in_(others))
        ).all()
    }
    return {
        "entities": [
            {"key": k, "name": n, "kind": kind, "aliases": list(aliases or []), "mentions": m}
            for k, n, kind, aliases, m in entities
        ],
        "keywords": [{"key": k, "name": n, "score": s} for k, n, s in keywords],
        "duplicates": [
            {
                "article_id": b if a == article_id else a,
                "url": urls.get(b if a == article_id else a),
                "role": "copy_of" if a == article_id else "copied_by",
                "similarity": s,
            }
            for a, b, s in pairs
        ],
    }


def entity_count(session: Session) -> int:
    """Number of stored entities."""
    return session.execute(select(func.count()).select_from(models.Entity)).scalar_one()
