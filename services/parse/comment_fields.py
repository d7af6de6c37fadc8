"""The fields of one reader comment in the page's markup: author name, date, text, kind.

Real themes mix the parts of a comment: the author element often also holds "says:", the date
or "on <date> said:"; the date is a `<time datetime>`, an attribute, or only words in a meta line
("Submitted by X on <date>", "by X » <date>"); the text sits next to meta lines, "Reply" links
and moderation notes. Each field is read from its own element and cleaned of the others.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from lxml.html import HtmlElement

from services.parse.dates import parse_datetime
from services.parse.text import element_text, multiline_text, normalize_space
from services.parse.tree import select

# Author elements, most specific first: a name element (`.fn`, `itemprop=name`, a user name) before
# the containers that also hold "says:" and dates, bare `<cite>` (old WordPress themes) and a
# heading (custom callbacks that print the name as `<h3>`) last.
_AUTHOR = (
    ".comment-author .fn, .fn, [itemprop~=author] [itemprop~=name], [class*=author-name], [class*=author_name],"
    " [class*=comment-user], [class*=comment__user], [class*=comment-name], .username, [class*=username],"
    " .nickname, .user-name, .comment__author, [itemprop~=author], .comment-author, [class*=comment-author],"
    " [class*=comment__author], .author, .creator, .submitted, cite, h3, h4, h5"
)
_TEXT = (
    ".comment-content, .comment-text, .comment__text, .comment_text, [class*=comment-body__text],"
    " [class*=comment-content], .commenttext, [itemprop~=text], [itemprop~=commentText], .comment-body-text,"
    " .field--name-comment-body, .field-name-comment-body, .cooked, .text, .content, .message"
)
# "reply to X" markers of site-native lists.
_REPLY_TO = "[class*=reply-to] a, [class*=in-reply-to] a, [class*=reply-to-author], [class*=replyto] a"
# Date elements; a candidate whose value does not parse is skipped for the next one.
_DATE = (
    "time[datetime], [itemprop~=dateCreated], [itemprop~=datePublished], [property~='dc:date'][content],"
    " abbr[title], [data-time], .comment-date, .comment__date, .comment__time, .comment-time,"
    " [class*=comment-date], [class*=comment-time], .comment-metadata a, .commentmetadata a, .comment-meta a,"
    " .post-date, .crawler-post-infos, .date, .timestamp, a[href*='#comment']"
)
# Lines that carry the author and date in words when no element holds the date alone.
_META_LINES = (
    ".submitted, p.author, .comment-info, .commentMeta, .comment-meta, .commentmetadata, .comment__meta,"
    " .crawler-post-meta, .byline, .meta"
)
# Parts of a comment that are not its text: meta lines, reply/edit/like links, notes, forms
# (checked in Python on the comment's few nodes: a selector query per comment costs more).
_CHROME_CLASSES = frozenset(
    {
        "comment-author", "comment-meta", "comment-metadata", "commentmetadata", "comment__meta", "comment-info",
        "commentMeta", "submitted", "reply", "comment-reply", "comment-reply-link", "comment-reply-login",
        "comment-actions", "comment-footer", "comment-footer-meta", "vcard", "avatar", "says", "edit-link",
        "comment-edit-link", "comment-awaiting-moderation", "comment__links", "post-buttons", "post-replies",
        "signature", "sharedaddy",
    }
)  # fmt: skip
_CHROME_TAGS = frozenset({"footer", "form"})
_CHROME_FRAGMENTS = ("reply-to", "comment-like")
_HEADINGS = frozenset({"h3", "h4", "h5"})
_NAME_TAGS = frozenset({"a", "cite", "b", "strong"})
# The verb after a name ("X says:", "X sagt:", "X on <date> said:"); lower case only, so that
# a name such as "Edward Said" keeps its second word.
_SAYS = re.compile(
    r"(?:^|\s+)(?:says|said|wrote|writes|replied|sagt|schreibt|schrieb|meint|dit|a dit|écrit|a écrit|dice|dijo"
    r"|escribió|escreveu|disse|diz|scrive|ha scritto|zegt|schreef|skriver|skrev|sanoo|kirjoitti|pisze|napisał"
    r"|napsal|říká|píše|пишет|написал|написала|говорит|dedi|yazdı)(?=\s|:|…|\.\.\.|$).*$"
)
_BY = re.compile(
    r"^\s*(?:(?:comment|submitted|posted|written|kommentar|eingereicht|geschrieben|publié|envoyé|enviado"
    r"|inviato)\s+)?(?:by|von|par|por|di|da|door|av|af|przez|od|от)\s*:?\s+",
    re.IGNORECASE,
)
# "<name> on <date>", "<name> » <date>", "<name> | <date>": the date starts within three words.
_DATE_TAIL = re.compile(
    r"(?:\s+(?:on|am|le|el|il|em|op|at|um|the)\s+|\s*[»|·•]\s*|\s+[-–—]\s+)(?=(?:\S+\s+){0,2}\S*\d).*$",
    re.IGNORECASE,
)
_NOT_VERIFIED = re.compile(
    r"\s*\((?:not verified|nicht überprüft|non vérifié|no verificado|non verificato|niet geverifieerd"
    r"|não verificado)\)\s*$",
    re.IGNORECASE,
)
_EDGE_PUNCTUATION = " :;,|»·•-–—"
MAX_AUTHOR_CHARS = 80
MAX_AUTHOR_WORDS = 12
# Separators in a meta line before the date part ("by X » <date>", "X on <date>").
_LINE_SEPARATOR = re.compile(r"\s+(?:on|am|le|el|il|em|op|um)\s+|\s*[»|·•]\s*|\s+[-–—]\s+|,\s+", re.IGNORECASE)
# A whole line that is an action link of the comment, not its text.
_ACTION_LINES = frozenset(
    {
        "reply", "reply ↓", "log in to reply", "antworten", "beantworten", "répondre", "responder", "rispondi",
        "svara", "svar", "odpowiedz", "ответить", "report", "quote", "like", "edit", "(edit)", "permalink",
        "melden", "zitieren", "share",
    }
)  # fmt: skip
_BLANK_RUNS = re.compile(r"\n{3,}")
_PING_START = re.compile(r"^\W*(pingback|trackback)\b", re.IGNORECASE)
_PING_CLASSES = {"pingback": "pingback", "trackback": "trackback"}


@dataclass(slots=True)
class ItemFields:
    """What one comment element says: author, text, date (raw string), kind, and for pings the link."""

    author: str | None
    text: str
    posted: str | None
    kind: str
    link: str | None = None
    title: str | None = None
    reply_to: str | None = None
    # The name came from a heading only: not enough, alone, to take the element for a comment
    # ("Kommentare (0)" above a "show comments" button is a heading too).
    author_is_heading: bool = False


def read_fields(item: HtmlElement, own: set[HtmlElement], nested: Collection[HtmlElement]) -> ItemFields:
    """Author, text, date and kind of a comment element; `own` are its nodes without nested replies."""
    text_el = _first_own(item, own, _TEXT)
    skip = _skipped(text_el, nested) if text_el is not None else []
    date_el, posted = _find_date(item, own, text_el)
    author_el, author = _find_author(item, own, text_el, date_el, skip)
    if posted is None:
        posted = _date_in_meta_lines(item, own, text_el)
    text = _text_without(text_el, skip) if text_el is not None else _text_without_chrome(item, own, author_el, date_el)
    kind = _ping_kind(item, own)
    fields = ItemFields(author=author, text=_drop_action_lines(text), posted=posted, kind=kind)
    fields.author_is_heading = author_el is not None and author_el.tag in _HEADINGS
    reply_el = next((node for node in select(item, _REPLY_TO) if node in own), None)
    fields.reply_to = element_text(reply_el) or None if reply_el is not None else None
    if kind != "comment":
        link = _ping_link(item, own, author_el)
        fields.link = link.get("href") if link is not None else None
        fields.title = (normalize_space(element_text(link)) or author) if link is not None else author
        if text_el is None:  # the excerpt is what is left beside the line with the link
            text = _text_without_chrome(item, own, link if link is not None else author_el, date_el)
            fields.text = _drop_action_lines(text)
        fields.text = "" if fields.text == fields.title else fields.text
    return fields


def _first_own(item: HtmlElement, own: set[HtmlElement], selector: str) -> HtmlElement | None:
    """First of the comment's own nodes matching the selectors, earlier selectors first."""
    for node in _own_matches(item, own, selector):
        return node
    return None


