"""Ranked full-text search over articles' title, lead and body.

Postgres: the generated `articles.search_vector` (weights A/B/C, migration 0002) matched with
websearch_to_tsquery and ranked with ts_rank_cd among the newest `RANK_WINDOW` matches (more when a
client pages further): ranking reads every candidate's vector, so ranking all matches of a common
word costs seconds in a store of a million articles, while the newest matches are found on an
index either way (the GIN index for rare words, the primary key read backwards for common ones;
the query is planned for its own words). SQLite: the FTS5 table `articles_fts` ranked with bm25,
weighted the same way, over every match (the embedded store is small). Neither backend raises on
odd user input: Postgres' websearch syntax never fails, and the FTS5 query is built here from
quoted terms only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.db import plan_per_call
from shared.models import UTCDateTime

TS_CONFIG = "english"  # keep in step with migration 0002
MAX_QUERY_LENGTH = 500
RANK_WINDOW = 1000  # newest matches ranked (Postgres); a page beyond it widens the window to reach it
_HEADLINE_OPTIONS = 'StartSel=[, StopSel=], MaxWords=30, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "'
_TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)([^\s"]+)')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked match: higher `rank` is better on either backend."""

    article_id: int
    canonical_url: str
    title: str | None
    published_at: datetime | None
    rank: float
    snippet: str | None


def search_articles(session: Session, query: str, *, limit: int = 20, offset: int = 0) -> list[SearchHit]:
    """Articles matching `query` (web-search syntax: words, "phrases", -exclusions, or), best first."""
    query = query.strip()[:MAX_QUERY_LENGTH]
    if not query:
        return []
    if session.get_bind().dialect.name == "sqlite":
        return _search_sqlite(session, query, limit, offset)
    return _search_postgres(session, query, limit, offset)


def _search_postgres(session: Session, query: str, limit: int, offset: int) -> list[SearchHit]:
    # The newest matches, ranked; one page kept, and only then headlines (ts_headline re-parses the
    # text). The tsquery is written into the match itself, not taken from a CTE, so the planner
    # sees the words and estimates how many rows match: the GIN index for rare words, the primary
    # key backwards for common ones. A custom plan per call keeps it so on a prepared statement.
    tsq = f"websearch_to_tsquery('{TS_CONFIG}', :query)"
    stmt = text(
        f"""
        WITH recent AS (
            SELECT a.id FROM articles a WHERE a.search_vector @@ {tsq} ORDER BY a.id DESC LIMIT :window
        ),
        page AS (
            SELECT a.id, a.canonical_url, a.title, a.published_at, a.lead, a.body,
                   ts_rank_cd(a.search_vector, {tsq}) AS rank
            FROM recent JOIN articles a ON a.id = recent.id
            ORDER BY rank DESC, a.id DESC
            LIMIT :limit OFFSET :offset
        )
        SELECT page.id, page.canonical_url, page.title, page.published_at, page.rank,
               ts_headline('{TS_CONFIG}', coalesce(page.lead, '') || ' ' || left(page.body, 20000), {tsq},
                           :headline_options) AS snippet
        FROM page
        ORDER BY page.rank DESC, page.id DESC
        """
    ).columns(published_at=UTCDateTime())
    params = {
        "query": query,
        "limit": limit,
        "offset": offset,
        "window": max(RANK_WINDOW, offset + limit),
        "headline_options": _HEADLINE_OPTIONS,
    }
    plan_per_call(session)
    rows = session.execute(stmt, params).all()
    return [SearchHit(r.id, r.canonical_url, r.title, r.published_at, float(r.rank), r.snippet) for r in rows]


def _search_sqlite(session: Session, query: str, limit: int, offset: int) -> list[SearchHit]:
    match = fts5_query(query)
    if not match:
        return []
    # bm25 is lower-is-better; negate it so callers see one direction. Weights: title, lead, body.
    stmt = text(
        """
        SELECT a.id, a.canonical_url, a.title, a.published_at,
               -bm25(articles_fts, 10.0, 4.0, 1.0) AS rank,
               snippet(articles_fts, 2, '[', ']', ' … ', 24) AS snippet
        FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
        WHERE articles_fts MATCH :match
        ORDER BY rank DESC, a.id DESC
        LIMIT :limit OFFSET :offset
        """
    ).columns(published_at=UTCDateTime())
    rows = session.execute(stmt, {"match": match, "limit": limit, "offset": offset}).all()
    return [SearchHit(r.id, r.canonical_url, r.title, r.published_at, float(r.rank), r.snippet) for r in rows]


def fts5_query(query: str) -> str:
    """Translate web-search syntax into a safe FTS5 expression, or "" when nothing is searchable.

    Every term is re-quoted from its word characters, so FTS5 operators and quotes in user input
    are never interpreted. Terms are AND-ed; `or` between two terms makes an OR; `-term` excludes.
    """
    positive: list[str] = []
    negative: list[str] = []
    pending_or = False
    for neg_phrase, phrase, neg_word, word in _TOKEN.findall(query):
        raw = phrase if phrase or neg_phrase else word
        negated = bool(neg_phrase or neg_word)
        if not (phrase or neg_phrase) and raw.lower() == "or" and positive:
            pending_or = True
            continue
        words = _WORD.findall(raw)
        if not words:
            continue
        term = '"' + " ".join(words) + '"'
        if negated:
            negative.append(term)
        elif pending_or:
            positive[-1] = f"({positive[-1]} OR {term})"
        else:
            positive.append(term)
        pending_or = False
    if not positive:
        return ""
    expression = " AND ".join(positive)
    for term in negative:
        expression = f"({expression}) NOT {term}"
    return expression
