"""Organisations across languages, and the person and place rules for es/fr/nl/it/pt and Japanese text:
one minimal text per pattern, exact results."""

from __future__ import annotations

import pytest

from services.enrich.entities import extract_entities
from services.enrich.gazetteer import load_gazetteer
from services.enrich.tags import normalize_tags


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


def found(gazetteer, text: str, language: str) -> set[tuple[str, str]]:
    return {(e.name, e.kind) for e in extract_entities(None, None, [text], gazetteer, language=language)}


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # legal forms end a company's name, also in lower case
        ("en", "Shares in Corvella Foods plc fell sharply.", {("Corvella Foods plc", "organisation")}),
        ("it", "Le azioni di Trevigiana Tessuti S.p.A. sono salite.", {("Trevigiana Tessuti S.p.A.", "organisation")}),
        ("de", "Die Nordwind Solar GmbH meldete Insolvenz an.", {("Nordwind Solar GmbH", "organisation")}),
        ("sv", "Aktien i Fjällkraft Energi AB steg kraftigt.", {("Fjällkraft Energi AB", "organisation")}),
        # institution head-words, last (German, English) or first (Romance languages, Dutch)
        ("de", "Der Fall liegt nun beim Landratsamt Günzburg.", {("Landratsamt Günzburg", "organisation")}),
        ("es", "Ayer la Policía Nacional detuvo a dos hombres.", {("Policía Nacional", "organisation")}),
        ("fr", "Hier la Banque de France a publié ses chiffres.", {("Banque de France", "organisation")}),
        ("fr", "Hier la Cour de cassation a rejeté le pourvoi.", set()),  # lower case after the head: no name
        ("nl", "Volgens de Raad van State is dat niet toegestaan.", {("Raad van State", "organisation")}),
        ("it", "Ieri la Corte costituzionale ha deciso.", set()),  # the adjective is lower case: no name
        ("it", "Ieri la Corte Costituzionale ha deciso.", {("Corte Costituzionale", "organisation")}),
        # a word announcing an organisation makes the name after it one
        (
            "nl",
            "Ze werkte bij het advocatenkantoor Varela Brandt in Gent.",
            {("Varela Brandt", "organisation"), ("Gent", "place")},
        ),
        ("de", "Der Konzern Nordwerk kündigte an, Stellen zu streichen.", {("Nordwerk", "organisation")}),
        # an acronym after a definite article is an organisation, even once; alone it is not
        ("es", "Ayer habló el concejal del PXR en el pleno.", {("PXR", "organisation")}),
        ("es", "Ayer habló un concejal PXR en el pleno.", set()),
    ],
)
def test_organisation_patterns(gazetteer, language: str, text: str, expected: set[tuple[str, str]]) -> None:
    assert found(gazetteer, text, language) == expected


def test_acronym_defined_in_parentheses_is_the_name(gazetteer) -> None:
    found_ = extract_entities(
        None,
        None,
        ["The Namibian Broadcasting Corporation (NBC) reported the fire. NBC later corrected the figure."],
        gazetteer,
        language="en",
    )
    assert [(e.name, e.kind, e.count, e.aliases) for e in found_] == [
        ("Namibian Broadcasting Corporation", "organisation", 2, ("NBC",))
    ]


def test_acronym_defined_once_for_an_unknown_name(gazetteer) -> None:
    found_ = extract_entities(
        None, None, ["Die Kassenärztliche Prüfvereinigung (KPV) lehnte ab."], gazetteer, language="de"
    )
    assert [(e.name, e.kind, e.aliases) for e in found_] == [
        ("Kassenärztliche Prüfvereinigung", "organisation", ("KPV",))
    ]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # known organisations under their names in other languages
        ("fr", "Hier, la Maison Blanche a démenti.", {("White House", "organisation")}),
        (
            "de",
            "Die Entscheidung fiel im Weißen Haus und im Bundestag.",
            {("White House", "organisation"), ("Bundestag", "organisation")},
        ),
        (
            "es",
            "Hoy el PP y el PSOE votaron en contra.",
            {("Partido Popular", "organisation"), ("PSOE", "organisation")},
        ),
        # a given name written with other accents than the list's ("Andreï" for "Andrei")
        ("fr", "Selon le ministre russe, Andreï Belooussov, le front avance.", {("Andreï Belooussov", "person")}),
        # a given name after San/Santa is a saint or a place, not a person
        ("es", "Vinieron a las Fiestas de San Isidro Respetuosas muchos vecinos.", set()),
        # particles inside names
        (
            "nl",
            "Premier Bart De Wever sprak met Mark van Dijk.",
            {("Bart De Wever", "person"), ("Mark van Dijk", "person")},
        ),
        ("it", "Il ministro Luigi di Maio ha parlato.", {("Luigi di Maio", "person")}),
    ],
)
def test_names_across_languages(gazetteer, language: str, text: str, expected: set[tuple[str, str]]) -> None:
    assert found(gazetteer, text, language) == expected


