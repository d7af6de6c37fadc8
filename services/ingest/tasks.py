"""Celery plumbing for the ingest service: each task only runs its stage handler."""

from kombu.exceptions import OperationalError

from services.ingest import stages
from shared.celery_app import StageTask, app, publish
from shared.db import session_scope
from shared.pipeline import ROUTES, URL_STAGES
from shared.store import frontier


@app.task(name="ingest.fetch_url", base=StageTask, bind=True, stage="fetch")
def fetch_url(self: StageTask, url_id: int) -> str:
    """Fetch one queued URL."""
    return self.run_handler(stages.fetch_url, url_id)


@app.task(name="ingest.fetch_comments", base=StageTask, bind=True, stage="comments")
def fetch_comments(self: StageTask, url_id: int) -> str:
    """Fetch the pages of a parsed article's separate comment sources."""
    return self.run_handler(stages.fetch_comments, url_id)


@app.task(name="ingest.poll_feed", base=StageTask, bind=True, stage="feed")
def poll_feed(self: StageTask, feed_id: int) -> str:
    """Poll one feed."""
    return self.run_handler(stages.poll_feed, feed_id)


@app.task(name="ingest.sweep", base=StageTask, bind=True, stage="sweep")
def sweep(self: StageTask) -> str:
    """Re-publish stalled items (run by beat)."""
    return self.run_handler(stages.sweep, 0)


@app.task(name="ingest.schedule_feeds", base=StageTask, bind=True, stage="schedule_feeds")
def schedule_feeds(self: StageTask) -> str:
    """Enqueue polls of due feeds (run by beat)."""
    return self.run_handler(stages.schedule_feeds, 0)


@app.task(name="ingest.schedule_repolls", base=StageTask, bind=True, stage="schedule_repolls")
def schedule_repolls(self: StageTask) -> str:
    """Re-queue articles whose re-poll is due (run by beat)."""
    return self.run_handler(stages.schedule_repolls, 0)


@app.task(
    name="ingest.dispatch",
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def dispatch(self: object, stage: str, item_ids: list[int]) -> int:
    """Publish one `stage` task per item of a batch an API request or a CLI run handed over in one
    message. Run twice (a redelivery), items are published twice: every stage task is safe twice."""
    if stage not in ROUTES:
        raise ValueError(f"unknown stage {stage!r}")
    if stage in URL_STAGES:
        # Stamped again now, just before their own messages go out: the sweep measures how long an
        # item's message may have been waiting from this stamp (services/ingest/backlog).
        with session_scope() as session:
            frontier.mark_dispatched(session, [int(i) for i in item_ids])
    for item_id in item_ids:
        publish(stage, int(item_id))
    return len(item_ids)
