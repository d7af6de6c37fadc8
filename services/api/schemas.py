"""Request and response bodies of the HTTP API (pydantic), the contract the OpenAPI document shows.

Nothing here depends on settings, so the generated OpenAPI document is the same everywhere; limits
that are configurable (the batch size) are checked in the routes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


def _clean_text(value: str) -> str:
    """Refuse what no store column can hold: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _utc(value: datetime) -> datetime:
    """Naive times are taken as UTC; every time is converted to UTC (and must stay in range)."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range") from None


CleanStr = Annotated[str, AfterValidator(_clean_text)]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
Priority = Annotated[int, Field(ge=-1000, le=1000, description="Higher is fetched first; 0 by default.")]


class ErrorProblem(BaseModel):
    """One thing wrong with a request: where (`loc`, or `index` in a batch) and why."""

    loc: list[str | int] = Field(default_factory=list)
    index: int | None = None
    message: str


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: a stable snake_case `error`, a human `detail`, optional `problems`."""

    error: str
    detail: str
    problems: list[ErrorProblem] = Field(default_factory=list)


class RepollPolicy(BaseModel):
    """How often to fetch a queued article again (for new comments and edits), and for how long."""

    model_config = ConfigDict(extra="forbid")

    every_seconds: int = Field(3600, ge=60, le=30 * 86400)
    stop_after_days: int = Field(7, ge=0, le=365, description="0: never re-poll these URLs.")

    def schedule(self) -> str:
        """The policy as a NEWSFLOW_REPOLL_SCHEDULE-style string stored on each URL."""
        return "off" if self.stop_after_days == 0 else f"{self.stop_after_days}d={self.every_seconds}s"


