"""Key phrases of an article in its own language: noun-like phrases of one or two words, one per subject.

Stored as topic tags with a score. Method, chosen by measurement on the real pages
(`python -m bench.eval_enrich_real`; README, Enrichment):
- candidates are runs of words between stop words of the article's language (stopwordsiso, 50+ languages)
  and punctuation, one or two words long; words with digits, very short words, adverbs and verb forms
  by their endings are dropped, and in German (where every noun is capitalised) only nouns are kept;
- each candidate is keyed by its Snowball stems (PyStemmer), so "Impfung" and "Impfungen" or "missile"
  and "missiles" are one subject, and shown in the spelling the article uses most;
- a candidate scores by where it occurs (title, lead, body) and how often; a name (capitalised inside a
  sentence in a language that does not capitalise nouns) is left to entity extraction.
Text in a script without spaces between words (Chinese, Japanese, Korean, Thai) gets no key phrases:
no segmenter worth its cost ships without a model, and unsegmented runs are noise. YAKE, used before,
scored 0.05 of the editors' topics on the real pages at 10 ms per article; this scores more at a tenth.
Scores are relative to the best phrase, which scores 1.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from services.enrich.tags import clean_tag, tag_key

MAX_KEYWORDS = 5
MAX_WORDS = 2
MIN_CHARS = 4
# Title words count most: editors name the subject there; the lead comes next.
TITLE_WEIGHT, LEAD_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.0
_WORD = re.compile(r"[^\W\d_](?:[\w’'\-]*[^\W_])?|\d[\w.,:/-]*|[^\w\s]", re.UNICODE)
_SPACELESS = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
# Endings of words that are rarely the subject of an article: adverbs and verb forms.
_NOT_NOUN_ENDINGS = {
    "en": ("ly", "ed", "ing"),
    "fr": ("ement", "ait", "aient", "ée", "ées", "és", "er"),
    "es": ("mente", "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas", "aba", "ó", "ar", "ir"),
    "it": ("mente", "ato", "ata", "ati", "ate", "uto", "uta", "ito", "ita", "are", "ere", "ire", "ò"),
    "pt": ("mente", "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas", "ou", "ar", "ir"),
    "nl": ("lijk", "de", "te", "den", "ten"),
    "sv": ("ade", "ande", "ende", "igt", "are"),
    "no": ("ende", "ete", "het", "ig", "ige", "lig", "lige"),
    "da": ("ende", "ede", "ig", "ige", "lig", "lige"),
    "de": ("lich", "isch", "ig"),
}
_NOT_NOUN_ENDINGS["nb"] = _NOT_NOUN_ENDINGS["nn"] = _NOT_NOUN_ENDINGS["no"]
# Words stopwordsiso lacks that are never a subject on their own in news copy.
_EXTRA = (
    "also said says told according year years week weeks day days time times people percent cent per "
    "jahr jahre jahren prozent uhr woche wochen tag tage tagen mal euro dollar laut "
    "montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz april mai juni juli "
    "august september oktober november dezember "
    "année années ans jour jours fois año años día días vez veces anno anni giorno giorni volta volte "
    "jaar jaren dag dagen keer år dager dage gang ganger gånger"
)
_EXTRA_STOPWORDS = frozenset(_EXTRA.split())


@dataclass(frozen=True, slots=True)
class Keyword:
    """A key phrase: folded `key`, display `phrase`, and `score` (higher is more relevant)."""

    key: str
    phrase: str
    score: float


@lru_cache(maxsize=64)
def _stopwords(language: str) -> frozenset[str]:
    import stopwordsiso

    code = {"nb": "no", "nn": "no"}.get(language, language)
    words = stopwordsiso.stopwords(code) if stopwordsiso.has_lang(code) else set()
    return frozenset(w.casefold() for w in words) | _EXTRA_STOPWORDS if words else frozenset()


@lru_cache(maxsize=64)
def snowball_stemmer(language: str):  # type: ignore[no-untyped-def]
    """The Snowball stemmer of an ISO 639-1 language (PyStemmer), or None when Snowball has none."""
    import Stemmer

    name = _SNOWBALL.get(language)
    return Stemmer.Stemmer(name) if name else None


def extract_keywords(
    text: str,
    language: str | None = None,
    top: int = MAX_KEYWORDS,
    *,
    title: str | None = None,
    lead: str | None = None,
) -> list[Keyword]:
    """The `top` key phrases of an article (`title`, `lead` and the body `text`), most relevant first, in
    the article's `language` (ISO 639-1); none for a language without a stop-word list or without spaces."""
    lang = (language or "en").lower()
    stop = _stopwords(lang)
    sample = " ".join(part for part in (title, text[:2000]) if part)
    if not stop or not sample.strip() or _SPACELESS.search(sample):
        return []
    stemmer = snowball_stemmer(lang)
    scores: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    first_seen: dict[str, int] = {}
    segments = [(title or "", TITLE_WEIGHT), (lead or "", LEAD_WEIGHT), (text, BODY_WEIGHT)]
    for segment, weight in segments:
        for run in _runs(segment, lang, stop, headline=weight == TITLE_WEIGHT and lang != "de"):
            for size in range(1, MAX_WORDS + 1):
                for i in range(len(run) - size + 1):
                    words = run[i : i + size]
                    key = " ".join(_stem(stemmer, w.casefold()) for w in words)
                    scores[key] += weight * (1.0 + 0.5 * (size - 1))
                    counts[key] += 1
                    spellings[key][" ".join(words)] += 1
                    first_seen.setdefault(key, len(first_seen))
    # A phrase must recur or stand in the title/lead; a one-off body phrase is not a subject.
    ranked = sorted(
        (k for k in scores if counts[k] >= 2 or scores[k] > BODY_WEIGHT * (1.0 + 0.5 * (k.count(" ")))),
        key=lambda k: (-scores[k], first_seen[k]),
    )
    return _pick(ranked, scores, spellings, top)