def _own_matches(item: HtmlElement, own: set[HtmlElement], selector: str) -> Iterable[HtmlElement]:
    for single in selector.split(","):
        for node in select(item, single.strip()):
            if node in own:
                yield node


def _ping_kind(item: HtmlElement, own: set[HtmlElement]) -> str:
    """ "pingback" or "trackback" for a link notice (WordPress marks its class, older themes only
    start its text with "Pingback:"), else "comment"."""
    for token in (item.get("class") or "").lower().split():
        if token in _PING_CLASSES:
            return _PING_CLASSES[token]
    match = _PING_START.match(_leading_text(item, 40))
    return match.group(1).lower() if match else "comment"


def _leading_text(element: HtmlElement, size: int) -> str:
    """The first `size` characters of an element's text, without walking all of it."""
    parts: list[str] = []
    length = 0
    for piece in element.itertext():
        parts.append(piece)
        length += len(piece)
        if length >= size:
            break
    return normalize_space("".join(parts))[:size]


def _ping_link(item: HtmlElement, own: set[HtmlElement], author_el: HtmlElement | None) -> HtmlElement | None:
    """The link to the page that pinged: the author link (WordPress prints the linking page there)."""
    scopes = [author_el] if author_el is not None else []
    scopes.append(item)
    for scope in scopes:
        for link in scope.iter("a"):
            href = link.get("href") or ""
            external = href.startswith(("http://", "https://", "//")) and "replytocom=" not in href
            if (link in own or link is scope) and external and "comment-edit" not in (link.get("class") or ""):
                return link
    return None


