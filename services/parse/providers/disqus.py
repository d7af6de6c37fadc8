"""Disqus posts (pages of `threads/listPosts`) as comment records.

A post: `id` (string), `parent` (the parent post's numeric id, or null), `author` (`name`,
`username`, `isAnonymous`), `message` (HTML: `<p>`, `<br>`, links through disq.us), `raw_message`,
`createdAt` ("2023-04-28T14:05:11", UTC without an offset), `likes`, `dislikes`, `points`,
`isEdited`, `isDeleted`, `isSpam`, `isApproved`, `isFlagged`, `isHighlighted`. A deleted post
that still has replies stays listed with `isDeleted: true` and an empty message (a placeholder).
The page's `cursor.hasNext` says whether more pages follow.

Where the shape comes from: raycast/extensions extensions/nusmods/src/utils/disqus.ts (PostSchema:
id, thread, author.name/username/isAnonymous, message, createdAt, likes, dislikes, points, isEdited,
isDeleted, isSpam, isApproved; CursorSchema); fooleap/disqus-php-api api/init.php `post_format`
(`parent`, `createdAt` read as UTC by appending "+00:00", disq.us redirect links in `message`);
Disqus' docs for threads/listPosts (include: approved, deleted, flagged, spam, highlighted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.parse.providers import Page, ThreadComments, comment_key, count, html_text, iso_time, load, name, threaded
from shared.errors import expect_shape
from shared.records import Comment

PREFIX = "disqus:"


def read_thread(pages: Sequence[Page]) -> ThreadComments:
    """Every post of the round's pages, oldest first (the walk asks `order=asc`)."""
    comments: list[Comment] = []
    complete = True
    for _, body in pages:
        document = load("disqus", body)
        expect_shape(isinstance(document, dict) and document.get("code") == 0, "disqus", "code 0")
        expect_shape(isinstance(document.get("response"), list), "disqus", "list of posts at 'response'")
        cursor = document.get("cursor")
        expect_shape(isinstance(cursor, dict) and isinstance(cursor.get("hasNext"), bool), "disqus", "cursor")
        comments.extend(_comment(post) for post in document["response"])
        complete = not cursor["hasNext"]
    return ThreadComments(threaded(comments), complete)


def _comment(post: Any) -> Comment:
    expect_shape(isinstance(post, dict) and isinstance(post.get("id"), str | int), "disqus", "post id")
    expect_shape(isinstance(post.get("message"), str), "disqus", "post message")
    expect_shape(isinstance(post.get("createdAt"), str), "disqus", "post createdAt")
    author = post.get("author") if isinstance(post.get("author"), dict) else {}
    deleted = post.get("isDeleted") is True
    parent = post.get("parent")
    return Comment(
        id=comment_key(PREFIX, post["id"]),
        author=name(author.get("name")) or name(author.get("username")),
        text="" if deleted else html_text(post["message"]),
        parent_id=comment_key(PREFIX, parent)
        if isinstance(parent, str | int) and not isinstance(parent, bool)
        else None,
        posted_at=iso_time(post["createdAt"]),
        deleted=deleted,
        likes=count(post.get("likes")),
        dislikes=count(post.get("dislikes")),
        moderation=_moderation(post),
    )


def _moderation(post: dict[str, Any]) -> str | None:
    if post.get("isSpam") is True:
        return "spam"
    if post.get("isApproved") is False:
        return "pending"
    if post.get("isFlagged") is True:
        return "flagged"
    return None
