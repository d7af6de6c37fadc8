"""Pre-fill a Postgres store to N articles in minutes (`make bench-pipeline ARGS="--stored N"`).

The rows come from a real store that the pipeline filled (the template: in the benchmark, the
empty-store run of the same invocation), so every table gets what the generated site really
produces per article: urls, fetches with their bodies, articles with revisions and images, tags
and key phrases, entities, related and duplicate links, MinHash fingerprints and bands, comments
with versions and events, comment threads. The template is copied into the target once, then
replicated server-side with `INSERT ... SELECT ... CROSS JOIN generate_series` (no row passes
through Python), one copy `k` per template-sized block of articles:

- ids are offset per table (and every reference to them: foreign keys, `urls.article_id`,
  `urls.last_fetch_id`), so copy k is a closed graph of its own: its links resolve inside it;
- URL hashes, canonical hashes and link target hashes are re-hashed with k (the same function
  everywhere, so resolved and waiting links stay consistent); URLs move to `https://s{k % 20}.example/c{k}/...`
  and the host column to `s{k % 20}.example`: 20 sites, no clash with the site the benchmark fetches;
- MinHash band keys are re-hashed with k: copies are not near-duplicates of each other (a real
  store's articles mostly are not), so a new article's candidate lookup finds what it would in a real store;
- every time is moved back by (copies - 1 - k) hours: the last copy has the template's times and the
  first is the oldest, so ids and dates grow together as in a real store; no copy is due for a re-poll;
- tags, entities and feeds are shared rows, kept once as the template has them (a real store's tag
  set grows much slower than its articles).

Postgres only; the target must hold no articles yet (a freshly migrated database).
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy import Table
from sqlalchemy.engine import make_url

from shared.models import Base, UTCDateTime

SHARED_TABLES = frozenset({"tags", "entities", "feeds"})
# References to ids without a declared foreign key.
EXTRA_REFERENCES = {("urls", "article_id"): "articles", ("urls", "last_fetch_id"): "fetches"}
REHASHED = frozenset({("urls", "url_hash"), ("articles", "canonical_hash"), ("links", "target_hash")})
URL_COLUMNS = frozenset(
    {
        ("urls", "url"),
        ("articles", "canonical_url"),
        ("articles", "record"),
        ("fetches", "final_url"),
        ("links", "target_url"),
        ("comment_fetches", "url"),
        ("comment_threads", "thread"),
    }
)
HOST_COLUMNS = frozenset({("urls", "host"), ("articles", "host")})
BAND_COLUMNS = frozenset({("fingerprint_bands", "band")})
NULLED = frozenset({("urls", "repoll_at"), ("urls", "feed_id")})
SITES = 20
CHUNK_ARTICLES = 20_000  # articles per statement and commit


class FillError(Exception):
    """The store cannot be filled: `reason` says why (not_empty, empty_template)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class FillResult:
    """What a fill stored: articles, template copies, seconds (copying, then VACUUM ANALYZE), rows per table."""

    articles: int
    copies: int
    seconds: float
    analyze_seconds: float
    rows: dict[str, int]


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def copied_tables() -> list[Table]:
    """The tables filled per article, parents before children."""
    return [t for t in Base.metadata.sorted_tables if t.name not in SHARED_TABLES]


