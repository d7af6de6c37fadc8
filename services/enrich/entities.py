"""People, places and organisations in an article's title, lead and body, linked to canonical entities.

Method, chosen by measurement (`python -m bench.eval_entities` on the generated pages,
`python -m bench.eval_enrich_real` on hand-labelled real pages in ten languages): a gazetteer (alias
table, countries under their names in many languages, capitals, large cities, US states) with rules over
runs of capitalised words. A spaCy pipeline was the other candidate, but its models are not on PyPI under
their real names (the `en-core-web-sm-*` uploads are third-party copies), so a model cannot be installed
trustworthily and offline; the rules cost well under a millisecond per article, with nothing to download.

Rules, in order, on each run of capitalised words (connectors such as "of", "von", "de" allowed inside):
- a credit ("Foto: Jan Doolan", "© Reuters", "Copyright ...") is no mention and is skipped whole;
- role words ("Präsident", "US-Präsident", "Sender", "minister") and the language's stop words
  ("Die", "The", "El") end a run, so they are never part of a name; a role word marks what follows;
- the longest sub-run the gazetteer knows wins ("US Secretary of State Rex Tillerson" -> US, Rex Tillerson),
  also with a genitive -s ("Russlands", "USA:s");
- a remaining run ending in an organisation word ("Council", "Partei", "Kommission", "Inc") or opening with
  one in languages that put it first ("Universidad", "Comando") is an organisation;
- a remaining run of 2-4 words is a person when it starts with a known given name (about 23,000, from
  names-dataset: data/first_names.txt), follows a role word, or is followed by a speech verb ("said",
  "sagte", "a déclaré") or ", who"; in German, where every noun is capitalised, a person's name stops
  before a word that reads as a noun ("-ung", "-heit");
- a single word is the surname of a person found in the same article ("Lavrov"), or a person when a role
  word precedes it ("Papst Leo", "Trainer Krickau").
- organisations also: a legal form ending the name ("GmbH", "S.p.A.", "plc" in lower case); a German office
  word opening it ("Landratsamt Günzburg"); an organisation word opening it after a sentence-initial word
  ("Hier la Banque de France"); a word announcing one ("Konzern RWE"); one capitalised word fused with its
  head where nouns are lower case ("Overlegcomité"); an acronym defined in parentheses ("... (NBC)", also a
  translated name's original one) or read after an article ("del PP"); a company followed by a model
  designation is a product ("Airbus A350");
- a word naming a kind of place announces one ("région de Koursk", "Stadt Uddevalla"); a one-word place
  opening a longer unknown name is a venue or a club ("Vista Alegre", "Stamford Bridge").
Titles are headline-cased, so only the gazetteer and surnames are used there. Text without spaces
(Japanese, Chinese) and hangul get places only, by the gazetteer's names in those scripts (Korean names
start a word; in Japanese one character stands for a country before a word about it, "米大統領", and a
compass point before a country makes another region, "東日本").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from services.enrich.aliases import AliasEntry
from services.enrich.gazetteer import NOT_GIVEN_NAMES, SPACELESS, Gazetteer
from services.enrich.tags import tag_key

# A place name followed by one of these is part of a treaty or format name ("Minsk agreements").
NOT_PLACE_AFTER = frozenset({"agreement", "agreements", "protocol", "accords", "format", "process", "talks"})
_TOKEN = re.compile(r"[^\W_](?:[\w’'&.]|:s\b|-(?=\w))*|©|[^\w\s]", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?…])[\"”’»]?\s+(?=[\"“‘«(]?[^\W\d_])|\n+")
_POSSESSIVE = re.compile(r"(?:['’]s?|:s)$")
_CREDIT_END = frozenset({"/", "|", ")", "]"})
# Languages that write common nouns in lower case: a capitalised word inside a sentence is a name.
LOWER_CASE_NOUN_LANGUAGES = frozenset({"nl", "sv", "no", "nb", "nn", "da", "en", "fr", "es", "it", "pt"})
# Words naming a kind of place: the name after them (directly, or after "of"/"de"/"di") is a place.
PLACE_CUES = frozenset(
    {
        "city",
        "town",
        "village",
        "island",
        "province",
        "region",
        "district",
        "county",
        "municipality",
        "stadt",
        "gemeinde",
        "dorf",
        "insel",
        "provinz",
        "bezirk",
        "landkreis",
        "kleinstadt",
        "hafenstadt",
        "ville",
        "région",
        "île",
        "commune",
        "localité",
        "localités",
        "département",
        "ciudad",
        "región",
        "provincia",
        "isla",
        "municipio",
        "pueblo",
        "localidad",
        "distrito",
        "città",
        "regione",
        "isola",
        "comune",
        "paese",
        "località",
        "cidade",
        "região",
        "província",
        "ilha",
        "município",
        "stad",
        "gemeente",
        "provincie",
        "dorp",
        "eiland",
        "staden",
        "byn",
        "ön",
        "byen",
        "øya",
        "øen",
    }
)
# Words naming a facility: never part of a person's name ("Taoyuan International Airport").
FACILITY_WORDS = frozenset(
    {
        "airport",
        "stadium",
        "station",
        "hospital",
        "bridge",
        "hall",
        "arena",
        "street",
        "road",
        "square",
        "park",
        "centre",
        "center",
        "flughafen",
        "stadion",
        "bahnhof",
        "aéroport",
        "aeropuerto",
        "aeroporto",
        "estadio",
        "stadio",
    }
)
PLACE_CONNECTORS = frozenset({"of", "de", "di", "del", "della", "do", "da", "d", "van"})
_GENITIVE_LANGUAGES = frozenset({"de", "nl", "sv", "no", "nb", "nn", "da"})
# Lower-case words inside people's names ("of", "des", "für" join organisations' names, not people's).
NAME_PARTICLES = frozenset(
    {"von", "van", "der", "den", "de", "da", "di", "del", "della", "dos", "do", "du", "la", "le"}
)
_ELISION = re.compile(r"^[a-zà-ÿ]{1,5}['’](?=[^\W\d_])")
_KATAKANA = re.compile(r"[\u30a0-\u30ff]")
_ACRONYM = re.compile(r"^[A-ZÄÖÜ][A-ZÄÖÜ&]{1,5}$")
# "Europäische Zentralbank (EZB)": an acronym in parentheses right after a name defines it.
_DEFINITION = re.compile(r"^\( ([A-ZÄÖÜ][A-ZÄÖÜ&0-9]{1,6}|[A-Z][a-z]{2,5}) \)")
# A definite article (or a preposition fused with one) before an acronym: "the NFL", "der SPD", "del PP".
DEFINITE_ARTICLES = frozenset(
    {
        "the",
        "der",
        "die",
        "des",
        "dem",
        "den",
        "la",
        "le",
        "les",
        "el",
        "los",
        "las",
        "il",
        "lo",
        "gli",
        "l",
        "het",
        "del",
        "della",
        "dello",
        "dei",
        "degli",
        "du",
        "au",
        "aux",
        "al",
        "beim",
        "vom",
        "zum",
        "zur",
        "im",
        "am",
    }
)
# Legal forms that follow a company's name in lower case ("Barclays plc", "Mediobanca spa").
_LOWER_LEGAL_FORMS = frozenset(
    {"plc", "inc", "ltd", "llc", "gmbh", "spa", "s.p.a.", "srl", "s.r.l.", "bv", "nv", "oyj"}
)
# German bodies named by their seat: the office word opens the name ("Landratsamt Günzburg", "Amtsgericht Köln").
_GERMAN_OFFICE_FIRST = ("amt", "gericht", "ministerium", "polizei", "behörde", "kammer", "präsidium")
# Administrative suffixes of Korean and Japanese place names: the name is also written without them.
_ADMINISTRATIVE_SUFFIXES = frozenset("시도군구市県府都区")
# A model designation after a company's name makes a product ("Airbus A350", "Galaxy S24").
_MODEL = re.compile(r"^(?=[\w-]*\d)(?=[\w-]*[^\W\d_])[\w-]+$")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A compass point before a place written in Han makes another region ("東日本" is eastern Japan, not Japan).
_COMPASS = frozenset("東西南北")
# One Han character stands for a country before a word about it ("米大統領", "英紙", "米ニュースサイト") or
# beside another such abbreviation ("米中", "日米"); alone it is a common word (米 is rice).
JA_COUNTRY_ABBREVIATIONS = {
    "米": "United States",
    "英": "United Kingdom",
    "露": "Russia",
    "仏": "France",
    "独": "Germany",
    "韓": "South Korea",
    "豪": "Australia",
}
_JA_ABBREVIATION_NEXT = (
    "大統領",
    "政府",
    "政権",
    "軍",
    "国防",
    "国務",
    "紙",
    "当局",
    "議会",
    "企業",
    "首相",
    "外相",
    "側",
    "連邦",
    "大使",
    "兵",
    "中",
    "露",
    "英",
    "韓",
    "朝",
    "欧",
    "国内",
    "経済",
    "メディア",
)
_JA_ABBREVIATION_PREVIOUS = frozenset("日訪米英露仏独韓豪中")


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


@dataclass(frozen=True, slots=True)
class _Run:
    tokens: list[_Token]
    before: str | None
    after: str | None
    is_title: bool
    previous: tuple[str, ...] = ()  # up to three tokens before the run, `before` last


def extract_entities(
    title: str | None,
    lead: str | None,
    paragraphs: Sequence[str],
    gazetteer: Gazetteer,
    language: str | None = None,
) -> list[EntityMention]:
    """Entities of one article with mention counts, most mentioned first (ties in order of appearance)."""
    segments = [(title or "", True), (lead or "", False), *((p, False) for p in paragraphs)]
    if language in ("ja", "zh", "ko") or SPACELESS.search(" ".join(s for s, _ in segments[:2])):
        return _spaceless_places(segments, gazetteer)
    stop = _stopwords(language)
    runs: list[_Run] = []
    for text, is_title in segments:
        for sentence in _SENTENCE.split(text):
            runs.extend(_capitalised_runs(sentence, is_title, gazetteer, stop))

    found: dict[str, AliasEntry] = {}
    spellings: dict[str, list[str]] = {}
    mentions: list[str | list[str]] = []  # entity keys in order; a list is an unresolved single word
    defined: dict[str, AliasEntry] = {}  # acronym -> the name it was defined for
    confirmed: set[str] = set()  # keys of acronyms read as organisations once ("the NFL", "del PP")
    german = language == "de"
    defining = None  # the acronym just defined: its mention in the parentheses is no second mention
    for run in runs:
        if defining is not None and run.before == "(" and [t.text for t in run.tokens] == [defining]:
            defining = None
            continue
        definition = _definition(run, gazetteer, stop, german)
        defining = definition[0] if definition is not None else None
        items = [definition[1]] if definition is not None else _classify_run(run, gazetteer, stop, language, german)
        if definition is not None:
            defined[definition[0]] = definition[1][0]
            spellings.setdefault(definition[1][0].key, []).append(definition[0])
        for item in items:
            if isinstance(item, str):
                mentions.append([item])
                continue
            entry, surface = item
            if surface in defined:
                entry = defined[surface]
            elif gazetteer.aliases.lookup(entry.key) is not None or (
                len(run.tokens) == 1
                and _ACRONYM.match(surface)
                and run.before is not None
                and run.before.casefold() in DEFINITE_ARTICLES
            ):
                confirmed.add(entry.key)  # a known acronym, or one read as a name ("the NFL", "del PP")
            found.setdefault(entry.key, entry)
            spellings.setdefault(entry.key, []).append(surface)
            mentions.append(entry.key)
    return _count(mentions, found, spellings, language, confirmed | {e.key for e in defined.values()})


def _definition(
    run: _Run, gazetteer: Gazetteer, stop: frozenset[str], german: bool
) -> tuple[str, tuple[AliasEntry, str]] | None:
    """(acronym, (entry, surface)) when the run is a name followed by its acronym in parentheses whose
    letters it holds in order ("Namibian Broadcasting Corporation (NBC)", "Europäische Zentralbank (EZB)"):
    the name is the one the gazetteer knows, or an organisation. A translated organisation's name may carry
    its original acronym, in capitals or not ("Comando della Difesa Aerospaziale del Nord America (Norad)")."""
    match = _DEFINITION.match(run.after or "")
    if match is None or run.is_title:
        return None
    acronym = match.group(1)
    translated = _organisation_run(run.tokens, gazetteer, stop, german)
    if translated is not None and len(translated[1].split()) >= 3:
        return acronym, translated
    if not acronym.isupper():
        return None
    start = 0
    while start < len(run.tokens) and (
        run.tokens[start].text.casefold() in stop
        or _is_cue(run.tokens[start].text, gazetteer)
        or run.tokens[start].text.casefold() in gazetteer.org_cues
    ):
        start += 1
    words = [t.text for t in run.tokens[start:]]
    if not words or words[0][:1].casefold() != acronym[0].casefold():
        return None
    letters = iter("".join(words).casefold())
    if not all(ch in letters for ch in acronym.casefold() if ch.isalpha()):
        return None
    surface = " ".join(words)
    entry = gazetteer.known(surface)
    if entry is None:
        if len(words) < 2 and not (german and words[0].casefold().endswith(_GERMAN_ORG_ENDINGS)):
            return None
        entry = AliasEntry(key=tag_key(surface), name=surface, kind="organisation")
    return acronym, (entry, surface)


def _count(
    mentions: Iterable[str | list[str]],
    found: dict[str, AliasEntry],
    spellings: dict[str, list[str]],
    language: str | None = None,
    confirmed: frozenset[str] | set[str] = frozenset(),
) -> list[EntityMention]:
    """Mentions counted per entity, single words resolved to the people whose surname they are, and the
    spellings of one name merged ("Zentralen Wahlkommission", "Stine Eilertzens", "Stine Ilona Eilertzen")."""
    merged = _merged_keys(found, language)
    surnames = _surnames(e for k, e in found.items() if k not in merged)
    counts: Counter[str] = Counter()
    for mention in mentions:
        if isinstance(mention, list):
            key = surnames.get(tag_key(mention[0]))
            if key is None:
                continue
            spellings[key].append(mention[0])
        else:
            key = merged.get(mention, mention)
            if key != mention:
                spellings[key].extend(spellings[mention])
        counts[key] += 1
    out = []
    for key, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        entry = found[key]
        if count < 2 and not entry.aliases and _ACRONYM.match(entry.name) and key not in confirmed:
            continue  # an acronym the gazetteer does not know is an organisation only when it recurs
        aliases = tuple(dict.fromkeys(s for s in (*entry.aliases, *spellings[key]) if s != entry.name))
        out.append(EntityMention(key=key, name=entry.name, kind=entry.kind or "topic", count=count, aliases=aliases))
    return out


def _merged_keys(found: dict[str, AliasEntry], language: str | None) -> dict[str, str]:
    """Rule-made names that are another spelling of one found before it -> that one's key: the same
    words by their stems (inflection, genitive), or a person with the same first and last name."""
    stemmer = _stemmer(language)
    first: dict[tuple[str, str], str] = {}
    people: dict[tuple[str, str], str] = {}
    out: dict[str, str] = {}
    orgs = [e for e in found.values() if e.kind == "organisation" and " " in e.key]
    surnames = _surnames(found.values())
    for key, entry in found.items():
        if entry.aliases or entry.kind not in ("person", "organisation"):
            continue  # a gazetteer or alias-table entry is canonical already
        words = key.split()
        if entry.kind == "person" and len(words) == 1 and surnames.get(key, key) != key:
            out[key] = surnames[key]  # "Minister Lavrov" is Sergei Lavrov
            continue
        if entry.kind == "organisation" and len(words) == 1:
            # "SVB" for "Silicon Valley Bank", "MSV" for "MSV Duisburg"
            initials = next((o.key for o in orgs if _initials(o.name) == entry.name or o.key.split()[0] == key), None)
            if initials is not None:
                out[key] = initials
                continue
        stems = " ".join(stemmer.stemWord(w) if stemmer else w for w in words)
        target = first.setdefault((entry.kind, stems), key)
        if entry.kind == "person" and len(words) >= 2:
            ends = (words[0], words[-1].removesuffix("s"))
            target = people.setdefault(ends, target)
        if target != key:
            out[key] = target
    return out


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[:1].isupper())


@lru_cache(maxsize=64)
def _stemmer(language: str | None):  # type: ignore[no-untyped-def]
    from services.enrich.keywords import snowball_stemmer

    return snowball_stemmer(language or "en")


def _spaceless_places(segments: Sequence[tuple[str, bool]], gazetteer: Gazetteer) -> list[EntityMention]:
    """Places in text without spaces between words: the longest gazetteer spelling at each position."""
    names = gazetteer.spaceless_places or {}
    longest = max((len(n) for n in names), default=0)
    found: dict[str, AliasEntry] = {}
    spellings: dict[str, list[str]] = {}
    mentions: list[str | list[str]] = []
    for text, _ in segments:
        i = 0
        while i < len(text):
            abbreviation = _country_abbreviation(text, i)
            if abbreviation is not None and (i == 0 or text[i - 1] not in _COMPASS):
                entry = gazetteer.known(abbreviation) or AliasEntry(tag_key(abbreviation), abbreviation, "place")
                found.setdefault(entry.key, entry)
                spellings.setdefault(entry.key, []).append(text[i])
                mentions.append(entry.key)
                i += 1
                continue
            for j in range(min(len(text), i + longest), i + 1, -1):
                name = names.get(text[i:j])
                if name is None or (j < len(text) and _KATAKANA.match(text[j - 1]) and _KATAKANA.match(text[j])):
                    continue  # "ハマ" (Hama) inside "ハマス" (Hamas): a katakana word goes on
                if i > 0 and text[i - 1] in _COMPASS and _HAN.match(text[i]):
                    continue  # "東日本" (eastern Japan) is not Japan
                if i > 0 and _HANGUL.match(text[i]) and _HANGUL.match(text[i - 1]):
                    continue  # Korean words are spaced: a name starts a word ("우리가" holds no Riga)
                entry = gazetteer.known(name) or AliasEntry(key=tag_key(name), name=name, kind="place")
                found.setdefault(entry.key, entry)
                spellings.setdefault(entry.key, []).append(text[i:j])
                if j - i > 2 and text[j - 1] in _ADMINISTRATIVE_SUFFIXES:
                    spellings[entry.key].append(text[i : j - 1])  # "부산시" is also "부산", "東京都" "東京"
                mentions.append(entry.key)
                i = j - 1
                break
            i += 1
    return _count(mentions, found, spellings)


def _country_abbreviation(text: str, i: int) -> str | None:
    """The country one Han character at `i` stands for in Japanese text, when the context says it does."""
    country = JA_COUNTRY_ABBREVIATIONS.get(text[i])
    if country is None:
        return None
    rest = text[i + 1 :]
    if rest.startswith(_JA_ABBREVIATION_NEXT) or _KATAKANA.match(rest[:1]):
        return country
    return country if i > 0 and text[i - 1] in _JA_ABBREVIATION_PREVIOUS and text[i - 1] != text[i] else None


@lru_cache(maxsize=64)
def _stopwords(language: str | None) -> frozenset[str]:
    """The language's stop words (case-folded), which never start or end a name."""
    import stopwordsiso

    code = {"nb": "no", "nn": "no"}.get(language or "en", language or "en")
    words = stopwordsiso.stopwords(code) if stopwordsiso.has_lang(code) else stopwordsiso.stopwords("en")
    return frozenset(w.casefold() for w in words)


