"""The comment diff scoped per source: one source's poll never deletes what another still shows."""

from __future__ import annotations

import pytest

from shared.changes import StoredComment, comment_hash, diff_comments
from shared.records import Comment


def c(key: str, text: str = "text", deleted: bool = False) -> Comment:
    return Comment(id=key, author="a", text=text, deleted=deleted)


def stored(sources: dict[str, tuple[str, ...]], deleted: frozenset[str] = frozenset()) -> dict[str, StoredComment]:
    return {k: StoredComment(k, comment_hash(c(k)), k in deleted, s) for k, s in sources.items()}


@pytest.mark.parametrize(
    ("source", "shown", "gone", "left"),
    [
        # The page no longer shows "both" and "html": "both" is still in the JSON, "html" is gone.
        ("html", ["other"], ("html",), ("both",)),
        # The JSON endpoint no longer lists "both" or "json": only "json" is gone; "html" is not its own.
        ("site_json", ["other"], ("json",), ("both",)),
        # An empty source marks nothing (a failed block, a changed layout).
        ("site_json", [], (), ()),
    ],
)
def test_gone_is_scoped_per_source(source: str, shown: list[str], gone: tuple, left: tuple) -> None:
    before = stored(
        {
            "html": ("html",),
            "json": ("site_json",),
            "both": ("html", "site_json"),
            "other": ("html", "site_json"),
        }
    )
    diff = diff_comments(before, [c(k) for k in shown], source)
    assert (diff.gone, diff.left) == (gone, left)


def test_only_the_owning_source_edits_text() -> None:
    before = stored({"1": ("html", "site_json"), "2": ("site_json",)})
    as_json = diff_comments(before, [c("1", "printed differently"), c("2", "edited")], "site_json")
    assert [x.id for x in as_json.edited] == ["2"] and [x.id for x in as_json.unchanged] == ["1"]
    as_html = diff_comments(before, [c("1", "edited on the page")], "html")
    assert [x.id for x in as_html.edited] == ["1"]


def test_a_deleted_comment_comes_back_from_any_source() -> None:
    before = stored({"1": ()}, deleted=frozenset({"1"}))
    assert [x.id for x in diff_comments(before, [c("1")], "site_json").restored] == ["1"]


def test_a_removal_notice_from_any_source_deletes() -> None:
    before = stored({"1": ("html", "site_json")})
    assert diff_comments(before, [c("1", "[removed]", deleted=True)], "site_json").removed == ("1",)