def fill_store(
    template_url: str, target_url: str, articles: int, *, analyze: bool = True, workers: int = 2
) -> FillResult:
    """Fill the empty store at `target_url` with at least `articles` articles, copies of the
    template's (rounded up to whole copies), `workers` connections at once. Indexes other than
    primary keys and unique constraints are dropped for the load and built again after (a bulk build
    is many times cheaper than row-by-row upkeep, the full-text GIN index most of all); VACUUM
    ANALYZE at the end, so plans and visibility maps are those of a settled store and autovacuum
    does not start during a measured run."""
    started = time.perf_counter()
    with psycopg.connect(libpq_url(template_url)) as src, psycopg.connect(libpq_url(target_url)) as dst:
        per_copy = src.execute("SELECT count(*) FROM articles").fetchone()[0]
        if not per_copy:
            raise FillError("empty_template", "the template store holds no articles")
        if dst.execute("SELECT count(*) FROM articles").fetchone()[0]:
            raise FillError("not_empty", "the target store holds articles already")
        origins = [
            r[0]
            for r in src.execute(
                "SELECT DISTINCT substring(url from '^[a-z]+://[^/]+') FROM urls WHERE url ~ '^[a-z]+://[^/]+'"
            )
        ]
        strides = _load_template(src, dst)
        indexes = _drop_secondary_indexes(dst)
        _set_autovacuum(dst, enabled=False)  # it would scan the tables while they grow; VACUUM runs after
        dst.commit()
        copies = -(-articles // per_copy)
        step = max(1, CHUNK_ARTICLES // per_copy)
        chunks: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
        for first in range(0, copies, step):
            chunks.put((first, min(copies, first + step) - 1))
        statements = [_copy_statement(t, strides, origins) for t in copied_tables() if strides.get(t.name) is not None]
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_copy_chunks, args=(target_url, statements, chunks, copies, errors))
            for _ in range(max(1, workers))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        dst.execute("SET maintenance_work_mem = '512MB'")
        for statement in indexes:
            dst.execute(statement)
        _set_autovacuum(dst, enabled=True)
        for table in Base.metadata.sorted_tables:
            dst.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(f"_fill_{table.name}")))
            dst.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({t}, 'id'), coalesce(max(id), 0) + 1, false) FROM {i}"
                ).format(t=sql.Literal(table.name), i=sql.Identifier(table.name))
            )
        dst.commit()
    copied = time.perf_counter() - started
    if analyze:
        with psycopg.connect(libpq_url(target_url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    with psycopg.connect(libpq_url(target_url)) as conn:
        rows = {
            t.name: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t.name))).fetchone()[0]
            for t in Base.metadata.sorted_tables
        }
    return FillResult(
        rows["articles"], copies, round(copied, 1), round(time.perf_counter() - started - copied, 1), rows
    )


def _copy_chunks(
    target_url: str,
    statements: list[sql.Composed],
    chunks: queue.SimpleQueue[tuple[int, int]],
    copies: int,
    errors: list[BaseException],
) -> None:
    """One loading connection: takes ranges of copies until none is left, one transaction each."""
    try:
        with psycopg.connect(libpq_url(target_url)) as conn:
            conn.execute("SET synchronous_commit = off")
            conn.commit()
            _skip_foreign_key_checks(conn)
            while not errors:
                try:
                    first, last = chunks.get_nowait()
                except queue.Empty:
                    return
                for statement in statements:
                    conn.execute(statement, {"first": first, "last": last, "copies": copies})
                conn.commit()
    except BaseException as exc:  # handed to the caller's thread, which raises it
        errors.append(exc)


def _drop_secondary_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the indexes of the copied tables that back no constraint; returns what builds them again."""
    rows = conn.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        WHERE c.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        """,
        ([t.name for t in copied_tables()],),
    ).fetchall()
    for name, _ in rows:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))  # regclass text: quoted as needed
    return [definition for _, definition in rows]


def _set_autovacuum(conn: psycopg.Connection, *, enabled: bool) -> None:
    """Turn autovacuum off for the copied tables and their TOAST tables, or back to the server's setting."""
    for table in copied_tables():
        name = sql.Identifier(table.name)
        if enabled:
            conn.execute(sql.SQL("ALTER TABLE {} RESET (autovacuum_enabled, toast.autovacuum_enabled)").format(name))
        else:
            conn.execute(
                sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)").format(
                    name
                )
            )


