"""Entities, key phrases and near-duplicate fingerprints of articles.

Fingerprint writes take Postgres advisory locks on their LSH band keys (in sorted order, so two
workers never deadlock): two near-duplicates enriched at the same moment share a band, so one waits
for the other's commit and then sees its fingerprint. SQLite (embedded) runs one writer anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from shared import models
from shared.records import TagRecord
from shared.store.graph import upsert_tag
from shared.store.upsert import insert_for, insert_ignore, replace_article_rows


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


def upsert_entity(session: Session, entity: EntityRow) -> int:
    """The id of the entity with `entity.key`, inserted if new; new spellings are added to its aliases."""
    entity_id = insert_ignore(
        session,
        models.Entity.__table__,
        {"key": entity.key, "name": entity.name, "kind": entity.kind, "aliases": list(entity.aliases)},
        ["key"],
    )
    if entity_id is not None:
        return entity_id
    row_id, aliases = session.execute(
        select(models.Entity.id, models.Entity.aliases).where(models.Entity.key == entity.key)
    ).one()
    merged = list(dict.fromkeys([*(aliases or []), *entity.aliases]))
    if merged != list(aliases or []):
        session.execute(update(models.Entity).where(models.Entity.id == row_id).values(aliases=merged))
    return row_id


def set_article_entities(session: Session, article_id: int, entities: Sequence[EntityRow]) -> int:
    """Make the article's entity mentions exactly `entities` (entities themselves are shared)."""
    rows = [{"entity_id": upsert_entity(session, e), "mentions": e.mentions} for e in entities]
    replace_article_rows(session, models.ArticleEntity.__table__, article_id, "entity_id", rows)
    return len(rows)


def set_article_language(session: Session, article_id: int, language: str | None) -> bool:
    """Store the language enrich resolved for the article (the declaration checked against the text);
    True when it changed."""
    result = session.execute(
        update(models.Article)
        .where(models.Article.id == article_id, models.Article.language.is_distinct_from(language))
        .values(language=language)
    )
    return bool(result.rowcount)


def set_article_keywords(session: Session, article_id: int, keywords: Sequence[KeywordRow]) -> int:
    """Make the article's key phrases exactly `keywords`, each a shared tag of kind 'topic'."""
    rows = [
        {
            "tag_id": upsert_tag(session, TagRecord(key=k.key, name=k.phrase, raw=k.phrase, kind="topic")),
            "score": k.score,
        }
        for k in keywords
    ]
    replace_article_rows(session, models.ArticleKeyword.__table__, article_id, "tag_id", rows)
    return len(rows)


def lock_bands(session: Session, bands: Sequence[int]) -> None:
    """Serialise fingerprint writes that share a band (Postgres advisory transaction locks)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for band in sorted(set(bands)):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": band})


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
    for band in sorted(set(bands)):
        session.execute(insert_for(session, models.FingerprintBand.__table__).values(article_id=article_id, band=band))
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
