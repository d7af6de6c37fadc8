"""OpenWeb (Spot.IM) `conversation/read` answers as comment records.

An answer: `{"conversation": {"comments": [...], "users": {user_id: {"display_name", "user_name",
...}}, "has_next", "offset", "messages_count", ...}}`. A comment: `id`, `parent_id`, `root_comment`,
`depth`, `user_id`, `written_at` (epoch seconds), `time`, `replies_count`, `offset`, `has_next`
(more replies than it carries), `status` ("reject", "block...", "pending", "require_approval",
"publish_and_moderate"), `edited`, `deleted`, `published`, `rank` (`ranks_up`, `ranks_down`),
`content` (a list of parts; `{"type": "text", "id", "text": "<p>HTML</p>"}` for text) and `replies`
(nested comments). Each stored page's URL ends in `#parent_id=<id>&offset=<n>`: what it asked for.

Where the shape comes from: OpenWeb's iOS SDK, SpotImCore (SPComment.swift: the comment's fields,
content parts, Rank, CommentStatus; OWConversation.swift: sortBy, messagesCount, offset, hasNext,
users, comments; keys decoded from snake_case); thecalamityjoe87/paperboy src/services/comments/
openWebCommentsService.vala (`conversation.comments`, `users[user_id].display_name`, text parts,
`written_at`, nested `replies`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from services.parse.providers import Page, ThreadComments, comment_key, count, epoch, html_text, load, name, threaded
from shared.errors import expect_shape
from shared.records import Comment

PREFIX = "openweb:"


def read_thread(pages: Sequence[Page]) -> ThreadComments:
    """The conversation's comments in the order read (oldest first), replies after their parent."""
    users: dict[str, Any] = {}
    found: list[tuple[dict[str, Any], str | None]] = []
    more_after: dict[str, bool] = {}  # parent asked for ("" = the conversation) -> more after its last page
    for url, body in pages:
        document = load("openweb", body)
        expect_shape(isinstance(document, dict) and isinstance(document.get("conversation"), dict), "openweb", "conv")
        conversation = document["conversation"]
        expect_shape(isinstance(conversation.get("comments"), list), "openweb", "conversation.comments")
        expect_shape(isinstance(conversation.get("has_next"), bool), "openweb", "conversation.has_next")
        if isinstance(conversation.get("users"), dict):
            users.update(conversation["users"])
        asked = parse_qs(urlsplit(url).fragment).get("parent_id", [""])[0]
        more_after[asked] = conversation["has_next"]
        found.extend(_flatten(conversation["comments"], asked or None))
    complete = not any(more_after.values())
    comments = []
    for comment, parent in found:
        if comment.get("has_next") is True and comment["id"] not in more_after:
            complete = False  # replies it did not carry were not read
        comments.append(_comment(comment, parent, users))
    return ThreadComments(threaded(comments), complete)


def _flatten(comments: list[Any], parent: str | None) -> list[tuple[dict[str, Any], str | None]]:
    """Each comment with its parent's id, depth first (iteratively: a hostile answer may nest deep)."""
    found: list[tuple[dict[str, Any], str | None]] = []
    stack = [(c, parent) for c in reversed(comments)]
    while stack:
        comment, above = stack.pop()
        expect_shape(isinstance(comment, dict) and isinstance(comment.get("id"), str), "openweb", "comment id")
        found.append((comment, above))
        replies = comment.get("replies")
        if isinstance(replies, list):
            stack.extend((r, comment["id"]) for r in reversed(replies))
    return found


def _comment(comment: dict[str, Any], parent: str | None, users: dict[str, Any]) -> Comment:
    user = users.get(str(comment.get("user_id")))
    user = user if isinstance(user, dict) else {}
    parent_id = comment.get("parent_id") if isinstance(comment.get("parent_id"), str) else None
    parent_id = parent_id if parent_id and parent_id != comment["id"] else parent
    deleted = comment.get("deleted") is True
    status = str(comment.get("status") or "")
    rank = comment.get("rank") if isinstance(comment.get("rank"), dict) else {}
    rejected = status == "reject" or "block" in status
    return Comment(
        id=comment_key(PREFIX, comment["id"]),
        author=name(user.get("display_name")) or name(user.get("user_name")),
        text="" if deleted or rejected else _text(comment.get("content")),
        parent_id=comment_key(PREFIX, parent_id) if parent_id else None,
        posted_at=epoch(comment.get("written_at")),
        deleted=deleted or rejected,
        likes=count(rank.get("ranks_up")),
        dislikes=count(rank.get("ranks_down")),
        moderation=_moderation(status, rejected),
    )


def _text(content: Any) -> str:
    """The text parts of a comment's content, one paragraph each (images and GIFs have no text)."""
    parts = content if isinstance(content, list) else []
    texts = [html_text(p.get("text")) for p in parts if isinstance(p, dict) and p.get("type") == "text"]
    return "\n\n".join(t for t in texts if t)


def _moderation(status: str, rejected: bool) -> str | None:
    if rejected:
        return "rejected"
    if status in ("pending", "require_approval"):
        return "pending"
    if status == "publish_and_moderate":
        return "flagged"
    return None
