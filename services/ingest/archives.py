"""Web archives in and out of the store: `newsflow import-warc` and `newsflow export-warc`.

Import: every HTML capture a WARC holds (read by services.ingest.warc) becomes its URL's fetch, with
the capture time as fetch time and without touching the network, and is handed to parse exactly as
a live fetch is: the frontier row moves to `fetched` and a parse message goes out after the commit
(the embedded mode's runner finds the row by its state). Commits come every `batch_size` captures, so
workers start parsing while the file is still being read.

A URL's body is parsed only when it is new for the URL and newer than the body parsed last; a
capture of a URL whose earlier body is still in the pipeline is stored at once and handed over when
that body is done (`settle`), so two captures of one page become two revisions, in order.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from sqlalchemy.orm import Session

from services.ingest.fetch import KEPT_HEADERS, Fetcher
from services.ingest.warc import CaptureFilter, Skipped, read_captures, write_warc
from shared.config import Settings
from shared.db import session_scope
from shared.dispatch import publish_items
from shared.errors import FetchError
from shared.records import Capture
from shared.store import fetches, frontier

# Where a capture went (ImportReport counts them):
#   queued    handed to parse (new for its URL and newer than what was parsed);
#   unchanged the URL's current body already (re-importing a file);
#   older     the URL has a newer body: stored, exported, not parsed (it would read as a revision back);
#   waiting   the URL is still in the pipeline on an earlier body: handed over once that is done.
OUTCOMES = ("queued", "unchanged", "older", "waiting")
PROBLEM_REASONS = ("corrupt", "truncated")
BATCH_SECONDS = 1.0
BATCH_BYTES = 64 * 2**20  # bodies held at once: 100 pages of the usual size, fewer big ones


@dataclass
class ImportReport:
    """What an import read, stored and left out, for the progress line and the summary."""

    records: int = 0
    captures: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        """Time since the import started."""
        return time.monotonic() - self.started

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data (`import-warc --json`)."""
        seconds = self.seconds
        return {
            "files": self.files,
            "records": self.records,
            "captures": self.captures,
            **{outcome: self.outcomes[outcome] for outcome in OUTCOMES},
            "skipped": dict(sorted(self.skipped.items())),
            "problems": self.problems,
            "seconds": round(seconds, 3),
            "records_per_second": round(self.records / seconds, 1) if seconds else 0.0,
        }


@dataclass(frozen=True, slots=True)
class _Pending:
    url_id: int
    fetch_id: int
    captured_at: datetime