def _tokens(sentence: str, gazetteer: Gazetteer) -> list[str]:
    """Words and punctuation. A hyphenated word splits where a part is a known name or an acronym
    ("US-Russia", "ÖVP-Ministerin", "Russland-Wahl") and stays whole otherwise ("Zuma-Sambudla",
    "Heung-min"); a possessive is dropped and ends the name ("Postecoglou’s Champions League")."""
    tokens: list[str] = []
    for word in _TOKEN.findall(sentence):
        word = _ELISION.sub("", word)  # "l'Europa", "dell’Artico", "d’Ukraine"
        if word.endswith(".") and word.count(".") == 1:
            word = word[:-1]  # sentence period or "Mr."; "U.S." keeps its dots
        possessive = len(word) > 2 and _POSSESSIVE.search(word) is not None
        word = _POSSESSIVE.sub("", word) if possessive else word
        parts = word.split("-")
        if len(parts) > 1 and all(parts) and word not in gazetteer.non_entities and _splits(parts, gazetteer):
            for i, part in enumerate(parts):
                tokens.append(part)
                if i < len(parts) - 1:
                    tokens.append("-")
        elif word:
            tokens.append(word)
        if possessive:
            tokens.append("’s")
    return tokens


def _splits(parts: list[str], gazetteer: Gazetteer) -> bool:
    """Whether a hyphenated word is a compound of a name and more rather than one name."""
    if not parts[0][:1].isupper() or gazetteer.known("-".join(parts)) is not None:
        return False
    if _ACRONYM.match(parts[0]) or gazetteer.known(parts[0]) is not None:
        return True
    if len(parts[0]) <= 4 and any(gazetteer.known(p) is not None for p in parts[1:]):
        return True  # "Anti-Kiev", "Pro-Russia", "Ex-USSR"
    return all(gazetteer.known(p) is not None for p in parts if p[:1].isupper())


