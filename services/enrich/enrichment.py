"""One article's enrichment as a pure function: normalised tags, entities, key phrases, fingerprint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from services.enrich.entities import EntityMention, extract_entities
from services.enrich.fingerprint import Fingerprint, fingerprint
from services.enrich.gazetteer import Gazetteer
from services.enrich.keywords import Keyword, extract_keywords
from services.enrich.tags import normalize_tags
from shared.records import ArticleRecord, TagRecord
from shared.urls import content_hash


@dataclass(frozen=True, slots=True)
class Enrichment:
    """Everything enrich derives from one article record."""

    tags: tuple[TagRecord, ...]
    entities: tuple[EntityMention, ...]
    keywords: tuple[Keyword, ...]
    fingerprint: Fingerprint | None
    text_hash: str


def enrich_record(record: ArticleRecord, gazetteer: Gazetteer, *, keywords: int = 5) -> Enrichment:
    """Tags (aliases merged, kinds from the gazetteer or from the article's own entities), entities with
    counts, up to `keywords` key phrases that are not already tags or entities, and the body fingerprint."""
    entities = extract_entities(record.title, record.lead, record.body_paragraphs, gazetteer)
    entity_kinds = {e.key: e.kind for e in entities}
    tags = normalize_tags(record.tags, gazetteer.aliases, gazetteer.kind_of)
    tags = [t if t.kind else dataclasses.replace(t, kind=entity_kinds.get(t.key)) for t in tags]
    text = record.body_text
    taken = {t.key for t in tags} | set(entity_kinds)
    phrases: list[Keyword] = []
    if keywords:
        phrases = [k for k in extract_keywords(text, record.language, top=keywords * 2) if k.key not in taken]
    return Enrichment(
        tags=tuple(tags),
        entities=tuple(entities),
        keywords=tuple(phrases[:keywords]),
        fingerprint=fingerprint(text),
        text_hash=content_hash(text),
    )
