"""The HTTP API's endpoints: thin plumbing over shared/store (queries) and shared/dispatch (publishing).

Endpoints are plain `def`: FastAPI runs them in its thread pool, where the blocking SQLAlchemy
session and Celery publish belong. Writes commit first and publish after, like every stage does.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from services.api import schemas
from services.api.auth import app_settings, require_read, require_write
from services.api.cursors import MAX_ID, decode_article_cursor, decode_since, encode_article_cursor, encode_event_cursor
from services.api.errors import ApiError
from services.api.metrics import URLS_SUBMITTED
from shared.config import Settings
from shared.db import engine_for, is_migrated, session_scope, write_transaction
from shared.dispatch import BrokerUnavailableError, publish_items
from shared.errors import InvalidURLError
from shared.models import Feed, Url
from shared.store import articles, feeds, frontier, listing, search, views
from shared.urls import canonicalize_url

log = logging.getLogger("newsflow.api")

router = APIRouter()
SettingsDep = Annotated[Settings, Depends(app_settings)]
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="A positive integer id.")]
ShortText = Annotated[schemas.CleanStr | None, Query(max_length=255)]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.ErrorBody, "description": text_}
    for code, text_ in {
        400: "Bad parameter (e.g. a cursor this API did not hand out)",
        401: "Missing or wrong bearer token, or the endpoint is closed",
        422: "Invalid request",
        503: "Database unreachable (store_unavailable), or writes that kept colliding with others (write_conflict)",
    }.items()
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": schemas.ErrorBody, "description": "Unknown id"}}
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": schemas.ErrorBody, "description": "More URLs than NEWSFLOW_API_MAX_BATCH, or a body too large"}
}


def _check_urls(settings: Settings, urls: list[str]) -> None:
    """Refuse an oversized batch (413) or any invalid URL (422, naming each); nothing is stored then."""
    if len(urls) > settings.api_max_batch:
        raise ApiError(413, "batch_too_large", f"{len(urls)} URLs given; at most {settings.api_max_batch} per request")
    problems = []
    for index, url in enumerate(urls):
        try:
            canonicalize_url(url)
        except InvalidURLError as exc:
            problems.append(schemas.ErrorProblem(loc=["body", "urls", index], index=index, message=exc.detail))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ApiError(
            422, "invalid_url", f"invalid URL: {problems[0].message}{more}; nothing was stored", problems=problems
        )


def _publish(settings: Settings, items: list[tuple[str, int]]) -> bool:
    """Publish after the commit; a broker outage is not the client's problem: the sweep dispatches later."""
    try:
        return publish_items(settings, items)
    except BrokerUnavailableError as exc:
        log.warning("broker unavailable; stored items wait for the sweep", extra={"reason": exc.reason})
        return False


@router.post(
    "/urls",
    status_code=202,
    response_model=schemas.UrlSubmissionResult,
    dependencies=[Depends(require_write)],
    responses={**ERRORS, **TOO_LARGE},
    tags=["urls"],
)
def submit_urls(body: schemas.UrlSubmission, settings: SettingsDep) -> schemas.UrlSubmissionResult:
    """Queue one article URL or a batch for fetching; URLs already known keep their row and state."""
    urls = body.all_urls()
    _check_urls(settings, urls)
    schedule = body.repoll.schedule() if body.repoll else None
    queued = write_transaction(
        lambda s: frontier.enqueue_urls(s, urls, source="api", priority=body.priority, repoll_schedule=schedule),
        stage="api",
        url=settings.database_url,
    )
    new = [q for q in queued if q.created]
    published = _publish(settings, [("fetch", q.url_id) for q in new])
    repoll_applied = schedule is not None
    URLS_SUBMITTED.labels("queued").inc(len(new))
    URLS_SUBMITTED.labels("known").inc(len(queued) - len(new))
    return schemas.UrlSubmissionResult(
        items=[schemas.QueuedUrl(id=q.url_id, url=q.url, status="queued" if q.created else "known") for q in queued],
        queued=len(new),
        known=len(queued) - len(new),
        published=published,
        repoll_applied=repoll_applied,
    )


@router.get(
    "/urls/{url_id}",
    response_model=schemas.UrlStatus,
    dependencies=[Depends(require_read)],
    responses={**ERRORS, **NOT_FOUND},
    tags=["urls"],
)
def get_url(url_id: Id, settings: SettingsDep) -> schemas.UrlStatus:
    """A URL's state through the pipeline, its attempts and the reason of its last failure."""
    with session_scope(settings.database_url) as session:
        row = frontier.get_url(session, url_id)
        if row is None:
            raise ApiError(404, "not_found", f"no URL with id {url_id}")
        return _url_status(row)


