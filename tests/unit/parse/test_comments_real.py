"""Comments on real layouts: each page in tests/fixtures/comments_real copies the shape of a real
theme's or comment system's markup (its source is noted at the top of the page and in the
expected file); the parser must find exactly the expected reader comments and, apart from them,
the pingbacks and trackbacks. The comment form, login prompts and "Leave a Reply" are never comments.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.parse.article import parse_article

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "comments_real"
PAGES = sorted(path.name.removesuffix(".expected.json") for path in FIXTURES.glob("*.expected.json"))


def _case(name: str) -> tuple[dict, dict]:
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    record = parse_article((FIXTURES / f"{name}.html").read_bytes(), expected["url"]).to_dict()
    return record, expected


def test_every_page_has_its_expected_file() -> None:
    pages = sorted(path.stem for path in FIXTURES.glob("*.html"))
    assert pages == PAGES
    assert len(PAGES) >= 10


@pytest.mark.parametrize("name", PAGES)
def test_reader_comments(name: str) -> None:
    record, expected = _case(name)
    assert record["comments"] == expected["comments"]
    assert record["comment_count"] == expected["comment_count"]


@pytest.mark.parametrize("name", PAGES)
def test_pingbacks_apart(name: str) -> None:
    record, expected = _case(name)
    assert record["pingbacks"] == expected["pingbacks"]


@pytest.mark.parametrize("name", PAGES)
def test_source_noted(name: str) -> None:
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    _, expected = _case(name)
    assert "Source of the markup:" in html[:400]
    assert expected["source"]
