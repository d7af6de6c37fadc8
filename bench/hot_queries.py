"""The hot-path queries of the pipeline and the API, with `EXPLAIN (ANALYZE, BUFFERS)`, on a grown store.

`python -m bench.hot_queries DATABASE_URL` (a Postgres store, e.g. one `bench/store_fill.py` filled)
calls the real store functions on an article from the middle of the store, records every statement
they send (with its parameters), rolls their work back, then explains each statement in a
transaction that is rolled back too: the plans are those of the code as it runs, not hand-written
copies. Prints Markdown: a summary (time, plan nodes that read a whole table) and every plan.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from shared import models
from shared.db import engine_for

Prepare = Callable[[Session, "Sample"], None]
BIG_TABLE = 10_000  # rows; a whole-table scan of a smaller one (tags, entities) is the cheapest plan


@dataclass(frozen=True, slots=True)
class Sample:
    """The stored article the queries run for, and what they need of it."""

    article_id: int
    canonical_hash: str
    url_ids: list[int]
    bands: list[int]
    host: str
    tag: str | None
    unused_tag: str | None  # a tag (a key phrase) on no article as an article tag
    entity: str | None
    since: datetime


@dataclass(frozen=True, slots=True)
class Explained:
    """One statement of one hot query: its SQL, plan, execution time and the tables it scanned whole."""

    query: str
    sql: str
    plan: str
    ms: float
    seq_scans: list[str]


def pick_sample(session: Session) -> Sample:
    """An article from the middle of the store, with its URLs, bands, first tag and entity."""
    top = session.execute(select(models.Article.id).order_by(models.Article.id.desc()).limit(1)).scalar_one()
    article = session.execute(
        select(models.Article).where(models.Article.id >= top // 2).order_by(models.Article.id).limit(1)
    ).scalar_one()
    tag = _first_key(session, models.Tag, models.ArticleTag.tag_id, models.ArticleTag.article_id, article.id)
    entity = _first_key(
        session, models.Entity, models.ArticleEntity.entity_id, models.ArticleEntity.article_id, article.id
    )
    return Sample(
        article_id=article.id,
        canonical_hash=article.canonical_hash,
        url_ids=list(session.execute(select(models.Url.id).where(models.Url.article_id == article.id)).scalars()),
        bands=list(
            session.execute(
                select(models.FingerprintBand.band).where(models.FingerprintBand.article_id == article.id)
            ).scalars()
        ),
        host=article.host,
        tag=tag,
        unused_tag=session.execute(
            text("SELECT key FROM tags t WHERE NOT EXISTS (SELECT 1 FROM article_tags a WHERE a.tag_id = t.id) LIMIT 1")
        ).scalar(),
        entity=entity,
        since=(article.published_at or article.first_seen_at),
    )


def _first_key(session: Session, model: Any, link_id: Any, link_article: Any, article_id: int) -> str | None:
    """The key of the first tag or entity (`model`) linked to the article through `link_id`."""
    return session.execute(
        select(model.key).join(link_id.class_, link_id == model.id).where(link_article == article_id).limit(1)
    ).scalar()


def _unresolve_links(session: Session, sample: Sample) -> None:
    """The article's edges as they are before its links stage: pointing nowhere yet."""
    session.execute(text("UPDATE links SET target_article_id = NULL WHERE article_id = :a"), {"a": sample.article_id})


