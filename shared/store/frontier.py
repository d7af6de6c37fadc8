"""The URL frontier: queueing URLs and moving them through the pipeline's states."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from shared.config import get_settings
from shared.errors import InvalidURLError
from shared.models import Article, Url, utcnow
from shared.repoll import RepollPolicy
from shared.store.upsert import KEYS_PER_STATEMENT, insert_missing, key_in, update_locked
from shared.urls import canonicalize_url, url_hash, url_host

# The stage that works on a URL in each state, and so the task the sweep re-publishes.
STAGE_FOR_STATE = {"queued": "fetch", "fetched": "parse", "parsed": "enrich", "enriched": "links"}
PENDING_STATES = tuple(STAGE_FOR_STATE)
FINAL_STATES = ("done", "failed")


@dataclass(frozen=True, slots=True)
class Enqueued:
    """A URL as queued: its id, canonical form and whether it was new."""

    url_id: int
    url: str
    created: bool


def enqueue_url(
    session: Session,
    url: str,
    *,
    source: str = "cli",
    feed_id: int | None = None,
    depth: int = 0,
    priority: int = 0,
    repoll_schedule: str | None = None,
) -> Enqueued:
    """Queue a URL once: a URL already known keeps its row and state (a re-poll schedule given
    for it replaces its own). Raises InvalidURLError."""
    return enqueue_urls(
        session, [url], source=source, feed_id=feed_id, depth=depth, priority=priority, repoll_schedule=repoll_schedule
    )[0]


def enqueue_urls(
    session: Session,
    urls: Iterable[str],
    *,
    source: str = "cli",
    feed_id: int | None = None,
    depth: int = 0,
    priority: int = 0,
    repoll_schedule: str | None = None,
    replace_schedule: bool = True,
    skip_invalid: bool = False,
) -> list[Enqueued]:
    """Queue a batch of URLs, each once: those not stored yet (looked up first, without locks) are
    inserted by one set-based statement taking its locks in URL-hash order, so that batches that
    overlap in any order never deadlock. One answer per URL given, in order, `created` only for the
    first mention of a URL this call inserted. A re-poll schedule given replaces the one of URLs
    already known (unless `replace_schedule` is False: an archive import leaves live URLs' schedules
    alone). Raises InvalidURLError, or skips invalid URLs with `skip_invalid` (feed entries)."""
    canonical = _canonical_urls(urls, skip_invalid)
    keys = {c: url_hash(c) for c in canonical}
    scheduled: set[int] = set()
    if repoll_schedule is not None and replace_schedule:
        scheduled = _set_repoll_schedule(session, list(keys.values()), repoll_schedule)
    ids = _ids_by_hash(session, list(keys.values()))
    now = utcnow()
    missing = [
        {
            "url": c,
            "url_hash": key,
            "host": url_host(c),
            "state": "queued",
            "source": source,
            "feed_id": feed_id,
            "depth": depth,
            "priority": priority,
            "repoll_schedule": repoll_schedule,
            "created_at": now,
            "updated_at": now,
            "dispatched_at": now,
        }
        for c, key in keys.items()
        if key not in ids
    ]
    new = {h: i for i, h in insert_missing(session, Url.__table__, missing, ["url_hash"], ["id", "url_hash"])}
    ids |= new
    ids |= _ids_by_hash(session, [h for h in keys.values() if h not in ids])  # inserted meanwhile by others
    late = [ids[h] for h in keys.values() if h not in new and ids[h] not in scheduled]
    if repoll_schedule is not None and replace_schedule and late:
        # Inserted by another writer after the schedule update and before our insert (rare).
        update_locked(session, Url.__table__, {"repoll_schedule": repoll_schedule}, key_in(session, Url.id, late))
    answers = []
    for c in canonical:
        key = keys[c]
        answers.append(Enqueued(ids[key], c, new.pop(key, None) is not None))
    return answers


def _canonical_urls(urls: Iterable[str], skip_invalid: bool) -> list[str]:
    """The canonical form of each URL, in order; invalid ones raise, or are left out."""
    out = []
    for url in urls:
        try:
            out.append(canonicalize_url(url))
        except InvalidURLError:
            if not skip_invalid:
                raise
    return out


def _set_repoll_schedule(session: Session, keys: list[str], schedule: str) -> set[int]:
    """Give the stored URLs among `keys` this re-poll schedule; returns their ids. Done before the
    batch's inserts, so the transaction waits on row locks (held by stages working on those URLs)
    while it holds no insert that such a stage could be waiting on."""
    stored = sorted(_ids_by_hash(session, keys).values())
    done: set[int] = set()
    for piece in range(0, len(stored), KEYS_PER_STATEMENT):
        chosen = key_in(session, Url.id, stored[piece : piece + KEYS_PER_STATEMENT])
        done.update(update_locked(session, Url.__table__, {"repoll_schedule": schedule}, chosen))
    return done


def _ids_by_hash(session: Session, keys: list[str]) -> dict[str, int]:
    """The ids of the stored URLs among these URL hashes."""
    ids: dict[str, int] = {}
    for piece in range(0, len(keys), KEYS_PER_STATEMENT):
        chosen = key_in(session, Url.url_hash, keys[piece : piece + KEYS_PER_STATEMENT])
        ids.update(session.execute(select(Url.url_hash, Url.id).where(chosen)).all())
    return ids


def known_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """The canonical forms of those of `urls` (canonical already) that are in the frontier."""
    by_hash = {url_hash(u): u for u in urls}
    return {by_hash[h] for h in _ids_by_hash(session, list(by_hash))}


def lock_urls(session: Session, url_ids: Iterable[int]) -> dict[int, tuple[str, int | None]]:
    """Lock these URLs' rows (in id order, as every locker should, against deadlocks) and return each
    one's state and last fetch id."""
    ids = sorted(set(url_ids))
    found: dict[int, tuple[str, int | None]] = {}
    for start in range(0, len(ids), KEYS_PER_STATEMENT):
        chosen = key_in(session, Url.id, ids[start : start + KEYS_PER_STATEMENT])
        stmt = select(Url.id, Url.state, Url.last_fetch_id).where(chosen).order_by(Url.id).with_for_update()
        found.update((url_id, (state, last)) for url_id, state, last in session.execute(stmt))
    return found


