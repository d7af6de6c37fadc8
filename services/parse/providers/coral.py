"""Coral GraphQL answers (a story's comment pages, persisted or raw query) as comment records.

A page: `{"data": {"story": {"comments": {"edges": [{"node": comment}], "pageInfo": {"hasNextPage",
"endCursor"}}}}}`. A comment: `id`, `body` (HTML from Coral's editor; null once deleted),
`createdAt` (ISO 8601, UTC), `author.username`, `status` (NONE, APPROVED, REJECTED, PREMOD,
SYSTEM_WITHHELD), `deleted`, `editing.edited`, `revision.createdAt` (when the current text was
written), `actionCounts.reaction.total` (reactions, Coral's likes), `replyCount`, and `replies`
(a connection of the same shape, nested).

Where the shape comes from: coralproject/talk src/core/server/graph/schema/schema.graphql (Comment,
EditInfo, CommentRevision, COMMENT_STATUS, ActionCounts, CommentsConnection, PageInfo);
thecalamityjoe87/paperboy src/services/comments/coralCommentsService.vala (the stream embed's
answer read through `data.story.comments.edges[].node` with `body`, `createdAt`,
`author.username`, `deleted` and nested `replies.edges`, paged on `pageInfo`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.parse.providers import Page, ThreadComments, comment_key, count, html_text, iso_time, load, name, threaded
from shared.errors import expect_shape
from shared.records import Comment

PREFIX = "coral:"
PENDING = frozenset({"PREMOD", "SYSTEM_WITHHELD"})


def read_thread(pages: Sequence[Page]) -> ThreadComments:
    """The story's comments in the order read, each reply after its parent."""
    comments: list[Comment] = []
    complete = True
    for _, body in pages:
        document = load("coral", body)
        data = document.get("data") if isinstance(document, dict) else None
        story = data.get("story") if isinstance(data, dict) else None
        connection = story.get("comments") if isinstance(story, dict) else None
        expect_shape(isinstance(connection, dict), "coral", "data.story.comments")
        read, page_complete = _connection(connection)
        comments.extend(read)
        complete = page_complete and not connection["pageInfo"]["hasNextPage"]
    return ThreadComments(threaded(comments), complete)


def _connection(top: dict[str, Any]) -> tuple[list[Comment], bool]:
    """The comments of a connection and of every reply connection in it, parents first; False when a
    reply connection has more than it carries."""
    comments: list[Comment] = []
    complete = True
    stack: list[tuple[Any, str | None]] = [(top, None)]
    while stack:
        connection, parent = stack.pop()
        expect_shape(isinstance(connection, dict) and isinstance(connection.get("edges"), list), "coral", "edges")
        info = connection.get("pageInfo")
        expect_shape(isinstance(info, dict) and isinstance(info.get("hasNextPage"), bool), "coral", "pageInfo")
        if parent is not None and info["hasNextPage"]:
            complete = False
        nested = []
        for edge in connection["edges"]:
            node = edge.get("node") if isinstance(edge, dict) else None
            expect_shape(isinstance(node, dict) and isinstance(node.get("id"), str), "coral", "comment id")
            comments.append(_comment(node, parent))
            replies = node.get("replies")
            if isinstance(replies, dict):
                nested.append((replies, node["id"]))
            elif isinstance(node.get("replyCount"), int) and node["replyCount"] > 0:
                complete = False  # replies the answer did not carry
        stack.extend(reversed(nested))
    return comments, complete


def _comment(node: dict[str, Any], parent: str | None) -> Comment:
    expect_shape(isinstance(node.get("createdAt"), str), "coral", "comment createdAt")
    status = str(node.get("status") or "NONE")
    deleted = node.get("deleted") is True or status == "REJECTED"
    author = node.get("author") if isinstance(node.get("author"), dict) else {}
    editing = node.get("editing") if isinstance(node.get("editing"), dict) else {}
    revision = node.get("revision") if isinstance(node.get("revision"), dict) else {}
    actions = node.get("actionCounts") if isinstance(node.get("actionCounts"), dict) else {}
    reaction = actions.get("reaction") if isinstance(actions.get("reaction"), dict) else {}
    return Comment(
        id=comment_key(PREFIX, node["id"]),
        author=name(author.get("username")),
        text="" if deleted else html_text(node.get("body")),
        parent_id=comment_key(PREFIX, parent) if parent else None,
        posted_at=iso_time(node["createdAt"]),
        edited_at=iso_time(revision.get("createdAt")) if editing.get("edited") is True else None,
        deleted=deleted,
        likes=count(reaction.get("total")),
        moderation="rejected" if status == "REJECTED" else "pending" if status in PENDING else None,
    )