def _skip_foreign_key_checks(conn: psycopg.Connection) -> None:
    """Every reference of a copy points inside that copy, so checking each row is wasted work
    (replica mode needs superuser; without it the checks just run)."""
    try:
        with conn.transaction():
            conn.execute("SET session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        pass


def _load_template(src: psycopg.Connection, dst: psycopg.Connection) -> dict[str, int | None]:
    """Copy every template table into `_fill_<table>` of the target (shared ones into the real table);
    returns the id stride of each copied table (its largest template id), None when it is empty."""
    strides: dict[str, int | None] = {}
    for table in Base.metadata.sorted_tables:
        cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)
        name = table.name if table.name in SHARED_TABLES else f"_fill_{table.name}"
        if table.name not in SHARED_TABLES:
            dst.execute(
                sql.SQL("CREATE UNLOGGED TABLE {n} AS SELECT {c} FROM {t} WITH NO DATA").format(
                    n=sql.Identifier(name), c=cols, t=sql.Identifier(table.name)
                )
            )
        source = sql.SQL("COPY (SELECT {c} FROM {t} ORDER BY id) TO STDOUT (FORMAT BINARY)").format(
            c=cols, t=sql.Identifier(table.name)
        )
        sink = sql.SQL("COPY {n} ({c}) FROM STDIN (FORMAT BINARY)").format(n=sql.Identifier(name), c=cols)
        with src.cursor().copy(source) as out, dst.cursor().copy(sink) as into:
            for data in out:
                into.write(data)
        if table.name not in SHARED_TABLES:
            strides[table.name] = dst.execute(
                sql.SQL("SELECT max(id) FROM {}").format(sql.Identifier(name))
            ).fetchone()[0]
    return strides


def _copy_statement(table: Table, strides: dict[str, int | None], origins: list[str]) -> sql.Composed:
    """INSERT copies first..last of the template table, each column rewritten for copy k; copy by
    copy, each in the template's id order (the lateral scan keeps it: no sort of the copied rows)."""
    exprs = [_column_expression(table, column.name, strides, origins) for column in table.columns]
    return sql.SQL(
        "INSERT INTO {t} ({c}) SELECT {e} FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS k"
        " CROSS JOIN LATERAL (SELECT * FROM {tpl} WHERE k >= 0) AS t"
    ).format(
        t=sql.Identifier(table.name),
        c=sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns),
        e=sql.SQL(", ").join(exprs),
        tpl=sql.Identifier(f"_fill_{table.name}"),
    )


def _column_expression(table: Table, name: str, strides: dict[str, int | None], origins: list[str]) -> sql.Composable:
    col = sql.SQL("t.{}").format(sql.Identifier(name))
    key = (table.name, name)
    column = table.columns[name]
    referenced = EXTRA_REFERENCES.get(key)
    for fk in column.foreign_keys:
        referenced = fk.column.table.name
    if name == "id":
        referenced = table.name
    if key in NULLED:
        return sql.SQL("NULL")
    if referenced is not None and referenced not in SHARED_TABLES:
        return sql.SQL("{c} + k * {s}").format(c=col, s=sql.Literal(strides.get(referenced) or 0))
    if key in REHASHED:
        return sql.SQL("encode(sha256(convert_to(k || ':' || {c}, 'UTF8')), 'hex')").format(c=col)
    if key in BAND_COLUMNS:
        return sql.SQL("('x' || left(md5(k || ':' || {c}), 16))::bit(64)::bigint").format(c=col)
    if key in HOST_COLUMNS:
        return sql.SQL("'s' || (k %% {n}) || '.example'").format(n=sql.Literal(SITES))
    if key in URL_COLUMNS:
        expr: sql.Composable = sql.SQL("{c}::text").format(c=col)
        for origin in origins:
            expr = sql.SQL("replace({e}, {o}, 'https://s' || (k %% {n}) || '.example/c' || k)").format(
                e=expr, o=sql.Literal(origin), n=sql.Literal(SITES)
            )
        return sql.SQL("({e})::{t}").format(e=expr, t=sql.SQL("jsonb" if name == "record" else "text"))
    if isinstance(column.type, UTCDateTime):
        return sql.SQL("{c} - (%(copies)s::bigint - 1 - k) * interval '1 hour'").format(c=col)
    return col


def main(argv: list[str] | None = None) -> int:
    """Fill a store from a template store (both Postgres URLs) and print the rows per table."""
    parser = argparse.ArgumentParser(prog="python -m bench.store_fill", description=__doc__)
    parser.add_argument("template_url")
    parser.add_argument("target_url")
    parser.add_argument("articles", type=int)
    parser.add_argument("--no-analyze", action="store_true")
    args = parser.parse_args(argv)
    result = fill_store(args.template_url, args.target_url, args.articles, analyze=not args.no_analyze)
    print(f"{result.articles} articles ({result.copies} copies) in {result.seconds}s + {result.analyze_seconds}s")
    for name, count in result.rows.items():
        print(f"  {name}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
