"""Store a page as if the fetch stage had just fetched it: the URL queued, its fetch saved, its state moved on."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared.store import Outcome, fetches, frontier


def store_fetched(session: Session, url: str, body: bytes, *, state: str = "fetched") -> tuple[int, int]:
    """(url_id, fetch_id) of `url` fetched now with this HTML body, its frontier row moved to `state`."""
    url_id = frontier.enqueue_url(session, url).url_id
    fetch_id, _ = save_html(session, url_id, url, body)
    frontier.advance(session, url_id, "queued", state, last_fetch_id=fetch_id)
    return url_id, fetch_id


def save_html(session: Session, url_id: int, url: str, body: bytes, *, keep: int = 0) -> tuple[int, Outcome]:
    """(fetch_id, outcome) of a 200 text/html response with this body saved for `url_id`; `keep` as
    NEWSFLOW_FETCH_BODIES_KEEP (0: every body stays)."""
    return fetches.save_fetch(
        session,
        url_id,
        final_url=url,
        status_code=200,
        content_type="text/html",
        charset="utf-8",
        etag=None,
        last_modified=None,
        headers={},
        body=body,
        keep=keep,
    )
