"""People, places and organisations in an article's title, lead and body, linked to canonical entities.

Method, chosen by measurement (`python -m bench.eval_entities`): a gazetteer (alias table, countries,
capitals, large cities, US states) with rules over runs of capitalised words. A spaCy pipeline was the
other candidate, but its English model is not on PyPI under its real name; the `en-core-web-sm-*`
uploads are third-party copies of unknown provenance (and pin older spaCy versions), so a model cannot
be installed trustworthily and offline. The rules score well above the pinned minimums on the labelled
pages at well under a millisecond per article, with nothing to download.

Rules, in order, on each run of capitalised words (connectors such as "of" allowed inside):
- the longest sub-run the gazetteer knows wins ("US Secretary of State Rex Tillerson" -> US, Rex Tillerson);
- a remaining run ending in an organisation word ("Council", "Ministry", "Inc") is an organisation;
- a remaining run of 2-4 words is a person when it starts with a known first name, follows a role word
  ("deputy mayor", "President"), or is followed by a speech verb or ", who";
- a single word that is the surname of a person found in the same article is that person ("Lavrov").
Titles are headline-cased, so only the gazetteer and surnames are used there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from services.enrich.aliases import AliasEntry
from services.enrich.gazetteer import Gazetteer
from services.enrich.tags import tag_key

CONNECTORS = frozenset(
    {"of", "de", "da", "di", "du", "del", "la", "le", "von", "van", "der", "den", "al", "bin", "for"}
)
# A place name followed by one of these is part of a treaty or format name ("Minsk agreements").
NOT_PLACE_AFTER = frozenset({"agreement", "agreements", "protocol", "accords", "format", "process", "talks"})
_TOKEN = re.compile(r"[^\W_](?:[\w’'&.]|-(?=\w))*|[^\w\s]", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?…])[\"”’]?\s+(?=[\"“‘(]?[A-Z0-9])")
_POSSESSIVE = re.compile(r"['’]s?$")


@dataclass(frozen=True, slots=True)
class EntityMention:
    """A canonical entity mentioned in an article: folded `key`, display `name`, `kind`, how often,
    and the spellings it is known by (the alias table's and the article's own)."""

    key: str
    name: str
    kind: str
    count: int
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class _Token:
    text: str
    sentence_start: bool
    cap: bool


def extract_entities(
    title: str | None, lead: str | None, paragraphs: Sequence[str], gazetteer: Gazetteer
) -> list[EntityMention]:
    """Entities of one article with mention counts, most mentioned first (ties in order of appearance)."""
    segments = [(title or "", True), (lead or "", False), *((p, False) for p in paragraphs)]
    runs: list[tuple[list[_Token], str | None, str | None, bool]] = []
    for text, is_title in segments:
        for sentence in _SENTENCE.split(text):
            runs.extend((*run, is_title) for run in _capitalised_runs(sentence, gazetteer))

    found: dict[str, AliasEntry] = {}
    spellings: dict[str, list[str]] = {}
    mentions: list[str | list[str]] = []  # entity keys in order; a list is an unresolved single word
    for tokens, before, after, is_title in runs:
        for item in _classify_run(tokens, before, after, is_title, gazetteer):
            if isinstance(item, str):
                mentions.append([item])
                continue
            entry, surface = item
            found.setdefault(entry.key, entry)
            spellings.setdefault(entry.key, []).append(surface)
            mentions.append(entry.key)

    surnames = _surnames(found.values())
    counts: Counter[str] = Counter()
    for mention in mentions:
        if isinstance(mention, list):
            key = surnames.get(tag_key(mention[0]))
            if key is None:
                continue
            spellings[key].append(mention[0])
        else:
            key = mention
        counts[key] += 1
    out = []
    for key, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        entry = found[key]
        aliases = tuple(dict.fromkeys(s for s in (*entry.aliases, *spellings[key]) if s != entry.name))
        out.append(EntityMention(key=key, name=entry.name, kind=entry.kind or "topic", count=count, aliases=aliases))
    return out


def _capitalised_runs(sentence: str, gazetteer: Gazetteer) -> list[tuple[list[_Token], str | None, str | None]]:
    """Runs of capitalised tokens with the word before and the text after each run."""
    raw = [m.group() for m in _TOKEN.finditer(sentence)]
    tokens: list[str] = []
    for word in raw:
        if word.endswith(".") and word.count(".") == 1:
            word = word[:-1]  # sentence period or "Mr."; "U.S." keeps its dots
        word = _POSSESSIVE.sub("", word) if len(word) > 2 else word
        # "US-Russia", "Anti-Kiev": capitalised halves are names of their own.
        parts = word.split("-")
        if len(parts) > 1 and sum(p[:1].isupper() for p in parts) >= 1 and all(parts):
            for i, part in enumerate(parts):
                tokens.append(part)
                if i < len(parts) - 1:
                    tokens.append("-")
        elif word:
            tokens.append(word)
    runs: list[tuple[list[_Token], str | None, str | None]] = []
    current: list[_Token] = []
    first_word = next((i for i, t in enumerate(tokens) if t[:1].isalnum()), 0)
    for i, text in enumerate(tokens):
        cap = text[:1].isupper() or (text[:1].isdigit() and any(c.isupper() for c in text))
        if cap:
            current.append(_Token(text, i == first_word, True))
            continue
        if current and text in CONNECTORS and i + 1 < len(tokens) and tokens[i + 1][:1].isupper():
            current.append(_Token(text, False, False))
            continue
        if current:
            start = i - len(current)
            runs.append((current, tokens[start - 1] if start > 0 else None, " ".join(tokens[i : i + 3])))
            current = []
    if current:
        start = len(tokens) - len(current)
        runs.append((current, tokens[start - 1] if start > 0 else None, None))
    return runs


def _classify_run(
    tokens: list[_Token], before: str | None, after: str | None, is_title: bool, gazetteer: Gazetteer
) -> list[tuple[AliasEntry, str] | str]:
    """Known entities (entry, surface) and unresolved single words of one run, in order."""
    out: list[tuple[AliasEntry, str] | str] = []
    unknown: list[_Token] = []
    cue = before is not None and before.casefold() in gazetteer.person_cues
    i = 0
    while i < len(tokens):
        match = None
        for j in range(min(len(tokens), i + 6), i, -1):
            if not tokens[j - 1].cap:
                continue
            surface = " ".join(t.text for t in tokens[i:j])
            entry = gazetteer.known(surface)
            if entry is not None:
                match = (entry, surface, j)
                break
        if match is not None:
            entry, surface, j = match
            following = tokens[j].text if j < len(tokens) else (after or "").split(" ")[0]
            if not (entry.kind == "place" and following.casefold() in NOT_PLACE_AFTER):
                out.extend(_unknown_run(unknown, cue, None, is_title, gazetteer))
                out.append((entry, surface))
            unknown, cue, i = [], False, j
            continue
        token = tokens[i]
        if token.text.casefold() in gazetteer.person_cues or token.text in gazetteer.non_entities or not token.cap:
            out.extend(_unknown_run(unknown, cue, None, is_title, gazetteer))
            unknown = []
            cue = token.text.casefold() in gazetteer.person_cues
        else:
            unknown.append(token)
        i += 1
    out.extend(_unknown_run(unknown, cue, after, is_title, gazetteer))
    return out


def _unknown_run(
    tokens: list[_Token], cue: bool, after: str | None, is_title: bool, gazetteer: Gazetteer
) -> list[tuple[AliasEntry, str] | str]:
    """Classify a run of capitalised words the gazetteer does not know, by the rules above."""
    while tokens and not tokens[-1].cap:
        tokens = tokens[:-1]
    if not tokens:
        return []
    words = [t.text for t in tokens]
    surface = " ".join(words)
    if len(words) == 1:
        return [words[0]] if words[0].isalpha() else []
    if is_title:
        return [w for w in words if w.isalpha()]
    if words[-1].casefold() in gazetteer.org_heads:
        return [(AliasEntry(key=tag_key(surface), name=surface, kind="organisation"), surface)]
    if len(words) <= 4 and all(t.cap and t.text.isalpha() for t in tokens):
        follows = (after or "").split(" ")
        speech = bool(follows) and (follows[0] in gazetteer.speech_verbs or follows[:2] == [",", "who"])
        if words[0] in gazetteer.first_names or cue or speech:
            return [(AliasEntry(key=tag_key(surface), name=surface, kind="person"), surface)]
    return [w for w in words if w.isalpha()]


def _surnames(entries: object) -> dict[str, str]:
    """Folded surname -> person key, for people found in full; a surname two people share is dropped."""
    seen: dict[str, str] = {}
    clash: set[str] = set()
    for entry in entries:  # type: ignore[attr-defined]
        if entry.kind != "person":
            continue
        for name in (entry.name, *entry.aliases):
            parts = name.split()
            if len(parts) < 2:
                continue
            surname = tag_key(parts[-1])
            if seen.get(surname, entry.key) != entry.key:
                clash.add(surname)
            seen[surname] = entry.key
    return {k: v for k, v in seen.items() if k not in clash}
