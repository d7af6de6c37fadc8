"""OpenWeb (Spot.IM): a conversation through the API its launcher calls, as an anonymous guest.

Requests, in order:
1. a guest token: `POST {NEWSFLOW_OPENWEB_API_URL}/guests/token` with `x-spot-id: <sp_...>` and the
   body `{}` -> `{"accessToken": ...}` (sent on, never stored);
2. the conversation, oldest first: `POST {NEWSFLOW_OPENWEB_API_URL}/conversation/read` with
   `x-spot-id`, `x-post-id`, `x-access-token` and the body `{"sort_by": "oldest", "offset": N,
   "count": 50, "depth": 2, "parent_id": "", "message_id": ""}`, then `offset = conversation.offset`
   while `conversation.has_next` -> `{"conversation": {"comments": [...], "users": {...},
   "has_next": bool, "offset": int, ...}}`;
3. the rest of a comment's replies when the comment says `has_next`: the same request with
   `"parent_id": <comment id>`, `"offset": <comment's offset>`, `"depth": 1`.

Where the shape comes from: OpenWeb's iOS SDK (SpotImCore: OWConversationEndpoint.swift for the
`/conversation/read` POST and its parameters sort_by, offset, count, parent_id, message_id,
depth 2 for a conversation and 1 for replies; OWConversation.swift and SPComment.swift for the
answer, decoded from snake_case keys); thecalamityjoe87/paperboy src/services/comments/
openWebCommentsService.vala (the guest token from `/guests/token`, the `x-spot-id`, `x-post-id`,
`x-access-token` headers, `conversation.comments`, `conversation.users[...].display_name`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from services.ingest.providers import Answer, ApiRequest, document, json_body
from shared.config import Settings
from shared.errors import ProviderError, expect_shape
from shared.records import CommentSource

PAGE_SIZE = 50


class OpenWebWalk:
    """The guest token, then the conversation's pages and its replies' pages."""

    def __init__(self, source: CommentSource, settings: Settings):
        self.source = source
        self.base = settings.openweb_api_url.rstrip("/")
        self.token = ""

    def start(self) -> list[ApiRequest]:
        """A guest token, as the launcher asks for one before reading."""
        headers = (("x-spot-id", self.source.thread["spot_id"]), ("Content-Type", "application/json"))
        return [ApiRequest(f"{self.base}/guests/token", method="POST", body=b"{}", headers=headers, keep=False)]

    def follow(self, request: ApiRequest, answer: Answer) -> list[ApiRequest]:
        """The first page after the token; after each page the next one and unread replies."""
        found = document("openweb", answer)
        if not self.token:
            token = found.get("accessToken") if isinstance(found, dict) else None
            if not isinstance(token, str) or not token:
                raise ProviderError("provider_auth", "OpenWeb gave no guest token")
            self.token = token
            return [self._read(0, "", depth=2)]
        expect_shape(isinstance(found, dict) and isinstance(found.get("conversation"), dict), "openweb", "conversation")
        conversation = found["conversation"]
        expect_shape(isinstance(conversation.get("comments"), list), "openweb", "conversation.comments list")
        expect_shape(isinstance(conversation.get("has_next"), bool), "openweb", "conversation.has_next")
        parent = _parent_of(request)
        more: list[ApiRequest] = []
        if conversation["has_next"]:
            expect_shape(isinstance(conversation.get("offset"), int), "openweb", "conversation.offset")
            more.append(self._read(conversation["offset"], parent, depth=2 if not parent else 1))
        for comment in _walk(conversation["comments"]):
            expect_shape(isinstance(comment.get("id"), str), "openweb", "comment id")
            if comment.get("has_next") is True and isinstance(comment.get("offset"), int):
                more.append(self._read(comment["offset"], comment["id"], depth=1))
        return more

    def _read(self, offset: int, parent: str, depth: int) -> ApiRequest:
        body = {
            "sort_by": "oldest",
            "offset": offset,
            "count": PAGE_SIZE,
            "depth": depth,
            "parent_id": parent,
            "message_id": "",
        }
        headers = (
            ("x-spot-id", self.source.thread["spot_id"]),
            ("x-post-id", self.source.thread["post_id"]),
            ("x-access-token", self.token),
            ("Content-Type", "application/json"),
        )
        return ApiRequest(
            f"{self.base}/conversation/read",
            method="POST",
            body=json_body(body),
            headers=headers,
            priority=1 if parent else 0,
            label=urlencode({"parent_id": parent, "offset": offset}),
        )


def _parent_of(request: ApiRequest) -> str:
    """The parent a reply page was asked for ("" for the conversation's own pages)."""
    sent = json.loads(request.body or b"{}")
    return str(sent.get("parent_id") or "")


def _walk(comments: list[Any]) -> list[dict[str, Any]]:
    """Every comment of a page, replies included (iteratively: a hostile answer may nest deep)."""
    found: list[dict[str, Any]] = []
    stack = list(reversed(comments))
    while stack:
        comment = stack.pop()
        if not isinstance(comment, dict):
            continue
        found.append(comment)
        replies = comment.get("replies")
        if isinstance(replies, list):
            stack.extend(reversed(replies))
    return found
