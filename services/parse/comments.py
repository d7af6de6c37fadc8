"""Reader comments in the HTML, and embedded comment widgets whose comments are not.

Sources: the site profile; JSON-LD `Comment` nodes; WordPress threads (`ol.commentlist`,
`comment-body`); generic site-native lists (`data-comment-id`, `id="comment-N"`,
`itemtype=Comment`). Threading comes from nesting, `data-parent*` attributes or
"reply to X" markers. Comment widgets (Disqus, Facebook, Coral, Spot.IM, ...) are found by
services/parse/widgets.py.
"""

from __future__ import annotations

import hashlib
import re
from datetime import tzinfo

from lxml.html import HtmlElement

from services.parse.dates import parse_datetime
from services.parse.profiles import SiteProfile, spec_value
from services.parse.structured import StructuredData, ld_list, ld_text, node_types
from services.parse.text import clean_or_none, element_text, multiline_text
from services.parse.tree import select
from shared.records import Comment

_GENERIC_ITEMS = (
    "li.comment, div.comment, article.comment, li[id^=comment-], div[id^=comment-], li[id^=li-comment-],"
    " [data-comment-id], [itemtype*='schema.org/Comment'], li.c-comment, div.c-comment"
)
_AUTHOR = (
    ".comment-author .fn, cite.fn, .fn, [class*=comment-user], [class*=comment__user], [class*=comment-name],"
    " [itemprop~=author] [itemprop~=name], [itemprop~=author],"
    " .comment-author, .comment__author, [class*=comment-author], [class*=comment__author],"
    " .author, .username, .user-name, .nickname"
)
_TEXT = (
    ".comment-content, .comment-text, .comment__text, .comment_text, [class*=comment-body__text],"
    " [itemprop~=text], [itemprop~=commentText], .comment-body-text, .text, .content, .message"
)
_DATE = "time[datetime], [itemprop~=dateCreated], [itemprop~=datePublished], .comment-date, .comment-metadata a,"
_DATE += " .commentmetadata a, .comment-meta a, .comment__date, .date, .timestamp"
_REPLY_TO = "[class*=reply-to] a, [class*=in-reply-to] a, [class*=reply-to-author], [class*=replyto] a"
_NOT_TEXT = (
    ".comment-author, .comment-meta, .comment-metadata, .commentmetadata, .reply, .comment-reply-link,"
    " .comment-actions, .comment-footer, [class*=reply-to], .vcard, .avatar, footer, form"
)
_PARENT_ATTRS = ("data-parent-id", "data-parent", "data-parentid", "data-reply-to", "data-in-reply-to")
_ID_ATTRS = ("data-comment-id", "data-id", "data-commentid", "id")
_ID_NUMBER = re.compile(r"(?:comment|li-comment|div-comment|c)[-_]?(\w+)$", re.IGNORECASE)
_REPLY_MARKER = re.compile(r"^\s*@([\w.\- ]{2,40}?)[,:]\s", re.UNICODE)


def profile_comments(root: HtmlElement, profile: SiteProfile, tz: tzinfo | None) -> list[Comment]:
    """Comments by the profile's `comments` selectors."""
    rules = profile.comments
    raw: list[dict[str, str | None]] = []
    for item in select(root, rules["item"]):
        raw.append(
            {
                "id": spec_value(item, rules.get("id")),
                "parent": spec_value(item, rules.get("parent")),
                "author": spec_value(item, rules.get("author")),
                "text": spec_value(item, rules.get("text"), multiline=True),
                "posted": spec_value(item, rules.get("posted")),
                "edited": spec_value(item, rules.get("edited")),
                "reply_to": spec_value(item, rules.get("reply_to")),
            }
        )
    return _build(raw, tz)


def generic_comments(root: HtmlElement, structured: StructuredData, tz: tzinfo | None) -> list[Comment]:
    """Comments from markup (WordPress and site-native lists), else from JSON-LD Comment nodes."""
    items = [item for item in select(root, _GENERIC_ITEMS) if _looks_like_comment(item)]
    # Keep the outermost element of each comment (li.comment wraps article.comment-body, etc.).
    item_set = set(items)
    items = [item for item in items if not any(a in item_set and _same_comment(a, item) for a in item.iterancestors())]
    item_set = set(items)
    raw = [_read_item(item, item_set) for item in items]
    raw = [r for r in raw if r["text"]]
    if raw:
        return _build(raw, tz)
    return _json_ld_comments(structured, tz)


def _looks_like_comment(item: HtmlElement) -> bool:
    """A candidate is a comment if it is in a comment area and has its own text."""
    marker = " ".join(filter(None, [item.get("class"), item.get("id"), item.get("itemtype")]))
    if "comment" not in marker.lower() and item.get("data-comment-id") is None:
        return False
    if _in_page_chrome(item):
        return False
    if item.tag == "form" or (item.find(".//textarea") is not None and len(element_text(item)) < 200):
        return False
    return any(x in marker.lower() for x in ("comment", "schema.org/comment")) and bool(element_text(item))


def _in_page_chrome(item: HtmlElement) -> bool:
    """Below a `<nav>`, or a `<footer>` that is not itself inside a comment area."""
    ancestors = list(item.iterancestors())
    for index, node in enumerate(ancestors):
        if node.tag == "nav":
            return True
        if node.tag == "footer" and not any("comment" in (a.get("class") or "") for a in ancestors[index + 1 :]):
            return True
    return False


