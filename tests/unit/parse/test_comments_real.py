"""Comments on real layouts: each page in tests/fixtures/comments_real copies the shape of a real
theme's or comment system's markup (its source is noted at the top of the page and in the
expected file); the parser must find exactly the expected reader comments and, apart from them,
the pingbacks and trackbacks. The comment form, login prompts and "Leave a Reply" are never comments.
"""

from __future__ import annotations

import gzip
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


# Real pages of the development set (tests/fixtures/realpages) whose only comment-like markup is
# not a comment: error and report dialogs (`div.modal-content.comment`), a "click to show the
# comments" box, a delete-confirmation popup, a modal comment form.
REALPAGES = Path(__file__).resolve().parents[2] / "fixtures" / "realpages"
NOT_COMMENTS = (
    "de__Gamestar_2024_04_28",
    "it__Tageszeitung_2025_04_16",
    "kr__HankookIlbo_2025_05_15",
    "pt__ThePortugalNews_2025_02_03",
)


def _real_page(case_id: str) -> dict:
    case = next(c for c in map(json.loads, (REALPAGES / "cases.jsonl").open(encoding="utf-8")) if c["id"] == case_id)
    html = gzip.decompress((REALPAGES / "pages" / f"{case_id}.html.gz").read_bytes())
    return parse_article(html, case["url"]).to_dict()


@pytest.mark.parametrize("case_id", NOT_COMMENTS)
def test_dialogs_and_prompts_on_real_pages_are_not_comments(case_id: str) -> None:
    record = _real_page(case_id)
    assert (record["comments"], record["pingbacks"], record["comment_count"]) == ([], [], 0)


def test_real_wordpress_thread_kept() -> None:
    record = _real_page("za__DailyMaverick_2025_05_22")
    assert [(c["id"], c["author"], c["parent_id"], c["posted_at"]) for c in record["comments"]] == [
        ("14582332", "kanu sukha", None, "2025-05-05T00:46:00+00:00"),
        ("14592154", "Richard Bryant", None, "2025-05-06T08:16:00+00:00"),
        ("14594591", "Ed Rybicki", "14592154", "2025-05-06T11:17:00+00:00"),
        ("14594592", "Ed Rybicki", "14592154", "2025-05-06T11:17:00+00:00"),
    ]


def test_real_line_breaks_stay_single() -> None:
    """WordPress writes `<br>` plus a newline for a line break: one line break, not a blank line."""
    (comment,) = _real_page("ca__GlobalNews_2026_05_24")["comments"]
    assert comment["text"] == (
        "I think wars should be settled in the UFC octagon by the leaders.\n"
        "They could have a PPV with Putin vs Zelenskyy as the main event and Trump vs the gay Ayatollah with one"
        " leg as an undercard.\nPeople would elect strong leaders, not a little runt like Carney."
    )
