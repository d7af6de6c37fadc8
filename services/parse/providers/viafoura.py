"""Viafoura conversation answers (live comments pages, reply pages, user lookups) as comment records.

A comment: `content_uuid`, `parent_uuid` (the content container's uuid for a top-level comment,
the thread's `content_uuid` for a reply), `actor_uuid` (its author, named only by the user lookup's
`preferred_username`), `content` (HTML), `date_created` (epoch milliseconds), `state` and
`simplified_state` ("visible"; "deleted" for a removed comment kept as a placeholder; "disabled",
"rejected", "pending" for moderation), `total_likes`, `total_dislikes`, `total_replies`, and its
first replies under `replies.contents`. A page is `{"contents": [...], "more_available": bool}`.

Where the shape comes from: see services/ingest/providers/viafoura.py (the ViafouraCommentsService
of thecalamityjoe87/paperboy, a GB News comment streamer's README, a lanacion.com.ar scraper and a
Clarin MCP client: `content_uuid`, `parent_uuid`, `actor_uuid`, `content`, `date_created` in epoch
ms, `simplified_state`, `total_likes`, `total_dislikes`, `total_replies`, `replies.contents`,
`preferred_username`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from services.parse.providers import Page, ThreadComments, comment_key, count, epoch, html_text, load, name, threaded
from shared.errors import expect_shape
from shared.records import Comment

PREFIX = "viafoura:"
DELETED_STATES = frozenset({"deleted", "removed"})
REJECTED_STATES = frozenset({"disabled", "rejected", "hidden"})
PENDING_STATES = frozenset({"pending", "awaiting_approval", "requires_approval"})


def read_thread(pages: Sequence[Page]) -> ThreadComments:
    """The round's comments, newest first as Viafoura lists them, replies after their thread's page."""
    names: dict[str, str | None] = {}
    items: list[dict[str, Any]] = []
    last_page: dict[str, bool] = {}  # stream (top level, or one thread's replies) -> more after its last page
    for url, body in pages:
        path = urlsplit(url).path
        if "/v3/sections/sites/" in path:
            continue
        document = load("viafoura", body)
        if "/users/" in path:
            actor = unquote(path.rsplit("/", 1)[-1])
            names[actor] = name(document.get("preferred_username")) if isinstance(document, dict) else None
            continue
        expect_shape(isinstance(document, dict) and isinstance(document.get("contents"), list), "viafoura", "contents")
        expect_shape(isinstance(document.get("more_available"), bool), "viafoura", "more_available")
        last_page[path] = document["more_available"]
        for item in document["contents"]:
            expect_shape(isinstance(item, dict) and isinstance(item.get("content_uuid"), str), "viafoura", "uuid")
            items.append(item)
            items.extend(r for r in _nested(item) if isinstance(r, dict))
    uuids = {item["content_uuid"] for item in items}
    read_replies = {path.rsplit("/", 1)[-1] for path in last_page if "/comments/" in path}
    complete = not any(last_page.values())
    comments: list[Comment] = []
    for item in items:
        complete = complete and _replies_read(item, read_replies)
        actor = item.get("actor_uuid")
        if isinstance(actor, str) and actor and actor not in names:
            complete = False  # its author's name was not looked up: leave it for a round that does
            continue
        comments.append(_comment(item, names.get(actor) if isinstance(actor, str) else None, uuids))
    return ThreadComments(threaded(comments), complete)


def _comment(item: dict[str, Any], author: str | None, uuids: set[str]) -> Comment:
    state = str(item.get("simplified_state") or item.get("state") or "visible").lower()
    deleted = state in DELETED_STATES or state in REJECTED_STATES
    parent = item.get("parent_uuid")
    created = item.get("date_created")
    return Comment(
        id=comment_key(PREFIX, item["content_uuid"]),
        author=author,
        text="" if deleted else html_text(item.get("content")),
        parent_id=comment_key(PREFIX, parent) if parent in uuids else None,
        posted_at=epoch(created / 1000) if isinstance(created, int | float) else None,
        deleted=deleted,
        likes=count(item.get("total_likes")),
        dislikes=count(item.get("total_dislikes")),
        moderation="rejected" if state in REJECTED_STATES else "pending" if state in PENDING_STATES else None,
    )


def _nested(item: dict[str, Any]) -> list[Any]:
    replies = item.get("replies")
    contents = replies.get("contents") if isinstance(replies, dict) else None
    return contents if isinstance(contents, list) else []


def _replies_read(item: dict[str, Any], read_replies: set[str]) -> bool:
    """Whether all of a thread's replies are in the round (carried with it, or fetched on their own)."""
    total = item.get("total_replies")
    return not isinstance(total, int) or total <= len(_nested(item)) or item["content_uuid"] in read_replies
