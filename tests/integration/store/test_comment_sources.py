"""Comments from separate sources on real Postgres and SQLite: one diff, "gone" scoped per source,
and the fetched pages of a comments endpoint stored per round."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from shared import models
from shared.models import utcnow
from shared.records import ArticleRecord, Comment
from shared.store import Outcome, articles, comment_fetches
from shared.store.comment_fetches import FetchedPage

PAGES = Path(__file__).parents[2] / "fixtures" / "pages"
SOURCE = "https://example.com/services/comments/list/?article_id=1&page={page}"


def make_article(session) -> int:
    data = json.loads((PAGES / "sputnik_2017_tillerson_lavrov.expected.json").read_text(encoding="utf-8"))
    record = ArticleRecord.from_dict({**data, "comments": []})
    return articles.upsert_article(session, record, None).article_id


def c(key: str, text: str | None = None) -> Comment:
    return Comment(id=key, author="reader", text=text or f"comment {key}")


def state(session, article_id: int) -> dict[str, tuple[str, bool]]:
    rows = session.execute(select(models.Comment).where(models.Comment.article_id == article_id)).scalars()
    return {r.key: (r.sources, r.deleted) for r in rows}


def events(session, article_id: int) -> list[tuple[str, str]]:
    stmt = (
        select(models.Comment.key, models.CommentEvent.kind)
        .join(models.Comment, models.Comment.id == models.CommentEvent.comment_id)
        .where(models.CommentEvent.article_id == article_id)
        .order_by(models.CommentEvent.id)
    )
    return [tuple(e) for e in session.execute(stmt)]


def test_a_comment_is_gone_only_when_no_source_shows_it(session):
    article_id = make_article(session)
    t0 = utcnow()
    page = articles.upsert_comments(session, article_id, [c("a"), c("b")], seen_at=t0)
    feed = articles.upsert_comments(session, article_id, [c("b"), c("j")], seen_at=t0, source="site_json")
    assert (page.inserted, feed.inserted, feed.unchanged) == (2, 1, 1)
    assert state(session, article_id) == {
        "a": ("html", False),
        "b": ("html site_json", False),
        "j": ("site_json", False),
    }
    # The page stops showing "b" and never showed "j": "b" lives on in the JSON, "j" is not the page's.
    t1 = t0 + timedelta(minutes=15)
    again = articles.upsert_comments(session, article_id, [c("a")], seen_at=t1)
    assert (again.missing, again.changed) == (0, False)
    assert state(session, article_id)["b"] == ("site_json", False)
    assert state(session, article_id)["j"] == ("site_json", False)
    # Now the JSON drops "b" too: gone from every source, so deleted (a tombstone, not a removal).
    t2 = t1 + timedelta(minutes=15)
    dropped = articles.upsert_comments(session, article_id, [c("j")], seen_at=t2, source="site_json")
    assert dropped.missing == 1
    assert state(session, article_id) == {"a": ("html", False), "b": ("", True), "j": ("site_json", False)}
    # Running the same poll twice changes nothing.
    assert articles.upsert_comments(session, article_id, [c("j")], seen_at=t2, source="site_json").changed is False
    # "b" comes back in the JSON: restored, now owned by the JSON.
    back = articles.upsert_comments(session, article_id, [c("b"), c("j")], seen_at=t2, source="site_json")
    assert back.restored == 1 and state(session, article_id)["b"] == ("site_json", False)
    assert events(session, article_id) == [
        ("a", "new"),
        ("b", "new"),
        ("j", "new"),
        ("b", "deleted"),
        ("b", "restored"),
    ]


def test_text_is_edited_by_the_source_that_owns_it(session):
    article_id = make_article(session)
    articles.upsert_comments(session, article_id, [c("a", "as the page prints it")])
    # The JSON prints the same comment a little differently: no edit, no flip-flop between sources.
    other = articles.upsert_comments(session, article_id, [c("a", "as the JSON prints it")], source="site_json")
    assert (other.edited, other.unchanged) == (0, 1)
    edit = articles.upsert_comments(session, article_id, [c("a", "edited on the page")])
    assert edit.edited == 1
    row = session.execute(select(models.Comment).where(models.Comment.article_id == article_id)).scalar_one()
    assert (row.text, row.version_count, row.sources) == ("edited on the page", 2, "html site_json")


def test_json_only_comments_go_after_the_page_comments(session):
    article_id = make_article(session)
    articles.upsert_comments(session, article_id, [c("a"), c("b")])
    articles.upsert_comments(session, article_id, [c("b"), c("j")], source="site_json")
    rows = session.execute(
        select(models.Comment.key).where(models.Comment.article_id == article_id).order_by(models.Comment.position)
    ).scalars()
    assert list(rows) == ["a", "b", "j"]


def test_comment_pages_are_stored_per_round(session):
    article_id = make_article(session)
    t0 = utcnow()
    pages = [FetchedPage(SOURCE.format(page=n), "application/json", f'{{"page": {n}}}'.encode()) for n in (1, 2, 3)]
    assert comment_fetches.save_comment_pages(session, article_id, SOURCE, pages, t0) is Outcome.INSERTED
    assert comment_fetches.save_comment_pages(session, article_id, SOURCE, pages, t0) is Outcome.UNCHANGED
    assert comment_fetches.load_comment_pages(session, article_id, SOURCE) == [p.body for p in pages]
    # The thread shrank to two pages: the third page of the earlier round is not read any more.
    shorter = [pages[0], FetchedPage(pages[1].url, "application/json", b'{"page": 2, "last": true}')]
    t1 = t0 + timedelta(minutes=5)
    assert comment_fetches.save_comment_pages(session, article_id, SOURCE, shorter, t1) is Outcome.UPDATED
    assert comment_fetches.load_comment_pages(session, article_id, SOURCE) == [p.body for p in shorter]
    assert comment_fetches.load_comment_pages(session, article_id, SOURCE + "&other") == []
