"""Patterns seen on real publisher pages, each on a minimal page: titles, authors, credits, body furniture."""

from __future__ import annotations

import json

import pytest

from services.parse.article import parse_article
from services.parse.captions import clean_credit, split_credit

BODY = "".join(
    f"<p>Paragraph {i} of the report, long enough to be read as article text by anyone.</p>" for i in range(8)
)


def parse(head: str, body: str = "", url: str = "https://news.example/2024/05/story") -> dict:
    page = f"<html><head>{head}</head><body><article>{body}{BODY}</article></body></html>"
    return parse_article(page.encode(), url).to_dict()


def ld(data: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **data})}</script>'


@pytest.mark.parametrize(
    ("head", "body", "title"),
    [
        # A kicker glued to the headline in JSON-LD and <h1>; og:title has the headline alone.
        (
            '<meta property="og:title" content="Judy Lybke, ganz und gar nicht eigenartig">'
            + ld({"headline": "Neue Leipziger Schule: Judy Lybke, ganz und gar nicht eigenartig"}),
            "<h1>Neue Leipziger Schule: Judy Lybke, ganz und gar nicht eigenartig</h1>",
            "Judy Lybke, ganz und gar nicht eigenartig",
        ),
        # Site, section and date pieces after the headline.
        (
            '<meta property="og:title" content="Ukrainische Gegenoffensive: Ziele, Chancen, Risiken | DW | 28.04.2023">'
            '<meta property="og:site_name" content="DW">',
            "",
            "Ukrainische Gegenoffensive: Ziele, Chancen, Risiken",
        ),
        # HTML entities left in JSON-LD; a compound word is not a site suffix.
        (
            ld({"headline": "Raab neue Chefin von Migrations-Thinktank &amp; Beirat"}),
            "",
            "Raab neue Chefin von Migrations-Thinktank & Beirat",
        ),
        # A headline cut with an ellipsis is completed from a longer declaration.
        (
            '<meta property="og:title" content="Trump plant einen neuen Helikopterlandeplatz…">'
            + ld({"headline": "Trump plant einen neuen Helikopterlandeplatz beim Weissen Haus"}),
            "",
            "Trump plant einen neuen Helikopterlandeplatz beim Weissen Haus",
        ),
        # A section glued on with a bare hyphen goes when another title is the headline without it ...
        (
            '<meta property="og:title" content="민주당 선호투표제 도입 또다시 불발-정치ㅣ한국일보">'
            + ld({"headline": "민주당 선호투표제 도입 또다시 불발"}),
            "",
            "민주당 선호투표제 도입 또다시 불발",
        ),
        # og:title copies the <title> (the search headline): the JSON-LD headline, written apart, wins ...
        (
            "<title>Annalena Baerbock: Jetzt Top-Job in New York | Abendblatt</title>"
            '<meta property="og:title" content="Annalena Baerbock: Jetzt Top-Job in New York">'
            '<meta property="og:site_name" content="Abendblatt">'
            + ld({"headline": "Baerbock zur UN: Nur eine Etappe zum nächsten Karriereschritt?"}),
            "",
            "Baerbock zur UN: Nur eine Etappe zum nächsten Karriereschritt?",
        ),
        # ... while an og:title written apart from the <title> stays first.
        (
            "<title>Baerbock zur UN: Nur eine Etappe | Abendblatt</title>"
            '<meta property="og:title" content="Annalena Baerbock: Jetzt Top-Job in New York">'
            '<meta property="og:site_name" content="Abendblatt">'
            + ld({"headline": "Baerbock zur UN: Nur eine Etappe"}),
            "",
            "Annalena Baerbock: Jetzt Top-Job in New York",
        ),
        # ... and stays part of the headline when none is.
        (
            '<meta property="og:title" content="Kämpfe um Donezk-Region">',
            "",
            "Kämpfe um Donezk-Region",
        ),
    ],
)
def test_titles(head: str, body: str, title: str) -> None:
    assert parse(head, body)["title"] == title