def _same_comment(ancestor: HtmlElement, item: HtmlElement) -> bool:
    """Whether `item` is an inner wrapper of the comment `ancestor` (not a nested reply)."""
    for node in item.iterancestors():
        if node is ancestor:
            return True
        if node.tag in {"ul", "ol"} or "children" in (node.get("class") or ""):
            return False
    return False


def _read_item(item: HtmlElement, item_set: set[HtmlElement]) -> dict[str, str | None]:
    own = _own_part(item, item_set)
    author_el = _first_in(item, own, _AUTHOR)
    text_el = _first_in(item, own, _TEXT)
    date_el = _first_in(item, own, _DATE)
    reply_el = _first_in(item, own, _REPLY_TO)
    text = multiline_text(text_el) if text_el is not None else _text_without_chrome(item, own)
    parent = next((item.get(a) for a in _PARENT_ATTRS if item.get(a)), None)
    if parent is None:
        parent_item = next((a for a in item.iterancestors() if a in item_set), None)
        parent = _item_id(parent_item) if parent_item is not None else None
    posted = None
    if date_el is not None:
        posted = date_el.get("datetime") or date_el.get("content") or element_text(date_el)
    reply_to = element_text(reply_el) if reply_el is not None else None
    if not reply_to and text:
        marker = _REPLY_MARKER.match(text)
        reply_to = marker.group(1).strip() if marker else None
    return {
        "id": _item_id(item),
        "parent": parent,
        "author": element_text(author_el) if author_el is not None else None,
        "text": text,
        "posted": posted,
        "edited": None,
        "reply_to": reply_to,
    }


def _own_part(item: HtmlElement, item_set: set[HtmlElement]) -> set[HtmlElement]:
    """The item's own descendants, excluding nested reply comments."""
    own: set[HtmlElement] = set()
    stack = list(reversed(item))
    while stack:
        node = stack.pop()
        if not isinstance(node.tag, str) or node in item_set:
            continue
        own.add(node)
        stack.extend(reversed(node))
    return own


def _first_in(item: HtmlElement, own: set[HtmlElement], selector: str) -> HtmlElement | None:
    """First of the comment's own nodes matching the selectors, earlier selectors first."""
    for single in selector.split(","):
        for node in select(item, single.strip()):
            if node in own:
                return node
    return None


def _text_without_chrome(item: HtmlElement, own: set[HtmlElement]) -> str:
    """Comment text when no text container is marked: its paragraphs, minus author/meta/reply links."""
    chrome = {node for node in select(item, _NOT_TEXT) if node in own}
    paragraphs = [
        multiline_text(p)
        for p in item.iter("p")
        if p in own and p not in chrome and not any(a in chrome for a in p.iterancestors())
    ]
    return "\n\n".join(p for p in paragraphs if p)


def _item_id(item: HtmlElement) -> str | None:
    for attribute in _ID_ATTRS:
        value = (item.get(attribute) or "").strip()
        if not value:
            continue
        if attribute == "id":
            match = _ID_NUMBER.search(value)
            return match.group(1) if match else value
        return value
    return None


def _json_ld_comments(structured: StructuredData, tz: tzinfo | None) -> list[Comment]:
    nodes = [n for n in ld_list(structured.article.get("comment")) if isinstance(n, dict)]
    nodes += [n for n in structured.nodes if "comment" in node_types(n) and n not in nodes]
    raw: list[dict[str, str | None]] = []
    stack = list(reversed([(n, None) for n in nodes]))
    while stack and len(raw) < 5000:
        node, parent = stack.pop()
        node_id = ld_text(node.get("@id")) or ld_text(node.get("identifier")) or ld_text(node.get("url"))
        raw.append(
            {
                "id": node_id,
                "parent": parent
                or ld_text(
                    (node.get("parentItem") or {}).get("@id") if isinstance(node.get("parentItem"), dict) else None
                ),
                "author": ld_text(node.get("author")),
                "text": ld_text(node.get("text")) or "",
                "posted": ld_text(node.get("dateCreated")) or ld_text(node.get("datePublished")),
                "edited": ld_text(node.get("dateModified")),
                "reply_to": None,
            }
        )
        replies = [r for r in ld_list(node.get("comment")) if isinstance(r, dict)]
        stack.extend(reversed([(r, node_id or raw[-1]["text"][:40]) for r in replies]))
    return _build([r for r in raw if r["text"]], tz)


def _build(raw: list[dict[str, str | None]], tz: tzinfo | None) -> list[Comment]:
    """Comments from raw fields: stable ids, parents that exist, reply-to from the parent's author."""
    comments: list[Comment] = []
    authors: dict[str, str | None] = {}
    seen: set[str] = set()
    for entry in raw:
        text = entry["text"] or ""
        author = clean_or_none(entry["author"])
        comment_id = entry["id"] or _stable_id(author, text, entry["posted"])
        if comment_id in seen:
            continue
        seen.add(comment_id)
        parent = (entry["parent"] or "").strip() or None
        if parent == comment_id:
            parent = None
        reply_to = clean_or_none(entry["reply_to"]) or (authors.get(parent) if parent else None)
        authors[comment_id] = author
        comments.append(
            Comment(
                id=comment_id,
                author=author,
                text=text,
                parent_id=parent,
                reply_to_author=reply_to,
                posted_at=parse_datetime(entry["posted"], tz),
                edited_at=parse_datetime(entry["edited"], tz),
            )
        )
    return comments


def _stable_id(author: str | None, text: str, posted: str | None) -> str:
    digest = hashlib.sha1(f"{author}\x1f{posted}\x1f{text}".encode(), usedforsecurity=False)
    return "h" + digest.hexdigest()[:16]