def get_url(session: Session, url_id: int, *, lock: bool = False) -> Url | None:
    """The frontier row, optionally locked for update (Postgres) so two workers do not race."""
    stmt = select(Url).where(Url.id == url_id)
    if lock:
        # A locking read returns the row as it is now, also when this session loaded it before.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.execute(stmt).scalar_one_or_none()


def find_url(session: Session, url: str) -> Url | None:
    """The frontier row of a URL given in any form."""
    return session.execute(select(Url).where(Url.url_hash == url_hash(canonicalize_url(url)))).scalar_one_or_none()


def advance(session: Session, url_id: int, from_state: str, to_state: str, **fields: object) -> bool:
    """Move a URL from one state to the next; False if another delivery moved it already.
    Reaching `done` schedules the next re-poll (see shared.repoll)."""
    now = utcnow()
    result = session.execute(
        update(Url)
        .where(Url.id == url_id, Url.state == from_state)
        .values(state=to_state, stage_attempts=0, next_due_at=None, dispatched_at=now, updated_at=now, **fields)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    if to_state == "done":
        _schedule_repoll(session, url_id, now)
    return True


def note_change(session: Session, url_id: int, now: datetime) -> None:
    """Something about the URL's article changed outside its page poll (comments from a separate
    source): the poll counts as changed, so the re-poll schedule does not run out on it."""
    session.execute(
        update(Url).where(Url.id == url_id).values(poll_changed=True, unchanged_polls=0, last_changed_at=now)
    )


def _schedule_repoll(session: Session, url_id: int, now: datetime) -> None:
    settings = get_settings()
    row = session.get(Url, url_id)
    if row is None:
        return
    session.refresh(row, ["poll_changed", "unchanged_polls", "repoll_count", "created_at", "repoll_schedule"])
    policy = RepollPolicy.parse(row.repoll_schedule or settings.repoll_schedule, settings.repoll_stop_unchanged)
    if row.repoll_count:
        row.unchanged_polls = 0 if row.poll_changed else row.unchanged_polls + 1
    row.repoll_at = policy.next_poll(row.created_at, now, row.unchanged_polls)
    session.flush()


def claim_due_repolls(session: Session, *, limit: int = 500) -> list[int]:
    """Move re-polls that are due from `done` back to `queued` and return their ids. The rows are
    locked in id order and re-checked, so two schedulers racing on a row claim it once."""
    now = utcnow()
    due = list(
        session.execute(
            select(Url.id)
            .where(Url.state == "done", Url.repoll_at.is_not(None), Url.repoll_at <= now)
            .order_by(Url.repoll_at)
            .limit(limit)
        ).scalars()
    )
    if not due:
        return []
    claimed = update_locked(
        session,
        Url.__table__,
        {
            "state": "queued",
            "repoll_at": None,
            "repoll_count": Url.repoll_count + 1,
            "poll_changed": False,
            "dispatched_at": now,
            "updated_at": now,
        },
        Url.id.in_(due),
        Url.state == "done",
    )
    return sorted(claimed, key=due.index)


def request_repoll(session: Session, url_ids: list[int] | None = None) -> int:
    """Make re-polls due now: of these URLs (failed ones get a fresh try), or of every stored page
    still on a schedule. A page whose schedule had stopped starts again. Returns how many."""
    if url_ids is None:
        where = (Url.state == "done", Url.repoll_at.is_not(None))
    else:
        where = (Url.id.in_(url_ids), Url.state.in_(FINAL_STATES))
    values = {"state": "done", "repoll_at": utcnow(), "unchanged_polls": 0, "stage_attempts": 0}
    return len(update_locked(session, Url.__table__, values, *where))


def record_attempt_failure(
    session: Session,
    url_id: int,
    stage: str,
    reason: str,
    detail: str,
    *,
    retry_delay: Callable[[int], float | None],
) -> float | None:
    """Note a failed attempt at `stage`. `retry_delay(attempts)` says when to try again (None: never);
    a URL that will not be retried is failed for good. Returns the delay, or None when failed."""
    row = get_url(session, url_id, lock=True)
    if row is None:
        return None
    now = utcnow()
    row.attempts += 1
    row.stage_attempts += 1
    row.last_error_stage = stage
    row.last_error_reason = reason
    row.last_error_detail = detail[:2000]
    row.last_error_at = now
    row.updated_at = now
    delay = retry_delay(row.stage_attempts)
    if delay is None:
        row.state = "failed"
        row.next_due_at = None
    else:
        # The retry is published now with a countdown; the sweep takes over only if it is lost.
        row.next_due_at = row.dispatched_at = now + timedelta(seconds=delay)
    session.flush()
    return delay


def record_redelivery(session: Session, url_id: int, stage: str, reason: str, lost_runs: int) -> bool:
    """Fail a URL whose `lost_runs` runs at `stage` all died without an answer (the worker process
    was killed, or crashed on this very page) with `reason`. A URL past `stage` is left alone (False)."""
    row = get_url(session, url_id, lock=True)
    if row is None or STAGE_FOR_STATE.get(row.state) != stage:
        return False
    now = utcnow()
    row.attempts += lost_runs
    row.stage_attempts += lost_runs
    row.last_error_stage, row.last_error_reason, row.last_error_at = stage, reason, now
    row.last_error_detail = f"{lost_runs} {stage} runs ended without an answer (worker lost)"
    row.state, row.next_due_at, row.updated_at = "failed", None, now
    session.flush()
    return True


def due_for_dispatch(
    session: Session,
    *,
    stale_after: timedelta,
    cutoffs: Mapping[str, datetime | None] | None = None,
    limit: int = 500,
) -> list[tuple[int, str]]:
    """(url id, stage) of items whose stage should run but whose message may be lost (a crash between
    commit and publish, a dead worker, a broker restart), oldest stamp first, at most `limit`.

    With `cutoffs` (per stage, from what the broker still holds: services/ingest/backlog), an item is
    due when stamped before its stage's cutoff; a stage without one has none due. Without them (no
    broker to ask: the embedded mode), when stamped more than `stale_after` ago. Retries are stamped
    with their due time. One range scan per stage on the pending-items index, whatever the backlog."""
    now = utcnow()
    due: list[tuple[int, str]] = []
    for state, stage in STAGE_FOR_STATE.items():
        cutoff = now - stale_after if cutoffs is None else cutoffs.get(stage)
        if cutoff is None or len(due) >= limit:
            continue
        stmt = (
            select(Url.id)
            .where(Url.state == state, Url.dispatched_at <= cutoff)
            .order_by(Url.dispatched_at)
            .limit(limit - len(due))
        )
        due.extend((url_id, stage) for url_id in session.execute(stmt).scalars())
    return due


def mark_dispatched(session: Session, url_ids: list[int]) -> None:
    """Stamp items as published now, so the sweep leaves them alone for a while."""
    if url_ids:
        update_locked(session, Url.__table__, {"dispatched_at": utcnow(), "next_due_at": None}, Url.id.in_(url_ids))


def state_counts(session: Session) -> dict[str, int]:
    """Number of URLs in each state."""
    return dict(session.execute(select(Url.state, func.count()).group_by(Url.state)).all())


def failure_counts(session: Session) -> dict[str, int]:
    """Number of failed URLs by reason."""
    stmt = select(Url.last_error_reason, func.count()).where(Url.state == "failed").group_by(Url.last_error_reason)
    return {reason or "unknown": n for reason, n in session.execute(stmt).all()}


def pending_count(session: Session) -> int:
    """URLs still on their way through the pipeline."""
    stmt = select(func.count()).select_from(Url).where(Url.state.in_(list(STAGE_FOR_STATE)))
    return session.execute(stmt).scalar_one()


def article_count(session: Session) -> int:
    """Number of stored articles."""
    return session.execute(select(func.count()).select_from(Article)).scalar_one()


# A URL in these states may be given a stored body to parse (see hand_over_fetches).
HAND_OVER_STATES = ("queued", *FINAL_STATES)


def hand_over_fetches(session: Session, pairs: Sequence[tuple[int, int]]) -> int:
    """Make stored fetches (a web archive's captures) their URLs' bodies to parse next, as if just
    fetched: from `queued` (a pending live fetch then finds the URL moved on and skips), `done` or
    `failed`; a URL mid-pipeline on another body is left alone. Returns how many were handed over."""
    if not pairs:
        return 0
    now = utcnow()
    stmt = (
        update(Url.__table__)
        # OR, not IN: an expanding IN cannot take part in an executemany.
        .where(Url.__table__.c.id == bindparam("url_id"), or_(*(Url.__table__.c.state == s for s in HAND_OVER_STATES)))
        .values(
            state="fetched",
            last_fetch_id=bindparam("fetch_id"),
            stage_attempts=0,
            next_due_at=None,
            dispatched_at=now,
            updated_at=now,
        )
    )
    result = session.execute(stmt, [{"url_id": u, "fetch_id": f} for u, f in pairs])
    return result.rowcount


def final_count(session: Session, url_ids: Iterable[int]) -> int:
    """How many of these URLs are in a final state (done or failed)."""
    ids = list(url_ids)
    if not ids:
        return 0
    stmt = select(func.count()).select_from(Url).where(Url.id.in_(ids), Url.state.in_(FINAL_STATES))
    return session.execute(stmt).scalar_one()
