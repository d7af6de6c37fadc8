"""Comments served as JSON by a site's own endpoint (named in its profile), as comment records.

Pure: `find_comment_sources` reads the endpoint's variables off the page and builds its URL;
`read_comment_json` maps one fetched document through the profile's field map. The fetching
happens in ingest (`ingest.fetch_comments`), which only needs the URL and the list path.
Text is normalised like HTML comments (paragraphs "\\n\\n", line breaks "\\n"), naive times get
the profile's zone, and a document that is not JSON is `ParseError("bad_comment_json")`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable
from datetime import tzinfo
from typing import Any
from urllib.parse import quote, urljoin

from lxml import etree
from lxml.html import HtmlElement, fragment_fromstring

from services.parse.dates import parse_datetime
from services.parse.profiles import CommentsApi, SiteProfile, spec_value
from services.parse.text import clean_or_none, multiline_text, normalize_space
from shared.errors import ParseError
from shared.jsonpath import read_items, read_path
from shared.records import Comment, CommentSource

MAX_ITEMS = 5000
_VARIABLE = re.compile(r"\{(\w+)\}")
_BLANK_LINES = re.compile(r"\n\s*\n")


def find_comment_sources(root: HtmlElement, profile: SiteProfile | None, page_url: str) -> list[CommentSource]:
    """The profile's comments endpoint for this page, when every variable of its URL is on the page."""
    api = profile.comments_api if profile else None
    if profile is None or api is None:
        return []
    values: dict[str, str] = {"page": "{page}"}
    for name in _VARIABLE.findall(api.url):
        if name == "page":
            continue
        value = spec_value(root, api.variables.get(name))
        if not value:
            return []
        values[name] = quote(value, safe="")
    url = urljoin(page_url, _VARIABLE.sub(lambda m: values[m.group(1)], api.url))
    return [
        CommentSource(
            url=url,
            provider="site_json",
            format="json",
            profile=profile.name,
            items_path=api.items,
            first_page=api.first_page,
            max_pages=api.max_pages if "{page}" in url else 1,
        )
    ]


def read_comment_json(body: bytes | str, api: CommentsApi, tz: tzinfo | None) -> tuple[Comment, ...]:
    """The comments of one JSON document (one page of the endpoint), in document order."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise ParseError("bad_comment_json", f"comments document is not JSON: {error}"[:300]) from error
    if read_path(document, api.items) is not None and not isinstance(read_path(document, api.items), list):
        raise ParseError("bad_comment_json", f"no list at {api.items!r}")
    return _build(read_items(document, api.items)[:MAX_ITEMS], api, tz)


def read_comment_pages(pages: Iterable[bytes], api: CommentsApi, tz: tzinfo | None) -> tuple[Comment, ...]:
    """The comments of every page in order; an id seen on an earlier page wins (pages shift as
    comments are added between two requests)."""
    merged: dict[str, Comment] = {}
    for body in pages:
        for comment in read_comment_json(body, api, tz):
            merged.setdefault(comment.id, comment)
    # A reply and its parent may be on different pages: name the parent's author across pages.
    return tuple(
        dataclasses.replace(c, reply_to_author=merged[c.parent_id].author)
        if c.parent_id in merged and c.reply_to_author is None
        else c
        for c in merged.values()
    )


def _build(items: list[Any], api: CommentsApi, tz: tzinfo | None) -> tuple[Comment, ...]:
    fields = api.fields
    comments: list[Comment] = []
    authors: dict[str, str | None] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        deleted = bool(read_path(item, fields["deleted"])) if "deleted" in fields else False
        text = comment_text(read_path(item, fields["text"]), api.text_format)
        author = clean_or_none(_scalar(read_path(item, fields["author"])) if "author" in fields else None)
        posted = read_path(item, fields["posted"]) if "posted" in fields else None
        comment_id = _scalar(read_path(item, fields["id"])) if "id" in fields else None
        comment_id = comment_id or _stable_id(author, text, _scalar(posted))
        if (not text and not deleted) or comment_id in authors:
            continue
        parent = _scalar(read_path(item, fields["parent"])) if "parent" in fields else None
        parent = parent if parent and parent != comment_id else None
        authors[comment_id] = author
        comments.append(
            Comment(
                id=comment_id,
                author=author,
                text=text,
                parent_id=parent,
                reply_to_author=authors.get(parent) if parent else None,
                posted_at=parse_datetime(posted, tz),
                edited_at=parse_datetime(read_path(item, fields["edited"]), tz) if "edited" in fields else None,
                deleted=deleted,
            )
        )
    return tuple(comments)


def comment_text(value: Any, text_format: str) -> str:
    """Comment text as the HTML parser writes it: paragraphs "\\n\\n", line breaks "\\n"."""
    if not isinstance(value, str) or not value.strip():
        return ""
    if text_format == "html":
        try:
            return multiline_text(fragment_fromstring(value, create_parent="div"))
        except (etree.ParserError, ValueError):
            pass  # not markup after all: read it as plain text
    paragraphs = _BLANK_LINES.split(value.replace("\r\n", "\n").replace("\r", "\n"))
    lines = ("\n".join(normalize_space(line) for line in p.split("\n")).strip() for p in paragraphs)
    return "\n\n".join(p for p in lines if p)


def _scalar(value: Any) -> str | None:
    """An id, name or time as text (JSON numbers become their decimal form)."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    return str(value).strip() or None


def _stable_id(author: str | None, text: str, posted: str | None) -> str:
    # Same scheme as HTML comments without an id, so one comment gets one key from either source.
    digest = hashlib.sha1(f"{author}\x1f{posted}\x1f{text}".encode(), usedforsecurity=False)
    return "h" + digest.hexdigest()[:16]
