"""Ranked full-text search over articles' title, lead and body.

Postgres: the generated `articles.search_vector` (weights A/B/C, migration 0002) matched with
websearch_to_tsquery and ranked with ts_rank_cd among the newest `RANK_WINDOW` matches (more when a
client pages further): ranking reads every candidate's vector, so ranking all matches of a common
word costs seconds in a store of a million articles. The newest matches are looked for in tiers of
ids, newest first, each `TIER_GROWTH` times as wide as the one before, until the window is full: a
common word fills it in the first tier (the primary key read backwards), and a word that is neither
common nor rare reads only the matches of the tiers it needs (its GIN bitmap and the tier's id range
AND-ed), where one query over the whole store read every match's row to find the newest, or walked
the primary key through tens of thousands of rows. SQLite: the FTS5 table `articles_fts` ranked
with bm25, weighted the same way, over every match (the embedded store is small). Neither backend
raises on odd user input: Postgres' websearch syntax never fails, and the FTS5 query is built here
from quoted terms only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.models import UTCDateTime

TS_CONFIG = "english"  # keep in step with migration 0002
MAX_QUERY_LENGTH = 500
RANK_WINDOW = 200  # newest matches ranked (Postgres); a page beyond it widens the window to reach it
TIERS = 4  # id ranges searched newest first (Postgres): the newest TIER_GROWTH x window ids, then
TIER_GROWTH = 8  # ranges this many times wider each, the last one down to the oldest article
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


def _tiers(tsq: str) -> str:
    """The matches of each tier, newest first, each with its rank; tier k lies between the bound
    parameters `edge_k` (excluded) and `edge_{k-1}` (included), the first and the last open-ended."""

    def tier(k: int) -> str:
        bounds = (f" AND a.id > :edge_{k}" if k < TIERS else "") + (f" AND a.id <= :edge_{k - 1}" if k > 1 else "")
        return (
            f"(SELECT a.id, ts_rank_cd(a.search_vector, {tsq}) AS rank FROM articles a"
            f" WHERE a.search_vector @@ {tsq}{bounds} ORDER BY a.id DESC)"
        )

    return " UNION ALL ".join(tier(k) for k in range(1, TIERS + 1))


def _search_postgres(session: Session, query: str, limit: int, offset: int) -> list[SearchHit]:
    # The tiers are one UNION ALL under the window's LIMIT: Postgres runs them in order and stops once
    # the window is full, so later tiers cost nothing for a common word. Each tier is planned for its
    # own words and ids (a custom plan per call, also once psycopg has prepared the statement): a
    # plan guessed for any words read the whole store. Postgres prices `@@` on a row like any
    # operator, but each test reads the row's vector out of TOAST: at the default price it walked
    # ten thousand rows of a tier one by one where the tier's id range (a BRIN index, migration
    # 0012) AND-ed with the GIN matches reads only the matches; operators priced 40x higher for this
    # transaction make it choose so. Parallel workers are off, so the tiers cannot interleave.
    # One page kept, and only then headlines (ts_headline re-parses the text).
    window = max(RANK_WINDOW, offset + limit)
    newest = session.execute(
        text(
            "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
            " set_config('cpu_operator_cost', '0.1', true),"
            " set_config('max_parallel_workers_per_gather', '0', true), coalesce(max(id), 0) FROM articles"
        )
    ).one()[3]
    tsq = f"websearch_to_tsquery('{TS_CONFIG}', :query)"
    stmt = text(
        f"""
        WITH recent AS (SELECT tiers.id, tiers.rank FROM ({_tiers(tsq)}) tiers LIMIT :window),
        page AS (SELECT id, rank FROM recent ORDER BY rank DESC, id DESC LIMIT :limit OFFSET :offset)
        SELECT a.id, a.canonical_url, a.title, a.published_at, page.rank,
               ts_headline('{TS_CONFIG}', coalesce(a.lead, '') || ' ' || left(a.body, 20000), {tsq},
                           :headline_options) AS snippet
        FROM page JOIN articles a ON a.id = page.id
        ORDER BY page.rank DESC, page.id DESC
        """
    ).columns(published_at=UTCDateTime())
    params = {
        "query": query,
        "limit": limit,
        "offset": offset,
        "window": window,
        "headline_options": _HEADLINE_OPTIONS,
    } | {f"edge_{k}": newest - window * TIER_GROWTH**k for k in range(1, TIERS)}
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
