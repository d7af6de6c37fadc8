"""Comments JSON endpoints: each fixture document in tests/fixtures/comments/ mapped through its
profile's field map equals the expected records beside it; and the endpoint the parser names."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from services.parse.article import parse_article
from services.parse.comment_json import find_comment_sources, read_comment_json, read_comment_pages
from services.parse.profiles import SiteProfile, find_profile, load_profile
from services.parse.tree import parse_text
from shared.errors import ParseError
from shared.jsonpath import read_items, read_path
from shared.records import ArticleRecord, CommentSource, _jsonable

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "comments"
DOCUMENTS = sorted(p for p in FIXTURES.glob("*.json") if not p.name.endswith(".expected.json"))
SEED_PAGE = Path(__file__).resolve().parents[3] / "services/demosite/pages/sputnik_2017_tillerson_lavrov.html"


def profile_named(name: str) -> SiteProfile:
    """A shipped profile, or a test-only one from the fixtures' profiles/ folder."""
    return find_profile(name) or load_profile(FIXTURES / "profiles" / f"{name}.toml")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.stem)
def test_document_maps_to_expected_comments(document: Path) -> None:
    expected = json.loads(document.with_suffix(".expected.json").read_text(encoding="utf-8"))
    profile = profile_named(expected["profile"])
    assert profile.comments_api is not None
    if "error" in expected:
        with pytest.raises(ParseError) as raised:
            read_comment_json(document.read_bytes(), profile.comments_api, profile.comments_tzinfo)
        assert raised.value.reason == expected["error"]
        return
    got = read_comment_json(document.read_bytes(), profile.comments_api, profile.comments_tzinfo)
    assert [_jsonable(asdict(c)) for c in got] == expected["comments"]


def test_pages_merge_in_order_and_name_parents_across_pages() -> None:
    profile = profile_named("sputnik")
    assert profile.comments_api is not None
    first = json.dumps({"comments": [{"id": 1, "user": {"name": "Ann"}, "text": "one"}]})
    second = json.dumps(
        {
            "comments": [
                {"id": 1, "user": {"name": "Ann"}, "text": "one, shifted to page two"},
                {"id": 2, "parent_id": 1, "user": {"name": "Ben"}, "text": "two"},
            ]
        }
    )
    got = read_comment_pages([first.encode(), second.encode(), b'{"comments": []}'], profile.comments_api, None)
    assert [(c.id, c.text, c.reply_to_author) for c in got] == [("1", "one", None), ("2", "two", "Ann")]


@pytest.mark.parametrize(
    ("path", "expected"),
    [("", {"a": [{"b": 1}]}), ("a.0.b", 1), ("a.-1.b", 1), ("a.1.b", None), ("a.x", None), ("c", None)],
)
def test_read_path(path: str, expected: object) -> None:
    assert read_path({"a": [{"b": 1}]}, path) == expected


def test_read_items_is_empty_without_a_list() -> None:
    assert read_items({"a": {"b": 1}}, "a") == [] and read_items([1, 2], "") == [1, 2]


def test_parser_names_the_sputnik_endpoint_with_the_article_id() -> None:
    record = parse_article(SEED_PAGE.read_bytes(), "http://127.0.0.1:8765/politics/201702161050766466-x/")
    assert record.comment_sources == (
        CommentSource(
            url="http://127.0.0.1:8765/services/comments/list/?article_id=1050766466&page={page}",
            provider="site_json",
            format="json",
            profile="sputnik",
            items_path="comments",
            first_page=1,
            max_pages=20,
        ),
    )
    assert ArticleRecord.from_dict(record.to_dict()).comment_sources == record.comment_sources


def test_no_endpoint_without_its_variables_on_the_page() -> None:
    profile = profile_named("plain_api")
    root = parse_text("<html><body><article><p>No thread id here.</p></article></body></html>")
    assert find_comment_sources(root, profile, "https://plain.example/a") == []
    root = parse_text('<html><body><article data-thread="t/7 x"><p>Text.</p></article></body></html>')
    (source,) = find_comment_sources(root, profile, "https://plain.example/a")
    assert source.url == "https://api.plain.example/threads/t%2F7%20x/comments?cursor={page}"
    assert source.page_urls() == [source.url.replace("{page}", str(n)) for n in (0, 1, 2)]


def test_an_endpoint_without_pages_is_fetched_once() -> None:
    assert CommentSource(url="https://x.example/c.json", max_pages=5).page_urls() == ["https://x.example/c.json"]


def test_profile_field_map_is_checked_at_load(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[comments_api]\nurl = "/c"\n[comments_api.fields]\ntext = "t"\nlikes = "l"\n')
    with pytest.raises(ValueError, match="likes"):
        load_profile(bad)
