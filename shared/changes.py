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


HTML_SOURCE = "html"


@dataclass(frozen=True, slots=True)
class StoredComment:
    """What the store knows of a comment, enough to diff it against the page; `sources` are the
    sources (the page's HTML, a comments endpoint) that showed it last time, the first owns its text."""

    key: str
    content_hash: str
    deleted: bool
    sources: tuple[str, ...] = (HTML_SOURCE,)


@dataclass(frozen=True, slots=True)
class CommentDiff:
    """The page's comments sorted by what happened to each since the last poll."""

    new: tuple[Comment, ...] = ()
    edited: tuple[Comment, ...] = ()
    unchanged: tuple[Comment, ...] = ()
    restored: tuple[Comment, ...] = ()
    removed: tuple[str, ...] = ()  # keys now shown as a "comment removed" placeholder
    gone: tuple[str, ...] = ()  # keys no longer shown by any source
    left: tuple[str, ...] = ()  # keys this source stopped showing that another source still shows


def diff_comments(
    stored: Mapping[str, StoredComment], seen: Sequence[Comment], source: str = HTML_SOURCE, *, complete: bool = True
) -> CommentDiff:
    """Diff the comments one source shows now against the stored ones by comment key.

    "Gone" is scoped per source: a comment is deleted only when no source that showed it shows it
    any more, so a comment only the JSON endpoint lists is not deleted by the HTML page's poll (and
    vice versa). Only the source that owns a comment's text (the first that showed it) can edit it:
    two sources that print one comment slightly differently must not flip it back and forth.
    A source with no comments at all is not taken as "every comment deleted": that is what a failed
    comment block or a changed layout looks like, so nothing is marked gone from an empty source.
    Nor from an incomplete one (`complete=False`: a platform thread cut short by the request bound,
    whose later pages were not read): what it did not list may still be there."""
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
        elif before.content_hash != comment_hash(comment) and _owner(before) in (source, None):
            edited.append(comment)
        else:
            unchanged.append(comment)
    on_page = {c.id for c in seen}
    gone, left = [], []
    if seen and complete:
        for key, s in stored.items():
            if key in on_page or s.deleted or source not in s.sources:
                continue
            (left if set(s.sources) - {source} else gone).append(key)
    return CommentDiff(
        tuple(new), tuple(edited), tuple(unchanged), tuple(restored), tuple(removed), tuple(gone), tuple(left)
    )


def _owner(stored: StoredComment) -> str | None:
    return stored.sources[0] if stored.sources else None


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
