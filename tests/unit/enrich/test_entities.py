"""Entity extraction: rules on small inputs, and the quality gate on the labelled pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.enrich.entities import extract_entities
from services.enrich.gazetteer import load_gazetteer
from services.enrich.scoring import load_labels, score_page, total
from services.enrich.tags import normalize_tags

LABELS = Path(__file__).parents[2] / "fixtures" / "entities"
# Pinned minimums (precision, recall) per kind over tests/fixtures/entities; they may only go up.
MINIMUMS = {"person": (0.95, 0.95), "place": (0.95, 0.95), "organisation": (0.9, 0.9), "all": (0.95, 0.95)}


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Russian Foreign Minister Sergey Lavrov met reporters.", {("Sergei Lavrov", "person")}),
        ("The plan was backed by deputy mayor Ingrid Solberg on Monday.", {("Ingrid Solberg", "person")}),
        ("Weather was fine, said Hanne Lykke, who runs the shop.", {("Hanne Lykke", "person")}),
        (
            "The Rail Workers Union called a strike in Berlin.",
            {("Rail Workers Union", "organisation"), ("Berlin", "place")},
        ),
        ("Anti-Kiev rebels fought near the U.S. embassy.", {("Kyiv", "place"), ("United States", "place")}),
        ("Both sides must implement the Minsk agreements.", set()),
        ("Officials met on Tuesday in March.", set()),
    ],
)
def test_rules(gazetteer, text: str, expected: set[tuple[str, str]]) -> None:
    found = extract_entities(None, None, [text], gazetteer)
    assert {(e.name, e.kind) for e in found} == expected


def test_surnames_resolve_to_the_person_and_are_counted(gazetteer) -> None:
    found = extract_entities(
        "Tillerson Meets Lavrov",
        "US Secretary of State Rex Tillerson met Sergey Lavrov.",
        ["Lavrov greeted Tillerson. Tillerson's staff left."],
        gazetteer,
    )
    counts = {e.name: e.count for e in found}
    assert counts == {"Rex Tillerson": 4, "Sergei Lavrov": 3, "United States": 1}
    lavrov = next(e for e in found if e.name == "Sergei Lavrov")
    assert "Sergey Lavrov" in lavrov.aliases and "Lavrov" in lavrov.aliases


def test_quality_gate_on_labelled_pages(gazetteer) -> None:
    pages = load_labels(LABELS)
    assert len(pages) >= 11 and any(p.name == "sputnik_2017_tillerson_lavrov" for p in pages)
    per_page = [
        score_page(
            [(e.kind, e.name, e.aliases) for e in extract_entities(p.title, p.lead, p.body_paragraphs, gazetteer)],
            p.entities,
        )
        for p in pages
    ]
    scores = total(per_page)
    for kind, (min_p, min_r) in MINIMUMS.items():
        assert scores[kind].precision >= min_p, (kind, scores[kind])
        assert scores[kind].recall >= min_r, (kind, scores[kind])


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "de",
            "Die Vereinigten Staaten und Russland: US-Präsident Donald Trump sagte, der Sender Fox News habe "
            "gelogen. Foto: Jan Doolan Copyright",
            {("United States", "place"), ("Russia", "place"), ("Donald Trump", "person"), ("Fox News", "organisation")},
        ),
        (
            "fr",
            "Les États-Unis et la Russie : le président Vladimir Poutine a rencontré Emmanuel Macron à Moscou.",
            {
                ("United States", "place"),
                ("Russia", "place"),
                ("Vladimir Poutine", "person"),
                ("Emmanuel Macron", "person"),
                ("Moscow", "place"),
            },
        ),
        (
            "es",
            "El presidente Pedro Sánchez dijo en Madrid que España y los Estados Unidos firmarán el acuerdo con el "
            "Banco Santander.",
            {
                ("Pedro Sánchez", "person"),
                ("Madrid", "place"),
                ("Spain", "place"),
                ("United States", "place"),
                ("Banco Santander", "organisation"),
            },
        ),
        (
            "it",
            "La premier Giorgia Meloni ha incontrato a Roma il presidente della Francia, mentre la Germania crescerà.",
            {("Giorgia Meloni", "person"), ("Rome", "place"), ("France", "place"), ("Germany", "place")},
        ),
        (
            "pt",
            "O presidente Luiz Inácio Lula da Silva disse em Brasília que o Brasil e os Estados Unidos vão negociar "
            "com o Banco do Brasil.",
            {
                ("Luiz Inácio Lula da Silva", "person"),
                ("Brasília", "place"),
                ("Brazil", "place"),
                ("United States", "place"),
                ("Banco do Brasil", "organisation"),
            },
        ),
        (
            "nl",
            "Premier Bart De Wever zei in Brussel dat België en Duitsland samenwerken met de Europese Commissie.",
            {
                ("Bart De Wever", "person"),
                ("Brussels", "place"),
                ("Belgium", "place"),
                ("Germany", "place"),
                ("European Commission", "organisation"),
            },
        ),
        (
            "sv",
            "Statsminister Ulf Kristersson sade i Stockholm att Sverige och Norge ska samarbeta.",
            {("Ulf Kristersson", "person"), ("Stockholm", "place"), ("Sweden", "place"), ("Norway", "place")},
        ),
        (
            "no",
            "Statsminister Jonas Gahr Støre sier i Oslo at Norge og Sverige skal samarbeide.",
            {("Jonas Gahr Støre", "person"), ("Oslo", "place"), ("Norway", "place"), ("Sweden", "place")},
        ),
        (
            "da",
            "Statsminister Mette Frederiksen siger i København, at Danmark og Tyskland vil samarbejde.",
            {("Mette Frederiksen", "person"), ("Copenhagen", "place"), ("Denmark", "place"), ("Germany", "place")},
        ),
        (
            "de",
            "EU-Kommissionspräsidentin Ursula von der Leyen mahnte, die Demokratien zu schützen.",
            {("EU", "organisation"), ("Ursula von der Leyen", "person")},
        ),
        (
            "zh",
            "美国总统特朗普在北京会见了中国领导人，双方讨论了俄罗斯和日本的问题。",
            {
                ("United States", "place"),
                ("Beijing", "place"),
                ("China", "place"),
                ("Russia", "place"),
                ("Japan", "place"),
            },
        ),
        (
            "ko",
            "윤석열 대통령은 서울에서 미국과 일본 정상을 만났다.",
            {("Seoul", "place"), ("United States", "place"), ("Japan", "place")},
        ),
        (
            "ja",
            "韓国の尹錫悦大統領はソウルで談話を出し、北朝鮮に従う勢力の清算を訴えた。",
            {("South Korea", "place"), ("Seoul", "place"), ("North Korea", "place")},
        ),
    ],
)
def test_entities_across_languages(gazetteer, language: str, text: str, expected: set[tuple[str, str]]) -> None:
    found = extract_entities(None, None, [text], gazetteer, language=language)
    assert {(e.name, e.kind) for e in found} == expected


def test_one_country_under_its_names_in_many_languages(gazetteer) -> None:
    tags = normalize_tags(
        ["Vereinigte Staaten", "États-Unis", "United States", "USA", "アメリカ合衆国"], gazetteer.aliases
    )
    assert [(t.key, t.name, t.kind) for t in tags] == [("united states", "United States", "place")]
