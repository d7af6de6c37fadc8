"""Comments from the site's comments JSON endpoint end to end: real workers on Postgres and Redis,
the bundled site serving the endpoint named in the Sputnik profile. The JSON and the page's own
comments go through one diff: shared comments are merged, the JSON-only reply is added, and a
comment is deleted only once neither source shows it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from shared import models
from shared.db import session_scope
from shared.store import articles

pytestmark = pytest.mark.e2e

SEED = "/politics/201702161050766466-tillerson-lavrov-meeting-awkward-moment/"
JSON_ONLY = "1052099001"
REMOVED = "1050773838"
EDITED = "1050774166"
NEW = {"1052010612", "1052011346", "1052013357"}


def comments(stack, url: str) -> dict[str, models.Comment]:
    with session_scope(stack.database_url) as session:
        article = articles.find_article(session, url)
        if article is None:
            return {}
        rows = session.execute(select(models.Comment).where(models.Comment.article_id == article.id)).scalars()
        found = {r.key: r for r in rows}
        session.expunge_all()
        return found


def json_pages(stack, url: str) -> int:
    with session_scope(stack.database_url) as session:
        article = articles.find_article(session, url)
        stmt = select(func.count()).select_from(models.CommentFetch)
        return session.execute(stmt.where(models.CommentFetch.article_id == article.id)).scalar_one()


def events(stack, url: str) -> list[tuple[str, str]]:
    with session_scope(stack.database_url) as session:
        article = articles.find_article(session, url)
        stmt = (
            select(models.Comment.key, models.CommentEvent.kind)
            .join(models.Comment, models.Comment.id == models.CommentEvent.comment_id)
            .where(models.CommentEvent.article_id == article.id)
            .order_by(models.CommentEvent.id)
        )
        return [tuple(e) for e in session.execute(stmt)]


def test_json_comments_merge_with_the_page_comments(stack, site):
    site.set_comments_api(True)
    url = f"{site.base_url}{SEED}"
    stack.start_workers()
    stack.cli("enqueue", url)
    stack.wait_idle(timeout=90, extra=lambda: JSON_ONLY in comments(stack, url))

    first = comments(stack, url)
    assert len(first) == 21  # the page's 20, each listed by the JSON too, plus the JSON-only reply
    assert json_pages(stack, url) == 4  # pages 1-3 of 10 comments, then the empty page 4
    reply = first[JSON_ONLY]
    assert (reply.author, reply.parent_key, reply.reply_to_author) == ("Baikal_Watcher", "1050773521", "Pierre_L")
    assert reply.text.split("\n") == [
        "Pierre_L, agreed: talks first, sanctions later.",
        "",
        "Both sides need",
        "a channel that stays open.",
    ]
    assert reply.sources == "site_json" and reply.position > max(r.position for k, r in first.items() if k != JSON_ONLY)
    assert {r.sources for k, r in first.items() if k != JSON_ONLY} == {"html site_json"}
    assert all(r.version_count == 1 and not r.deleted for r in first.values())
    assert sorted(events(stack, url)) == sorted((key, "new") for key in first)
    shown = json.loads(stack.cli("show", url, "--json").stdout)
    assert JSON_ONLY in {c["id"] for c in shown["comments"]}

    # 3.5 hours later with one comment taken off the page and out of the JSON: it is deleted once, after
    # both sources missed it; the edited comment gets one edit (not one per source), the three new ones
    # are merged, and the JSON-only reply, which the page never showed, stays.
    before = events(stack, url)
    site.set_version("removed")
    stack.cli("repoll", url, "--now")
    stack.wait_idle(timeout=90, extra=lambda: comments(stack, url)[REMOVED].deleted)
    after = comments(stack, url)
    assert after[REMOVED].deleted and after[REMOVED].sources == ""
    assert not after[JSON_ONLY].deleted and after[JSON_ONLY].sources == "site_json"
    assert sorted(events(stack, url)[len(before) :]) == sorted(
        [(EDITED, "edited"), (REMOVED, "deleted"), *((key, "new") for key in NEW)]
    )
    assert after[EDITED].version_count == 2
    assert {after[key].sources for key in NEW} == {"html site_json"} and len(after) == 24
