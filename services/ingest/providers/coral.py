"""Coral: a story's comments through the GraphQL API at the embed's root URL.

Production tenants answer only the queries their own apps send, as persisted queries: a non-admin
raw query gets `RAW_QUERY_NOT_AUTHORIZED`. So newsflow first sends what the stream embed sends,
`GET <root>/api/graphql?query=&id=<persisted query id>&variables=<json>` with the embed's variables
(`storyID`, `storyURL`, `commentsOrderBy`, `first`, `after`, ...), id from
`NEWSFLOW_CORAL_PERSISTED_QUERY_ID` (the 9.9.x stream query by default). When the tenant does not
know that id (`PERSISTED_QUERY_NOT_FOUND`: another Coral version) and `NEWSFLOW_CORAL_TOKEN` is set,
it sends its own query as `POST <root>/api/graphql` with `Authorization: Bearer <token>` (an admin
token made with coral-cli). When neither works the thread fails `provider_auth`, saying why.
Either way the answer is `{"data": {"story": {"comments": {"edges": [{"node": comment}],
"pageInfo": {"hasNextPage", "endCursor"}}}}}`, each comment's replies nested under
`replies.edges`; pages follow `after: <endCursor>` while `hasNextPage`. `story: null` is a story
Coral does not know yet.

Where the shape comes from: coralproject/talk src/core/server/graph/schema/schema.graphql
(Story.comments(first ≤ 50, orderBy, after), CommentsConnection, PageInfo, Comment.body, createdAt,
author, status, deleted, editing.edited, revision.createdAt, replies, actionCounts.reaction.total);
the error codes in coralproject/talk src/core/common/errors.ts (RAW_QUERY_NOT_AUTHORIZED,
PERSISTED_QUERY_NOT_FOUND, STORY_NOT_FOUND, RATE_LIMIT_EXCEEDED, TOKEN_INVALID, ...) and Coral's API
docs ("Persisted Queries": only admin users may send arbitrary queries, with a bearer token);
thecalamityjoe87/paperboy src/services/comments/coralCommentsService.vala (the stream embed's
persisted GET, its id for Coral 9.9.7 and its variables, reading `data.story.comments.edges`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from services.ingest.providers import (
    Answer,
    ApiRequest,
    AskInsteadError,
    NoThreadError,
    document,
    json_body,
    with_query,
)
from shared.config import Settings
from shared.errors import ProviderError, expect_shape
from shared.records import CommentSource

PAGE_SIZE = 50  # Story.comments' @constraint(max: 50)

_COMMENT = "id body createdAt deleted status author { username } editing { edited } revision { createdAt }"
_COMMENT += " actionCounts { reaction { total } } replyCount"
_REPLIES = "replies(first: 50, orderBy: CREATED_AT_ASC) { edges { node { %s } } pageInfo { hasNextPage endCursor } }"
# Comments with two levels of replies, oldest first; the stream embed nests replies the same way.
QUERY = (
    "query NewsflowStory($storyID: ID, $storyURL: String, $first: Int!, $after: Cursor) {"
    " story(id: $storyID, url: $storyURL) { id comments(first: $first, after: $after, orderBy: CREATED_AT_ASC) {"
    " edges { node { " + _COMMENT + " " + _REPLIES % (_COMMENT + " " + _REPLIES % _COMMENT) + " } }"
    " pageInfo { hasNextPage endCursor } } } }"
)
# Coral's ERROR_CODES (src/core/common/errors.ts) that say the query or the token is not let in.
AUTH_CODES = frozenset(
    {"RAW_QUERY_NOT_AUTHORIZED", "TOKEN_INVALID", "AUTHENTICATION_ERROR", "INVALID_CREDENTIALS", "JWT_REVOKED"}
)


class CoralWalk:
    """The story's comment pages, by persisted query or, failing that, by raw query with a token."""

    def __init__(self, source: CommentSource, settings: Settings):
        self.source = source
        self.settings = settings
        self.endpoint = (settings.coral_root_url or source.thread["root_url"]).rstrip("/") + "/api/graphql"
        self.raw = not settings.coral_persisted_query_id

    def start(self) -> list[ApiRequest]:
        """The first page the way the embed asks for it (or the raw query when no id is set)."""
        if self.raw and not self.settings.coral_token:
            raise ProviderError("provider_auth", "no Coral persisted query id and NEWSFLOW_CORAL_TOKEN is not set")
        return [self._page(None)]

    def follow(self, request: ApiRequest, answer: Answer) -> list[ApiRequest]:
        """The next page; or the raw query once the tenant refuses the persisted one."""
        found = answer.json()
        codes = _error_codes(found)
        if "PERSISTED_QUERY_NOT_FOUND" in codes and not self.raw:
            if not self.settings.coral_token:
                raise ProviderError(
                    "provider_auth",
                    f"Coral does not know persisted query {self.settings.coral_persisted_query_id}"
                    " (PERSISTED_QUERY_NOT_FOUND) and NEWSFLOW_CORAL_TOKEN is not set",
                )
            self.raw = True
            raise AskInsteadError([self._page(None)])
        if codes & AUTH_CODES:
            raise ProviderError("provider_auth", f"Coral refused the query: {', '.join(sorted(codes))}")
        if "STORY_NOT_FOUND" in codes:
            raise NoThreadError(f"Coral has no story {self.source.label}")
        if "RATE_LIMIT_EXCEEDED" in codes:
            raise ProviderError("rate_limited", "Coral: RATE_LIMIT_EXCEEDED", retry_after=answer.retry_after)
        found = document("coral", answer)
        data = found.get("data") if isinstance(found, dict) else None
        expect_shape(isinstance(data, dict) and "story" in data, "coral", f"data.story (errors: {sorted(codes)})")
        if data["story"] is None:
            raise NoThreadError(f"Coral has no story {self.source.label}")
        comments = data["story"].get("comments") if isinstance(data["story"], dict) else None
        expect_shape(isinstance(comments, dict) and isinstance(comments.get("edges"), list), "coral", "edges")
        info = comments.get("pageInfo")
        expect_shape(isinstance(info, dict) and isinstance(info.get("hasNextPage"), bool), "coral", "hasNextPage")
        if not info["hasNextPage"]:
            return []
        expect_shape(isinstance(info.get("endCursor"), str) and bool(info["endCursor"]), "coral", "pageInfo.endCursor")
        return [self._page(info["endCursor"])]

    def _page(self, after: str | None) -> ApiRequest:
        thread = self.source.thread
        if self.raw:
            variables: dict[str, Any] = {
                "storyID": thread.get("story_id"),
                "storyURL": thread["story_url"],
                "first": PAGE_SIZE,
                "after": after,
            }
            body = json_body({"query": QUERY, "variables": variables, "operationName": "NewsflowStory"})
            headers = (("Authorization", f"Bearer {self.settings.coral_token}"), ("Content-Type", "application/json"))
            label = urlencode({"after": after}) if after else ""
            return ApiRequest(self.endpoint, method="POST", body=body, headers=headers, label=label)
        variables = {
            "storyID": thread.get("story_id"),
            "storyURL": thread["story_url"],
            "commentsOrderBy": "CREATED_AT_ASC",
            "tag": None,
            "storyMode": None,
            "flattenReplies": False,
            "ratingFilter": None,
            "refreshStream": False,
            "first": PAGE_SIZE,
        }
        if after:
            variables["after"] = after
        params = {
            "query": "",
            "id": self.settings.coral_persisted_query_id,
            "variables": json.dumps(variables, separators=(",", ":")),
        }
        return ApiRequest(with_query(self.endpoint, params))


def _error_codes(found: Any) -> set[str]:
    """The `extensions.code` of every GraphQL error in an answer."""
    errors = found.get("errors") if isinstance(found, dict) else None
    if not isinstance(errors, list):
        return set()
    codes = set()
    for error in errors:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        if isinstance(code, str):
            codes.add(code)
    return codes
