"""Language codes: declarations normalised to ISO 639-1, checked against the detector."""

from __future__ import annotations

import pytest
from lxml import html

from services.enrich.language import detect_language, resolve_language
from services.parse.metadata import find_language
from services.parse.structured import read_structured
from shared.language import normalize_language

ZULU = (  # the first lines of a Zulu page of the real-page set that declares English
    "Ngabona amanxeba amathathu, egxalabeni, emqaleni kanye nasemhlane. Uhlalele ovalweni umndeni wesaguga "
    "saseMbali Unit 14, okuthiwa sibhokodwe ngommese emzini waso eMbali Unit 14, eMgungundlovu yilungu "
    "lomndeni ngoLwesine olwedlule. Ngokuthola kwe- Echo Eyethu, uRejoice Ndlovu (64) utholwe edindilizile "
    "edamini legazi egumbini lakhe lokulala. FUNDA OLUNYE UDABA LAPHA | Kuboshwe abahlanu besolwa ngokugwaza "
    "umfundi Umsolwa oneminyaka engu – 18 ube esekhalelwa ngamasongo kaSigonyela ngalo usuku lwesigameko. "
    "Indodakazi yakhe engathandanga ukudalulwa ithe bewumndeni kusenzima ukwamukela isihluku ekubulawe ngaso "
    "unina. “Ngithole ucingo lapho engiqashe khona lungazisa ukuthi umama akaphilile. Ngamphakela ukudla "
    "ngase ngiphuthuma ekhaya. Uma ngifika, ngabona sekugcwele amaphoyisa kungasangeneki ngaphakathi.” "
    "“Ngahluleka nokuzibamba ngamemeza igama lomsolwa, ngambuza ukuthi usenzeni,” kusho yena."
)
ENGLISH = (
    "Thousands of US and Filipino troops yesterday launched joint exercises in the northern and western "
    "Philippines, after China held huge drills around Taiwan."
)
NORWEGIAN = (
    "En norsk mann i 40-årene er dømt til livstid i England for å ha utført groteske kroppsmodifikasjoner på "
    "flere menn i London, og han tjente nesten fire millioner kroner på de ulovlige operasjonene."
)


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("de_DE", "de"),
        ("en-GB", "en"),
        ("En", "en"),
        ("deu", "de"),
        ("ger", "de"),
        ("iw", "he"),
        ("nb-NO", "nb"),
        ("zh-Hant-TW", "zh"),
        ("utf-8", None),  # the page whose language was stored as "utf"
        ("UTF-8", None),
        ("utf", None),
        ("x-default", None),
        ("german", None),
        ("", None),
        (None, None),
    ],
)
def test_declarations_normalise_to_iso_639_1_or_none(declared, expected) -> None:
    assert normalize_language(declared) == expected


def test_parser_passes_over_a_charset_declared_as_language() -> None:
    page = html.fromstring(
        '<html lang="utf-8"><head><meta http-equiv="content-language" content="de-AT"></head><body></body></html>'
    )
    assert find_language(page, read_structured(page)) == "de"
    bare = html.fromstring('<html lang="UTF-8"><head></head><body><p>x</p></body></html>')
    assert find_language(bare, read_structured(bare)) is None


def test_detector_names_the_language_and_is_silent_on_too_little_text() -> None:
    assert detect_language(ZULU)[0] == "zu"
    assert detect_language(ENGLISH)[0] == "en"
    assert detect_language("Ja.") == (None, 0.0)


@pytest.mark.parametrize(
    ("declared", "text", "expected"),
    [
        ("en", ZULU, "zu"),  # a wrong declaration the detector is sure about is overruled
        (None, ENGLISH, "en"),  # a missing declaration is filled
        ("utf", ENGLISH, "en"),
        ("nb", NORWEGIAN, "nb"),  # "nb" and the detector's "no" agree: the declaration stays
        ("de", "Kurz.", "de"),  # too little text: the declaration stands
        (None, "Kurz.", None),
    ],
)
def test_resolved_language(declared, text, expected) -> None:
    assert resolve_language(declared, None, None, [text]) == expected
