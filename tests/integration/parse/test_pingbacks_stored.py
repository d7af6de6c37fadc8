"""Pingbacks through the parse stage, on Postgres and SQLite: a stored WordPress page with reader
comments, a pingback and a trackback; the reader comments become comment rows, the pingbacks stay
out of them (no comment row, no comment event, not counted) and are kept in the stored record."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from services.parse.stages import parse_page
from shared import models
from shared.db import session_scope
from shared.records import ArticleRecord
from shared.store import articles
from tests.helpers.pages import store_fetched

PAGE = Path(__file__).parents[2] / "fixtures" / "comments_real" / "wp_html5_walker_jetpack.html"
URL = "https://coastlinenotes.example/2023/05/14/harbour-ferry-timetable/"


def store_fetched_page() -> int:
    with session_scope() as session:
        return store_fetched(session, URL, PAGE.read_bytes())[0]


def test_pingbacks_kept_in_the_record_not_as_comments(embedded):
    url_id = store_fetched_page()
    assert parse_page(url_id).outcome == "inserted"
    with session_scope() as session:
        article = articles.find_article(session, URL)
        rows = session.execute(
            select(models.Comment).where(models.Comment.article_id == article.id).order_by(models.Comment.position)
        ).scalars()
        assert [(r.key, r.author, r.parent_key) for r in rows] == [
            ("2231", "Marta Lind", None),
            ("2240", "Ingrid Falk", "2231"),
            ("2250", "Olle", None),
        ]
        events = session.execute(select(models.CommentEvent).where(models.CommentEvent.article_id == article.id))
        assert len(events.scalars().all()) == 3
        assert article.comment_count == 3
        record = ArticleRecord.from_dict(article.record)
    assert [(p.id, p.kind, p.url, p.title) for p in record.pingbacks] == [
        (
            "2244",
            "pingback",
            "https://islandcommuter.example/2023/05/15/ferries-june/",
            "Ferries in June: what changes for island commuters \u2013 Island Commuter",
        ),
        ("2261", "trackback", "https://baltic-transport.example/news/ferry-frequency-2023", "Baltic Transport Weekly"),
    ]