def _capitalised_runs(sentence: str, is_title: bool, gazetteer: Gazetteer, stop: frozenset[str]) -> list[_Run]:
    """Runs of capitalised tokens with the word before and the text after each run; credits skipped."""
    tokens = _tokens(sentence, gazetteer)
    runs: list[_Run] = []
    current: list[_Token] = []
    first_word = next((i for i, t in enumerate(tokens) if t[:1].isalnum()), 0)
    shouted = _shouted(tokens)
    credit = False
    for i, text in enumerate(tokens):
        folded = text.casefold()
        if (
            folded in gazetteer.credit_words
            and 0 < i < len(tokens) - 1
            and tokens[i - 1] == "("
            and tokens[i + 1] == ")"
        ):
            continue  # "(Reuters)", "(dpa)": an agency credit in a dateline
        if folded in gazetteer.credit_words and (
            text == "©" or folded in ("copyright", "foto", "fotos", "photo", "photos", "bild", "image", "credit")
        ):
            # "Foto: Jan Doolan", "© Reuters", "Jan Doolan Copyright": the credit and the run before it go.
            current, credit = [], True
            continue
        if credit:
            if text in _CREDIT_END or (not text[:1].isupper() and text not in (":", ",", "/", "-", "&")):
                credit = False
            continue
        cap = i not in shouted and (text[:1].isupper() or (text[:1].isdigit() and any(c.isupper() for c in text)))
        if cap:
            current.append(_Token(text, i == first_word, True))
            continue
        if current and folded in _LOWER_LEGAL_FORMS:
            current.append(_Token(text, False, True))  # "Barclays plc"
            continue
        if current and _inner_connector(tokens, i, gazetteer):
            current.append(_Token(text, False, False))
            continue
        if current:
            start = i - len(current)
            before = tokens[start - 1] if start > 0 else None
            previous = tuple(tokens[max(0, start - 3) : start])
            runs.append(_Run(current, before, " ".join(tokens[i : i + 3]), is_title, previous))
            current = []
    if current:
        start = len(tokens) - len(current)
        runs.append(
            _Run(
                current,
                tokens[start - 1] if start > 0 else None,
                None,
                is_title,
                tuple(tokens[max(0, start - 3) : start]),
            )
        )
    return runs


