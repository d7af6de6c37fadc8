"""parse_article on the fixture corpus: exact equality on every key of each expected record."""

from __future__ import annotations

import json

import pytest

from services.parse.article import parse_article
from tests.unit.parse.conftest import PAGES, FixturePage, corpus, project

PAGES_WITH_EXPECTED = corpus()
# (page, field) pairs the parser does not get exactly right yet. strict: a fix must delete the entry.
KNOWN_GAPS: dict[tuple[str, str], str] = {}
SPUTNIK_ORIGIN = "https://sputniknews.com"
LOCAL_ORIGIN = "http://127.0.0.1:8765"


@pytest.mark.parametrize("page", PAGES_WITH_EXPECTED, ids=lambda p: p.name)
@pytest.mark.parametrize(
    "key", ["url", "canonical_url", "title", "published_at", "authors", "lead", "body_paragraphs", "images",
            "tags", "related_links", "comments", "comment_count"]
)  # fmt: skip
def test_field_matches_expected(page: FixturePage, key: str) -> None:
    if key not in page.expected:
        pytest.skip(f"{page.name} does not pin {key}")
    if (page.name, key) in KNOWN_GAPS:
        pytest.xfail(KNOWN_GAPS[(page.name, key)])
    record = parse_article(page.html, page.url, content_type=page.content_type).to_dict()
    assert project(record[key], page.expected[key]) == page.expected[key]


@pytest.mark.parametrize("page", PAGES_WITH_EXPECTED, ids=lambda p: p.name)
def test_every_expected_key(page: FixturePage) -> None:
    if any(name == page.name for name, _ in KNOWN_GAPS):
        pytest.xfail("known field gap, see KNOWN_GAPS")
    record = parse_article(page.html, page.url, content_type=page.content_type).to_dict()
    assert project(record, page.expected) == page.expected


@pytest.mark.parametrize("name", ["sputnik_2017_tillerson_lavrov", "sputnik_2017_tillerson_lavrov.later"])
def test_sputnik_on_another_origin(name: str) -> None:
    """The fixture site serves the page with its origin rewritten; the record must follow the origin."""
    html = _rehost((PAGES / f"{name}.html").read_text(encoding="utf-8"))
    expected = json.loads(_rehost((PAGES / f"{name}.expected.json").read_text(encoding="utf-8")))
    record = parse_article(html.encode(), expected["url"]).to_dict()
    assert project(record, expected) == expected


def _rehost(text: str) -> str:
    """Rewrite absolute and protocol-relative links to the local origin, as the fixture site does."""
    local_host = LOCAL_ORIGIN.split("//", 1)[1]
    return text.replace(SPUTNIK_ORIGIN, LOCAL_ORIGIN).replace("//sputniknews.com", f"//{local_host}")


def test_sputnik_extras() -> None:
    html = (PAGES / "sputnik_2017_tillerson_lavrov.later.html").read_bytes()
    url = "https://sputniknews.com/politics/201702161050766466-tillerson-lavrov-meeting-awkward-moment/"
    record = parse_article(html, url)
    assert record.updated_at is not None and record.updated_at.isoformat() == "2017-02-16T19:32:00+03:00"
    assert (record.section, record.language, record.site_name) == ("Politics", "en", "Sputnik")
    assert [(w.provider, w.thread_id) for w in record.comment_widgets] == [("facebook", url)]
    assert record.date_sources == {"published_at": "profile", "updated_at": "profile"}
    assert record.images[0].src == "https://cdn2.img.sputniknews.com/images/105076/63/1050766312.jpg"
    edited = {c.id: c.edited_at for c in record.comments}
    assert edited["1050774166"] is not None and edited["1050774166"].isoformat() == "2017-03-30T03:58:00+03:00"


@pytest.mark.parametrize(
    "page", [p for p in PAGES_WITH_EXPECTED if (PAGES / f"{p.name}.meta.json").exists()], ids=lambda p: p.name
)
def test_comment_widgets(page: FixturePage) -> None:
    meta = json.loads((PAGES / f"{page.name}.meta.json").read_text(encoding="utf-8"))
    record = parse_article(page.html, page.url, content_type=page.content_type)
    found = [[w.provider, w.thread_id] for w in record.comment_widgets]
    assert found == meta.get("comment_widgets", [])