def test_organisations_under_their_names_in_many_languages_meet(gazetteer) -> None:
    tags = normalize_tags(["Weißes Haus", "Maison Blanche", "White House", "Casa Blanca"], gazetteer.aliases)
    assert [(t.key, t.name, t.kind) for t in tags] == [("white house", "White House", "organisation")]
    tags = normalize_tags(["Europäische Kommission", "Commission européenne", "European Commission"], gazetteer.aliases)
    assert [(t.key, t.name, t.kind) for t in tags] == [("european commission", "European Commission", "organisation")]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # where common nouns are lower case, a capitalised word ending in a head-word is an organisation
        ("nl", "Na afloop van elk Overlegcomité volgen nieuwe regels.", {("Overlegcomité", "organisation")}),
        ("sv", "Enligt Utrikesdepartementet är läget allvarligt.", {("Utrikesdepartementet", "organisation")}),
        ("de", "Nach jedem Overlegcomité gibt es Regeln.", set()),  # German capitalises every noun
        # regions, seas and rivers the geographic tables lack, under their names in other languages
        ("de", "Das Kraftwerk steht in Bayern an der Donau.", {("Bavaria", "place"), ("Danube", "place")}),
        ("en", "Police in KwaZulu-Natal and Gauteng made arrests.", {("KwaZulu-Natal", "place"), ("Gauteng", "place")}),
        ("it", "Le rotte dell'Artico passano dallo Yukon.", {("Arctic", "place"), ("Yukon", "place")}),
    ],
)
def test_more_patterns(gazetteer, language: str, text: str, expected: set[tuple[str, str]]) -> None:
    assert found(gazetteer, text, language) == expected


def test_headline_place_inside_an_organisation_name(gazetteer) -> None:
    found_ = extract_entities("Silicon Valley Bank Collapse Explained", None, [], gazetteer, language="en")
    assert found_ == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # places in Japanese through the alias table's kanji and kana names
        ("北海道全域が停電した。", {("Hokkaido", "place")}),
        ("中東メディアによると、ガザ地区で攻撃が続いた。", {("Middle East", "place"), ("Gaza Strip", "place")}),
        # one character for a country before a word about it, not alone ("米" is also rice)
        ("トランプ次期米大統領が就任する。", {("United States", "place")}),
        ("米の価格が上がった。", set()),
        # a compass point before a country makes another region: "東日本大震災" names no Japan
        ("東日本大震災から13年。", set()),
    ],
)
def test_japanese_places(gazetteer, text: str, expected: set[tuple[str, str]]) -> None:
    assert found(gazetteer, text, "ja") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # provinces and regions in hangul; a name starts a word ("우리가" holds no Riga)
        ("경상도와 전라도로 나눠서 왜 싸우나.", {("Gyeongsang", "place"), ("Jeolla", "place")}),
        ("우리가 이겼다.", set()),
        # a foreign city's two Sino-Korean syllables are a common word ("연대": solidarity, not Yantai)
        ("범보수 연대에 방점을 찍을 것으로 보인다.", set()),
    ],
)
def test_korean_places(gazetteer, text: str, expected: set[tuple[str, str]]) -> None:
    assert found(gazetteer, text, "ko") == expected