def _find_date(
    item: HtmlElement, own: set[HtmlElement], text_el: HtmlElement | None
) -> tuple[HtmlElement | None, str | None]:
    """The first date element outside the text whose value parses, and that value."""
    for node in _own_matches(item, own, _DATE):
        if text_el is not None and _within(node, text_el):
            continue
        value = _date_value(node)
        if value is not None:
            return node, value
    return None, None


def _date_value(node: HtmlElement) -> str | None:
    """A date element's machine value (`datetime`, `content`, `data-time`, `title`), else its text."""
    for attribute in ("datetime", "content", "data-time", "title"):
        value = (node.get(attribute) or "").strip()
        if value and parse_datetime(value) is not None:
            return value
    text = element_text(node)
    return text if parse_datetime(text) is not None else None


def _date_in_meta_lines(item: HtmlElement, own: set[HtmlElement], text_el: HtmlElement | None) -> str | None:
    """A date written into a meta line: the part after "on", "»", "|" or a comma that parses."""
    for line in _own_matches(item, own, _META_LINES):
        if text_el is not None and _within(line, text_el):
            continue
        found = date_in_line(element_text(line))
        if found:
            return found
    return None


def date_in_line(line: str) -> str | None:
    """The longest tail of a meta line, cut at a separator, that parses as a date."""
    for match in _LINE_SEPARATOR.finditer(line):
        tail = line[match.end() :].strip(_EDGE_PUNCTUATION)
        if parse_datetime(tail) is not None:
            return tail
    return None


def _find_author(
    item: HtmlElement,
    own: set[HtmlElement],
    text_el: HtmlElement | None,
    date_el: HtmlElement | None,
    cut: list[HtmlElement],
) -> tuple[HtmlElement | None, str | None]:
    """The first author element (outside the text, quotes and forms) that yields a clean name. Inside
    the text element only a part that is cut from the text counts (Discourse prints the user name
    as the first line of the post body); `cut` are the parts cut from the text."""
    for node in _own_matches(item, own, _AUTHOR):
        if text_el is not None and _within(text_el, node):
            continue
        if text_el is not None and _within(node, text_el) and not any(_within(node, part) for part in cut):
            continue
        if any(a.tag in {"blockquote", "q", "form"} for a in node.iterancestors()):
            continue
        name = author_name(node, date_el)
        if name:
            return node, name
    return None, None


def author_name(node: HtmlElement, date_el: HtmlElement | None = None) -> str | None:
    """The name in an author element: its name child (link, `.fn`, `<cite>`, `<b>`) when it has one,
    else its text without the date, "says:"/"said:", "by" and "on <date>"; None for what is not a
    name (empty, or so long that it swallowed the comment)."""
    for child in node.iterdescendants():
        if not isinstance(child.tag, str) or not _is_name_node(child):
            continue
        if date_el is not None and (child is date_el or _within(child, date_el) or _within(date_el, child)):
            continue
        name = clean_author(element_text(child))
        if name:
            return name
    text = element_text(node)
    if date_el is not None and _within(date_el, node):
        date_text = element_text(date_el)
        text = text.replace(date_text, " ") if date_text else text
    return clean_author(text)


def _is_name_node(node: HtmlElement) -> bool:
    if node.tag in _NAME_TAGS:
        return True
    classes = (node.get("class") or "").split()
    return "fn" in classes or "name" in (node.get("itemprop") or "").split()