def _url_status(row: Url) -> schemas.UrlStatus:
    last_error = None
    if row.last_error_reason:
        last_error = schemas.LastError(
            stage=row.last_error_stage, reason=row.last_error_reason, detail=row.last_error_detail, at=row.last_error_at
        )
    return schemas.UrlStatus(
        id=row.id,
        url=row.url,
        host=row.host,
        state=row.state,
        next_stage=frontier.STAGE_FOR_STATE.get(row.state),
        priority=row.priority,
        depth=row.depth,
        source=row.source,
        feed_id=row.feed_id,
        attempts=row.attempts,
        stage_attempts=row.stage_attempts,
        last_error=last_error,
        next_due_at=row.next_due_at,
        article_id=row.article_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.post(
    "/feeds",
    status_code=201,
    response_model=schemas.FeedSubmissionResult,
    dependencies=[Depends(require_write)],
    responses={**ERRORS, **TOO_LARGE},
    tags=["feeds"],
)
def submit_feeds(body: schemas.FeedSubmission, settings: SettingsDep) -> schemas.FeedSubmissionResult:
    """Register feeds (RSS, Atom, JSON Feed, sitemap, or a home page linking one); re-adding un-parks."""
    urls = body.all_urls()
    _check_urls(settings, urls)
    added = write_transaction(lambda s: feeds.add_feeds(s, urls), stage="api", url=settings.database_url)
    published = _publish(settings, [("feed", a.feed_id) for a in added])
    return schemas.FeedSubmissionResult(
        items=[schemas.AddedFeed(id=a.feed_id, url=a.url, status="added" if a.created else "known") for a in added],
        published=published,
    )


@router.get(
    "/feeds", response_model=schemas.FeedList, dependencies=[Depends(require_read)], responses=ERRORS, tags=["feeds"]
)
def list_feeds(settings: SettingsDep) -> schemas.FeedList:
    """Every registered feed and its polling state."""
    with session_scope(settings.database_url) as session:
        return schemas.FeedList(items=[_feed_out(f) for f in feeds.list_feeds(session)])


def _feed_out(feed: Feed) -> schemas.FeedOut:
    return schemas.FeedOut(
        id=feed.id,
        url=feed.url,
        title=feed.title,
        kind=feed.kind,
        state="parked" if feed.parked else ("failing" if feed.error_count else "ok"),
        error_count=feed.error_count,
        last_error_reason=feed.last_error_reason,
        entries_seen=feed.entries_seen,
        last_checked_at=feed.last_checked_at,
        last_success_at=feed.last_success_at,
        next_check_at=feed.next_check_at,
        created_at=feed.created_at,
    )


@router.get(
    "/articles",
    response_model=schemas.ArticlePage,
    dependencies=[Depends(require_read)],
    responses=ERRORS,
    tags=["articles"],
)
def list_articles(
    settings: SettingsDep,
    site: Annotated[ShortText, Query(description="Host name, e.g. sputniknews.com (www. is optional).")] = None,
    tag: Annotated[ShortText, Query(description="Normalised tag key.")] = None,
    entity: Annotated[ShortText, Query(description="Entity name.")] = None,
    since: Annotated[
        schemas.UtcDatetime | None, Query(description="Published (or first seen) at or after this time.")
    ] = None,
    has_comments: Annotated[
        bool | None, Query(description="Only articles with (true) or without (false) comments.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        schemas.CleanStr | None, Query(max_length=200, description="`next_cursor` of the page before.")
    ] = None,
) -> schemas.ArticlePage:
    """Articles, newest stored first, filtered; cursor-paginated and stable while articles are added."""
    before_id = decode_article_cursor(cursor) if cursor else None
    filters = listing.ArticleFilter(site=site, tag=tag, entity=entity, since=since, has_comments=has_comments)
    with session_scope(settings.database_url) as session:
        page = listing.list_articles(session, filters, limit=limit, before_id=before_id)
        items = [
            schemas.ArticleSummary(
                id=a.id,
                canonical_url=a.canonical_url,
                host=a.host,
                title=a.title,
                published_at=a.published_at,
                authors=list(a.authors or []),
                lead=a.lead,
                language=a.language,
                section=a.section,
                site_name=a.site_name,
                comment_count=a.comment_count,
                tags=page.tags.get(a.id, []),
                first_seen_at=a.first_seen_at,
                last_seen_at=a.last_seen_at,
                changed_at=a.changed_at,
            )
            for a in page.articles
        ]
    next_cursor = encode_article_cursor(page.next_before_id) if page.next_before_id is not None else None
    return schemas.ArticlePage(items=items, next_cursor=next_cursor)


@router.get(
    "/articles/{article_id}",
    response_model=schemas.ArticleDetail,
    dependencies=[Depends(require_read)],
    responses={**ERRORS, **NOT_FOUND},
    tags=["articles"],
)
def get_article(article_id: Id, settings: SettingsDep) -> dict[str, Any]:
    """The article's record, tags, entities, links both ways, comment thread with versions, revisions."""
    with session_scope(settings.database_url) as session:
        view = views.article_detail(session, article_id)
    if view is None:
        raise ApiError(404, "not_found", f"no article with id {article_id}")
    return view


@router.get(
    "/articles/{article_id}/comments/events",
    response_model=schemas.CommentEventPage,
    dependencies=[Depends(require_read)],
    responses={**ERRORS, **NOT_FOUND},
    tags=["articles"],
)
def comment_events(
    article_id: Id,
    settings: SettingsDep,
    since: Annotated[
        schemas.CleanStr | None,
        Query(max_length=200, description="`next_since` of the previous answer, or an ISO-8601 time (inclusive)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> schemas.CommentEventPage:
    """Comment changes (new, edited, deleted) in the order they were seen, after `since`."""
    after = decode_since(since) if since else None
    with session_scope(settings.database_url) as session:
        if articles.get_article(session, article_id) is None:
            raise ApiError(404, "not_found", f"no article with id {article_id}")
        events = listing.comment_events(session, article_id, after=after, limit=limit)
    out = [
        schemas.CommentEventOut(
            kind=e.kind,  # type: ignore[arg-type]
            at=e.at,
            comment_id=e.comment_id,
            parent_id=e.parent_id,
            author=e.author,
            version=e.version,
            text=e.text,
            edited_at=e.edited_at,
            cursor=encode_event_cursor(e.position),
        )
        for e in events
    ]
    return schemas.CommentEventPage(events=out, next_since=out[-1].cursor if out else since)


@router.get(
    "/search",
    response_model=schemas.SearchResult,
    dependencies=[Depends(require_read)],
    responses=ERRORS,
    tags=["articles"],
)
def search_articles(
    settings: SettingsDep,
    q: Annotated[
        schemas.CleanStr,
        Query(min_length=1, max_length=search.MAX_QUERY_LENGTH, description='Words, "phrases", -exclusions, or.'),
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> schemas.SearchResult:
    """Full-text search over title, lead and body, best match first."""
    with session_scope(settings.database_url) as session:
        hits = search.search_articles(session, q, limit=limit, offset=offset)
    return schemas.SearchResult(
        query=q,
        items=[
            schemas.SearchHitOut(
                id=h.article_id,
                canonical_url=h.canonical_url,
                title=h.title,
                published_at=h.published_at,
                rank=h.rank,
                snippet=h.snippet,
            )
            for h in hits
        ],
        limit=limit,
        offset=offset,
    )


@router.get("/healthz", response_model=schemas.Health, tags=["operations"])
def healthz() -> schemas.Health:
    """Liveness: the process is up and answering."""
    return schemas.Health(status="ok")


@router.get(
    "/readyz",
    response_model=schemas.Readiness,
    responses={503: {"model": schemas.Readiness, "description": "A dependency is unreachable"}},
    tags=["operations"],
)
def readyz(settings: SettingsDep, response: Response) -> schemas.Readiness:
    """Readiness: the database answers and is migrated; the broker answers (unless embedded)."""
    checks = {"database": _check_database(settings), "broker": _check_broker(settings)}
    ready = all(c.ok for c in checks.values())
    response.status_code = 200 if ready else 503
    return schemas.Readiness(status="ok" if ready else "unavailable", checks=checks)


def _check_database(settings: Settings) -> schemas.Check:
    try:
        with engine_for(settings.database_url).connect() as conn:
            conn.execute(text("SELECT 1"))
        if not is_migrated(settings.database_url):
            return schemas.Check(ok=False, detail="no newsflow schema: run `newsflow db upgrade`")
    except SQLAlchemyError as exc:
        return schemas.Check(ok=False, detail=f"unreachable: {str(exc).splitlines()[0][:200]}")
    return schemas.Check(ok=True)


def _check_broker(settings: Settings) -> schemas.Check:
    if settings.embedded:
        return schemas.Check(ok=True, detail="embedded mode: no broker")
    try:
        if settings.broker_url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(settings.broker_url, socket_connect_timeout=2, socket_timeout=2)
            try:
                client.ping()
            finally:
                client.close()
        else:
            from kombu import Connection

            with Connection(settings.broker_url, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return schemas.Check(
            ok=False, detail=f"unreachable: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
        )
    return schemas.Check(ok=True)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus metrics"}},
    tags=["operations"],
)
def metrics(request: Request) -> Response:
    """Prometheus metrics of this process (text exposition format)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
