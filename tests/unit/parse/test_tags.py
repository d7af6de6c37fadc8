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
