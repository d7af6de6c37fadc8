"""MinHash near-duplicate fingerprints and key phrases."""

from __future__ import annotations

import json
from pathlib import Path

from services.demosite.wire import ORIGINAL_PATH, wire_article
from services.enrich.fingerprint import BANDS, fingerprint, is_near_duplicate, similarity
from services.enrich.keywords import extract_keywords

SITE = json.loads((Path(__file__).parents[3] / "services" / "demosite" / "articles.json").read_text())


def _text(article: dict) -> str:
    return "\n\n".join([article["lead"], *article["body"]])


def test_wire_copy_is_a_near_duplicate_and_other_stories_are_not() -> None:
    original = next(a for a in SITE["related"] if a["path"] == ORIGINAL_PATH)
    fp, copy = fingerprint(_text(original)), fingerprint(_text(wire_article()))
    assert fp is not None and copy is not None
    assert is_near_duplicate(fp.signature, copy.signature)
    assert set(fp.bands) & set(copy.bands)  # found by the band index
    for other in SITE["related"]:
        if other["path"] != ORIGINAL_PATH:
            sig = fingerprint(_text(other)).signature
            assert similarity(fp.signature, sig) < 0.2
            assert not set(fp.bands) & set(fingerprint(_text(other)).bands)


def test_fingerprint_is_stable_and_short_texts_have_none() -> None:
    text = _text(SITE["related"][0])
    a, b = fingerprint(text), fingerprint(text.upper())
    assert a == b and len(a.bands) == BANDS
    assert fingerprint("Too short to call anything a duplicate of.") is None


def test_keywords() -> None:
    text = _text(SITE["related"][0])
    found = extract_keywords(text, "en", top=5)
    assert 1 <= len(found) <= 5
    assert all(0 < k.score <= 1 for k in found)
    assert len({k.key for k in found}) == len(found)
    assert extract_keywords("   ") == []


GERMAN = (
    "Die Impfung gegen Covid-19 ist umstritten. Forscher untersuchen, ob Impfungen Nebenwirkungen haben. "
    "Zumindest gilt die Impfung als sicher, sagte die Ärztin. Viele Menschen lassen sich trotzdem impfen, "
    "und die Nebenwirkungen der Impfung sind selten."
)


def test_german_key_phrases_are_nouns_one_per_subject() -> None:
    found = extract_keywords(GERMAN, "de", top=3, title="Impfungen: Was wir über Nebenwirkungen wissen")
    # "Impfung" and "Impfungen" are one subject; "Forscher" is said once: no subject; no "Zumindest", "gilt"
    assert [k.phrase for k in found] == ["Nebenwirkungen", "Impfung"]
    assert found[0].score == 1.0


def test_no_key_phrases_where_words_are_not_separated() -> None:
    text = "韓国の尹錫悦大統領は３日夜、緊急談話を出し、野党が国政をまひさせているとして「非常戒厳」を宣言した。"
    assert extract_keywords(text, "ja") == []
    assert extract_keywords("Ein Text in einer Sprache ohne Liste.", "xx") == []