def _inner_connector(tokens: Sequence[str], i: int, gazetteer: Gazetteer) -> bool:
    """Whether tokens[i] joins two parts of one name: "of", "de la", "von der" followed by a capital
    ("der" only after "von"/"van": "Spitze der Organisation" is no name)."""
    j = i
    while j < len(tokens) and tokens[j] in gazetteer.connectors:
        if tokens[j] in gazetteer.article_connectors and tokens[j - 1] not in ("von", "van"):
            return False
        j += 1
    return j > i and j < len(tokens) and tokens[j][:1].isupper()


def _shouted(tokens: Sequence[str]) -> set[int]:
    """Indexes of words in capitals next to other words in capitals ("LE POINT SUR LA SITUATION",
    "NEVER SAY GOODBYE"): a kicker or a shout, not acronyms."""
    upper = [len(t) > 1 and t.isalpha() and t.isupper() for t in tokens]
    return {i for i, u in enumerate(upper) if u and ((i > 0 and upper[i - 1]) or (i + 1 < len(upper) and upper[i + 1]))}


def _is_cue(word: str, gazetteer: Gazetteer) -> bool:
    """A role word: "President", "Außenministerin", "Generaldirektors" (German compounds by their ending,
    inflected forms by their stem)."""
    folded = word.casefold()
    for form in (
        folded,
        folded[:-1] if folded.endswith("s") else folded,
        folded[:-2] if folded.endswith("en") else folded,
    ):
        if form in gazetteer.person_cues or (len(form) > 6 and form.endswith(gazetteer.role_suffixes)):
            return True
    parts = folded.split("-")
    return len(parts) > 1 and all(p in gazetteer.person_cues for p in parts)  # "Major-Gen", "Vice-President"


