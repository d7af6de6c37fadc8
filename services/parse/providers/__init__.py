"""Comment platforms' answers, mapped to comment records: one small pure module per platform.

Each reads the answers ingest fetched for one thread (services/ingest/providers says which requests
those were) and returns the thread's comments in the platform's order, threaded (`parent_id`,
`reply_to_author`), with their text as the page would show it (paragraphs "\\n\\n", line breaks
"\\n"), posted and edited times with their offset, deleted and moderation state and like counts,
and whether the round is complete (a round cut short by the request bound marks nothing gone). An
answer without what the module reads is `ProviderError("provider_changed")`: a platform that changes
its format fails loudly rather than reading as an empty thread.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.parse.comment_json import comment_text
from services.parse.text import clean_or_none
from shared.errors import ProviderError
from shared.records import Comment

# A stored answer: the URL it came from (a POST's with what it asked as a #fragment) and its body.
Page = tuple[str, bytes]


@dataclass(frozen=True, slots=True)
class ThreadComments:
    """A thread's comments as one round read them; `complete` is False when the round stopped
    before the platform's last page (the comments it did not list may still be there)."""

    comments: tuple[Comment, ...]
    complete: bool = True


MAX_KEY = 128  # the store's comment key column


def comment_key(prefix: str, platform_id: Any) -> str:
    """The comment's key: the platform's id after the platform's prefix ("disqus:6123456701"); an id
    too long for the store's key becomes a stable hash of itself."""
    key = f"{prefix}{platform_id}"
    if len(key) <= MAX_KEY:
        return key
    return prefix + "h" + hashlib.sha256(str(platform_id).encode()).hexdigest()[:40]


def load(provider: str, body: bytes) -> Any:
    """A stored answer's JSON; provider_changed when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise ProviderError("provider_changed", f"a stored {provider} answer is not JSON") from None


def html_text(value: Any) -> str:
    """A platform's HTML comment body as text, line structure kept."""
    return comment_text(value, "html")


def count(value: Any) -> int | None:
    """A like count, when the platform gives a number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def name(value: Any) -> str | None:
    """A display name, whitespace normalised."""
    return clean_or_none(value) if isinstance(value, str) else None


def epoch(seconds: Any) -> datetime | None:
    """An epoch time in seconds as an aware UTC datetime (None for anything else)."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time; one without an offset is UTC (platform APIs speak UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def threaded(comments: Iterable[Comment]) -> tuple[Comment, ...]:
    """The comments once each (the first listing wins: pages shift while a thread grows), in thread
    order (each comment followed by its replies, the platform's order kept among siblings), every
    reply's `reply_to_author` named from its parent when the round listed the parent."""
    merged: dict[str, Comment] = {}
    for comment in comments:
        merged.setdefault(comment.id, comment)
    children: dict[str | None, list[Comment]] = {}
    for comment in merged.values():
        parent = comment.parent_id if comment.parent_id in merged and comment.parent_id != comment.id else None
        children.setdefault(parent, []).append(comment)
    ordered: list[Comment] = []
    stack = list(reversed(children.get(None, [])))
    while stack:  # iteratively: a hostile thread may nest deep
        comment = stack.pop()
        if comment.parent_id in merged and comment.reply_to_author is None:
            comment = dataclasses.replace(comment, reply_to_author=merged[comment.parent_id].author)
        ordered.append(comment)
        stack.extend(reversed(children.get(comment.id, [])))
    if len(ordered) < len(merged):  # replies in a cycle of parents reach no top: keep them, unthreaded
        seen = {c.id for c in ordered}
        ordered.extend(c for c in merged.values() if c.id not in seen)
    return tuple(ordered)
