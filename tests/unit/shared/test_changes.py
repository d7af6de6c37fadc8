"""Comment diffing and revision detection: what counts as a change and what is noise."""

from __future__ import annotations

from shared.changes import (
    ArticleContent,
    StoredComment,
    comment_hash,
    compare_content,
    diff_comments,
)
from shared.records import Comment


def c(key: str, text: str, author: str = "a", deleted: bool = False) -> Comment:
    return Comment(id=key, author=author, text=text, deleted=deleted)


def stored(*comments: Comment, deleted: frozenset[str] = frozenset()) -> dict[str, StoredComment]:
    return {x.id: StoredComment(x.id, comment_hash(x), x.id in deleted) for x in comments}


def test_diff_sorts_new_edited_unchanged_and_gone():
    before = stored(c("1", "one"), c("2", "two"), c("3", "three"))
    page = [c("1", "one"), c("2", "two, edited"), c("4", "four")]
    diff = diff_comments(before, page)
    assert [x.id for x in diff.new] == ["4"]
    assert [x.id for x in diff.edited] == ["2"]
    assert [x.id for x in diff.unchanged] == ["1"]
    assert diff.gone == ("3",)
    assert diff.removed == () and diff.restored == ()


def test_whitespace_only_changes_are_not_edits():
    before = stored(c("1", "one  two\nthree"))
    assert diff_comments(before, [c("1", "one two three")]).unchanged[0].id == "1"


def test_removal_placeholder_and_restore():
    before = stored(c("1", "one"), c("2", "two"), deleted=frozenset({"2"}))
    diff = diff_comments(before, [c("1", "[removed by moderator]", deleted=True), c("2", "two")])
    assert diff.removed == ("1",)
    assert [x.id for x in diff.restored] == ["2"]


def test_an_empty_comment_block_deletes_nothing():
    assert diff_comments(stored(c("1", "one")), []).gone == ()


BODY = "\n\n".join(f"Paragraph {i} with enough words to make a real article body." for i in range(12))


def test_noise_free_identical_content_has_no_change():
    a = ArticleContent("Title", "Lead", BODY)
    b = ArticleContent("Title ", "Lead", BODY.replace("real", "real"))
    assert a.hash == b.hash
    assert compare_content(a, b).changed_fields == ()


def test_body_revision_has_fields_and_diff():
    a = ArticleContent("Title", "Lead", BODY)
    b = ArticleContent("Title", "Lead", BODY.replace("Paragraph 3 with", "Paragraph 3, corrected, with"))
    change = compare_content(a, b)
    assert change.changed_fields == ("body",)
    assert "+Paragraph 3, corrected, with" in change.diff
    assert change.suspect_reason is None


def test_bad_fetches_are_suspect():
    a = ArticleContent("Title", "Lead", BODY)
    assert compare_content(a, ArticleContent("Title", "Lead", "")).suspect_reason == "empty_body"
    assert compare_content(a, ArticleContent("Title", "Lead", BODY[:100])).suspect_reason == "body_shrank"
    assert compare_content(a, ArticleContent("404 Not Found", "Lead", BODY)).suspect_reason == "error_page"