def _lookup(surface: str, gazetteer: Gazetteer, language: str | None) -> AliasEntry | None:
    entry = gazetteer.known(surface)
    if (
        entry is not None
        and len(surface) <= 3
        and not surface.isupper()
        and surface not in (entry.name, *entry.aliases)
    ):
        return None  # "Un" opening a Spanish sentence is not the UN
    if entry is None and language in _GENITIVE_LANGUAGES and surface.endswith("s") and len(surface) > 4:
        entry = gazetteer.known(surface[:-1])  # "Russlands", "Irans", "Ukrainas"
    return entry


def _classify_run(
    run: _Run, gazetteer: Gazetteer, stop: frozenset[str], language: str | None, german: bool
) -> list[tuple[AliasEntry, str] | str]:
    """Known entities (entry, surface) and unresolved single words of one run, in order."""
    tokens = run.tokens
    out: list[tuple[AliasEntry, str] | str] = []
    if not run.is_title:
        org = _organisation_run(tokens, gazetteer, stop, german)
        if org is not None:
            return [org]
    unknown: list[_Token] = []
    cue = run.before is not None and _is_cue(run.before, gazetteer)
    announced = _announced(run, gazetteer)
    i = 0
    while i < len(tokens):
        match = None
        for j in range(min(len(tokens), i + 6), i, -1):
            if not tokens[j - 1].cap:
                continue
            surface = " ".join(t.text for t in tokens[i:j])
            entry = _lookup(surface, gazetteer, language)
            if entry is not None:
                match = (entry, surface, j)
                break
        if match is not None and match[2] == i + 1 and _name_part(tokens, i, unknown, gazetteer, german):
            match = None  # "Sofia Östmark", "Cecilia Sala", "Travis Kelce": a given name's company
        if (
            match is not None
            and match[2] == i + 1
            and language in LOWER_CASE_NOUN_LANGUAGES
            and _longer_name(tokens, i, run.is_title, gazetteer, stop)
        ):
            match = None  # "Vista Alegre", "Stamford Bridge": a venue or a club named after a place
        if match is not None:
            entry, surface, j = match
            following = tokens[j].text if j < len(tokens) else (run.after or "").split(" ")[0]
            inside = following.casefold() in NOT_PLACE_AFTER or (
                j < len(tokens) and following.casefold() in gazetteer.org_heads
            )
            product = entry.kind == "organisation" and _MODEL.match(following) is not None
            if not (entry.kind == "place" and inside) and not product:
                # not "Minsk agreements", "Silicon Valley Bank" in a title, nor a product ("Airbus A350")
                out.extend(_unknown_run(unknown, cue, None, run.is_title, gazetteer, german, announced, language))
                out.append((entry, surface))
            unknown, cue, announced, i = [], False, None, j
            continue
        token = tokens[i]
        folded = token.text.casefold()
        inner = bool(unknown) and folded in gazetteer.connectors
        breaks = (
            _is_cue(token.text, gazetteer)
            or folded in gazetteer.org_cues
            or folded in PLACE_CUES
            or token.text in gazetteer.non_entities
            or (not token.cap and not inner)
            or (folded in stop and not inner)
        )
        if breaks:
            out.extend(_unknown_run(unknown, cue, None, run.is_title, gazetteer, german, announced, language))
            unknown = []
            cue = _is_cue(token.text, gazetteer)
            announced = (
                # a capitalised place word inside a name announces nothing ("Desert Island Discs"), except in
                # German, which capitalises it anyway ("Stadt Uddevalla")
                "place"
                if folded in PLACE_CUES and german
                else "organisation"
                if _is_org_cue(token.text, gazetteer)
                else None
            )
        else:
            unknown.append(token)
        i += 1
    out.extend(_unknown_run(unknown, cue, run.after, run.is_title, gazetteer, german, announced, language))
    return out


