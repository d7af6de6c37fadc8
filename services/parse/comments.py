"""Reader comments in the HTML, and embedded comment widgets whose comments are not.

Sources: the site profile; JSON-LD `Comment` nodes; comment markup of common systems (WordPress
classic and block themes, Drupal, Discourse, phpBB-style forums, static-site comments) and
generic site-native lists (`data-comment-id`, `id="comment-N"`, `itemtype=Comment`). Threading
comes from nesting, `data-parent*` attributes, Drupal's `div.indented` after the parent, "In reply
to" links or "reply to X" markers. Pingbacks and trackbacks are returned apart from the reader
comments; the comment form, login prompts, and boxes with neither an author, a date nor a numbered
id (dialogs, "show comments" buttons) are never comments. Comment widgets (Disqus, Facebook, Coral,
Spot.IM, ...) are found by services/parse/widgets.py.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import tzinfo

from lxml import etree
from lxml.html import HtmlElement

from services.parse.comment_fields import ItemFields, read_fields
from services.parse.dates import parse_datetime
from services.parse.profiles import SiteProfile, spec_value
from services.parse.structured import StructuredData, ld_list, ld_text, node_types
from services.parse.text import clean_or_none, element_text
from services.parse.tree import select
from shared.records import Comment, Pingback


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# Comment elements: li/div/article.comment, li/div#comment-N, li#li-comment-N, [data-comment-id],
# itemtype schema.org/Comment or Answer, li/div.c-comment, li.pingback, forum posts div/article.post.
# Written as one XPath with a union per element name: the same as the CSS selector list, without
# a walk over the page for each of its 16 parts.
_ITEMS = etree.XPath(
    f"descendant-or-self::li[(@class and ({_has_class('comment')} or {_has_class('c-comment')}"
    f" or {_has_class('pingback')})) or (@id and (starts-with(@id, 'comment-') or starts-with(@id, 'li-comment-')))]"
    f" | descendant-or-self::div[(@class and ({_has_class('comment')} or {_has_class('c-comment')}"
    f" or {_has_class('post')})) or (@id and starts-with(@id, 'comment-'))]"
    f" | descendant-or-self::article[@class and ({_has_class('comment')} or {_has_class('post')})]"
    " | descendant-or-self::*[@data-comment-id or (@itemtype and (contains(@itemtype, 'schema.org/Comment')"
    " or contains(@itemtype, 'schema.org/Answer')))]"
)
# Forum posts (phpBB `div.post` with `.postbody`, Discourse `.cooked`) are comments only with their
# post body inside: `div.post`/`article.post` is also what many blogs call the article itself.
_POST_BODY = ".postbody, .cooked"
# The item itself is the topic (a forum thread's opening post, a Q&A question), not a comment on it.
_TOPIC_TYPES = re.compile(r"schema\.org/(?:DiscussionForumPosting|Question|\w*Article|BlogPosting)\b")
_MARKERS = ("comment", "pingback", "trackback")
_PARENT_ATTRS = ("data-parent-id", "data-parent", "data-parentid", "data-reply-to", "data-in-reply-to")
_ID_ATTRS = ("data-comment-id", "data-id", "data-commentid", "id")
_ID_NUMBER = re.compile(r"(?:comment|li-comment|div-comment|c)[-_]?(\w+)$", re.IGNORECASE)
# Forum post ids: Discourse `post_12`/`post-12`, phpBB `p12`.
_POST_NUMBER = re.compile(r"^(?:post|p)[-_]?(\d+)$", re.IGNORECASE)
_REPLY_MARKER = re.compile(r"^\s*@([\w.\- ]{2,40}?)[,:]\s", re.UNICODE)
# The comment form and its parts (WordPress `#respond`, Jetpack's `#comment-form-*` login
# choices, "Leave a Reply" titles, "must log in" notes): nothing inside is a comment.
_FORM_AREA = re.compile(
    r"(?:^|\s)(?:respond|comment-respond|commentform|comment-?form[\w-]*|reply-?form[\w-]*|reply-title"
    r"|comment-reply-title|must-log-in|logged-in-as|comment-notes)(?:$|\s)",
    re.IGNORECASE,
)
# A form that posts comments, by its name or by where it posts (not a page-wide ASP.NET form).
_COMMENT_FORM_NAME = re.compile(r"comment|reply|respond|postform", re.IGNORECASE)
_COMMENT_FORM_ACTION = re.compile(r"wp-comments-post|/comment/reply|posting\.php|staticman", re.IGNORECASE)
# Whole texts that are the comment system's own prompts (WordPress, Jetpack), not a reader's words.
_PROMPT = re.compile(
    r"^(?:leave a (?:reply|comment)|comments are closed|you must be logged in to post a comment"
    r"|please log in using one of these methods to post your comment|log in to reply"
    r"|fill in your details below or click an icon to log in|notify me of new (?:comments|posts)"
    r"|your email address will not be published)\b",
    re.IGNORECASE,
)
_MAX_PROMPT_CHARS = 300
# Containers of replies that follow their parent (Drupal's `div.indented`) instead of nesting in it.
_REPLY_CONTAINERS = frozenset({"indented", "children", "replies", "comment-replies", "comment-children"})
_IN_REPLY_TO = re.compile(
    r"^\W*(?:in reply to|reply to|antwort auf|als antwort auf|en réponse à|en respuesta a|in risposta a"
    r"|em resposta a|als reactie op)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class FoundComments:
    """What the page's comment markup holds: reader comments, and pingbacks/trackbacks apart."""

    comments: list[Comment]
    pingbacks: list[Pingback] = field(default_factory=list)


