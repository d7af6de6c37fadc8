"""What counts as a change: pure comparisons of what a page shows now against what is stored.

The store applies these decisions; keeping them here, over plain records, lets them be tested
and reasoned about without a database.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.records import ArticleRecord, Comment
from shared.urls import content_hash

# A body that loses more than this share of its length in one poll is more likely a bad fetch
# (a paywall, an error page served with 200, a truncated response) than an editor's revision.
MAX_SHRINK = 0.5
MIN_BODY_FOR_SHRINK_CHECK = 400
_ERROR_TITLE = re.compile(
    r"\b(404|403|410|500|502|503|not found|page not found|access denied|forbidden|service unavailable|"
    r"just a moment|attention required|error)\b",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def comment_hash(comment: Comment) -> str:
    """The hash that tells an edited comment from an unchanged one (text and author)."""
    return content_hash(_SPACES.sub(" ", comment.text).strip(), comment.author)


@dataclass(frozen=True, slots=True)
class StoredComment:
    """What the store knows of a comment, enough to diff it against the page."""

    key: str
    content_hash: str
    deleted: bool


@dataclass(frozen=True, slots=True)
class CommentDiff:
    """The page's comments sorted by what happened to each since the last poll."""

    new: tuple[Comment, ...] = ()
    edited: tuple[Comment, ...] = ()
    unchanged: tuple[Comment, ...] = ()
    restored: tuple[Comment, ...] = ()
    removed: tuple[str, ...] = ()  # keys now shown as a "comment removed" placeholder
    gone: tuple[str, ...] = ()  # keys no longer on the page at all


def diff_comments(stored: Mapping[str, StoredComment], seen: Sequence[Comment]) -> CommentDiff:
    """Diff the comments on the page against the stored ones by comment key.

    A page with no comments at all is not taken as "every comment deleted": that is what a failed
    comment block or a changed layout looks like, so nothing is marked gone from an empty page."""
    new, edited, unchanged, restored, removed = [], [], [], [], []
    for comment in seen:
        before = stored.get(comment.id)
        if before is None:
            new.append(comment)
        elif comment.deleted:
            if not before.deleted:
                removed.append(comment.id)
            else:
                unchanged.append(comment)
        elif before.deleted:
            restored.append(comment)
        elif before.content_hash != comment_hash(comment):
            edited.append(comment)
        else:
            unchanged.append(comment)
    on_page = {c.id for c in seen}
    gone = [k for k, s in stored.items() if k not in on_page and not s.deleted] if seen else []
    return CommentDiff(tuple(new), tuple(edited), tuple(unchanged), tuple(restored), tuple(removed), tuple(gone))


@dataclass(frozen=True, slots=True)
class ArticleContent:
    """The parts of an article whose change is a revision; everything else on a page is noise."""

    title: str | None
    lead: str | None
    body: str

    @classmethod
    def of(cls, record: ArticleRecord) -> ArticleContent:
        """The revision-relevant content of a parsed record."""
        return cls(record.title, record.lead, "\n\n".join(record.body_paragraphs))

    @property
    def hash(self) -> str:
        """Whitespace-insensitive hash of title, lead and body."""
        return content_hash(*(_SPACES.sub(" ", part or "").strip() for part in (self.title, self.lead, self.body)))


@dataclass(frozen=True, slots=True)
class ContentChange:
    """How new content differs from stored content, and whether it looks like a bad fetch instead."""

    changed_fields: tuple[str, ...]
    diff: str
    suspect_reason: str | None = None


def compare_content(old: ArticleContent, new: ArticleContent) -> ContentChange:
    """Fields that changed, a unified diff of them, and a reason to distrust the new content
    (empty or much shorter body, an error page's title) when there is one."""
    fields = tuple(
        name
        for name in ("title", "lead", "body")
        if _SPACES.sub(" ", getattr(old, name) or "").strip() != _SPACES.sub(" ", getattr(new, name) or "").strip()
    )
    diff = "\n".join(
        line
        for name in fields
        for line in difflib.unified_diff(
            (getattr(old, name) or "").split("\n\n"),
            (getattr(new, name) or "").split("\n\n"),
            fromfile=f"{name} (before)",
            tofile=f"{name} (after)",
            lineterm="",
        )
    )
    return ContentChange(fields, diff, _suspect(old, new) if fields else None)


def _suspect(old: ArticleContent, new: ArticleContent) -> str | None:
    if old.body and not new.body.strip():
        return "empty_body"
    if len(old.body) >= MIN_BODY_FOR_SHRINK_CHECK and len(new.body) < len(old.body) * MAX_SHRINK:
        return "body_shrank"
    if new.title and _ERROR_TITLE.search(new.title) and not (old.title and _ERROR_TITLE.search(old.title)):
        return "error_page"
    return None