def _compound_org(word: str, gazetteer: Gazetteer) -> bool:
    """Whether one word is an organisation's name fused with its head-word ("Overlegcomité", "Wereldbank",
    "Utrikesdepartementet"); only where common nouns are written in lower case, so that a capital marks a name."""
    folded = word.casefold()
    if not word.isalpha() or not folded.endswith(_endings(gazetteer.org_heads, 4)):
        return False
    return any(len(folded) >= len(head) + 3 and folded.endswith(head) for head in _endings(gazetteer.org_heads, 4))


def _announced(run: _Run, gazetteer: Gazetteer) -> str | None:
    """The kind the words before a run announce: an organisation ("Konzern", "advocatenkantoor") or a place
    ("Stadt", "byen", "the island of", "la région russe de", "la città di")."""
    if run.before is None:
        return None
    if _is_org_cue(run.before, gazetteer):
        return "organisation"
    if run.before.casefold() in PLACE_CUES:
        return "place"
    if run.before.casefold() in PLACE_CONNECTORS and any(w.casefold() in PLACE_CUES for w in run.previous[:-1]):
        return "place"
    return None


def _is_org_cue(word: str, gazetteer: Gazetteer) -> bool:
    """A word that announces an organisation's name: "Sender", "Konzern", "advocatenkantoor", "newspaper"
    (compounds by their ending)."""
    folded = word.casefold()
    return folded in gazetteer.org_cues or folded.endswith(_endings(gazetteer.org_cues, 5))