def test_place_with_an_administrative_suffix_is_also_spelled_without(gazetteer) -> None:
    found_ = extract_entities(None, None, ["서울·부산시장 선거가 열린다."], gazetteer, language="ko")
    busan = next(e for e in found_ if e.name == "Busan")
    assert {"부산시", "부산"} <= set(busan.aliases)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # a one-word place opening a longer name is a venue or a club, not the place
        ("es", "El partido se jugó en Vista Alegre ayer.", set()),
        ("en", "It was not the battle of Stamford Bridge.", set()),
        ("en", "Fighting went on in Gaza City.", {("Gaza", "place")}),
        ("no", "Han viste til Iraks Saddam Hussein.", {("Iraq", "place"), ("Saddam Hussein", "person")}),
        # a hyphenated role is a role ("Major-Gen"), not part of the name
        ("en", "The unit is led by Major-Gen Gopaul Govender.", {("Gopaul Govender", "person")}),
    ],
)
def test_place_inside_a_longer_name_and_compound_roles(
    gazetteer, language: str, text: str, expected: set[tuple[str, str]]
) -> None:
    assert found(gazetteer, text, language) == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # a capitalised word opening the sentence is not part of the name after it
        ("es", "Ayer Pedro Sánchez dijo que no.", {("Pedro Sánchez", "person")}),
        ("pt", "Ontem Luiz Inácio Lula da Silva disse que não.", {("Luiz Inácio Lula da Silva", "person")}),
        ("it", "Ieri Giorgia Meloni ha detto di no.", {("Giorgia Meloni", "person")}),
        ("nl", "Gisteren zei Dick Schoof dat het kon.", {("Dick Schoof", "person")}),
        # role words and articles stay outside the name
        ("es", "El presidente del Gobierno, Pedro Sánchez, dijo.", {("Pedro Sánchez", "person")}),
        ("fr", "La ministre Rachida Dati a parlé à Paris.", {("Rachida Dati", "person"), ("Paris", "place")}),
        # a compound of two given names is a given name
        ("fr", "Selon Jean-Noël Barrot, non.", {("Jean-Noël Barrot", "person")}),
    ],
)
def test_people_in_romance_languages_and_dutch(
    gazetteer, language: str, text: str, expected: set[tuple[str, str]]
) -> None:
    assert found(gazetteer, text, language) == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # a capitalised stop word inside a sentence is part of the name; one opening the sentence is not
        (
            "en",
            "The UAE's General Civil Aviation Authority did not respond.",
            {("United Arab Emirates", "place"), ("General Civil Aviation Authority", "organisation")},
        ),
        (
            "es",
            "Desde la Asociación Vecinal Norte se propuso otra cosa.",
            {("Asociación Vecinal Norte", "organisation")},
        ),
        # a model designation after a company's name makes a product
        ("en", "The plane was an Airbus A350 bought last year.", set()),
        ("en", "Airbus said deliveries would rise.", {("Airbus", "organisation")}),
    ],
)
def test_organisation_name_edges(gazetteer, language: str, text: str, expected: set[tuple[str, str]]) -> None:
    assert found(gazetteer, text, language) == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # a word naming a kind of place announces one, directly or through "of"/"de"/"di"
        ("fr", "Les troupes sont dans la région russe de Koursk depuis août.", {("Koursk", "place")}),
        ("en", "It lies on the north coast of the main island of Luzon.", {("Luzon", "place")}),
        ("it", "Il sindaco della città di Fabriano ha parlato.", {("Fabriano", "place")}),
        ("de", "Die Stadt Gundelfingen liegt an der Donau.", {("Gundelfingen", "place"), ("Danube", "place")}),
        ("nl", "Ze woont in de gemeente Schoten.", {("Schoten", "place")}),
        # not a person named after the word
        ("en", "The city of Maria is small.", set()),
    ],
)
def test_places_announced_by_a_kind_of_place(
    gazetteer, language: str, text: str, expected: set[tuple[str, str]]
) -> None:
    assert found(gazetteer, text, language) == expected


def test_translated_organisation_with_its_original_acronym(gazetteer) -> None:
    found_ = extract_entities(
        None,
        None,
        [
            "Sono membri del Comando della Difesa Aerospaziale del Nord America (Norad), ma non solo.",
            "Aerei sono partiti dalla regione canadese di Norad verso il nord.",
        ],
        gazetteer,
        language="it",
    )
    assert [(e.name, e.kind, e.count) for e in found_] == [
        ("Comando della Difesa Aerospaziale del Nord America", "organisation", 2)
    ]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # a capitalised place word inside a name announces nothing outside German
        ("en", 'She said so on the radio show "Desert Island Discs" last week.', set()),
        # a listed non-entity is not split at its hyphen ("Euro-Atlantic" holds no Atlantic)
        ("en", "They discussed ties with Euro-Atlantic institutions.", set()),
        # a facility word is never part of a person's name
        ("en", "Flights left Taoyuan International Airport, said Wang Mei.", {("Wang Mei", "person")}),
        # in German "das" after an organisation word is an article, not "of"
        ("de", "Dann stoppte die Küstenwache das Schiff vor der Küste.", set()),
        # German capitalises every noun: a place before another noun keeps its place
        ("de", "Es geht um Kenias Einfluss in der Region.", {("Kenya", "place")}),
    ],
)
def test_cues_inside_names_and_facilities(gazetteer, language: str, text: str, expected: set[tuple[str, str]]) -> None:
    assert found(gazetteer, text, language) == expected