def _pick(ranked: Sequence[str], scores: Counter[str], spellings: dict[str, Counter[str]], top: int) -> list[Keyword]:
    """The best phrases, one per subject: a phrase whose words are all inside a chosen one adds nothing."""
    out: list[Keyword] = []
    chosen: list[set[str]] = []
    best = scores[ranked[0]] if ranked else 1.0
    for stem_key in ranked:
        words = set(stem_key.split())
        if any(words <= c or c <= words for c in chosen):
            continue
        display = clean_tag(spellings[stem_key].most_common(1)[0][0])
        key = tag_key(display)
        if not key:
            continue
        chosen.append(words)
        out.append(Keyword(key=key, phrase=display, score=round(scores[stem_key] / best, 4)))
        if len(out) == top:
            break
    return out


def _stem(stemmer, word: str) -> str:  # type: ignore[no-untyped-def]
    return stemmer.stemWord(word) if stemmer is not None else word


def _runs(segment: str, lang: str, stop: frozenset[str], *, headline: bool) -> list[list[str]]:
    """Runs of candidate words between stop words and punctuation, sentence by sentence."""
    runs: list[list[str]] = []
    current: list[str] = []
    sentence_start = True
    for token in _WORD.findall(segment):
        word = token.strip("'’-")
        if not word or not word[0].isalnum():
            if current:
                runs.append(current)
                current = []
            sentence_start = token in '.!?:;…"“”«»'
            continue
        if _candidate(word, lang, stop, sentence_start, headline):
            current.append(word)
        elif current:
            runs.append(current)
            current = []
        sentence_start = False
    if current:
        runs.append(current)
    return runs


def _candidate(word: str, lang: str, stop: frozenset[str], sentence_start: bool, headline: bool) -> bool:
    """Whether `word` can be part of a key phrase: a content word, noun-like, not a name."""
    folded = word.casefold()
    if len(word) < MIN_CHARS or folded in stop or any(ch.isdigit() for ch in word):
        return False
    if word.isupper() and len(word) > 1:
        return False  # an acronym is a name (left to entities) or a shout
    if folded.endswith(_NOT_NOUN_ENDINGS.get(lang, ())):
        return False
    if lang == "de":
        # German capitalises every noun and little else; a sentence's first word is capitalised anyway
        return word[0].isupper() and not sentence_start
    return sentence_start or headline or not word[0].isupper()  # capitalised inside a sentence: a name