@lru_cache(maxsize=16)
def _endings(words: frozenset[str], min_length: int) -> tuple[str, ...]:
    """The words of a list at least `min_length` long, as a tuple for `str.endswith`."""
    return tuple(w for w in words if len(w) >= min_length)


def _longer_name(tokens: list[_Token], i: int, is_title: bool, gazetteer: Gazetteer, stop: frozenset[str]) -> bool:
    """Whether the one-word place at `i` opens a longer name: the next word of the run is capitalised, and
    neither known, a role, an organisation word nor a stop word ("Vista Alegre", "Stamford Bridge"; not
    "Gaza City", "Berlin Police"). Titles capitalise every word, so there it says nothing."""
    word = tokens[i].text
    if is_title or i + 1 >= len(tokens) or word.isupper() or gazetteer.known(word) is None:
        return False  # also a genitive ("Iraks Saddam Hussein", "Libyas Moammar Gadhafi"): two names
    if gazetteer.is_given_name(word):
        return False  # "China Geo" would become a person: the place stays
    nxt = tokens[i + 1]
    folded = nxt.text.casefold()
    return (
        nxt.cap
        and nxt.text.isalpha()
        and not nxt.text.isupper()
        and folded not in stop
        and folded not in gazetteer.org_heads
        and folded not in gazetteer.legal_forms
        and folded not in ("city", "town")
        and not _is_cue(nxt.text, gazetteer)
        and not gazetteer.is_given_name(nxt.text)
        and gazetteer.known(nxt.text) is None
    )


def _name_part(tokens: list[_Token], i: int, unknown: list[_Token], gazetteer: Gazetteer, german: bool) -> bool:
    """Whether the single word at `i` the gazetteer knows as a place is rather part of a person's name:
    it follows a given name, or it is a given name followed by a word the gazetteer does not know."""
    if unknown and unknown[-1].cap and unknown[-1].text in gazetteer.first_names:
        return True
    word = tokens[i].text
    if word not in gazetteer.first_names or i + 1 >= len(tokens):
        return False
    country = gazetteer.aliases.resolve(word)
    if country is not None and (german or country.name == word):
        # "South China Sea"; "Kenia Einfluss" (German capitalises the noun after it); but "Mauricio
        # Pochettino" is no Mauritius, whose Spanish name that is
        return False
    nxt = tokens[i + 1]
    return nxt.cap and nxt.text.isalpha() and gazetteer.known(nxt.text) is None


def _organisation_run(
    tokens: list[_Token], gazetteer: Gazetteer, stop: frozenset[str], german: bool
) -> tuple[AliasEntry, str] | None:
    """The whole run as one organisation when its last word is an organisation word or its first one opens
    an organisation's name, places inside included ("Bank of Montreal", "Silicon Valley Bank",
    "Universidad de Salamanca"); leading stop words and role words are not part of it."""
    start = 0
    # a stop word opening the sentence ("The", "Desde la Asociación") and announcing words ("Sender") are not
    # part of the name; a capitalised stop word inside a sentence is ("the UAE's General Civil Aviation
    # Authority", "read The Moscow Times")
    while start < len(tokens) and (
        (tokens[start].text.casefold() in stop and (tokens[start].sentence_start or not tokens[start].cap))
        or tokens[start].text.casefold() in gazetteer.org_cues
    ):
        start += 1
    words = [t.text for t in tokens[start:]]
    # "Hier la Cour de cassation": a name opening with an organisation word starts there, after an article
    opening = next(
        (
            k
            for k in range(1, len(words) - 1)
            if words[k].casefold() in gazetteer.org_first and not words[k - 1][:1].isupper()
        ),
        None,
    )
    if opening is not None and words[0].casefold() not in gazetteer.org_first:
        words = words[opening:]
    if len(words) < 2 or gazetteer.known(" ".join(words)) is not None:
        return None
    last, first = words[-1].casefold(), words[0].casefold()
    # "Civil Aviation Authority of Nepal": an organisation word followed by "of" and more
    head_of = any(
        w.casefold() in gazetteer.org_heads
        and words[k + 1] in gazetteer.connectors
        and words[k + 1] not in gazetteer.article_connectors
        and not (german and words[k + 1] == "das")  # "Küstenwache das Schiff": an article, not "of"
        for k, w in enumerate(words[:-1])
    )
    if (
        head_of
        or last in gazetteer.org_heads
        or last in gazetteer.legal_forms
        or (german and last.endswith(_GERMAN_ORG_ENDINGS))
        or (german and len(words) == 2 and first.endswith(_GERMAN_OFFICE_FIRST))
        or first in gazetteer.org_first
    ):
        surface = " ".join(words)
        return AliasEntry(key=tag_key(surface), name=surface, kind="organisation"), surface
    return None


