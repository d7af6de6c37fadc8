"""One article's enrichment as a pure function: language, normalised tags, entities, key phrases, fingerprint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from services.enrich.entities import EntityMention, extract_entities
from services.enrich.fingerprint import Fingerprint, fingerprint
from services.enrich.gazetteer import Gazetteer
from services.enrich.keywords import Keyword, extract_keywords
from services.enrich.language import resolve_language
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
    language: str | None = None


def enrich_record(record: ArticleRecord, gazetteer: Gazetteer, *, keywords: int = 5) -> Enrichment:
    """The article's language (its declaration checked against the text), tags (aliases merged, kinds from
    the gazetteer or from the article's own entities), entities with counts, up to `keywords` key phrases
    in that language that are not already tags or entities, and the body fingerprint."""
    language = resolve_language(record.language, record.title, record.lead, record.body_paragraphs)
    entities = extract_entities(record.title, record.lead, record.body_paragraphs, gazetteer, language=language)
    entity_kinds = {e.key: e.kind for e in entities}
    tags = normalize_tags(record.tags, gazetteer.aliases, gazetteer.kind_of)
    tags = [t if t.kind else dataclasses.replace(t, kind=entity_kinds.get(t.key)) for t in tags]
    text = record.body_text
    taken = {t.key for t in tags} | set(entity_kinds) | {a.casefold() for e in entities for a in e.aliases}
    phrases: list[Keyword] = []
    if keywords:
        body = "\n\n".join(record.body_paragraphs)
        found = extract_keywords(body, language, top=keywords * 2, title=record.title, lead=record.lead)
        names = {w.casefold() for e in entities for name in (e.name, *e.aliases) for w in name.split()}
        phrases = [k for k in found if k.key not in taken and not _is_name(k, names, gazetteer)]
    return Enrichment(
        tags=tuple(tags),
        entities=tuple(entities),
        keywords=tuple(phrases[:keywords]),
        fingerprint=fingerprint(text),
        text_hash=content_hash(text),
        language=language,
    )


def _is_name(keyword: Keyword, entity_words: set[str], gazetteer: Gazetteer) -> bool:
    """Whether a key phrase is a name rather than a subject: it holds a given name ("Paulis Karol"), or
    every word of it belongs to an entity's name ("Harris"; "Küste Venezuelas" is kept)."""
    words = keyword.phrase.split()
    if any(w in gazetteer.first_names for w in words):
        return True
    return all(w.casefold() in entity_words for w in words)