class _OneOrMany(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: CleanStr | None = Field(None, max_length=8192, description="One URL.")
    urls: list[Annotated[CleanStr, Field(max_length=8192)]] | None = Field(
        None, description="A batch of URLs (at most NEWSFLOW_API_MAX_BATCH)."
    )

    @model_validator(mode="after")
    def _one_of(self) -> _OneOrMany:
        if (self.url is None) == (self.urls is None):
            raise ValueError("give exactly one of `url` or `urls`")
        if self.urls is not None and not self.urls:
            raise ValueError("`urls` is empty")
        return self

    def all_urls(self) -> list[str]:
        """The URLs given, in order."""
        return [self.url] if self.url is not None else list(self.urls or [])


class UrlSubmission(_OneOrMany):
    """POST /urls: article URLs to fetch, with an optional priority and re-poll policy."""

    priority: Priority = 0
    repoll: RepollPolicy | None = Field(None, description="Re-fetch policy; the pipeline's default when absent.")


class FeedSubmission(_OneOrMany):
    """POST /feeds: feed, sitemap or home-page URLs to register."""


class QueuedUrl(BaseModel):
    """A submitted URL: its frontier id, canonical form, and whether it was already known."""

    id: int
    url: str
    status: Literal["queued", "known"]


class UrlSubmissionResult(BaseModel):
    """What POST /urls did. `published` is false in the embedded mode (`newsflow run` processes)."""

    items: list[QueuedUrl]
    queued: int
    known: int
    published: bool
    repoll_applied: bool = Field(
        description="True when a `repoll` policy was given and stored on every URL of the request (known ones "
        "too); without one, re-polls follow NEWSFLOW_REPOLL_SCHEDULE."
    )


class LastError(BaseModel):
    """The most recent failure of a URL at some stage."""

    stage: str | None
    reason: str | None
    detail: str | None
    at: datetime | None


class UrlStatus(BaseModel):
    """A URL's state through the pipeline (queued, fetched, parsed, enriched, done, failed)."""

    id: int
    url: str
    host: str
    state: str
    next_stage: str | None
    priority: int
    depth: int
    source: str
    feed_id: int | None
    attempts: int
    stage_attempts: int
    last_error: LastError | None
    next_due_at: datetime | None
    article_id: int | None
    created_at: datetime
    updated_at: datetime


class AddedFeed(BaseModel):
    """A submitted feed: its id, canonical URL, and whether it was already registered."""

    id: int
    url: str
    status: Literal["added", "known"]


class FeedSubmissionResult(BaseModel):
    """What POST /feeds did."""

    items: list[AddedFeed]
    published: bool


class FeedOut(BaseModel):
    """A registered feed and its polling state."""

    id: int
    url: str
    title: str | None
    kind: str
    state: Literal["ok", "failing", "parked"]
    error_count: int
    last_error_reason: str | None
    entries_seen: int
    last_checked_at: datetime | None
    last_success_at: datetime | None
    next_check_at: datetime
    created_at: datetime


class FeedList(BaseModel):
    """All registered feeds, oldest first."""

    items: list[FeedOut]


class ArticleSummary(BaseModel):
    """An article in a listing."""

    id: int
    canonical_url: str
    host: str
    title: str | None
    published_at: datetime | None
    authors: list[str]
    lead: str | None
    language: str | None
    section: str | None
    site_name: str | None
    comment_count: int
    tags: list[str]
    first_seen_at: datetime
    last_seen_at: datetime
    changed_at: datetime


class ArticlePage(BaseModel):
    """One page of articles, newest stored first; pass `next_cursor` as `cursor` for the next."""

    items: list[ArticleSummary]
    next_cursor: str | None


class TagOut(BaseModel):
    """A tag on an article: normalised key, display name, kind, and the site's spelling."""

    key: str
    name: str
    kind: str | None
    raw: str


class LinkOut(BaseModel):
    """An edge from this article; `target_article_id` is set once the target is stored."""

    url: str
    anchor: str | None
    kind: str
    target_article_id: int | None
    target_title: str | None


class LinkIn(BaseModel):
    """An edge to this article from another stored article."""

    article_id: int
    url: str
    title: str | None
    anchor: str | None
    kind: str


class CommentVersionOut(BaseModel):
    """One distinct text of a comment."""

    version: int
    text: str
    edited_at: datetime | None
    seen_at: datetime


class CommentOut(BaseModel):
    """A reader comment with every version seen; `parent_id` links a reply to its parent."""

    id: str
    parent_id: str | None
    author: str | None
    reply_to_author: str | None
    text: str
    posted_at: datetime | None
    edited_at: datetime | None
    deleted: bool
    source: str = Field(
        description="Where newsflow first saw the comment: html (the page), site_json (the site's comments"
        " endpoint), disqus, viafoura, openweb or coral."
    )
    sources: list[str] = Field(description="The sources that listed the comment on their last poll (none once gone).")
    likes: int | None = Field(description="Likes the comment platform counts (null: not given).")
    dislikes: int | None = Field(description="Dislikes the comment platform counts (null: not given).")
    moderation: str | None = Field(description="The platform's moderation state: pending, flagged, spam, rejected.")
    missing_since: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    versions: list[CommentVersionOut]


class CommentSourceOut(BaseModel):
    """One of the article's separate comment sources (a platform thread, a comments endpoint) and how
    its last fetch went: ok, failed (with a reason such as provider_auth, provider_changed,
    rate_limited, provider_unavailable) or unsupported (no public read path, e.g. Facebook)."""

    provider: str
    thread: str
    status: Literal["ok", "failed", "unsupported"]
    reason: str | None
    detail: str | None
    failures: int
    comments: int | None
    checked_at: datetime
    fetched_at: datetime | None


class ArticleDetail(BaseModel):
    """Everything stored about an article."""

    id: int
    canonical_url: str
    first_seen_at: datetime
    last_seen_at: datetime
    record: dict[str, Any] = Field(description="The parsed article record (see shared/records.py).")
    tags: list[TagOut]
    entities: list[dict[str, Any]]
    links_out: list[LinkOut]
    links_in: list[LinkIn]
    comments: list[CommentOut]
    comment_sources: list[CommentSourceOut]
    revisions: list[dict[str, Any]]


class CommentEventOut(BaseModel):
    """One change to one comment: new (version 1), edited (a later version) or deleted."""

    kind: Literal["new", "edited", "deleted"]
    at: datetime
    comment_id: str
    parent_id: str | None
    author: str | None
    version: int | None
    text: str | None
    edited_at: datetime | None
    cursor: str


class CommentEventPage(BaseModel):
    """Comment events in order; pass `next_since` as `since` to get only later ones."""

    events: list[CommentEventOut]
    next_since: str | None


class SearchHitOut(BaseModel):
    """A search match; higher `rank` is better (the scale differs between Postgres and SQLite)."""

    id: int
    canonical_url: str
    title: str | None
    published_at: datetime | None
    rank: float
    snippet: str | None


class SearchResult(BaseModel):
    """Ranked matches for `query`, one page (limit/offset)."""

    query: str
    items: list[SearchHitOut]
    limit: int
    offset: int


class Health(BaseModel):
    """Liveness: the process answers."""

    status: Literal["ok"]


class Check(BaseModel):
    """One dependency check of /readyz."""

    ok: bool
    detail: str | None = None


class Readiness(BaseModel):
    """Readiness: the database (migrated) and, unless embedded, the broker are reachable."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, Check]