def _unknown_run(
    tokens: list[_Token],
    cue: bool,
    after: str | None,
    is_title: bool,
    gazetteer: Gazetteer,
    german: bool,
    announced: str | None = None,
    language: str | None = None,
) -> list[tuple[AliasEntry, str] | str]:
    """Classify a run of capitalised words the gazetteer does not know, by the rules above."""
    while tokens and not tokens[-1].cap:
        tokens = tokens[:-1]
    if not tokens:
        return []
    words = [t.text for t in tokens]
    if is_title:
        return [w for w in words if w.isalpha()]
    announced_place = announced == "place" and len(words) <= 2 and not tokens[0].sentence_start
    if announced_place and all(w.isalpha() for w in words) and not gazetteer.is_given_name(words[0]):
        name = " ".join(words)  # "la région russe de Koursk", "the island of Luzon", "Stadt Uddevalla"
        return [(AliasEntry(key=tag_key(name), name=name, kind="place"), name)]
    if (
        announced == "organisation"
        and len(words) <= 4
        and not tokens[0].sentence_start
        and not gazetteer.is_given_name(words[0])
    ):
        name = " ".join(words)  # "Konzern RWE", "advocatenkantoor DLA Piper", "the newspaper Politiken"
        return [(AliasEntry(key=tag_key(name), name=name, kind="organisation"), name)]
    if len(words) == 1:
        word = words[0]
        if _ACRONYM.match(word) and word.casefold() not in gazetteer.credit_words:
            return [(AliasEntry(key=tag_key(word), name=word, kind="organisation"), word)]
        if cue and word.isalpha() and not tokens[0].sentence_start:
            return [(AliasEntry(key=tag_key(word), name=word, kind="person"), word)]
        if language in LOWER_CASE_NOUN_LANGUAGES and not tokens[0].sentence_start and _compound_org(word, gazetteer):
            return [(AliasEntry(key=tag_key(word), name=word, kind="organisation"), word)]
        return [word] if word.isalpha() else []
    # a person's name may follow words that are not one ("Bubi Jona Niemiec"): it starts at a given name
    for start in range(len(tokens) - 1):
        if start > 0 and words[start - 1] in NOT_GIVEN_NAMES:
            continue  # "San Isidro", "Santa Lucía": a saint or a place, not a person
        person = _person(tokens[start:], cue and start == 0, after, gazetteer, german)
        if person is not None:
            name = " ".join(person)
            rest = [w for w in (*words[:start], *words[start + len(person) :]) if w.isalpha()]
            return [(AliasEntry(key=tag_key(name), name=name, kind="person"), name), *rest]
    return [w for w in words if w.isalpha()]


_GERMAN_ORG_ENDINGS = (
    "kommission",
    "ministerium",
    "partei",
    "gesellschaft",
    "bank",
    "gericht",
    "verband",
    "institut",
    "zentrum",
    "agentur",
    "konzern",
    "stiftung",
)


def _person(tokens: list[_Token], cue: bool, after: str | None, gazetteer: Gazetteer, german: bool) -> list[str] | None:
    """The words of a person's name at the start of the run, or None."""
    words = [t.text for t in tokens]
    if not words[0][:1].isupper() or not (gazetteer.is_given_name(words[0]) or cue or len(words) == len(tokens)):
        return None
    cut = next(
        (
            k
            for k, w in enumerate(words[1:], 1)
            if w.casefold() in gazetteer.org_heads or w.casefold() in FACILITY_WORDS or _is_cue(w, gazetteer)
        ),
        len(words),
    )
    words = words[:cut]
    if german:
        # every noun is capitalised: a name is given names and one surname ("Gerd Harry Lybke") that does
        # not read as a noun ("-ung"), and a genitive ends it ("Hillary Clintons Verweis" -> Hillary Clinton)
        end = next((k for k, w in enumerate(words[1:], 1) if w not in gazetteer.first_names), len(words) - 1)
        while end + 1 < len(words) and words[end] in NAME_PARTICLES:
            end += 1  # "Ursula von der Leyen"
        words = words[: end + 1]
        if words[-1].casefold().endswith(gazetteer.noun_suffixes):
            return None
        if len(words) > 1 and words[-1].endswith("s") and len(tokens) > len(words):
            words[-1] = words[-1][:-1]
    while words and words[-1] in NAME_PARTICLES:
        words = words[:-1]
    # particles inside a name do not count: "Luiz Inácio Lula da Silva", "Ursula von der Leyen"
    named = [w for w in words if w not in NAME_PARTICLES]
    if not 2 <= len(named) <= 4 or not all(w.replace("-", "").isalpha() and w[:1].isupper() for w in named):
        return None
    follows = (after or "").split(" ")
    speech = len(words) == len(tokens) and (follows[0] in gazetteer.speech_verbs or follows[:2] == [",", "who"])
    if gazetteer.is_given_name(words[0]) or cue or speech:
        return words
    return None


def _surnames(entries: Iterable[AliasEntry]) -> dict[str, str]:
    """Folded surname -> person key, for people found in full; a surname two people share is dropped."""
    seen: dict[str, str] = {}
    clash: set[str] = set()
    for entry in entries:
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