@dataclass(slots=True)
class _Item:
    element: HtmlElement
    id: str
    fields: ItemFields
    parent: str | None = None


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


def generic_comments(root: HtmlElement, structured: StructuredData, tz: tzinfo | None) -> FoundComments:
    """Comments from markup (comment systems and site-native lists), else from JSON-LD Comment
    nodes; pingbacks and trackbacks of the list apart from the reader comments."""
    candidates = [item for item in _ITEMS(root) if _looks_like_comment(item)]
    # Keep the outermost element of each comment (li.comment wraps article.comment-body, etc.).
    candidate_set = set(candidates)
    candidates = [
        item
        for item in candidates
        if not any(a in candidate_set and _same_comment(a, item) for a in item.iterancestors())
    ]
    items = _read_items(candidates)
    _link_parents(items)
    raw = [_raw_entry(item) for item in items if item.fields.kind == "comment"]
    pings = [_pingback(item, tz) for item in items if item.fields.kind != "comment"]
    return FoundComments(_build(raw, tz) if raw else _json_ld_comments(structured, tz), pings)


def _looks_like_comment(item: HtmlElement) -> bool:
    """A candidate is a comment if it is marked as one (or is a forum post with its post body), is
    not the topic itself, and is outside the page chrome, the comment form and its login prompts."""
    marker = " ".join(filter(None, [item.get("class"), item.get("id"), item.get("itemtype")])).lower()
    if _is_forum_post(item):
        if not select(item, _POST_BODY):
            return False
    elif "schema.org/answer" in marker:
        if not select(item, "[itemprop~=author]"):  # an FAQ's answers have no author
            return False
    elif not any(word in marker for word in _MARKERS) and item.get("data-comment-id") is None:
        return False
    if _TOPIC_TYPES.search(item.get("itemtype") or "") or item.tag == "form":
        return False
    return not _in_page_chrome(item) and not _in_comment_form(item) and _has_text(item)


def _has_text(element: HtmlElement) -> bool:
    return any(piece.strip() for piece in element.itertext())


def _is_forum_post(item: HtmlElement) -> bool:
    return item.tag in {"div", "article"} and "post" in (item.get("class") or "").split()


def _in_page_chrome(item: HtmlElement) -> bool:
    """Below a `<nav>`, or a `<footer>` that is not itself inside a comment area."""
    ancestors = list(item.iterancestors())
    for index, node in enumerate(ancestors):
        if node.tag == "nav":
            return True
        if node.tag == "footer" and not any("comment" in (a.get("class") or "") for a in ancestors[index + 1 :]):
            return True
    return False


def _in_comment_form(item: HtmlElement) -> bool:
    """In (or being) the comment form: a part named like WordPress's `#respond`/`#comment-form-*`,
    or a `<form>` that posts comments (an ASP.NET page-wide form posts nothing of the kind)."""
    for node in (item, *item.iterancestors()):
        if _FORM_AREA.search(f"{node.get('id') or ''} {node.get('class') or ''}"):
            return True
        if node.tag == "form":
            named = f"{node.get('id') or ''} {node.get('class') or ''}"
            if _COMMENT_FORM_NAME.search(named) or _COMMENT_FORM_ACTION.search(node.get("action") or ""):
                return True
    return False


def _same_comment(ancestor: HtmlElement, item: HtmlElement) -> bool:
    """Whether `item` is an inner wrapper of the comment `ancestor` (not a nested reply)."""
    ancestor_id, item_id = _item_id(ancestor), _item_id(item)
    if ancestor_id and item_id and ancestor_id != item_id:
        return False
    for node in item.iterancestors():
        if node is ancestor:
            return True
        if node.tag in {"ul", "ol"} or "children" in (node.get("class") or ""):
            return False
    return False


def _read_items(candidates: list[HtmlElement]) -> list[_Item]:
    """The fields of every candidate; those without any sign of being a comment (no author, no
    date, no id with a number: a "click to show comments" box, a dialog) or with only a prompt's
    text are dropped."""
    candidate_set = set(candidates)
    items: list[_Item] = []
    for element in candidates:
        own = _own_part(element, candidate_set)
        nested = [node for node in element.iterdescendants() if node in candidate_set]
        fields = read_fields(element, own, nested)
        site_id = _item_id(element)
        posted_ok = fields.posted is not None and parse_datetime(fields.posted) is not None
        named = fields.author is not None and not fields.author_is_heading
        if not (named or posted_ok or (site_id and any(ch.isdigit() for ch in site_id))):
            continue
        if fields.kind == "comment" and (not fields.text or _is_prompt(fields.text)):
            continue
        author = clean_or_none(fields.author)
        item_id = site_id or _stable_id(author, fields.text, fields.posted)
        items.append(_Item(element, item_id, fields))
    return items


