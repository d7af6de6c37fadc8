"""The `newsflow` command: queue URLs and feeds, run the pipeline, inspect the store.

Bad input and unreachable services end in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.exc import SQLAlchemyError

from shared.config import Settings, get_settings
from shared.errors import InvalidURLError, NewsflowError, NotFoundError, StoreUnavailableError

EXIT_USAGE, EXIT_FAILURE = 2, 1


class CliError(Exception):
    """A one-line message for the user and an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE):
        super().__init__(message)
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from shared.logs import configure_logging

    # Long-running services log JSON lines (task, url, reason); interactive commands keep short text.
    service = args.command in ("worker", "beat", "api")
    configure_logging(os.environ.get("NEWSFLOW_LOG_LEVEL", "INFO" if service else "WARNING"), structured=service)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up chatter is not ours to show
    try:
        settings = get_settings()
    except Exception as exc:
        print(f"newsflow: error: bad configuration: {exc}".splitlines()[0], file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args, settings) or 0)
    except CliError as exc:
        print(f"newsflow: error: {exc}", file=sys.stderr)
        return exc.code
    except StoreUnavailableError as exc:
        print(
            f"newsflow: error: database unreachable ({_safe_url(settings.database_url)}): {exc.detail}".splitlines()[0],
            file=sys.stderr,
        )
        return EXIT_FAILURE
    except SQLAlchemyError as exc:
        print(f"newsflow: error: database error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_FAILURE
    except NewsflowError as exc:
        print(f"newsflow: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, InvalidURLError | NotFoundError) else EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="newsflow", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("enqueue", help="queue article URLs for fetching")
    p.add_argument("urls", nargs="*", metavar="URL")
    p.add_argument("--file", help="read URLs from a file, one per line ('-' for stdin)")
    p.add_argument("--priority", type=int, default=0)
    p.add_argument(
        "--repoll",
        metavar="SCHEDULE",
        help="this URL's own re-poll schedule, e.g. '48h=30m' or 'off' (default: global)",
    )
    p.set_defaults(func=cmd_enqueue)

    feeds = sub.add_parser("feeds", help="register and list feeds").add_subparsers(dest="feeds_command", required=True)
    p = feeds.add_parser("add", help="register a feed (RSS, Atom, JSON Feed, sitemap or a home page linking one)")
    p.add_argument("urls", nargs="+", metavar="URL")
    p.set_defaults(func=cmd_feeds_add)
    p = feeds.add_parser("poll", help="poll registered feeds now (also un-parks them)")
    p.add_argument("urls", nargs="+", metavar="URL")
    p.set_defaults(func=cmd_feeds_poll)
    p = feeds.add_parser("list", help="list feeds and their polling state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feeds_list)

    p = sub.add_parser("run", help="run every stage in this process (the embedded mode)")
    p.add_argument("--until-idle", action="store_true", help="stop when nothing is left to do")
    p.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("worker", help="start a Celery worker on one service's queues")
    p.add_argument("service", choices=["ingest", "parse", "enrich"])
    p.add_argument("--concurrency", type=int, default=None)
    p.add_argument("--pool", default="prefork")
    p.add_argument("--loglevel", default="INFO")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("beat", help="start the scheduler (sweep of stalled items, due feeds)")
    p.add_argument("--loglevel", default="INFO")
    p.set_defaults(func=cmd_beat)

    p = sub.add_parser("repoll", help="re-poll stored articles for new, edited and removed comments and revisions")
    p.add_argument("urls", nargs="*", metavar="URL", help="these articles (default: every article still on a schedule)")
    p.add_argument("--now", action="store_true", help="dispatch at once instead of at the scheduler's next pass")
    p.set_defaults(func=cmd_repoll)

    p = sub.add_parser("status", help="URL counts per state and failures by reason")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("show", help="everything stored for an article")
    p.add_argument("url")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("parse", help="parse saved HTML pages offline into JSON records, one per line")
    p.add_argument("paths", nargs="*", metavar="PATH", help="HTML files, '-' for stdin")
    p.add_argument("--url", help="the page's URL (to resolve links and read dates); one PATH only")
    p.add_argument(
        "--jobs",
        metavar="FILE",
        help='JSON lines {"url": ..., "path": ...} (optional "content_type"), \'-\' for stdin: many pages, one process',
    )
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("api", help="serve the HTTP API with uvicorn")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--generate-token", action="store_true", help="print a fresh NEWSFLOW_API_TOKEN and exit")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser("import-warc", help="import the HTML pages of web archives (WARC) as fetches, then parse them")
    p.add_argument("sources", nargs="+", metavar="PATH|URL", help="WARC files (.warc.gz gzip per record, or .warc)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="take at most N HTML captures")
    p.add_argument(
        "--filter-host", action="append", default=[], metavar="HOST", help="only this host and its subdomains (repeat)"
    )
    p.add_argument("--since", metavar="DATE", help="only captures made at or after DATE (ISO 8601, UTC by default)")
    p.add_argument(
        "--repoll",
        default="off",
        metavar="SCHEDULE",
        help="re-poll schedule of URLs the import adds: 'off' (default: archived pages are not fetched live), "
        "'default' (the global one) or tiers like '48h=1h'",
    )
    p.add_argument(
        "--wait", type=float, default=600.0, metavar="S", help="seconds to wait for workers on a page captured twice"
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_import_warc)

    p = sub.add_parser("export-warc", help="write every stored fetch as a WARC file (gzip per record for .gz)")
    p.add_argument("out", metavar="OUT.warc.gz")
    p.add_argument("--since", metavar="DATE", help="only fetches first made at or after DATE")
    p.add_argument("--host", action="append", default=[], metavar="HOST", help="only this host and its subdomains")
    p.set_defaults(func=cmd_export_warc)

    p = sub.add_parser(
        "prune-fetches",
        help="apply the fetch-body retention to the whole store now (articles, comments and versions stay)",
    )
    p.add_argument(
        "--keep", type=int, metavar="N", help="bodies kept per URL, besides the parsed one (NEWSFLOW_FETCH_BODIES_KEEP)"
    )
    p.add_argument("--batch", type=int, default=1000, metavar="N", help="URLs per transaction (default 1000)")
    p.set_defaults(func=cmd_prune_fetches)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="migrate the store to the newest schema")
    p.set_defaults(func=cmd_db_upgrade)
    return parser


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


def ensure_schema(settings: Settings) -> None:
    """Migrate an embedded SQLite store on first use; a server database must be migrated explicitly."""
    from shared.db import is_migrated, upgrade_database

    try:
        migrated = is_migrated(settings.database_url)
    except SQLAlchemyError as exc:
        raise StoreUnavailableError(detail=str(exc).splitlines()[0]) from exc
    if migrated and not settings.database_url.startswith("sqlite"):
        return
    if settings.database_url.startswith("sqlite"):
        upgrade_database(settings.database_url)
        return
    raise CliError("the database has no newsflow schema: run `newsflow db upgrade` first")


def _read_urls(args: argparse.Namespace) -> list[str]:
    urls = list(args.urls)
    if args.file:
        try:
            text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot read {args.file}: {exc.strerror}", EXIT_USAGE) from None
        except UnicodeDecodeError:
            raise CliError(f"{args.file} is not UTF-8 text", EXIT_USAGE) from None
        urls.extend(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    if not urls:
        raise CliError("no URLs given (pass URLs or --file PATH)", EXIT_USAGE)
    return urls


def _validate(urls: Iterable[str]) -> list[str]:
    from shared.urls import canonicalize_url

    bad = []
    for url in urls:
        try:
            canonicalize_url(url)
        except InvalidURLError as exc:
            bad.append(exc.detail)
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise CliError(f"invalid URL: {bad[0]}{more}; nothing was queued", EXIT_USAGE)
    return list(urls)


def _publish(settings: Settings, items: list[tuple[str, int]]) -> None:
    from shared.dispatch import BrokerUnavailableError, publish_items

    try:
        publish_items(settings, items)
    except BrokerUnavailableError as exc:
        raise CliError(
            f"{exc.detail}; the items are stored and the scheduler's sweep will dispatch them once the broker is back"
        ) from None


def _check_repoll(schedule: str, settings: Settings) -> None:
    from shared.errors import ConfigError
    from shared.repoll import RepollPolicy

    try:
        RepollPolicy.parse(schedule, settings.repoll_stop_unchanged)
    except ConfigError as exc:
        raise CliError(f"bad --repoll: {exc.detail}", EXIT_USAGE) from None


def cmd_enqueue(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import write_transaction
    from shared.store import frontier

    urls = _validate(_read_urls(args))
    if args.repoll is not None:
        _check_repoll(args.repoll, settings)
    ensure_schema(settings)
    queued = write_transaction(
        lambda s: frontier.enqueue_urls(s, urls, priority=args.priority, repoll_schedule=args.repoll),
        stage="cli",
        url=settings.database_url,
    )
    new = [q for q in queued if q.created]
    _publish(settings, [("fetch", q.url_id) for q in new])
    for q in queued:
        print(f"{q.url_id}\t{'queued' if q.created else 'known'}\t{q.url}")
    if settings.embedded and new:
        print("run `newsflow run --until-idle` to process them (embedded mode)", file=sys.stderr)
    return 0


def cmd_feeds_add(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import write_transaction
    from shared.store import feeds

    urls = _validate(args.urls)
    ensure_schema(settings)
    added = write_transaction(lambda s: feeds.add_feeds(s, urls), stage="cli", url=settings.database_url)
    _publish(settings, [("feed", a.feed_id) for a in added])
    for a in added:
        print(f"{a.feed_id}\t{'added' if a.created else 'known'}\t{a.url}")
    return 0


def cmd_feeds_poll(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import session_scope
    from shared.store import feeds

    urls = _validate(args.urls)
    ensure_schema(settings)
    with session_scope(settings.database_url) as session:
        found = {u: feeds.find_feed(session, u) for u in urls}
        unknown = [u for u, feed in found.items() if feed is None]
        if unknown:
            raise CliError(f"unknown feed: {unknown[0]} (register it with `newsflow feeds add`)", EXIT_USAGE)
        ids = [a.feed_id for a in feeds.add_feeds(session, urls)]
        feeds.make_due(session, ids)
    _publish(settings, [("feed", feed_id) for feed_id in ids])
    print(f"{len(ids)} feed(s) due for a poll now")
    return 0


def cmd_feeds_list(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import session_scope
    from shared.store import feeds

    ensure_schema(settings)
    with session_scope(settings.database_url) as session:
        rows = [
            {
                "id": f.id,
                "url": f.url,
                "title": f.title,
                "state": "parked" if f.parked else ("failing" if f.error_count else "ok"),
                "error_count": f.error_count,
                "last_error_reason": f.last_error_reason,
                "entries_seen": f.entries_seen,
                "last_success_at": f.last_success_at.isoformat() if f.last_success_at else None,
                "next_check_at": f.next_check_at.isoformat(),
            }
            for f in feeds.list_feeds(session)
        ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        print(f"{r['id']}\t{r['state']}\t{r['entries_seen']} entries\t{r['last_error_reason'] or '-'}\t{r['url']}")
    return 0


def stage_handlers() -> dict[str, Any]:
    """Every stage's handler by short name, for the embedded runner."""
    from services.enrich import stages as enrich
    from services.ingest import stages as ingest
    from services.parse import stages as parse

    return {
        "fetch": ingest.fetch_url,
        "feed": ingest.poll_feed,
        "parse": parse.parse_page,
        "comments": ingest.fetch_comments,
        "comments_parse": parse.parse_comments,
        "enrich": enrich.enrich_article,
        "links": enrich.resolve_links,
    }


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from shared.embedded import LocalRunner

    if not settings.embedded:
        raise CliError("`newsflow run` is the embedded mode; with a broker configured start `newsflow worker ...`")
    ensure_schema(settings)
    deadline = time.monotonic() + args.timeout if args.timeout else None
    counts = LocalRunner(settings, stage_handlers()).run(until_idle=args.until_idle, deadline=deadline)
    summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing to do"
    print(f"processed: {summary}")
    return cmd_status(argparse.Namespace(json=False), settings)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from shared.pipeline import QUEUES_BY_SERVICE

    if settings.embedded:
        raise CliError("no broker configured: set NEWSFLOW_BROKER_URL (e.g. redis://localhost:6379/0)", EXIT_USAGE)
    if settings.metrics_port and args.pool == "prefork":
        from shared.exporter import prepare_multiprocess_dir

        prepare_multiprocess_dir(settings, f"{args.service}-{settings.metrics_port}")  # before prometheus_client
    from shared.celery_app import app
    from shared.db import ping_only_idle_connections

    ping_only_idle_connections()  # a task meeting a dropped connection is retried (shared/db.py)
    argv = [
        "worker",
        f"--queues={','.join(QUEUES_BY_SERVICE[args.service])}",
        f"--hostname={args.service}@%h",
        f"--loglevel={args.loglevel}",
        f"--pool={args.pool}",
        "--without-gossip",
        "--without-mingle",
        # Worker heartbeats are events for monitors (flower); nothing in newsflow reads them, and with
        # task events off they only cost broker writes every few seconds per worker.
        "--without-heartbeat",
    ]
    if args.concurrency:
        argv.append(f"--concurrency={args.concurrency}")
    app.worker_main(argv)
    return 0


def cmd_beat(args: argparse.Namespace, settings: Settings) -> int:
    if settings.embedded:
        raise CliError("no broker configured: set NEWSFLOW_BROKER_URL", EXIT_USAGE)
    from shared.celery_app import app

    if settings.metrics_port:
        from shared.exporter import serve_stack_metrics

        serve_stack_metrics(settings)  # queue depths and freshness, read once per scrape for the whole stack
    app.start(["beat", f"--loglevel={args.loglevel}", "--schedule=/tmp/newsflow-beat-schedule"])
    return 0


def cmd_repoll(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import session_scope
    from shared.store import frontier

    _validate(args.urls)
    ensure_schema(settings)
    with session_scope(settings.database_url) as session:
        ids = None
        if args.urls:
            rows = {u: frontier.find_url(session, u) for u in args.urls}
            unknown = [u for u, row in rows.items() if row is None]
            if unknown:
                raise CliError(
                    f"unknown URL: {unknown[0]}" + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""),
                    EXIT_USAGE,
                )
            ids = [row.id for row in rows.values() if row is not None]
        made_due = frontier.request_repoll(session, ids)
        claimed = frontier.claim_due_repolls(session) if args.now and not settings.embedded else []
    _publish(settings, [("fetch", url_id) for url_id in claimed])
    print(f"{made_due} article(s) due for a re-poll" + (f", {len(claimed)} dispatched" if claimed else ""))
    if settings.embedded and made_due:
        print("run `newsflow run --until-idle` to re-poll them (embedded mode)", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import session_scope
    from shared.store import frontier

    ensure_schema(settings)
    with session_scope(settings.database_url) as session:
        states = frontier.state_counts(session)
        failures = frontier.failure_counts(session)
        articles = frontier.article_count(session)
    if args.json:
        print(json.dumps({"states": states, "failures": failures, "articles": articles}, indent=2))
        return 0
    print(f"urls: {sum(states.values())}  articles: {articles}")
    for state in ("queued", "fetched", "parsed", "enriched", "done", "failed"):
        if states.get(state):
            print(f"  {state:<9}{states[state]}")
    for reason, n in sorted(failures.items(), key=lambda kv: -kv[1]):
        print(f"  failed: {reason:<24}{n}")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import session_scope
    from shared.store import articles, frontier, views

    ensure_schema(settings)
    with session_scope(settings.database_url) as session:
        url_row = frontier.find_url(session, args.url)
        article = articles.find_article(session, args.url)
        article_id = article.id if article else (url_row.article_id if url_row else None)
        if article_id is None:
            if url_row is not None:
                state = f"{url_row.state}" + (f" ({url_row.last_error_reason})" if url_row.last_error_reason else "")
                raise CliError(f"no article stored yet for {args.url}: its state is {state}")
            raise CliError(f"unknown URL: {args.url}", EXIT_USAGE)
        view = views.article_view(session, article_id)
    assert view is not None
    if args.json:
        print(json.dumps(view, indent=2, ensure_ascii=False))
        return 0
    _print_view(view)
    return 0


def _print_view(view: dict[str, Any]) -> None:
    record = view["record"]
    print(record.get("title") or "(no title)")
    print(f"  {view['canonical_url']}")
    print(f"  published {record.get('published_at') or '?'}  authors {', '.join(record.get('authors') or []) or '-'}")
    print(f"  {len(record.get('body_paragraphs') or [])} paragraphs, {len(record.get('images') or [])} images")
    print(f"  tags: {', '.join(t['name'] for t in view['tags']) or '-'}")
    resolved = sum(1 for link in view["links_out"] if link["target_article_id"])
    print(f"  related links: {len(view['links_out'])} ({resolved} stored), linked from {len(view['links_in'])}")
    print(f"  comments: {len(view['comments'])}")
    for c in view["comments"]:
        indent = "    " if c["parent_id"] else "  "
        flags = (" [deleted]" if c["deleted"] else "") + (
            f" [{len(c['versions'])} versions]" if len(c["versions"]) > 1 else ""
        )
        first_line = c["text"].splitlines()[0] if c["text"] else ""
        print(f"  {indent}- {c['author']}: {first_line[:90]}{flags} ({c['source']})")
    for s in view["comment_sources"]:
        state = s["status"] + (f": {s['reason']}" if s["reason"] and s["reason"] != s["status"] else "")
        state += f" ({s['detail']})" if s.get("detail") else ""
        counted = f", {s['comments']} comments" if s["comments"] is not None else ""
        print(f"  comment source {s['provider']} {s['thread']}: {state}{counted}")


def cmd_parse(args: argparse.Namespace, settings: Settings) -> int:
    """Parse pages in this process; a page that cannot be read or parsed is reported on stderr with its
    path and the others go on (exit 1 at the end if any failed)."""
    from services.parse.article import parse_article

    if not args.paths and not args.jobs:
        raise CliError("nothing to parse: give PATH arguments or --jobs FILE", EXIT_USAGE)
    if args.url and len(args.paths) != 1:
        raise CliError("--url names one page: give exactly one PATH with it (or use --jobs)", EXIT_USAGE)
    if args.jobs == "-" and "-" in args.paths:
        raise CliError("stdin can hold the pages or the jobs, not both", EXIT_USAGE)
    jobs = [_ParseJob(p, args.url or _file_url(p), None) for p in args.paths]
    failed = 0
    for job in (*jobs, *_read_parse_jobs(args.jobs)):
        if isinstance(job, str):  # a bad job line, already described
            print(f"newsflow: error: {job}", file=sys.stderr)
            failed += 1
            continue
        try:
            data = sys.stdin.buffer.read() if job.path == "-" else Path(job.path).read_bytes()
            record = parse_article(data, job.url, content_type=job.content_type)
        except OSError as exc:
            print(f"newsflow: error: {job.path}: cannot read ({exc.strerror})", file=sys.stderr)
            failed += 1
            continue
        except NewsflowError as exc:
            print(f"newsflow: error: {job.path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(json.dumps(record.to_dict(), ensure_ascii=False))
    sys.stdout.flush()
    return EXIT_FAILURE if failed else 0


class _ParseJob(NamedTuple):
    path: str
    url: str
    content_type: str | None


def _file_url(path: str) -> str:
    return Path(path).resolve().as_uri() if path != "-" else "file:///dev/stdin"


def _read_parse_jobs(source: str | None) -> Iterator[_ParseJob | str]:
    """Jobs from a JSON-lines file; a line that is not one yields its description instead."""
    if not source:
        return
    try:
        stream = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror}", EXIT_USAGE) from None
    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                job = json.loads(line)
                path, url = job["path"], job.get("url") or _file_url(job["path"])
                if not isinstance(path, str) or not isinstance(url, str):
                    raise TypeError("path and url must be strings")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                yield f"{source}:{number}: not a job line ({type(exc).__name__}: {exc})"
                continue
            content_type = job.get("content_type")
            yield _ParseJob(path, url, content_type if isinstance(content_type, str) else None)


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    from services.api.auth import generate_token, require_safe_token
    from shared.errors import ConfigError

    if args.generate_token:
        print(generate_token())
        return 0
    try:
        require_safe_token(settings)
    except ConfigError as exc:
        raise CliError(exc.detail, EXIT_USAGE) from None
    import uvicorn

    ensure_schema(settings)
    uvicorn.run(
        "services.api.app:serve_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
    )
    return 0


def _parse_date(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 date or date-time for --since (a bare date is midnight UTC, a naive time UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(f"bad {option}: {value!r} is not an ISO 8601 date like 2024-05-01", EXIT_USAGE) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def cmd_import_warc(args: argparse.Namespace, settings: Settings) -> int:
    from services.ingest.archives import TerminalProgress, WarcImporter, wait_until_final
    from services.ingest.warc import CaptureFilter

    since = _parse_date(args.since, "--since")
    if args.limit is not None and args.limit < 1:
        raise CliError("bad --limit: give a number of captures, 1 or more", EXIT_USAGE)
    repoll = None if args.repoll == "default" else args.repoll
    if repoll is not None:
        _check_repoll(repoll, settings)
    for source in args.sources:
        if not source.lower().startswith(("http://", "https://")) and not Path(source).is_file():
            raise CliError(f"cannot read {source}: no such file", EXIT_USAGE)
    ensure_schema(settings)

    def settle(url_ids: Sequence[int]) -> bool:
        if settings.embedded:  # nothing else runs the pipeline: run it here, as `newsflow run` would
            from shared.embedded import LocalRunner

            LocalRunner(settings, stage_handlers()).run(until_idle=True)
            return True
        return wait_until_final(settings, url_ids, args.wait)

    progress = TerminalProgress(sys.stderr)
    importer = WarcImporter(
        settings,
        keep=CaptureFilter(tuple(h.lower().strip(".") for h in args.filter_host), since),
        limit=args.limit,
        repoll_schedule=repoll,
        settle=settle,
        progress=progress,
    )
    try:
        for source in args.sources:
            if not importer.full:
                importer.import_source(source)
        importer.finish()
    finally:
        progress.close()
    report = importer.report.to_dict()
    print(json.dumps(report, indent=2) if args.json else _import_summary(report))
    if settings.embedded and report["queued"]:
        print("run `newsflow run --until-idle` to parse them (embedded mode)", file=sys.stderr)
    return EXIT_FAILURE if any("error" in f for f in report["files"]) else 0


def _import_summary(report: dict[str, Any]) -> str:
    lines = [
        f"{report['records']:,} records, {report['captures']:,} HTML captures: {report['queued']:,} queued, "
        f"{report['unchanged']:,} unchanged, {report['older']:,} older than stored, {report['waiting']:,} waiting"
        f" ({report['seconds']:.1f} s, {report['records_per_second']:,.0f} records/s)"
    ]
    skipped = ", ".join(f"{reason} {n:,}" for reason, n in report["skipped"].items())
    lines.append(f"skipped: {skipped or 'none'}")
    lines += [f"{p['reason']} record at offset {p['offset']} of {p['file']}: {p['detail']}" for p in report["problems"]]
    lines += [f"cannot import {f['source']}: {f['detail']}" for f in report["files"] if "error" in f]
    if report["waiting"]:
        lines.append(f"{report['waiting']} later captures wait for their URL's earlier one: import the file again")
    return "\n".join(lines)


def cmd_export_warc(args: argparse.Namespace, settings: Settings) -> int:
    from services.ingest.archives import export_warc

    since = _parse_date(args.since, "--since")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"cannot write {args.out}: no such folder", EXIT_USAGE)
    ensure_schema(settings)
    try:
        written = export_warc(settings, out, since=since, hosts=tuple(h.lower().strip(".") for h in args.host))
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror}") from None
    print(f"{written} response records written to {out}")
    return 0


def cmd_prune_fetches(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import session_scope
    from shared.store.fetches import prune_stored_fetches

    keep = settings.fetch_bodies_keep if args.keep is None else args.keep
    if keep < 1:
        raise CliError("nothing to prune: give --keep N (or NEWSFLOW_FETCH_BODIES_KEEP) of at least 1", EXIT_USAGE)
    if args.batch < 1:
        raise CliError("--batch must be at least 1", EXIT_USAGE)
    after, deleted = 0, 0
    while True:
        with session_scope(settings.database_url) as session:
            after, pruned = prune_stored_fetches(session, keep, after_url_id=after, batch=args.batch)
        if not after:
            break
        deleted += pruned
    print(f"deleted {deleted} fetched bodies: each URL keeps its newest {keep} and the one its article was parsed from")
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from shared.db import upgrade_database

    try:
        upgrade_database(settings.database_url)
    except SQLAlchemyError as exc:
        raise StoreUnavailableError(detail=str(exc).splitlines()[0]) from exc
    print(f"database at {_safe_url(settings.database_url)} is at the newest schema")
    return 0


if __name__ == "__main__":
    sys.exit(main())
