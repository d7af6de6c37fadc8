"""Celery plumbing for the parse service."""

from services.parse import stages
from shared.celery_app import StageTask, app


@app.task(name="parse.parse_page", base=StageTask, bind=True, stage="parse")
def parse_page(self: StageTask, url_id: int) -> str:
    """Parse one fetched page."""
    return self.run_handler(stages.parse_page, url_id)


@app.task(name="parse.parse_comments", base=StageTask, bind=True, stage="comments_parse")
def parse_comments(self: StageTask, url_id: int) -> str:
    """Merge the fetched comment source pages of one article."""
    return self.run_handler(stages.parse_comments, url_id)
