"""Tag normalisation: one key per tag however a site spells or decorates it, aliases merged.

`clean_tag` keeps a display form (NFKC, whitespace collapsed, decoration trimmed); `tag_key` folds it
to the natural key; an alias table (services/enrich/aliases.py) maps every spelling of one thing
("Sergey Lavrov", "Sergei Lavrov"; "US", "U.S.", "United States") to one key, display name and kind.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from shared.records import TagRecord

if TYPE_CHECKING:
    from services.enrich.aliases import AliasTable

MAX_TAG_LENGTH = 200
_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\s#,;:.·•|/\\\-–—_'\"«»“”‘’()\[\]]+|[\s,;:.·•|/\\\-–—_'\"«»“”‘’()\[\]]+$")
_ABBREVIATION_DOTS = re.compile(r"(?<=\b\w)\.(?=\w\b)|(?<=\b\w\.\w)\.$")
# Words that make a tag a subject rather than a name: "US-Russia relations", "diplomacy".
_LOWER_WORD = re.compile(r"(?:^|\s)[a-z][a-z-]+$")


def clean_tag(raw: str) -> str:
    """The display form: NFKC, whitespace collapsed, decoration (#, quotes, bullets) trimmed."""
    text = unicodedata.normalize("NFKC", raw)
    text = _SPACES.sub(" ", text)
    if text.rstrip().endswith(".") and _ABBREVIATION_DOTS.search(text.strip()):
        return text.strip()[:MAX_TAG_LENGTH]  # "U.S." keeps its closing dot
    return _EDGE_PUNCT.sub("", text)[:MAX_TAG_LENGTH]


def tag_key(display: str) -> str:
    """The natural key: NFKC, case-folded, with inner punctuation other than letters, digits and
    spaces dropped, so 'U.S.-Russia Relations' and 'US Russia relations' meet."""
    folded = unicodedata.normalize("NFKC", display).casefold()
    kept = "".join(ch if ch.isalnum() else " " for ch in folded if ch not in ".'’")
    return _SPACES.sub(" ", kept).strip()


def guess_kind(name: str) -> str | None:
    """'topic' for a tag that ends in a common word ('diplomacy', 'Donbass conflict'), else None."""
    return "topic" if _LOWER_WORD.search(name) else None


def normalize_tags(
    raw_tags: Iterable[str],
    aliases: AliasTable | None = None,
    kind_of: Callable[[str], str | None] | None = None,
) -> list[TagRecord]:
    """Normalised tags in page order, aliases merged to their canonical key and name, duplicates
    (by key) and empty ones dropped. `kind_of` names the kind of a tag the alias table does not know."""
    seen: set[str] = set()
    out: list[TagRecord] = []
    for raw in raw_tags:
        name = clean_tag(raw)
        key = tag_key(name)
        if not key:
            continue
        kind = None
        entry = aliases.lookup(key) if aliases is not None else None
        if entry is not None:
            key, name, kind = entry.key, entry.name, entry.kind
        if key in seen:
            continue
        seen.add(key)
        if kind is None:
            kind = (kind_of(name) if kind_of else None) or guess_kind(name)
        out.append(TagRecord(key=key, name=name, raw=raw, kind=kind))
    return out
