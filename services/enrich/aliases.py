"""The alias table: one canonical name and kind for every spelling of a tag or entity.

Defaults ship in `data/aliases.json`; a deployment extends or overrides them with a file of the
same format (NEWSFLOW_ENRICH_ALIASES_PATH). Pure data and lookups: no store, no Celery.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from services.enrich.tags import tag_key

KINDS = ("person", "place", "organisation", "topic")
ENTITY_KINDS = ("person", "place", "organisation")


@dataclass(frozen=True, slots=True)
class AliasEntry:
    """A canonical entity or topic: its folded `key`, display `name`, `kind` and known spellings."""

    key: str
    name: str
    kind: str | None
    aliases: tuple[str, ...] = ()


class AliasTable:
    """Lookup from any folded spelling to its canonical entry; later groups override earlier ones."""

    __slots__ = ("_by_alias", "_entries")

    def __init__(self, groups: Iterable[Mapping[str, Any]] = ()):
        self._entries: dict[str, AliasEntry] = {}
        self._by_alias: dict[str, str] = {}
        self.extend(groups)

    def extend(self, groups: Iterable[Mapping[str, Any]]) -> None:
        """Add groups ({name, kind, aliases}); a group whose name is known merges into it."""
        for group in groups:
            name = str(group["name"]).strip()
            kind = group.get("kind")
            if kind is not None and kind not in KINDS:
                raise ValueError(f"alias group {name!r}: unknown kind {kind!r}")
            key = self._by_alias.get(tag_key(name), tag_key(name))
            old = self._entries.get(key)
            aliases = tuple(dict.fromkeys([*(old.aliases if old else ()), *map(str, group.get("aliases") or ())]))
            if old is not None and tag_key(name) != key:
                name = old.name  # the group named an alias of a known entry: keep that entry's display form
            entry = AliasEntry(key=key, name=name, kind=kind or (old.kind if old else None), aliases=aliases)
            self._entries[key] = entry
            for spelling in (name, *aliases):
                folded = tag_key(spelling)
                if folded:
                    self._by_alias[folded] = key
            self._by_alias[key] = key

    def lookup(self, key: str) -> AliasEntry | None:
        """The canonical entry of a folded spelling (see `tag_key`), or None."""
        canonical = self._by_alias.get(key)
        return self._entries[canonical] if canonical is not None else None

    def resolve(self, text: str) -> AliasEntry | None:
        """The canonical entry of a spelling as written, or None."""
        return self.lookup(tag_key(text))

    def entries(self) -> list[AliasEntry]:
        """Every canonical entry."""
        return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


def read_groups(path: str | Path) -> list[dict[str, Any]]:
    """The groups of one alias file ({"groups": [...]} or a bare list)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return list(data["groups"] if isinstance(data, dict) else data)


def default_groups() -> list[dict[str, Any]]:
    """The alias groups that ship with newsflow: the curated table, places the geographic tables lack
    (`data/places.json`: regions, seas, rivers, Japan's prefectures) and well-known organisations
    (`data/organisations.json`: parties, parliaments, agencies, media, platforms, companies, clubs)."""
    data = resources.files("services.enrich").joinpath("data")
    groups: list[dict[str, Any]] = []
    for name in ("aliases.json", "places.json", "organisations.json"):
        groups.extend(json.loads(data.joinpath(name).read_text(encoding="utf-8"))["groups"])
    return groups


@lru_cache(maxsize=4)
def load_alias_table(extra_path: str | None = None) -> AliasTable:
    """The default table extended by the file at `extra_path` (if any); cached per path."""
    from services.enrich.gazetteer import country_groups

    # Country names in many languages first, so that the curated groups merge into them.
    table = AliasTable([*country_groups(), *default_groups()])
    if extra_path:
        table.extend(read_groups(extra_path))
    return table
