"""Tag normalisation: one key per tag however a site spells or decorates it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from shared.records import TagRecord

MAX_TAG_LENGTH = 200
_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\s#,;:.·•|/\\\-–—_'\"«»“”‘’()\[\]]+|[\s,;:.·•|/\\\-–—_'\"«»“”‘’()\[\]]+$")


def clean_tag(raw: str) -> str:
    """The display form: NFKC, whitespace collapsed, decoration (#, quotes, bullets) trimmed."""
    text = unicodedata.normalize("NFKC", raw)
    text = _SPACES.sub(" ", text)
    return _EDGE_PUNCT.sub("", text)[:MAX_TAG_LENGTH]


def tag_key(display: str) -> str:
    """The natural key: the display form case-folded, with inner punctuation other than
    letters, digits and spaces dropped, so 'U.S.-Russia Relations' and 'US Russia relations' meet."""
    folded = display.casefold()
    kept = "".join(ch if ch.isalnum() else " " for ch in folded if ch not in ".'’")
    return _SPACES.sub(" ", kept).strip()


def normalize_tags(raw_tags: Iterable[str]) -> list[TagRecord]:
    """Normalised tags in page order, duplicates (by key) and empty ones dropped."""
    seen: set[str] = set()
    out: list[TagRecord] = []
    for raw in raw_tags:
        name = clean_tag(raw)
        key = tag_key(name)
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(TagRecord(key=key, name=name, raw=raw))
    return out