class WarcImporter:
    """Imports WARC files into the store, one after another, then hands over captures that waited.

    `settle(url_ids)` returns once those URLs are through the pipeline (False when it gave up): the
    CLI waits for the workers, or runs the embedded pipeline in-process.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        keep: CaptureFilter = CaptureFilter(),
        limit: int | None = None,
        repoll_schedule: str | None = "off",
        batch_size: int = 100,
        settle: Callable[[Sequence[int]], bool] | None = None,
        progress: Callable[[ImportReport], None] | None = None,
    ):
        self.settings = settings
        self.keep = keep
        self.limit = limit
        self.repoll_schedule = repoll_schedule
        self.batch_size = batch_size
        self.settle = settle
        self.progress = progress
        self.report = ImportReport()
        self._pending: list[_Pending] = []
        # Batches are written by one thread while the next is read and compressed: the writes wait on
        # the database and the broker, which the reading need not wait for. One batch in flight keeps
        # them in file order (a batch is written only after the one before it committed).
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc-store")
        self._writing: Future[None] | None = None

    @property
    def full(self) -> bool:
        """True once --limit captures were taken."""
        return self.limit is not None and self.report.captures >= self.limit

    def import_source(self, source: str) -> None:
        """Import one WARC file given as a path or an http(s) URL (downloaded through the guarded
        fetcher first); a file that cannot be had is recorded in the report and the import goes on."""
        entry: dict[str, Any] = {"source": source, "records": 0, "captures": 0}
        self.report.files.append(entry)
        before = (self.report.records, self.report.captures)
        try:
            with open_warc(self.settings, source) as stream:
                self._import_stream(stream, source)
        except (OSError, FetchError) as exc:
            entry["error"] = getattr(exc, "reason", None) or type(exc).__name__
            entry["detail"] = str(exc)
        entry["records"] = self.report.records - before[0]
        entry["captures"] = self.report.captures - before[1]

    def _import_stream(self, stream: BinaryIO, source: str) -> None:
        items = read_captures(stream, max_body_bytes=self.settings.fetch_max_bytes, keep=self.keep)
        read_all = False
        while not read_all and not self.full:
            batch: list[Capture] = []
            batch_bytes, batch_started = 0, time.monotonic()
            for item in items:  # a generator: the next batch goes on where this one stopped
                self.report.records += 1
                if isinstance(item, Skipped):
                    self._skip(item, source)
                else:
                    self.report.captures += 1
                    batch.append(item)
                    batch_bytes += len(item.body)
                if self.progress:
                    self.progress(self.report)
                if self.full or len(batch) >= self.batch_size or batch_bytes > BATCH_BYTES:
                    break
                if batch and time.monotonic() - batch_started > BATCH_SECONDS:
                    break  # captures far apart (a file of mostly other records): let workers start
            else:
                read_all = True
            if batch:
                # Compressed here, in parallel with the write of the batch before (zlib lets go of the GIL).
                ready = [(c, fetches.compress_body(c.body, fetches.ZLIB_LEVEL_BULK)) for c in batch]
                self._wait_for_writes()
                self._writing = self._writer.submit(self._store, ready)
        self._wait_for_writes()

    def _wait_for_writes(self) -> None:
        """Wait for the batch being written, and raise what went wrong with it."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def _skip(self, item: Skipped, source: str) -> None:
        self.report.skipped[item.reason] += 1
        if item.reason in PROBLEM_REASONS:
            self.report.problems.append(
                {"file": source, "offset": item.offset, "reason": item.reason, "url": item.url, "detail": item.detail}
            )

    def _store(self, ready: list[tuple[Capture, tuple[str, bytes]]]) -> None:
        """Store a batch (captures with their compressed bodies) in one transaction, then publish its
        parse messages: only after the commit, as every stage does, so that a parse worker finds the row."""
        batch = [capture for capture, _ in ready]
        with session_scope(self.settings.database_url) as session:
            stored = store_captures(
                session, batch, repoll_schedule=self.repoll_schedule, compressed=[c for _, c in ready]
            )
        for capture, (url_id, fetch_id, outcome) in zip(batch, stored, strict=True):
            if outcome == "waiting":
                self._pending.append(_Pending(url_id, fetch_id, capture.captured_at))
            else:
                self.report.outcomes[outcome] += 1
        publish_items(self.settings, [("parse", url_id) for url_id, _, outcome in stored if outcome == "queued"])

    def finish(self, max_rounds: int = 100) -> None:
        """Hand over the captures that waited for their URL's earlier body, oldest first, one round at
        a time (a URL captured three times waits twice). Without `settle`, they stay waiting: stored,
        and handed over by the next import of the same file."""
        self._wait_for_writes()
        self._writer.shutdown()
        rounds = 0
        while self._pending and self.settle is not None and rounds < max_rounds:
            rounds += 1
            if not self.settle(sorted({p.url_id for p in self._pending})):
                break
            pending, self._pending = sorted(self._pending, key=lambda p: p.captured_at), []
            with session_scope(self.settings.database_url) as session:
                outcomes = hand_over_captures(session, [(p.url_id, p.fetch_id, p.captured_at) for p in pending])
            queued: list[tuple[str, int]] = []
            for p, outcome in zip(pending, outcomes, strict=True):
                if outcome == "waiting":
                    self._pending.append(p)
                    continue
                self.report.outcomes[outcome] += 1
                if outcome == "queued":
                    queued.append(("parse", p.url_id))
            publish_items(self.settings, queued)
        self.report.outcomes["waiting"] = len(self._pending)


