"""Viafoura: a conversation through its public live comments API, then its repliers' display names.

Requests, in order:
1. the site's uuid from the page's host: `GET {NEWSFLOW_VIAFOURA_SECTIONS_URL}/v3/sections/sites/<host>`
   -> `{"uuid": ...}`;
2. the container's comments, newest first: `GET {NEWSFLOW_VIAFOURA_LIVECOMMENTS_URL}/v4/livecomments/
   <site uuid>?container_id=<id>&limit=100&reply_limit=10&sorted_by=newest`, then `&starting_from=
   <last content_uuid>` while `more_available` -> `{"contents": [comment, ...], "more_available": bool}`,
   each comment with `content_uuid`, `parent_uuid`, `actor_uuid`, `total_replies` and its first replies
   under `replies.contents`; a container nobody has commented on answers 404;
3. a thread's further replies when `total_replies` is more than it carries: `GET .../v4/livecomments/
   <site uuid>/<container uuid>/comments/<content_uuid>?limit=100` (same shape, same paging);
4. each commenter's name, which comments carry only as `actor_uuid`: `GET {NEWSFLOW_VIAFOURA_USERS_URL}/
   v3/sections/<site uuid>/users/<actor_uuid>` -> `{"preferred_username": ...}` (404: a deleted user).

Where the shape comes from: the ViafouraCommentsService class of thecalamityjoe87/paperboy (Vala;
the tyrion site lookup, `contents`, `more_available`, `starting_from` paging, `simplified_state`,
`actor_uuid` and the iam `preferred_username` lookup); the README of a GB News comment streamer
(the live comments and thread-reply paths, `total_replies`, names only through user lookups); a
lanacion.com.ar scraper (`total_likes`, `total_dislikes`, `total_replies`, `date_created`); a
Clarin MCP client (`replies.contents` nested under each comment, `date_created` in epoch ms).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from services.ingest.providers import Answer, ApiRequest, NoThreadError, document, with_query
from shared.config import Settings
from shared.errors import expect_shape
from shared.records import CommentSource

PAGE_SIZE = "100"
REPLY_LIMIT = "10"


class ViafouraWalk:
    """The site lookup, comment pages, reply pages and name lookups of one Viafoura container."""

    def __init__(self, source: CommentSource, settings: Settings):
        self.source = source
        self.settings = settings
        self.site_uuid = ""
        self.actors: set[str] = set()

    def start(self) -> list[ApiRequest]:
        """The site lookup by the page's host."""
        base = self.settings.viafoura_sections_url.rstrip("/")
        return [ApiRequest(f"{base}/v3/sections/sites/{quote(self.source.thread['site'], safe='')}")]

    def follow(self, request: ApiRequest, answer: Answer) -> list[ApiRequest]:
        """Comment pages after the lookup; more pages, replies and names after each page."""
        if "/users/" in request.url:
            return []  # a name, or a 404 for a deleted user (stored either way: parse reads both)
        if not self.site_uuid:
            found = document("viafoura", answer)
            expect_shape(isinstance(found, dict) and isinstance(found.get("uuid"), str), "viafoura", "site uuid")
            self.site_uuid = found["uuid"]
            return [self._comments(None)]
        if answer.status == 404 and "container_id=" in request.url:
            raise NoThreadError(f"no Viafoura container {self.source.thread['container_id']}")
        found = document("viafoura", answer)
        expect_shape(isinstance(found, dict) and isinstance(found.get("contents"), list), "viafoura", "'contents' list")
        expect_shape(isinstance(found.get("more_available"), bool), "viafoura", "'more_available'")
        contents = found["contents"]
        more: list[ApiRequest] = []
        for item in contents:
            expect_shape(isinstance(item, dict) and isinstance(item.get("content_uuid"), str), "viafoura", "uuid")
            replies = _replies(item)
            for comment in (item, *replies):
                self._name(comment, more)
            total = item.get("total_replies")
            if "container_id=" in request.url and isinstance(total, int) and total > len(replies):
                more.append(self._replies(item))
        if found["more_available"] and contents:
            more.append(self._next(request, contents[-1]["content_uuid"]))
        return more

    def _comments(self, starting_from: str | None) -> ApiRequest:
        base = f"{self.settings.viafoura_livecomments_url.rstrip('/')}/v4/livecomments/{self.site_uuid}"
        params = {
            "container_id": self.source.thread["container_id"],
            "limit": PAGE_SIZE,
            "reply_limit": REPLY_LIMIT,
            "sorted_by": "newest",
        }
        if starting_from:
            params["starting_from"] = starting_from
        return ApiRequest(with_query(base, params))

    def _replies(self, item: dict[str, Any], starting_from: str | None = None) -> ApiRequest:
        container = str(item.get("parent_uuid") or "")
        base = (
            f"{self.settings.viafoura_livecomments_url.rstrip('/')}/v4/livecomments/{self.site_uuid}/"
            f"{container}/comments/{item['content_uuid']}"
        )
        params = {"limit": PAGE_SIZE}
        if starting_from:
            params["starting_from"] = starting_from
        return ApiRequest(with_query(base, params), priority=1)

    def _next(self, request: ApiRequest, starting_from: str) -> ApiRequest:
        if "container_id=" in request.url:
            return self._comments(starting_from)
        base = request.url.split("?", 1)[0]
        return ApiRequest(with_query(base, {"limit": PAGE_SIZE, "starting_from": starting_from}), priority=1)

    def _name(self, comment: dict[str, Any], more: list[ApiRequest]) -> None:
        actor = comment.get("actor_uuid")
        if not isinstance(actor, str) or not actor or actor in self.actors:
            return
        self.actors.add(actor)
        base = self.settings.viafoura_users_url.rstrip("/")
        more.append(ApiRequest(f"{base}/v3/sections/{self.site_uuid}/users/{quote(actor, safe='')}", priority=2))


def _replies(item: dict[str, Any]) -> list[dict[str, Any]]:
    replies = item.get("replies")
    contents = replies.get("contents") if isinstance(replies, dict) else None
    return [r for r in contents if isinstance(r, dict)] if isinstance(contents, list) else []
