"""Language codes: whatever a page declares ("de_DE", "en-GB", "En", "deu", "utf-8") to an ISO 639-1 code
or None. Shared by parse (the page's declaration) and enrich (the declaration checked by a detector)."""

from __future__ import annotations

import re

# ISO 639-1: every two-letter code, so a charset ("utf-8" -> "ut"?) or a locale fragment never passes.
_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz "
    "ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik "
    "io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml "
    "mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd "
    "se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi "
    "vo wa wo xh yi yo za zh zu"
)
ISO_639_1 = frozenset(_CODES.split())
# Withdrawn two-letter codes still found in pages, and the three-letter codes (ISO 639-2/T and /B) of the
# languages news is written in.
_RENAMED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "sh": "sr"}
_THREE = {
    "ara": "ar",
    "bul": "bg",
    "cat": "ca",
    "ces": "cs",
    "cze": "cs",
    "chi": "zh",
    "zho": "zh",
    "dan": "da",
    "deu": "de",
    "ger": "de",
    "ell": "el",
    "gre": "el",
    "eng": "en",
    "est": "et",
    "fas": "fa",
    "per": "fa",
    "fin": "fi",
    "fra": "fr",
    "fre": "fr",
    "heb": "he",
    "hin": "hi",
    "hrv": "hr",
    "hun": "hu",
    "ind": "id",
    "isl": "is",
    "ice": "is",
    "ita": "it",
    "jpn": "ja",
    "kor": "ko",
    "lav": "lv",
    "lit": "lt",
    "msa": "ms",
    "may": "ms",
    "nld": "nl",
    "dut": "nl",
    "nor": "no",
    "nob": "nb",
    "nno": "nn",
    "pol": "pl",
    "por": "pt",
    "ron": "ro",
    "rum": "ro",
    "rus": "ru",
    "slk": "sk",
    "slo": "sk",
    "slv": "sl",
    "spa": "es",
    "srp": "sr",
    "swe": "sv",
    "tha": "th",
    "tur": "tr",
    "ukr": "uk",
    "vie": "vi",
    "zul": "zu",
    "afr": "af",
}
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


def normalize_language(value: str | None) -> str | None:
    """The ISO 639-1 code of a declared language tag ("de_AT" -> "de", "ENG" -> "en", "iw" -> "he"), or
    None for anything that is not one ("utf-8", "x-default", "", "german")."""
    match = _TAG.match((value or "").strip())
    if match is None:
        return None
    primary = match.group(1).lower()
    if len(primary) == 3:
        return _THREE.get(primary)
    primary = _RENAMED.get(primary, primary)
    return primary if primary in ISO_639_1 else None