@pytest.mark.parametrize(
    ("head", "body", "authors"),
    [
        (
            ld({"author": [{"@type": "Person", "givenName": "Anna Giulia", "familyName": "Fink"}]}),
            "",
            ["Anna Giulia Fink"],
        ),
        (
            ld({"author": [{"@type": "Person", "name": "Paula Steiger"}, {"@type": "Organization", "name": "SDA"}]}),
            "",
            ["Paula Steiger", "SDA"],
        ),
        # The site's own name as author gives way to the person the byline names.
        (
            ld({"author": {"@type": "Organization", "name": "STERN.de"}})
            + '<meta property="og:site_name" content="STERN.de">',
            '<div class="authors"><span>capital</span><ul><li>von</li><li>Jemima Kelly</li></ul></div>',
            ["Jemima Kelly"],
        ),
        ('<meta name="dc.creator" content="Brazil, Rachel">', "", ["Rachel Brazil"]),
        ('<meta name="articleAuthor" content="Anadolu Ajansı">', "", ["Anadolu Ajansı"]),
        (
            '<meta name="author" content="Mark Sigetty"><meta name="author" content="(Image: Getty Images)">',
            "",
            ["Mark Sigetty"],
        ),
        (ld({"author": {"@type": "Person", "name": "신현주 기자"}}), "", ["신현주"]),
        # Co-authors in a bold paragraph after the standfirst, where the site names only itself.
        (
            ld({"author": {"@type": "Organization", "name": "Lesotho Times"}})
            + '<meta property="og:site_name" content="Lesotho Times">',
            "<p><em>as communities cry foul</em></p><p><strong>Mathatisi Sebusi/Mohalenyane Phakela</strong></p>",
            ["Mathatisi Sebusi", "Mohalenyane Phakela"],
        ),
    ],
)
def test_authors(head: str, body: str, authors: list[str]) -> None:
    assert parse(head, body)["authors"] == authors


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        (
            "Ein Meteorit liegt in Elmshorn © NDR Foto: Phillip Eggers",
            ("Ein Meteorit liegt in Elmshorn", "NDR Foto: Phillip Eggers"),
        ),
        (
            "More than 3,000 court documents have been released. (AP)",
            ("More than 3,000 court documents have been released.", "AP"),
        ),
        (
            "Fahmi Fadzil speaking in Shah Alam. — Picture by Yusof Mat Isa",
            ("Fahmi Fadzil speaking in Shah Alam.", "Yusof Mat Isa"),
        ),
        ("국회에서 인사하고 있다. 뉴시스", ("국회에서 인사하고 있다.", "뉴시스")),
        ("Rejoice Ndlovu. Isithombe: Sithunyelwe", ("Rejoice Ndlovu.", "Sithunyelwe")),
        (
            "US-Seemann beobachtet die Marinera. (Archivbild)",
            ("US-Seemann beobachtet die Marinera. (Archivbild)", None),
        ),
    ],
)
def test_split_credit(caption: str, expected: tuple) -> None:
    assert split_credit(caption) == expected


@pytest.mark.parametrize(
    ("raw", "credit"),
    [
        ("© DPA Images | Christoph Soeder", "DPA Images; Christoph Soeder"),
        ("Foto: Urs Flueeler (Keystone)", "Urs Flueeler (Keystone)"),
        ("(Image: Getty Images/Cultura RF)", "Getty Images/Cultura RF"),
        ("Copyright", None),
    ],
)
def test_clean_credit(raw: str, credit: str | None) -> None:
    assert clean_credit(raw) == credit


def test_teasers_and_captions_are_not_body_text() -> None:
    body = (
        '<figure><img src="/a.jpg" width="800"><figcaption>Feuerwehrleute am Brandort.</figcaption></figure>'
        '<p>Read more: <a href="/other">Another story about the fire brigade and its budget</a></p>'
        '<p>US-Politik: <a href="/blog">Alle Entwicklungen im Newsblog</a></p>'
    )
    record = parse("", body)
    assert record["body_paragraphs"] == [
        f"Paragraph {i} of the report, long enough to be read as article text by anyone." for i in range(8)
    ]


def test_a_template_class_on_body_does_not_make_the_page_furniture() -> None:
    page = (
        '<html><head></head><body class="stackednavigation-site-navigation header-with-link-banner">'
        '<nav><img src="/logo.svg" alt="Site"></nav><main><h1>Sleeping bags tested</h1>'
        '<figure><img src="https://cdn.example/bag.jpg" width="800" height="500">'
        '<figcaption>Bishop Pass 15<span class="caption__credit">Photograph: Scott Gilbertson</span></figcaption>'
        f"</figure>{BODY}</main></body></html>"
    )
    images = parse_article(page.encode(), "https://news.example/story/bags").to_dict()["images"]
    assert [(i["src"], i["caption"], i["credit"]) for i in images] == [
        ("https://cdn.example/bag.jpg", "Bishop Pass 15 Photograph: Scott Gilbertson", "Scott Gilbertson")
    ]


def test_caption_after_a_picture_whose_source_tags_are_unclosed() -> None:
    # libxml2 nests each unclosed <source> in the one before, so the <img> sits six levels down.
    page = (
        "<html><head></head><body><article><h1>Schubert</h1><div><picture>"
        + "".join(f"<source media='(min-width: {w}px)' srcset='https://cdn.example/{w}.jpg'>" for w in (1024, 800, 640))
        + "".join(f"<source media='(max-width: {w}px)' srcset='https://cdn.example/{w}.webp'>" for w in (639, 480))
        + "<img data-src='https://cdn.example/small.jpg' alt='Uwe Schubert' class='lazyload'></picture>"
        "<p>Uwe Schubert möchte noch Punkte sammeln. <span>IMAGO/Nico Herbertz</span></p></div>"
        f"{BODY}</article></body></html>"
    )
    images = parse_article(page.encode(), "https://news.example/schubert").to_dict()["images"]
    assert [(i["src"], i["caption"], i["credit"]) for i in images] == [
        (
            "https://cdn.example/small.jpg",
            "Uwe Schubert möchte noch Punkte sammeln. IMAGO/Nico Herbertz",
            "IMAGO/Nico Herbertz",
        )
    ]


def test_a_credit_at_the_end_of_the_alt_text_when_the_caption_names_none() -> None:
    page = (
        "<html><head></head><body><article><h1>Permits</h1><figure>"
        "<img src='https://cdn.example/market.jpg' alt='Xolelwa Ndobe at Noord Street Market."
        " (Photo: Gallo Images / Sharon Seretlo)'><figcaption>Informal traders in the inner city</figcaption>"
        f"</figure>{BODY}</article></body></html>"
    )
    images = parse_article(page.encode(), "https://news.example/permits").to_dict()["images"]
    assert [(i["caption"], i["credit"]) for i in images] == [
        ("Informal traders in the inner city", "Gallo Images / Sharon Seretlo")
    ]
