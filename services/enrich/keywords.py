"""Key phrases of an article (YAKE: unsupervised, statistical, per document, no model to download).

Stored as topic tags with a score. Names are left to entity extraction: a phrase with a capitalised
word is skipped. YAKE's scores are "lower is more relevant"; they are turned into a relevance in
(0, 1] relative to the best phrase, so the top phrase scores 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yake

from services.enrich.tags import clean_tag, tag_key

MAX_KEYWORDS = 5
MAX_WORDS = 2


@dataclass(frozen=True, slots=True)
class Keyword:
    """A key phrase: folded `key`, display `phrase`, and `score` (higher is more relevant)."""

    key: str
    phrase: str
    score: float


@lru_cache(maxsize=8)
def _extractor(language: str, top: int) -> yake.KeywordExtractor:
    return yake.KeywordExtractor(lan=language, n=MAX_WORDS, dedupLim=0.7, top=top * 6)


def extract_keywords(text: str, language: str | None = None, top: int = MAX_KEYWORDS) -> list[Keyword]:
    """The `top` key phrases of `text`, most relevant first; phrases that fold to one key count once."""
    if not text.strip():
        return []
    lang = (language or "en").split("-")[0].lower()[:2]
    out: list[Keyword] = []
    seen: set[str] = set()
    best: float | None = None
    for phrase, raw_score in _extractor(lang, top).extract_keywords(text):
        display = clean_tag(phrase)
        key = tag_key(display)
        if not key or key in seen or any(ch.isdigit() for ch in key) or any(w[:1].isupper() for w in display.split()):
            continue
        words = set(key.split())
        if any(words <= set(k.key.split()) for k in out):
            continue  # "foreign" after "foreign minister" adds nothing
        seen.add(key)
        best = best if best is not None else max(float(raw_score), 1e-12)
        out.append(Keyword(key=key, phrase=display, score=round(best / max(float(raw_score), 1e-12), 4)))
        if len(out) == top:
            break
    return out