def clean_author(text: str) -> str | None:
    """A name without "says:", "by", a date tail or Drupal's "(not verified)"; None if not a name."""
    name = normalize_space(text)
    name = _SAYS.sub("", name)
    name = _DATE_TAIL.sub("", name)
    name = _BY.sub("", name)
    name = _NOT_VERIFIED.sub("", name).strip(_EDGE_PUNCTUATION)
    if not name or len(name) > MAX_AUTHOR_CHARS or len(name.split()) > MAX_AUTHOR_WORDS:
        return None
    return name


def _skipped(text_el: HtmlElement, nested: Collection[HtmlElement]) -> list[HtmlElement]:
    """Nodes inside the text element that are not text: meta, links, notes, nested replies."""
    skip = [node for node in text_el.iterdescendants() if isinstance(node.tag, str) and _is_chrome(node)]
    skip += [node for node in nested if _within(node, text_el)]
    return skip


def _is_chrome(node: HtmlElement) -> bool:
    """A part of a comment that is not its text (see `_CHROME_CLASSES`)."""
    if node.tag in _CHROME_TAGS:
        return True
    classes = (node.get("class") or "").split()
    if not classes:
        return False
    if not _CHROME_CLASSES.isdisjoint(classes):
        return True
    if (node.tag == "ul" and "links" in classes) or (node.tag == "h3" and "username" in classes):
        return True
    return any(fragment in token for token in classes for fragment in _CHROME_FRAGMENTS)


def _text_without(element: HtmlElement, skip: list[HtmlElement]) -> str:
    """Comment text of the element without the given descendants (dropped from a copy). A newline
    in the markup is only whitespace: WordPress writes `<br />` and a newline for every line break,
    which must stay one line break, not become an empty line (`<pre>` keeps its newlines)."""
    paths = [_child_path(element, node) for node in skip]
    clone = copy.deepcopy(element)
    targets = [_follow(clone, path) for path in paths if path is not None]
    for target in targets:
        if target is not None and target.getparent() is not None:
            target.drop_tree()
    preformatted = {node for pre in clone.iter("pre") for node in pre.iter()}
    for node in clone.iter():
        if node in preformatted:
            continue
        if node.text and "\n" in node.text:
            node.text = node.text.replace("\n", " ")
        if node is not clone and node.tail and "\n" in node.tail:
            node.tail = node.tail.replace("\n", " ")
    return multiline_text(clone)


def _child_path(root: HtmlElement, node: HtmlElement) -> list[int] | None:
    path: list[int] = []
    while node is not root:
        parent = node.getparent()
        if parent is None:
            return None
        path.append(parent.index(node))
        node = parent
    return path[::-1]


def _follow(root: HtmlElement, path: list[int]) -> HtmlElement | None:
    node = root
    for index in path:
        if index >= len(node):
            return None
        node = node[index]
    return node


def _text_without_chrome(
    item: HtmlElement, own: set[HtmlElement], author_el: HtmlElement | None, date_el: HtmlElement | None
) -> str:
    """Comment text when no text container is marked: its paragraphs, minus the meta lines (those
    with the author or the date, "by X on <date>"), reply links and notes."""
    marks = [el for el in (author_el, date_el) if el is not None]
    paragraphs = []
    for p in item.iter("p"):
        if p not in own or _is_chrome(p) or any(_is_chrome(a) for a in _ancestors_below(p, item)):
            continue
        if any(_within(mark, p) or _within(p, mark) for mark in marks):
            continue
        paragraphs.append(_text_without(p, []))
    return "\n\n".join(p for p in paragraphs if p)


def _ancestors_below(node: HtmlElement, top: HtmlElement) -> list[HtmlElement]:
    ancestors = []
    for ancestor in node.iterancestors():
        if ancestor is top:
            break
        ancestors.append(ancestor)
    return ancestors


def _drop_action_lines(text: str) -> str:
    """Text without whole lines that are a comment's action links ("Reply", "Antworten", "Report")."""
    if not text:
        return text
    lines = text.split("\n")
    kept = [line for line in lines if line.strip().casefold() not in _ACTION_LINES]
    if len(kept) == len(lines):
        return text
    return _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()


def _within(node: HtmlElement, ancestor: HtmlElement) -> bool:
    """Whether `node` is `ancestor` or below it."""
    return node is ancestor or any(a is ancestor for a in node.iterancestors())