def _is_prompt(text: str) -> bool:
    return len(text) <= _MAX_PROMPT_CHARS and bool(_PROMPT.match(text.strip()))


def _link_parents(items: list[_Item]) -> None:
    """Each comment's parent id: `data-parent*` attributes, the enclosing comment, an "In reply to"
    link, or the comment just before the reply container it sits in (Drupal's `div.indented`)."""
    by_element = {item.element: item for item in items}
    for item in items:
        element = item.element
        parent = next((element.get(a) for a in _PARENT_ATTRS if element.get(a)), None)
        if parent is None:
            enclosing = next((a for a in element.iterancestors() if a in by_element), None)
            parent = by_element[enclosing].id if enclosing is not None else None
        item.parent = parent or _reply_link_target(element, by_element) or _preceding_parent(element, by_element)


def _nearest_item(node: HtmlElement, stop: HtmlElement, by_element: dict[HtmlElement, _Item]) -> HtmlElement:
    """The innermost comment element holding `node`, looking no further up than `stop`."""
    for ancestor in node.iterancestors():
        if ancestor is stop or ancestor in by_element:
            return ancestor
    return stop


def _reply_link_target(element: HtmlElement, by_element: dict[HtmlElement, _Item]) -> str | None:
    """The id an "In reply to" link of the comment itself points at (Drupal `#comment-N`, Discourse
    `data-link-to-post`); links of nested replies and the comment's own classes do not count."""
    for link in element.iter("a"):
        if _nearest_item(link, element, by_element) is not element:
            continue
        target = link.get("data-link-to-post")
        if target and "in-reply-to" in (link.get("class") or ""):
            return target.strip()
        href = link.get("href") or ""
        if "#" not in href:
            continue
        holder = link.getparent()
        inside = holder is not None and holder is not element
        label = element_text(holder) if inside else ""
        classes = " ".join(filter(None, [link.get("class"), holder.get("class") if inside else None]))
        if _IN_REPLY_TO.match(label) or "in-reply-to" in classes or "parent" in classes.split():
            return _fragment_id(href.rsplit("#", 1)[1])
    return None


def _preceding_parent(element: HtmlElement, by_element: dict[HtmlElement, _Item]) -> str | None:
    """The comment right before the reply container holding `element` (Drupal threads)."""
    for container in element.iterancestors():
        if container in by_element:
            return None
        if _REPLY_CONTAINERS.isdisjoint((container.get("class") or "").split()):
            continue
        sibling = container.getprevious()
        while sibling is not None:
            if sibling in by_element:
                return by_element[sibling].id
            if any(node in by_element for node in sibling.iterdescendants()) or _has_text(sibling):
                return None
            sibling = sibling.getprevious()
        return None
    return None


def _raw_entry(item: _Item) -> dict[str, str | None]:
    fields = item.fields
    reply_to = fields.reply_to
    if not reply_to:
        marker = _REPLY_MARKER.match(fields.text)
        reply_to = marker.group(1).strip() if marker else None
    return {
        "id": item.id,
        "parent": item.parent,
        "author": fields.author,
        "text": fields.text,
        "posted": fields.posted,
        "edited": None,
        "reply_to": reply_to,
    }


def _pingback(item: _Item, tz: tzinfo | None) -> Pingback:
    fields = item.fields
    return Pingback(
        id=item.id,
        kind=fields.kind,
        url=fields.link,
        title=clean_or_none(fields.title),
        excerpt=fields.text or None,
        posted_at=parse_datetime(fields.posted, tz),
    )


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


def _item_id(item: HtmlElement) -> str | None:
    """The site's id of a comment: a `data-*` id or the number in `id="comment-N"`; for an item
    without one, the anchor right before it (Drupal's `<a id="comment-N"></a>`)."""
    for attribute in _ID_ATTRS:
        value = (item.get(attribute) or "").strip()
        if value:
            return _fragment_id(value) if attribute == "id" else value
    anchor = item.getprevious()
    name = (anchor.get("id") or anchor.get("name") or "") if anchor is not None and anchor.tag == "a" else ""
    if name and not len(anchor) and any(ch.isdigit() for ch in name):
        return _fragment_id(name)
    return None


def _fragment_id(value: str) -> str:
    """The comment number in an element id or link fragment (`comment-12`, `post_3`, `p45`)."""
    value = value.strip()
    post = _POST_NUMBER.match(value)
    if post:
        return post.group(1)
    match = _ID_NUMBER.search(value)
    return match.group(1) if match else value


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
