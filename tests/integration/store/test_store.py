"""Store functions on real Postgres and SQLite: every write is an idempotent upsert."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from shared import models
from shared.records import ArticleRecord, LinkEdge, RelatedLink, TagRecord
from shared.store import Outcome, articles, fetches, frontier, graph
from shared.urls import url_hash

PAGES = Path(__file__).parents[2] / "fixtures" / "pages"


def load_expected(name: str) -> ArticleRecord:
    return ArticleRecord.from_dict(json.loads((PAGES / f"{name}.expected.json").read_text(encoding="utf-8")))


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_enqueue_is_idempotent_across_url_spellings(session):
    first = frontier.enqueue_url(session, "https://Example.com/a/?utm_source=rss#top")
    again = frontier.enqueue_url(session, "https://example.com:443/a/")
    other = frontier.enqueue_url(session, "https://example.com/b/")
    assert (first.created, again.created, other.created) == (True, False, True)
    assert first.url_id == again.url_id != other.url_id
    assert first.url == "https://example.com/a/"
    assert count(session, models.Url) == 2
    assert frontier.state_counts(session) == {"queued": 2}


def test_advance_moves_a_url_once(session):
    url_id = frontier.enqueue_url(session, "https://example.com/a").url_id
    assert frontier.advance(session, url_id, "queued", "fetched") is True
    assert frontier.advance(session, url_id, "queued", "fetched") is False
    assert frontier.get_url(session, url_id).state == "fetched"


def test_failures_retry_then_fail_with_reason(session):
    url_id = frontier.enqueue_url(session, "https://example.com/a").url_id

    def delay(attempts: int) -> float | None:
        return 5.0 if attempts < 2 else None

    assert (
        frontier.record_attempt_failure(session, url_id, "fetch", "timeout", "read timed out", retry_delay=delay) == 5.0
    )
    row = frontier.get_url(session, url_id)
    assert (row.state, row.stage_attempts, row.last_error_reason) == ("queued", 1, "timeout")
    assert frontier.record_attempt_failure(session, url_id, "fetch", "http_5xx", "500", retry_delay=delay) is None
    session.refresh(row)
    assert (row.state, row.attempts, row.last_error_reason) == ("failed", 2, "http_5xx")
    assert frontier.failure_counts(session) == {"http_5xx": 1}


def test_sweep_finds_items_whose_stage_never_started(session):
    a = frontier.enqueue_url(session, "https://example.com/a").url_id
    b = frontier.enqueue_url(session, "https://example.com/b").url_id
    frontier.advance(session, b, "queued", "fetched")
    session.flush()
    assert frontier.due_for_dispatch(session, stale_after=timedelta(minutes=5)) == []
    due = frontier.due_for_dispatch(session, stale_after=timedelta(0))
    assert sorted(due) == [(a, "fetch"), (b, "parse")]
    frontier.mark_dispatched(session, [a, b])
    assert frontier.due_for_dispatch(session, stale_after=timedelta(seconds=60)) == []


def test_same_body_fetched_twice_is_stored_once(session):
    url_id = frontier.enqueue_url(session, "https://example.com/a").url_id
    kwargs = dict(
        final_url="https://example.com/a",
        status_code=200,
        content_type="text/html",
        charset="utf-8",
        etag='"v1"',
        last_modified=None,
        headers={"content-type": "text/html"},
    )
    first, outcome1 = fetches.save_fetch(session, url_id, body=b"<html>one</html>", **kwargs)
    second, outcome2 = fetches.save_fetch(session, url_id, body=b"<html>one</html>", **kwargs)
    third, outcome3 = fetches.save_fetch(session, url_id, body=b"<html>two</html>", **kwargs)
    assert (outcome1, outcome2, outcome3) == (Outcome.INSERTED, Outcome.UNCHANGED, Outcome.INSERTED)
    assert first == second != third
    assert fetches.load_body(session, third).body == b"<html>two</html>"
    assert count(session, models.Fetch) == 2


def test_article_upsert_by_canonical_url(session):
    record = load_expected("sputnik_2017_tillerson_lavrov")
    first = articles.upsert_article(session, record, None)
    again = articles.upsert_article(session, record, None)
    revised = dataclasses.replace(record, title="Awkward: a revised title")
    third = articles.upsert_article(session, revised, None)
    assert (first.outcome, again.outcome, third.outcome) == (Outcome.INSERTED, Outcome.UNCHANGED, Outcome.UPDATED)
    assert first.article_id == again.article_id == third.article_id
    assert third.changed_fields == ("title",)
    article_id = first.article_id
    row = articles.get_article(session, article_id)
    assert row.title == "Awkward: a revised title"
    assert row.published_at.isoformat() == "2017-02-16T15:47:00+00:00"
    assert [i.credit for i in session.execute(select(models.Image).order_by(models.Image.position)).scalars()] == [
        "© REUTERS/ Brendan Smialowski/POOL",
        "© REUTERS/ Brendan Smialowski/POOL",
    ]
    assert count(session, models.Article) == 1


def test_comment_updates_keep_every_version(session):
    first = load_expected("sputnik_2017_tillerson_lavrov")
    later = load_expected("sputnik_2017_tillerson_lavrov.later")
    article_id = articles.upsert_article(session, first, None).article_id

    assert articles.upsert_comments(session, article_id, first.comments) == articles.CommentChanges(inserted=20)
    assert articles.upsert_comments(session, article_id, first.comments) == articles.CommentChanges(unchanged=20)
    changes = articles.upsert_comments(session, article_id, later.comments)
    assert changes == articles.CommentChanges(inserted=3, edited=1, unchanged=19)
    assert count(session, models.Comment) == 23
    assert count(session, models.CommentVersion) == 24
    edited = session.execute(select(models.Comment).where(models.Comment.key == "1050774166")).scalar_one()
    versions = (
        session.execute(
            select(models.CommentVersion.text)
            .where(models.CommentVersion.comment_id == edited.id)
            .order_by(models.CommentVersion.version)
        )
        .scalars()
        .all()
    )
    assert edited.version_count == 2
    assert "strugling" in versions[0] and "struggling" in versions[1]
    assert edited.edited_at.isoformat() == "2017-03-30T00:58:00+00:00"

    without_one = [c for c in later.comments if c.id != "1050773838"]
    assert articles.upsert_comments(session, article_id, without_one).missing == 1
    gone = session.execute(select(models.Comment).where(models.Comment.key == "1050773838")).scalar_one()
    assert gone.deleted is True and gone.missing_since is not None
    assert count(session, models.Comment) == 23


def test_tags_are_shared_and_set_exactly(session):
    record = load_expected("sputnik_2017_tillerson_lavrov")
    article_id = articles.upsert_article(session, record, None).article_id
    tags = [TagRecord("rex tillerson", "Rex Tillerson", "Rex Tillerson"), TagRecord("bonn", "Bonn", "Bonn")]
    graph.set_article_tags(session, article_id, tags)
    graph.set_article_tags(session, article_id, tags)
    assert count(session, models.Tag) == 2
    assert count(session, models.ArticleTag) == 2
    graph.set_article_tags(session, article_id, tags[:1])
    assert count(session, models.ArticleTag) == 1
    assert count(session, models.Tag) == 2
    # One tag dropped, one kept (moved), one new, in one call (on Postgres one statement).
    moved = [TagRecord("kremlin", "Kremlin", "Kremlin"), TagRecord("rex tillerson", "Rex Tillerson", "Tillerson")]
    graph.set_article_tags(session, article_id, moved)
    rows = session.execute(
        select(models.Tag.key, models.ArticleTag.position, models.ArticleTag.raw)
        .join(models.ArticleTag, models.ArticleTag.tag_id == models.Tag.id)
        .where(models.ArticleTag.article_id == article_id)
        .order_by(models.ArticleTag.position)
    ).all()
    assert [tuple(r) for r in rows] == [("kremlin", 0, "Kremlin"), ("rex tillerson", 1, "Tillerson")]
    graph.set_article_tags(session, article_id, [])
    assert count(session, models.ArticleTag) == 0


def test_links_resolve_in_both_directions(session):
    seed = load_expected("sputnik_2017_tillerson_lavrov")
    seed_id = articles.upsert_article(session, seed, None).article_id
    early_url = "https://sputniknews.com/politics/201702151050687841-tillerson-kosovo-support/"
    late_url = "https://sputniknews.com/politics/201702091050491406-tillerson-mexico-dialogue/"
    early = dataclasses.replace(seed, url=early_url, canonical_url=early_url, title="Kosovo", comments=())
    early_id = articles.upsert_article(session, early, None).article_id
    edges = [LinkEdge(u, url_hash(u), title) for u, title in ((early_url, "Kosovo"), (late_url, "Mexico"))]
    graph.set_article_links(session, seed_id, edges)
    graph.set_article_links(session, seed_id, edges)
    assert graph.resolve_links(session, seed_id, url_hash(seed.canonical_url)) == (1, 0)

    late = dataclasses.replace(
        seed,
        url=late_url,
        canonical_url=late_url,
        title="Mexico",
        comments=(),
        related_links=(RelatedLink(seed.canonical_url, "seed"),),
    )
    late_id = articles.upsert_article(session, late, None).article_id
    assert graph.resolve_links(session, late_id, url_hash(late_url)) == (0, 1)
    targets = session.execute(
        select(models.Link.target_url, models.Link.target_article_id)
        .where(models.Link.article_id == seed_id)
        .order_by(models.Link.position)
    ).all()
    assert targets == [(early_url, early_id), (late_url, late_id)]
    assert count(session, models.Link) == 2


def test_revisions_are_kept_and_bad_fetches_refused(session):
    record = load_expected("sputnik_2017_tillerson_lavrov")
    first = articles.upsert_article(session, record, None)
    paragraphs = list(record.body_paragraphs)
    paragraphs[7] = paragraphs[7].replace("did not take questions", "did not take questions from reporters")
    revised = articles.upsert_article(session, dataclasses.replace(record, body_paragraphs=tuple(paragraphs)), None)
    truncated = articles.upsert_article(
        session, dataclasses.replace(record, body_paragraphs=tuple(paragraphs[:1])), None
    )
    error_page = articles.upsert_article(session, dataclasses.replace(record, title="404 Not Found"), None)
    assert (revised.outcome, revised.changed_fields) == (Outcome.UPDATED, ("body",))
    assert (truncated.outcome, truncated.suspect_reason) == (Outcome.UNCHANGED, "body_shrank")
    assert (error_page.outcome, error_page.suspect_reason) == (Outcome.UNCHANGED, "error_page")
    rows = session.execute(
        select(models.ArticleRevision.revision, models.ArticleRevision.changed_fields, models.ArticleRevision.diff)
        .where(models.ArticleRevision.article_id == first.article_id)
        .order_by(models.ArticleRevision.revision)
    ).all()
    assert [(r.revision, r.changed_fields) for r in rows] == [(1, []), (2, ["body"])]
    assert "+Tillerson did not take questions from reporters" in rows[1].diff
    article = articles.get_article(session, first.article_id)
    assert (article.revision_count, article.title) == (2, record.title)
    assert "from reporters" in article.body


def test_comment_events_are_ordered_and_written_once(session):
    first = load_expected("sputnik_2017_tillerson_lavrov")
    later = load_expected("sputnik_2017_tillerson_lavrov.later")
    article_id = articles.upsert_article(session, first, None).article_id
    articles.upsert_comments(session, article_id, first.comments)
    articles.upsert_comments(session, article_id, later.comments)
    articles.upsert_comments(session, article_id, later.comments)
    without = [c for c in later.comments if c.id != "1050773838"]
    articles.upsert_comments(session, article_id, without)
    articles.upsert_comments(session, article_id, without)
    articles.upsert_comments(session, article_id, later.comments)
    events = session.execute(
        select(models.Comment.key, models.CommentEvent.kind, models.CommentEvent.seq)
        .join(models.Comment, models.Comment.id == models.CommentEvent.comment_id)
        .where(models.CommentEvent.article_id == article_id)
        .order_by(models.CommentEvent.id)
    ).all()
    assert len(events) == 20 + 3 + 1 + 1 + 1
    assert [tuple(e) for e in events[20:]] == [
        ("1050774166", "edited", 2),
        ("1052010612", "new", 1),
        ("1052011346", "new", 1),
        ("1052013357", "new", 1),
        ("1050773838", "deleted", 2),
        ("1050773838", "restored", 3),
    ]


def test_repoll_schedule_global_per_url_and_off(session):
    default = frontier.enqueue_url(session, "https://example.com/default").url_id
    custom = frontier.enqueue_url(session, "https://example.com/custom", repoll_schedule="1d=10m").url_id
    silent = frontier.enqueue_url(session, "https://example.com/silent").url_id
    assert frontier.enqueue_url(session, "https://example.com/silent", repoll_schedule="off").created is False
    for url_id in (default, custom, silent):
        assert frontier.advance(session, url_id, "queued", "done")
    rows = {r.id: r for r in session.execute(select(models.Url)).scalars()}
    # 6h=15m (the global schedule's first tier) against the URL's own 1d=10m; the row's updated_at moves
    # by a few ms when the schedule is written, hence the tolerance.
    assert abs(rows[default].repoll_at - rows[default].updated_at - timedelta(minutes=15)) < timedelta(seconds=1)
    assert abs(rows[custom].repoll_at - rows[custom].updated_at - timedelta(minutes=10)) < timedelta(seconds=1)
    assert rows[silent].repoll_at is None
    assert frontier.claim_due_repolls(session) == []
    assert frontier.request_repoll(session, [default, custom]) == 2
    assert sorted(frontier.claim_due_repolls(session)) == sorted([default, custom])
    assert frontier.claim_due_repolls(session) == []  # claimed once, even when asked twice
