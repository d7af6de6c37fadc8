"""Tag normalisation and alias merging."""

from __future__ import annotations

import json

import pytest

from services.enrich.aliases import AliasTable, load_alias_table
from services.enrich.gazetteer import load_gazetteer
from services.enrich.tags import clean_tag, normalize_tags, tag_key


@pytest.mark.parametrize(
    ("raw", "display", "key"),
    [
        ("  #Rex   Tillerson ", "Rex Tillerson", "rex tillerson"),
        ("«Donbass conflict»", "Donbass conflict", "donbass conflict"),
        ("U.S.-Russia Relations", "U.S.-Russia Relations", "us russia relations"),
        ("U.S.", "U.S.", "us"),
        ("ＧＥＲＭＡＮＹ", "GERMANY", "germany"),  # NFKC folds full-width letters
        ("Straße", "Straße", "strasse"),  # case folding, not lower()
        ("• diplomacy |", "diplomacy", "diplomacy"),
    ],
)
def test_clean_and_key(raw: str, display: str, key: str) -> None:
    assert clean_tag(raw) == display
    assert tag_key(clean_tag(raw)) == key


def test_aliases_merge_spellings_and_sites() -> None:
    table = load_alias_table()
    tags = normalize_tags(["Sergey Lavrov", "Sergei Lavrov", "US", "U.S.", "United States", "E.U."], table)
    assert [(t.key, t.name, t.raw, t.kind) for t in tags] == [
        ("sergei lavrov", "Sergei Lavrov", "Sergey Lavrov", "person"),
        ("united states", "United States", "US", "place"),
        ("eu", "EU", "E.U.", "organisation"),
    ]


def test_seed_tags_keep_display_and_get_kinds() -> None:
    gazetteer = load_gazetteer()
    raw = ["US-Russia relations", "Donbass conflict", "diplomacy", "Rex Tillerson", "Sergei Lavrov", "Germany", "Bonn"]
    tags = normalize_tags(raw, gazetteer.aliases, gazetteer.kind_of)
    assert [t.name for t in tags] == raw
    assert [t.kind for t in tags] == ["topic", "topic", "topic", "person", "person", "place", "place"]


def test_alias_table_extends_from_configuration(tmp_path) -> None:
    extra = tmp_path / "aliases.json"
    extra.write_text(
        json.dumps(
            {
                "groups": [
                    {"name": "Sergei Lavrov", "kind": "person", "aliases": ["S. Lavrov"]},
                    {"name": "Tillerson", "kind": "person", "aliases": ["US"]},
                    {"name": "Bonn", "kind": "place", "aliases": ["Bundesstadt Bonn"]},
                ]
            }
        )
    )
    table = load_alias_table(str(extra))
    assert table.resolve("S. Lavrov").name == "Sergei Lavrov"
    assert table.resolve("Sergey Lavrov").name == "Sergei Lavrov"  # defaults kept
    assert table.resolve("US").name == "Tillerson"  # a later group takes an alias over
    assert table.resolve("Bundesstadt Bonn").key == "bonn"
    assert load_alias_table().resolve("US").name == "United States"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        AliasTable([{"name": "x", "kind": "animal"}])
