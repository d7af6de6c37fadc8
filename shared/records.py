"""Typed records that cross stage boundaries.

Every stage hands the next one of these (or only an id that points at one in
the store). They are plain frozen dataclasses so that pure logic can be
tested and benchmarked without Celery or a database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

RECORD_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Image:
    """An image of the article with its caption and credit as displayed."""

    src: str | None = None
    caption: str | None = None
    credit: str | None = None


@dataclass(frozen=True, slots=True)
class RelatedLink:
    """A link from the article's related-articles block, resolved against the page URL."""

    url: str
    title: str


@dataclass(frozen=True, slots=True)
class Comment:
    """One reader comment. `id` is the site's own id, or a stable hash where it has none (a comment
    platform's id is prefixed with the platform, "disqus:123", so two platforms never collide).
    `likes`/`dislikes` are what the platform counts (None: not given); `moderation` is its
    moderation state when it says one ("pending", "flagged", "spam", "rejected"; None: published)."""

    id: str
    author: str | None
    text: str
    parent_id: str | None = None
    reply_to_author: str | None = None
    posted_at: datetime | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    likes: int | None = None
    dislikes: int | None = None
    moderation: str | None = None


@dataclass(frozen=True, slots=True)
class Pingback:
    """A pingback or trackback in the page's comment list: another page that links to this one.

    Kept apart from the reader comments (a link notice is not something a reader wrote, and must
    not count as one or raise a "new comment" event). `kind` is "pingback" or "trackback"; `url`
    is the linking page, `title` its link text, `excerpt` the quoted text when the theme shows it.
    """

    id: str
    kind: str
    url: str | None
    title: str | None
    excerpt: str | None = None
    posted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CommentWidget:
    """An embedded comment system whose comments are not in the HTML (Disqus, Facebook, ...)."""

    provider: str
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class CommentSource:
    """A source of the article's comments outside its HTML: a site's comments JSON endpoint, or a
    comment platform's thread.

    For `provider` "site_json", `url` is absolute, with `{page}` where the page number goes (pages
    `first_page`.. until one whose list at `items_path` is empty, at most `max_pages`); `profile` names
    the site profile whose field map reads each item. For a platform ("disqus", "viafoura", "openweb",
    "coral"), `thread` holds what the page says about its thread there (forum and identifier, site
    and container id, ...) and `url` is the page the thread belongs to. The parser fills these; ingest
    fetches, parse maps.
    """

    url: str
    provider: str = "site_json"
    format: str = "json"
    profile: str | None = None
    items_path: str = ""
    first_page: int = 1
    max_pages: int = 1
    thread: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What tells this source apart from the article's others (its stored pages and state)."""
        if not self.thread:
            return self.url
        return self.provider + ":" + "&".join(f"{k}={v}" for k, v in sorted(self.thread.items()))

    @property
    def label(self) -> str:
        """A short human description of the thread, for logs and `newsflow show`."""
        if not self.thread:
            return self.url
        return " ".join(f"{k}={v}" for k, v in sorted(self.thread.items()))

    def page_urls(self) -> list[str]:
        """The URL of every page that may be fetched, in order (one when the URL has no `{page}`)."""
        if "{page}" not in self.url:
            return [self.url]
        return [self.url.replace("{page}", str(n)) for n in range(self.first_page, self.first_page + self.max_pages)]


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """Everything the parser extracts from one news page."""

    url: str
    canonical_url: str
    title: str | None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    authors: tuple[str, ...] = ()
    lead: str | None = None
    body_paragraphs: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    tags: tuple[str, ...] = ()
    related_links: tuple[RelatedLink, ...] = ()
    body_links: tuple[RelatedLink, ...] = ()
    comments: tuple[Comment, ...] = ()
    comment_count: int = 0
    section: str | None = None
    language: str | None = None
    site_name: str | None = None
    comment_widgets: tuple[CommentWidget, ...] = ()
    comment_sources: tuple[CommentSource, ...] = ()
    date_sources: dict[str, str] = field(default_factory=dict)
    pingbacks: tuple[Pingback, ...] = ()

    @property
    def body_text(self) -> str:
        """Lead and body paragraphs as plain text, paragraphs separated by a blank line."""
        parts = [self.lead] if self.lead else []
        parts.extend(self.body_paragraphs)
        return "\n\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the keys of the fixtures' expected records, plus extras."""
        data = asdict(self)
        data["body_text"] = self.body_text
        return _jsonable(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArticleRecord:
        """Rebuild a record from `to_dict` output (as stored in the database)."""
        return cls(
            url=data["url"],
            canonical_url=data["canonical_url"],
            title=data.get("title"),
            published_at=_parse_dt(data.get("published_at")),
            updated_at=_parse_dt(data.get("updated_at")),
            authors=tuple(data.get("authors") or ()),
            lead=data.get("lead"),
            body_paragraphs=tuple(data.get("body_paragraphs") or ()),
            images=tuple(Image(**i) for i in data.get("images") or ()),
            tags=tuple(data.get("tags") or ()),
            related_links=tuple(RelatedLink(**r) for r in data.get("related_links") or ()),
            body_links=tuple(RelatedLink(**r) for r in data.get("body_links") or ()),
            comments=tuple(
                Comment(
                    **{
                        **c,
                        "posted_at": _parse_dt(c.get("posted_at")),
                        "edited_at": _parse_dt(c.get("edited_at")),
                    }
                )
                for c in data.get("comments") or ()
            ),
            comment_count=int(data.get("comment_count") or 0),
            section=data.get("section"),
            language=data.get("language"),
            site_name=data.get("site_name"),
            comment_widgets=tuple(CommentWidget(**w) for w in data.get("comment_widgets") or ()),
            comment_sources=tuple(CommentSource(**s) for s in data.get("comment_sources") or ()),
            date_sources=dict(data.get("date_sources") or {}),
            pingbacks=tuple(
                Pingback(**{**p, "posted_at": _parse_dt(p.get("posted_at"))}) for p in data.get("pingbacks") or ()
            ),
        )


@dataclass(frozen=True, slots=True)
class TagRecord:
    """A normalised tag: folded `key` (the natural key), display `name`, the site's `raw` spelling."""

    key: str
    name: str
    raw: str
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class LinkEdge:
    """An edge from an article to a canonical target URL, with its natural key and anchor text."""

    target_url: str
    target_hash: str
    anchor: str | None
    kind: str = "related"


@dataclass(frozen=True, slots=True)
class Capture:
    """One HTTP response of a page as a web archive holds it (or as the store exports a fetch): what
    newsflow stores as the URL's fetch. `headers` are the response headers as received, in order;
    `offset` is where its record starts in the WARC file it was read from (None when not read)."""

    url: str
    captured_at: datetime
    status_code: int
    status_line: str
    headers: tuple[tuple[str, str], ...]
    content_type: str | None
    charset: str | None
    body: bytes
    offset: int | None = None


def _parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
