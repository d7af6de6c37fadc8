"""Tags: the page's topic list as shown or declared, cleaned of what CMSs put beside the topics."""

from __future__ import annotations

import pytest
from lxml import html

from services.parse.structured import read_structured
from services.parse.tags import clean_tags, generic_tags
from services.parse.tree import class_id_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Category: Economy", "NLP Category: Business", "NLP Entity Tokens: Canada"], ["Economy"]),
        (
            ["98be933f-38cf-4fba-b6c6-ad438e82010a", "100312362", "financialpost.com", "Bank of Montreal"],
            ["Bank of Montreal"],
        ),
        (["_commerce", "splitscreenimageleftinset", "paywall exclude", "comments-enabled", "travel"], ["travel"]),
        (["(1) 無料記事", "Brexit (12)", "# IGI School"], ["無料記事", "Brexit", "IGI School"]),
        (["sections/sverige", "topic/misshandel & överfall"], ["sverige", "misshandel & överfall"]),
        (["Themen", "Schlagwörter:", "Politik", "politik"], ["Politik"]),
    ],
)
def test_clean_tags(raw: list[str], expected: list[str]) -> None:
    assert clean_tags(raw) == expected


def page(body: str, head: str = "") -> tuple:
    root = html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")
    return root, read_structured(root), class_id_text(root)


def test_visible_list_with_count_badges() -> None:
    root, structured, marks = page(
        '<article><p>Text</p><ul class="article-tags"><li><a href="/t/brexit">Brexit<span>12</span></a></li>'
        '<li><a href="/t/eu">EU<span>3</span></a></li></ul></article>'
    )
    assert generic_tags(root, structured, marks) == ["Brexit", "EU"]


def test_a_declared_list_that_holds_the_shown_one_wins() -> None:
    root, structured, marks = page(
        '<article><p>Text</p><div class="tags"><a href="/t/kunst">Kunst</a></div></article>',
        '<meta name="keywords" content="Leben, Kunst, Berlin">',
    )
    assert generic_tags(root, structured, marks) == ["Leben", "Kunst", "Berlin"]


def test_routing_words_are_not_topics() -> None:
    root, structured, marks = page(
        "<article><p>Text</p></article>",
        '<meta property="article:tag" content="dollar bill worth THOUSANDS check">'
        '<meta name="keywords" content="dailymail,yourmoney,Florida,Federal Reserve">',
    )
    url = "https://www.dailymail.co.uk/yourmoney/article-1/dollar-bill-worth-THOUSANDS-check.html"
    assert generic_tags(root, structured, marks, url) == ["yourmoney", "Florida", "Federal Reserve"]


def test_labelled_topic_list_beside_the_article() -> None:
    root, structured, marks = page(
        "<main><article><p>Text</p></article><section><div><h4>Mehr lesen über</h4></div>"
        '<ul><li><a href="/politik/gaza/">Gazastreifen</a></li><li><a href="/politik/hamas/">Hamas</a></li></ul>'
        "</section></main>"
    )
    scope = root.find(".//article")
    assert generic_tags(scope, structured, marks) == ["Gazastreifen", "Hamas"]


def test_keywords_seeded_from_the_slug_lose_the_slug_pieces() -> None:
    root, structured, marks = page(
        "<article><p>Text</p></article>",
        '<meta name="keywords" content="zweite,drogenrazzia,in,palma,innerhalb 48 stunden,Polizei,Son Gotleu">',
    )
    url = "https://news.example/aktuelles/2025/03/12/zweite-drogenrazzia-in-palma-innerhalb-48-stunden-115221903.html"
    assert generic_tags(root, structured, marks, url) == ["Polizei", "Son Gotleu"]


def test_keywords_that_only_share_a_word_with_the_slug_stay() -> None:
    root, structured, marks = page(
        "<article><p>Text</p></article>", '<meta name="keywords" content="sars,budget,r4bn,tax dodgers">'
    )
    url = "https://news.example/business/2025-05-21-budget-sars-gets-r4bn-to-hire-debt-collectors/"
    assert generic_tags(root, structured, marks, url) == ["sars", "budget", "r4bn", "tax dodgers"]


def test_controls_among_the_tag_links_are_not_tags() -> None:
    root, structured, marks = page(
        '<article><p>Text</p><div class="topics"><a href="/t/meloni">Giorgia Meloni</a>'
        '<a href="/profil/themen/">Themen bearbeiten</a><a href="/t">Show all topics</a><a href="#">+ 3 more</a>'
        "</div></article>"
    )
    assert generic_tags(root, structured, marks) == ["Giorgia Meloni"]


def test_a_category_link_marked_as_tag_is_not_a_tag() -> None:
    root, structured, marks = page(
        '<article><p>Text</p><footer class="entry-meta"><a href="https://blog.example/category/kultur/" rel="tag">'
        'Kultur</a></footer><div class="entry-tags"><a href="https://blog.example/tag/tradwives/" rel="tag">'
        "Tradwives</a></div></article>"
    )
    assert generic_tags(root, structured, marks) == ["Tradwives"]


def test_a_keyword_list_no_link_names_gives_way_to_the_linked_one() -> None:
    body = (
        '<article><p>Text</p><ul class="flex"><li><a href="/haberleri/tefecilik">Tefecilik</a></li>'
        '<li><a href="/haberleri/sorusturma">Soruşturma</a></li></ul></article>'
    )
    head = (
        '<meta name="keywords" content="Pos tefeciliği soruşturması,MASAK">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H",'
        ' "keywords": "Tefecilik,Soruşturma"}</script>'
    )
    root, structured, marks = page(body, head)
    assert generic_tags(root, structured, marks) == ["Tefecilik", "Soruşturma"]
    # The first declared list stays when a link names one of its tags.
    root, structured, marks = page(body.replace("Soruşturma</a>", "MASAK</a>"), head)
    assert generic_tags(root, structured, marks) == ["Pos tefeciliği soruşturması", "MASAK"]


def test_category_names_leave_a_keyword_list() -> None:
    root, structured, marks = page(
        '<nav><a href="https://news.example/category/local-news/">Local News</a>'
        '<a href="https://news.example/category/msunduzi/">Msunduzi</a></nav><article><p>Text</p></article>',
        '<meta name="keywords" content="Local News, Msunduzi, eMbali, umzukulu">',
    )
    assert generic_tags(root, structured, marks) == ["eMbali", "umzukulu"]
    # A list of nothing but category names stays as it is.
    root, structured, marks = page(
        '<nav><a href="/category/local-news/">Local News</a></nav><article><p>Text</p></article>',
        '<meta name="keywords" content="Local News">',
    )
    assert generic_tags(root, structured, marks) == ["Local News"]
