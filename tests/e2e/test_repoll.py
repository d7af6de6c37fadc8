"""Re-polls end to end: real workers and beat on Postgres and Redis, the bundled site switching the
seed page between its captured and derived states between polls."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared import models
from shared.db import session_scope
from shared.store import articles

pytestmark = pytest.mark.e2e

SEED = "/politics/201702161050766466-tillerson-lavrov-meeting-awkward-moment/"
EDITED = "1050774166"
REMOVED = "1050773838"
NEW = {"1052010612", "1052011346", "1052013357"}


def repoll(stack, url: str, *, now: bool) -> None:
    """Ask for a re-poll and wait until it went through the whole pipeline."""
    with session_scope(stack.database_url) as session:
        before = session.execute(select(models.Url.repoll_count).where(models.Url.url == url)).scalar_one()
    out = stack.cli("repoll", url, *(["--now"] if now else [])).stdout
    assert out.startswith("1 article(s) due for a re-poll")

    def polled() -> bool:
        with session_scope(stack.database_url) as session:
            row = session.execute(select(models.Url).where(models.Url.url == url)).scalar_one()
            return row.repoll_count == before + 1 and row.state == "done"

    stack.wait_idle(timeout=60, extra=polled)


def snapshot(stack, url: str) -> dict:
    with session_scope(stack.database_url) as session:
        article = articles.find_article(session, url)
        comments = {
            c.key: c
            for c in session.execute(select(models.Comment).where(models.Comment.article_id == article.id)).scalars()
        }
        events = session.execute(
            select(models.Comment.key, models.CommentEvent.kind, models.CommentEvent.version)
            .join(models.Comment, models.Comment.id == models.CommentEvent.comment_id)
            .where(models.CommentEvent.article_id == article.id)
            .order_by(models.CommentEvent.id)
        ).all()
        revisions = session.execute(
            select(models.ArticleRevision.revision, models.ArticleRevision.changed_fields, models.ArticleRevision.diff)
            .where(models.ArticleRevision.article_id == article.id)
            .order_by(models.ArticleRevision.revision)
        ).all()
        versions = session.execute(
            select(func.count())
            .select_from(models.CommentVersion)
            .join(models.Comment, models.Comment.id == models.CommentVersion.comment_id)
            .where(models.Comment.article_id == article.id)
        ).scalar_one()
        return {
            "comments": {k: (c.author, c.version_count, c.deleted) for k, c in comments.items()},
            "texts": {k: c.text for k, c in comments.items()},
            "events": [tuple(e) for e in events],
            "revisions": [tuple(r) for r in revisions],
            "versions": versions,
        }


def test_repolls_record_comment_updates_and_revisions(stack, site):
    url = f"{site.base_url}{SEED}"
    stack.start_workers()
    stack.cli("enqueue", url)
    stack.wait_idle(timeout=60)
    first = snapshot(stack, url)
    assert len(first["comments"]) == 20
    assert sorted(first["events"]) == sorted((key, "new", 1) for key in first["comments"])
    assert [r[0] for r in first["revisions"]] == [1]

    # 3.5 hours later: 3 new comments, 1 edited; the other 19 untouched.
    site.set_version("later")
    repoll(stack, url, now=True)
    later = snapshot(stack, url)
    assert len(later["comments"]) == 23
    assert set(later["comments"]) - set(first["comments"]) == NEW
    assert later["events"][:20] == first["events"]
    assert sorted(later["events"][20:]) == sorted([(k, "new", 1) for k in NEW] + [(EDITED, "edited", 2)])
    assert later["comments"][EDITED] == ("JoyInStruggle", 2, False)
    assert "struggling" in later["texts"][EDITED] and "good idea" in later["texts"][EDITED]
    unchanged = {k: v for k, v in later["comments"].items() if k not in NEW and k != EDITED}
    assert len(unchanged) == 19 and all(v[1] == 1 and not v[2] for v in unchanged.values())
    assert later["versions"] == 24
    assert later["revisions"] == first["revisions"]

    # Only counters and the header clock change: nothing is recorded (through the scheduler this time).
    site.set_version("noise")
    repoll(stack, url, now=False)
    assert snapshot(stack, url) == later

    # A comment disappears from the page: marked deleted, its versions kept.
    site.set_version("removed")
    repoll(stack, url, now=True)
    removed = snapshot(stack, url)
    assert removed["comments"][REMOVED] == ("NoMoreWars", 1, True)
    assert removed["texts"][REMOVED] == later["texts"][REMOVED]
    assert removed["events"][len(later["events"]) :] == [(REMOVED, "deleted", 1)]
    assert removed["versions"] == 24 and len(removed["comments"]) == 23

    # The body is revised: exactly one new revision, with the changed field and a diff.
    site.set_version("revised")
    repoll(stack, url, now=True)
    revised = snapshot(stack, url)
    assert [(r[0], r[1]) for r in revised["revisions"]] == [(1, []), (2, ["body"])]
    assert "from reporters" in revised["revisions"][1][2]
    assert revised["events"] == removed["events"]
