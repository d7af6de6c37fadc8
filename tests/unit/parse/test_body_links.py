"""In-body links: the `<a href>`s inside the extracted lead and paragraphs, nothing from the page furniture.

The corpus pages that pin `body_links` have none in their body text (their links sit in navigation,
bylines, share bars, related blocks and comments), so the positive cases are small pages below.
"""

from __future__ import annotations

import pytest

from services.parse.article import parse_article
from tests.unit.parse.conftest import PAGES, FixturePage, corpus

PAGES_WITH_BODY_LINKS = [page for page in corpus() if "body_links" in page.expected]
URL = "https://news.example.com/world/2024/05/flood-defences"
FILLER = "The council said the work would take two years and cost more than was first budgeted for it."
ARTICLE = f"""<!doctype html><html><head><title>Flood defences approved</title>
<link rel="canonical" href="https://news.example.com/world/2024/05/flood-defences?ref=canonical"></head><body>
<nav><a href="/">Home</a> <a href="/world/">World</a></nav>
<article><h1>Flood defences approved</h1>
<p class="standfirst">The river wall <a href="/topics/river-wall">first proposed in 2019</a> will be built.</p>
<div class="share"><a href="https://facebook.com/sharer/sharer.php?u=x">Share on Facebook</a></div>
<p>The plan follows <a href="https://agency.example/report.pdf">a <b>report</b>  by the
  environment agency</a>, which warned of <a href="/2023/12/storm-damage#costs">storm damage</a>.</p>
<p>Residents <a href="#comments">commented</a>, wrote <a href="mailto:desk@news.example.com">to us</a>,
clicked <a href="javascript:void(0)">here</a> and reread <a href="{URL}#top">this story</a>
and <a href="?ref=canonical">its canonical copy</a>. {FILLER}</p>
<ul><li>The earlier <a href="https://agency.example/report.pdf">report</a> and the
<a href="https://twitter.com/intent/tweet?text=flood">tweet this</a> links both sit in a list item.</li></ul>
<p>{FILLER} {FILLER}</p>
<p>Read more: <a href="/2024/04/river-levels">River levels reach a ten-year high</a></p>
<p>{FILLER}</p>
</article>
<div class="related-stories"><h3>Related</h3><a href="/2024/01/barrier">Barrier plan goes to council</a></div>
<div id="comments"><div class="comment"><p>See <a href="https://spam.example/">my site</a></p></div></div>
<footer><a href="/about/">About us</a></footer></body></html>"""


@pytest.mark.parametrize("page", PAGES_WITH_BODY_LINKS, ids=lambda p: p.name)
def test_corpus_body_links(page: FixturePage) -> None:
    record = parse_article(page.html, page.url, content_type=page.content_type).to_dict()
    assert record["body_links"] == page.expected["body_links"]


def test_corpus_pins_body_links() -> None:
    assert {"sputnik_2017_tillerson_lavrov", "sputnik_2017_tillerson_lavrov.later"} <= {
        p.name for p in PAGES_WITH_BODY_LINKS
    }


@pytest.mark.parametrize(
    ("html", "url", "expected"),
    [
        pytest.param(
            ARTICLE,
            URL,
            [
                ("https://news.example.com/topics/river-wall", "first proposed in 2019"),
                ("https://agency.example/report.pdf", "a report by the environment agency"),
                ("https://news.example.com/2023/12/storm-damage", "storm damage"),
            ],
            id="lead-paragraphs-and-list-without-furniture",
        ),
        pytest.param(
            f"""<html><head><base href="https://cdn.example.org/mirror/"><title>Mirror</title></head><body>
            <article><h1>Mirrored story</h1><p>{FILLER} See <a href="notes/1">the notes</a>.</p>
            <p>{FILLER}</p><p>{FILLER} {FILLER}</p></article></body></html>""",
            "https://news.example.com/mirror/story",
            [("https://cdn.example.org/mirror/notes/1", "the notes")],
            id="resolved-against-base-href",
        ),
        pytest.param(
            f"""<html><head><title>No links</title></head><body><nav><a href="/x">Section</a></nav>
            <article><h1>No links</h1><p>{FILLER}</p><p>{FILLER} {FILLER}</p></article>
            <aside class="sidebar"><p><a href="/popular">{FILLER}</a></p></aside></body></html>""",
            "https://news.example.com/no-links",
            [],
            id="none-in-the-body",
        ),
    ],
)
def test_body_links(html: str, url: str, expected: list[tuple[str, str]]) -> None:
    record = parse_article(html, url)
    assert [(link.url, link.title) for link in record.body_links] == expected


def test_profile_body_links() -> None:
    """A site profile selects the paragraphs; links inside them are found the same way."""
    html = (PAGES / "sputnik_2017_tillerson_lavrov.html").read_text(encoding="utf-8")
    linked = html.replace(
        "Tillerson met with&nbsp;his Russian counterpart Sergey Lavrov.",
        'Tillerson met with&nbsp;his Russian counterpart <a href="/russia/lavrov/">Sergey\n Lavrov</a>.',
        1,
    )
    assert linked != html
    url = "https://sputniknews.com/politics/201702161050766466-tillerson-lavrov-meeting-awkward-moment/"
    record = parse_article(linked.encode(), url)
    assert [(link.url, link.title) for link in record.body_links] == [
        ("https://sputniknews.com/russia/lavrov/", "Sergey Lavrov")
    ]
    assert record.body_paragraphs == parse_article(html.encode(), url).body_paragraphs