def wait_until_final(settings: Settings, url_ids: Sequence[int], timeout: float, poll: float = 0.5) -> bool:
    """Wait until the workers have taken these URLs to a final state (done or failed); False when
    `timeout` seconds passed first."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(settings.database_url) as session:
            if frontier.final_count(session, url_ids) >= len(set(url_ids)):
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)


def store_captures(
    session: Session,
    captures: Sequence[Capture],
    *,
    repoll_schedule: str | None,
    compressed: Sequence[tuple[str, bytes]] | None = None,
) -> list[tuple[int, int, str]]:
    """Store captures as fetches of their URLs (queued first when new, with `repoll_schedule`) and
    hand each to parse when it is news for its URL: (url id, fetch id, one of OUTCOMES) per capture,
    in order. A handful of statements per batch, not per capture: the import is bound by them."""
    enqueued = frontier.enqueue_urls(
        session, [c.url for c in captures], source="warc", repoll_schedule=repoll_schedule, replace_schedule=False
    )
    # Known URLs are locked before their fetches are written, in the order the fetch stage takes them.
    known = frontier.lock_urls(session, [e.url_id for e in enqueued if not e.created])
    packed = compressed or [None] * len(captures)
    fetch_ids = fetches.save_fetches(
        session, [_new_fetch(e.url_id, c, z) for e, c, z in zip(enqueued, captures, packed, strict=True)]
    )
    return _hand_over(
        session,
        [(e.url_id, f, c.captured_at) for e, f, c in zip(enqueued, fetch_ids, captures, strict=True)],
        known | {e.url_id: ("queued", None) for e in enqueued if e.created},
    )


def hand_over_captures(session: Session, captures: Sequence[tuple[int, int, datetime]]) -> list[str]:
    """Hand stored captures (url id, fetch id, capture time) to parse when they are news for their
    URLs, in order; one of OUTCOMES each."""
    urls = frontier.lock_urls(session, [url_id for url_id, _, _ in captures])
    return [outcome for _, _, outcome in _hand_over(session, captures, urls)]


def _hand_over(
    session: Session, captures: Sequence[tuple[int, int, datetime]], urls: dict[int, tuple[str, int | None]]
) -> list[tuple[int, int, str]]:
    """Decide for each capture, in order, from the (locked) state and current body of its URL, which
    the decisions before it change; then move the URLs handed over in one statement."""
    seen = fetches.last_seen_many(session, [last for _, last in urls.values() if last is not None])
    current = {url_id: (state, last, seen.get(last) if last else None) for url_id, (state, last) in urls.items()}
    decided, handed = [], []
    for url_id, fetch_id, captured_at in captures:
        state, last, last_seen = current.get(url_id, ("missing", None, None))
        if state == "missing" or last == fetch_id:
            outcome = "unchanged"
            if last_seen is not None and captured_at > last_seen:
                current[url_id] = (state, last, captured_at)
        elif last is not None and last_seen is not None and captured_at <= last_seen:
            outcome = "older"
        elif state in frontier.HAND_OVER_STATES:
            outcome = "queued"
            handed.append((url_id, fetch_id))
            current[url_id] = ("fetched", fetch_id, captured_at)
        else:
            outcome = "waiting"
        decided.append((url_id, fetch_id, outcome))
    frontier.hand_over_fetches(session, handed)
    return decided


def _new_fetch(url_id: int, capture: Capture, compressed: tuple[str, bytes] | None) -> fetches.NewFetch:
    return fetches.NewFetch(
        url_id=url_id,
        final_url=capture.url,
        status_code=capture.status_code,
        content_type=capture.content_type,
        charset=capture.charset,
        etag=_header(capture.headers, "etag"),
        last_modified=_header(capture.headers, "last-modified"),
        headers={name: value for name in KEPT_HEADERS if (value := _header(capture.headers, name)) is not None},
        body=capture.body,
        fetched_at=capture.captured_at,
        status_line=capture.status_line,
        http_headers=capture.headers,
        compressed=compressed,
    )


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """A header's value (several joined with ", ", as HTTP allows), by case-insensitive name."""
    values = [value for key, value in headers if key.lower() == name]
    return ", ".join(values) if values else None


@contextlib.contextmanager
def open_warc(settings: Settings, source: str) -> Iterator[BinaryIO]:
    """A WARC file given as a path, or as an http(s) URL fetched into a temporary file through the
    guarded fetcher (address guard, allow-list, robots, politeness) within NEWSFLOW_WARC_MAX_BYTES."""
    if not source.lower().startswith(("http://", "https://")):
        with open(source, "rb") as stream:
            yield stream
        return
    fetcher = Fetcher(settings)
    try:
        with tempfile.TemporaryFile(prefix="newsflow-warc-") as sink:
            fetcher.download(source, sink, max_bytes=settings.warc_max_bytes, total_timeout=settings.warc_fetch_timeout)
            sink.seek(0)
            yield sink
    finally:
        fetcher.close()


def export_warc(settings: Settings, out_path: Path, *, since: datetime | None = None, hosts: Sequence[str] = ()) -> int:
    """Write every stored fetch (filtered) to `out_path` as a WARC file, gzip per record when its
    name ends in .gz; written beside it first and moved into place, so a failed export leaves no
    half file. Returns the number of response records."""
    partial = out_path.with_name(out_path.name + ".part")
    info = {
        "software": "newsflow",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": "newsflow's stored fetches: each body as fetched (or captured), decoded; "
        "Content-Encoding, Transfer-Encoding and the original Content-Length under X-Crawler-*",
    }
    try:
        with open(partial, "wb") as out, session_scope(settings.database_url) as session:
            captures = fetches.iter_captures(session, since=since, hosts=hosts)
            written = write_warc(out, captures, info=info, filename=out_path.name, gzip=out_path.name.endswith(".gz"))
        partial.replace(out_path)
    finally:
        partial.unlink(missing_ok=True)
    return written


class TerminalProgress:
    """One progress line on a terminal, redrawn at most every `interval` seconds: records read,
    captures queued, skips by reason, rate. Writes nothing unless `stream` is a TTY."""

    def __init__(self, stream: TextIO = sys.stderr, interval: float = 0.5):
        self.stream = stream
        self.enabled = stream.isatty()
        self.interval = interval
        self._last = 0.0

    def __call__(self, report: ImportReport) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < self.interval:
            return
        self._last = now
        self.stream.write("\r\x1b[K" + progress_line(report))
        self.stream.flush()

    def close(self) -> None:
        """Clear the line before the summary is printed."""
        if self.enabled and self._last:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def progress_line(report: ImportReport) -> str:
    """`12,345 records, 8,100 queued, skipped: request 3,000, not_html 1,200 (2,400 records/s)`."""
    skipped = ", ".join(f"{reason} {n:,}" for reason, n in report.skipped.most_common(4)) or "none"
    rate = report.records / report.seconds if report.seconds else 0.0
    queued = report.outcomes["queued"]
    return f"{report.records:,} records, {queued:,} queued, skipped: {skipped} ({rate:,.0f} records/s)"
