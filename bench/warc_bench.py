"""WARC import throughput (`make bench-warc`): the import step against the parsing it feeds.

Builds a WARC of N records (default 1,000; gzip per record, as CC-NEWS ships them, with CC's headers)
from the 127 real pages of tests/fixtures/realpages, each page several times under distinct URLs, then
measures, on Postgres and Redis (throwaway servers from tests/helpers/servers.py unless given):

1. the readers alone over the file: newsflow's (warcio, every check), warcio's bare iterator and
   FastWARC's (the library it was chosen against), best of three;
2. the import step: what `newsflow import-warc` does (read, store each capture as a fetch in
   Postgres, publish a parse message per page to Redis), first record to last publish;
3. the parsing it hands on: the parse stage handler a parse worker runs for each imported URL (load
   the body, parse, write the article and comments), in this process, one after another.

Prints both and their ratio; the target is an import step of at most 10% of the parse time.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
PAGES = REPO / "tests" / "fixtures" / "realpages"
T0 = datetime(2024, 6, 1, tzinfo=UTC)


def build_warc(path: Path, records: int) -> int:
    """Write `records` HTML responses (real pages, cycled, each under its own URL); returns body bytes."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.timeutils import datetime_to_iso_date
    from warcio.warcwriter import WARCWriter

    cases = [json.loads(line) for line in (PAGES / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    pages = [(c["url"], gzip.decompress((PAGES / "pages" / f"{c['id']}.html.gz").read_bytes())) for c in cases]
    total = 0
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i in range(records):
            url, body = pages[i % len(pages)]
            url = _copy_url(url, i)
            when = T0 + timedelta(seconds=i)
            http = StatusAndHeaders(
                "200 OK",
                [
                    ("Date", when.strftime("%a, %d %b %Y %H:%M:%S GMT")),
                    ("Server", "nginx"),
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("X-Crawler-Content-Encoding", "gzip"),
                    ("Content-Length", str(len(body))),
                ],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": datetime_to_iso_date(when.replace(tzinfo=None))},
            )
            writer.write_record(record)
            total += len(body)
    return total


def _copy_url(url: str, i: int) -> str:
    """The page's real URL with a query parameter that makes each record's URL its own."""
    parts = urlsplit(url)
    query = f"{parts.query}&nf_copy={i}" if parts.query else f"nf_copy={i}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    """The shortest of `runs` timings of `work` and its last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def read_newsflow(path: Path) -> int:
    from services.ingest.warc import read_captures
    from shared.records import Capture

    with path.open("rb") as stream:
        return sum(isinstance(i, Capture) for i in read_captures(stream, max_body_bytes=10 * 2**20))


def read_warcio(path: Path) -> int:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                record.http_headers.get_statuscode()
                record.content_stream().read()
                n += 1
    return n


def read_fastwarc(path: Path) -> int | None:
    try:
        from fastwarc.warc import ArchiveIterator, WarcRecordType
    except ImportError:
        return None
    n = 0
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.response, auto_decode="all"):
            _ = record.http_headers.status_code
            record.reader.read()
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    """Build the WARC, time the readers, the import step and the parse stage; print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--postgres-url", help="an admin URL (may create databases); default: a throwaway server")
    parser.add_argument("--redis-url", help="a Redis database the bench may flush; default: a throwaway server")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    sys.path.insert(0, str(REPO))

    with tempfile.TemporaryDirectory(prefix="newsflow-warc-bench-") as tmp:
        work = Path(tmp)
        warc = work / "bench.warc.gz"
        body_bytes = build_warc(warc, args.records)
        print(
            f"WARC: {args.records} response records of real pages (127 pages, {body_bytes / args.records / 1024:.0f}"
            f" KiB per page on average), {warc.stat().st_size / 2**20:.1f} MiB gzip per record"
        )
        print("\nreaders, best of 3 (read every record's payload):")
        for name, reader in (
            ("newsflow (warcio, with its checks)", read_newsflow),
            ("warcio ArchiveIterator", read_warcio),
            ("fastwarc ArchiveIterator", read_fastwarc),
        ):
            seconds, n = best_of(3, lambda reader=reader: reader(warc))
            if n is None:
                print(f"  {name:<36} not installed (pip install fastwarc)")
                continue
            print(f"  {name:<36} {seconds:6.2f} s  {seconds / args.records * 1000:6.2f} ms/record  ({n} pages)")
        (import_s, import_cpu), (parse_s, parse_cpu), failures = run_store_phases(args, warc, work)

    n = args.records
    print(f"\n{'':38} {'wall s':>8} {'ms/record':>10} {'CPU s':>8} {'ms/record':>10}")
    for name, wall, cpu in (
        ("import step (read + store + publish)", import_s, import_cpu),
        ("parse stage over the same records", parse_s, parse_cpu),
    ):
        print(f"{name:<38} {wall:8.2f} {wall / n * 1000:10.2f} {cpu:8.2f} {cpu / n * 1000:10.2f}")
    print(f"({failures} pages failed to parse: permanent parse errors, recorded as for a live fetch)")
    ratio, cpu_ratio = import_s / parse_s, import_cpu / parse_cpu
    verdict = "met" if ratio <= 0.10 else "NOT met"
    print(f"import / parse = {ratio:.3f} wall, {cpu_ratio:.3f} CPU of this process  (target <= 0.10 wall: {verdict})")
    return 0


Timing = tuple[float, float]  # (wall seconds, CPU seconds of this process)


def run_store_phases(args: argparse.Namespace, warc: Path, work: Path) -> tuple[Timing, Timing, int]:
    """Import the WARC into a fresh Postgres database publishing to Redis, then run the parse stage
    handler over every imported URL; returns the import's and the parse's timings and parse failures.
    CPU time leaves out the servers' (Postgres does more for parse, which writes more)."""
    from tests.helpers.databases import create_database, drop_database
    from tests.helpers.servers import PostgresServer, RedisServer

    pg = redis = None
    try:
        admin_url = args.postgres_url
        if admin_url is None:
            pg = PostgresServer(work).start()
            admin_url = pg.admin_url
        redis_url = args.redis_url
        if redis_url is None:
            redis = RedisServer(work).start()
            redis_url = redis.url(1)
        db_url = create_database(admin_url, f"newsflow_warc_bench_{uuid.uuid4().hex[:8]}")
        # Settings and the Celery app are read from the environment when first imported.
        os.environ.update(NEWSFLOW_DATABASE_URL=db_url, NEWSFLOW_BROKER_URL=redis_url, NEWSFLOW_REDIS_URL=redis_url)
        from shared.config import get_settings

        get_settings.cache_clear()
        try:
            return _import_then_parse(db_url, redis_url, warc)
        finally:
            from shared.db import engine_for

            engine_for(db_url).dispose()
            drop_database(admin_url, db_url)
    finally:
        if redis is not None:
            redis.stop()
        if pg is not None:
            pg.destroy()


def _import_then_parse(db_url: str, redis_url: str, warc: Path) -> tuple[Timing, Timing, int]:
    import redis as redis_lib
    from sqlalchemy import select

    from services.ingest.archives import WarcImporter
    from services.parse.stages import parse_page
    from shared.config import get_settings
    from shared.db import session_scope, upgrade_database
    from shared.models import Url

    upgrade_database(db_url)
    settings = get_settings()
    importer = WarcImporter(settings)
    started, cpu = time.perf_counter(), time.process_time()
    importer.import_source(str(warc))
    importer.finish()
    import_s, import_cpu = time.perf_counter() - started, time.process_time() - cpu
    report = importer.report.to_dict()
    broker = redis_lib.Redis.from_url(redis_url)
    queued_messages = broker.llen("parse")
    broker.flushdb()
    broker.close()
    print(
        f"\nimported: {report['captures']} captures, {report['queued']} queued for parse"
        f" ({queued_messages} parse messages on the broker)"
    )

    with session_scope(db_url) as session:
        url_ids = list(session.execute(select(Url.id).where(Url.state == "fetched").order_by(Url.id)).scalars())
    parse_page(url_ids[0])  # warm: profiles, selectors, trafilatura's config, as a running worker has them
    timings, failures = [], 0
    cpu = time.process_time()
    for url_id in url_ids[1:]:
        started = time.perf_counter()
        try:
            parse_page(url_id)
        except Exception:
            failures += 1  # a worker records these as permanent failures; the time was spent all the same
        timings.append(time.perf_counter() - started)
    parse_cpu = (time.process_time() - cpu) * len(url_ids) / len(timings)
    parse_s = sum(timings) * len(url_ids) / len(timings)
    print(
        f"parse stage: median {statistics.median(timings) * 1000:.1f} ms/page,"
        f" p95 {sorted(timings)[int(len(timings) * 0.95)] * 1000:.1f} ms"
    )
    return (import_s, import_cpu), (parse_s, parse_cpu), failures


if __name__ == "__main__":
    sys.exit(main())
