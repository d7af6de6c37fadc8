"""Retention of fetched bodies (NEWSFLOW_FETCH_BODIES_KEEP) on real Postgres and SQLite: a new body
drops the URL's bodies beyond the newest N, keeps the one its parse reads, and leaves articles, their
revisions and comments alone."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from shared import models
from shared.store import Outcome, articles, fetches, frontier
from tests.helpers.pages import save_html
from tests.integration.store.test_store import count, load_expected


def store(session, url_id: int, body: bytes, keep: int) -> tuple[int, Outcome]:
    return save_html(session, url_id, "https://example.com/a", body, keep=keep)


def fetch_ids(session, url_id: int) -> list[int]:
    return list(
        session.execute(
            select(models.Fetch.id).where(models.Fetch.url_id == url_id).order_by(models.Fetch.id)
        ).scalars()
    )


def parsed(session, url_id: int, fetch_id: int) -> None:
    """The fetch stage hands `fetch_id` to parse (the URL's last fetch id)."""
    session.get(models.Url, url_id).last_fetch_id = fetch_id
    session.flush()


def test_keeps_the_newest_bodies_and_the_one_parsed(session):
    a = frontier.enqueue_url(session, "https://example.com/a").url_id
    b = frontier.enqueue_url(session, "https://example.com/b").url_id
    record = load_expected("sputnik_2017_tillerson_lavrov")
    article = articles.upsert_article(session, record, a)
    articles.upsert_article(session, dataclasses.replace(record, title="A revised title"), a)
    articles.upsert_comments(session, article.article_id, record.comments)
    articles.upsert_comments(session, article.article_id, load_expected("sputnik_2017_tillerson_lavrov.later").comments)
    kept = {m: count(session, m) for m in (models.ArticleRevision, models.Comment, models.CommentVersion)}
    assert kept == {models.ArticleRevision: 2, models.Comment: 23, models.CommentVersion: 24}
    ids = []
    for n in range(5):
        fetch_id, outcome = store(session, a, f"<html>version {n}</html>".encode(), keep=2)
        assert outcome is Outcome.INSERTED
        parsed(session, a, fetch_id)
        ids.append(fetch_id)
    # Each new body kept the newest two, and the body parsed last (the one before it) until the next.
    assert fetch_ids(session, a) == ids[3:]
    # Another URL's bodies are not its business, and keeping all (0) prunes nothing.
    other = [store(session, b, f"<html>b {n}</html>".encode(), keep=0)[0] for n in range(3)]
    assert fetch_ids(session, b) == other
    # The same body again adds no row and prunes nothing; a new one with keep=1 keeps it and the parsed one.
    again, outcome = store(session, a, b"<html>version 4</html>", keep=1)
    assert (again, outcome) == (ids[4], Outcome.UNCHANGED)
    newest, _ = store(session, a, b"<html>version 5</html>", keep=1)
    assert fetch_ids(session, a) == [ids[4], newest]
    assert fetches.prune_fetches(session, [b], keep=1) == 2
    assert fetch_ids(session, b) == other[2:]
    # Articles, their revisions, comments and comment versions stay.
    assert count(session, models.Article) == 1
    assert {m: count(session, m) for m in kept} == kept
    assert session.get(models.Article, article.article_id).title == "A revised title"


def test_a_stored_frontier_is_pruned_batch_by_batch(session):
    """Retention turned on for a store that kept every body: each batch of URLs keeps its newest bodies
    and the parsed one; the walk ends after the last URL."""
    urls = [frontier.enqueue_url(session, f"https://example.com/{n}").url_id for n in range(3)]
    bodies = {u: [store(session, u, f"<html>{u} {n}</html>".encode(), keep=0)[0] for n in range(4)] for u in urls}
    parsed(session, urls[0], bodies[urls[0]][0])  # the first URL's article was parsed from its oldest body
    assert fetches.prune_stored_fetches(session, 1, after_url_id=0, batch=2) == (urls[1], 5)
    assert fetch_ids(session, urls[0]) == [bodies[urls[0]][0], bodies[urls[0]][3]]
    assert fetch_ids(session, urls[1]) == bodies[urls[1]][3:]
    assert fetch_ids(session, urls[2]) == bodies[urls[2]]
    assert fetches.prune_stored_fetches(session, 2, after_url_id=urls[1], batch=2) == (urls[2], 2)
    assert fetch_ids(session, urls[2]) == bodies[urls[2]][2:]
    assert fetches.prune_stored_fetches(session, 1, after_url_id=urls[2], batch=2) == (0, 0)