def hot_queries() -> list[tuple[str, Callable[[Session, Sample], object], Prepare | None]]:
    """(name, call of the real store function, preparation of the store) for every hot query."""
    from shared.store import articles, enrichment, feeds, frontier, graph, listing, search, views

    stale = timedelta(seconds=300)
    return [
        (
            "near-duplicate candidates (MinHash bands)",
            lambda s, a: enrichment.candidate_signatures(s, a.article_id, a.bands),
            None,
        ),
        (
            "link resolution, both ways (lock, outgoing, incoming)",
            lambda s, a: graph.resolve_links(s, a.article_id, a.canonical_hash),
            _unresolve_links,
        ),
        (
            "comment diff (stored comments of the article, then the merge's writes)",
            lambda s, a: articles.upsert_comments(s, a.article_id, [], complete=True),
            None,
        ),
        ("frontier: lock the URLs a stage claims", lambda s, a: frontier.lock_urls(s, a.url_ids), None),
        ("frontier: due re-polls (claim_due_repolls)", lambda s, a: frontier.claim_due_repolls(s), None),
        ("sweep: due_for_dispatch", lambda s, a: frontier.due_for_dispatch(s, stale_after=stale), None),
        ("sweep: due feeds", lambda s, a: feeds.due_feeds(s, stale_after=stale), None),
        ("API: GET /articles (first page)", lambda s, a: listing.list_articles(s, listing.ArticleFilter()), None),
        (
            "API: GET /articles?site=",
            lambda s, a: listing.list_articles(s, listing.ArticleFilter(site=a.host), before_id=a.article_id),
            None,
        ),
        ("API: GET /articles?tag=", lambda s, a: listing.list_articles(s, listing.ArticleFilter(tag=a.tag)), None),
        (
            "API: GET /articles?tag= (a key phrase on no article as a tag)",
            lambda s, a: listing.list_articles(s, listing.ArticleFilter(tag=a.unused_tag)),
            None,
        ),
        (
            "API: GET /articles?since=",
            lambda s, a: listing.list_articles(s, listing.ArticleFilter(since=a.since)),
            None,
        ),
        (
            "API: GET /articles?entity=",
            lambda s, a: listing.list_articles(s, listing.ArticleFilter(entity=a.entity)),
            None,
        ),
        ("API: GET /articles/{id}", lambda s, a: views.article_detail(s, a.article_id), None),
        ("API: GET /articles/{id}/comments/events", lambda s, a: listing.comment_events(s, a.article_id), None),
        ("API: GET /search?q=", lambda s, a: search.search_articles(s, "tillerson mexico"), None),
    ]


@contextmanager
def _recording(session: Session) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters[0] if executemany and parameters else parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def explain_all(database_url: str, only: str | None = None) -> tuple[Sample, list[Explained]]:
    """Run every hot query (or those whose name contains `only`) and explain what it sent."""
    engine = engine_for(database_url)
    with Session(engine) as session:
        sample = pick_sample(session)
        session.rollback()
    with engine.connect() as conn:
        big = dict(conn.execute(text("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")).all())
    out: list[Explained] = []
    for name, call, prepare in hot_queries():
        if only and only.lower() not in name.lower():
            continue
        with Session(engine) as session:
            if prepare:
                prepare(session, sample)
                session.flush()
            with _recording(session) as statements:
                call(session, sample)
                session.flush()
            session.rollback()
        settings: list[tuple[str, Any]] = []  # the transaction's planner settings, replayed before each EXPLAIN
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith("SET ") or "set_config(" in statement:
                settings.append((statement, parameters))
            if not statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
                continue  # SET LOCAL, savepoints: nothing to explain
            with Session(engine) as session:
                if prepare:
                    prepare(session, sample)
                    session.flush()
                conn = session.connection()
                for setting, values in settings:
                    conn.exec_driver_sql(setting, values if values else ())
                rows = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters if parameters else ()
                ).all()
                session.rollback()
            plan = "\n".join(r[0] for r in rows)
            match = re.search(r"Execution Time: ([\d.]+) ms", plan)
            scans = sorted(t for t in set(re.findall(r"Seq Scan on (\w+)", plan)) if big.get(t, 0) >= BIG_TABLE)
            out.append(Explained(name, statement, plan, float(match.group(1)) if match else 0.0, scans))
    return sample, out


def report(database_url: str, sample: Sample, explained: list[Explained]) -> str:
    """Markdown: the store's size, a summary line per statement, then every plan."""
    engine = engine_for(database_url)
    with engine.connect() as conn:
        articles = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    lines = [
        f"Store: {articles:,} articles, {size / 2**30:.1f} GiB; sample article {sample.article_id} "
        f"(host {sample.host}, tag {sample.tag}, {len(sample.bands)} bands); {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"| query | statement | execution ms | whole-table scans (tables of {BIG_TABLE:,}+ rows) |",
        "|---|---|---|---|",
    ]
    for e in explained:
        first = " ".join(e.sql.split())[:90].replace("|", "\\|")
        lines.append(f"| {e.query} | `{first}` | {e.ms:.2f} | {', '.join(e.seq_scans) or 'none'} |")
    for e in explained:
        lines += ["", f"#### {e.query}", "", "```sql", " ".join(e.sql.split()), "```", "", "```", e.plan, "```"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Explain the hot queries on the store at DATABASE_URL and print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.hot_queries", description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("--only", help="only the queries whose name contains this")
    args = parser.parse_args(argv)
    sample, explained = explain_all(args.database_url, args.only)
    print(report(args.database_url, sample, explained))
    return 0


if __name__ == "__main__":
    sys.exit(main())
