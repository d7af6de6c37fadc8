"""Related-article links and in-body links.

Related links come from related-article blocks,
recognised by class/id or by their heading, and are told apart from links inside the
body text, the site navigation and sidebars. Body links are the links inside the
extracted lead and paragraphs.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from services.parse.layout import has_ancestor, in_boilerplate, in_comments
from services.parse.profiles import SiteProfile, spec_elements
from services.parse.text import BLOCK_TAGS, element_text, normalize_space
from services.parse.tree import class_id_text, classed_with

_RELATED_BLOCK = re.compile(
    r"related|read-?also|see-?also|more-?(?:on|stories|news|from)|also-?read|recommend|further-?reading"
    r"|read-?more|readmore|inject|storylink|more-?articles|catcher",
    re.IGNORECASE,
)
_RELATED_HEADING = re.compile(
    r"^\s*(related|read (?:also|more)|see also|also read|more (?:on|about) (?:this|the)|more stories|you may"
    r"|further reading|читайте также|по теме|смотрите также|mehr zum thema|lesen sie auch|à lire aussi"
    r"|lire aussi|sur le même sujet|leggi anche|lee también|関連記事|関連ニュース)",
    re.IGNORECASE,
)
# Every `_RELATED_BLOCK` alternative spelled out (lower case): libxml2 picks the candidates, the regex decides.
_RELATED_FRAGMENTS = (
    "related", "readalso", "read-also", "seealso", "see-also", "more-on", "moreon", "more-stories", "morestories",
    "more-news", "morenews", "more-from", "morefrom", "alsoread", "also-read", "recommend", "further-reading",
    "furtherreading", "read-more", "readmore", "inject", "storylink", "more-articles", "morearticles", "catcher",
)  # fmt: skip
# Headings of related blocks (h2-h5, strong, header, span.*title*), in document order.
_HEADINGS = etree.XPath("//h2 | //h3 | //h4 | //h5 | //strong | //header | //span[contains(@class, 'title')]")
_POSITION = etree.XPath("count(preceding::*) + count(ancestor::*)")
_READ_MORE_PARAGRAPH = re.compile(r"^\s*(read more|read also|see also|also read|читайте также)\s*:", re.I)
_MIN_TITLE_CHARS = 12
_NAV = frozenset({"nav"})
_NAV_OR_FOOTER = frozenset({"nav", "footer"})
# Share intents that sites put in the text without a share/social class on any container.
_SHARE_URL = re.compile(r"/sharer|/intent/(?:tweet|post)|/share(?:Article)?\?|[?&]action=share", re.IGNORECASE)
_NOT_WEB = ("#", "javascript:", "mailto:", "tel:")
# Shortest block text matched inside a longer paragraph (a table cell in a row, a split block).
_MIN_PART_CHARS = 20


def profile_related(root: HtmlElement, profile: SiteProfile, base_url: str) -> list[tuple[str, str]]:
    """(url, title) pairs by the profile's `related` selector, resolved against the page URL."""
    pairs = [(a.get("href") or "", element_text(a)) for a in spec_elements(root, profile.article.get("related"))]
    return _resolve_pairs(pairs, base_url)


def generic_related(
    scope: HtmlElement, root: HtmlElement, base_url: str, marks: str | None = None
) -> list[tuple[str, str]]:
    """(url, title) pairs from related-article blocks, excluding nav, sidebars and inline body links.

    `marks` (the page's class/id text) lets a page without any related-block class skip that walk.
    """
    blocks: list[HtmlElement] = []
    for element in classed_with(root, _RELATED_FRAGMENTS, marks if marks is not None else class_id_text(root)):
        marker = f"{element.get('class', '')} {element.get('id', '')}"
        if _RELATED_BLOCK.search(marker) and not _is_tiny(element):
            blocks.append(element)
    for heading in _HEADINGS(root):
        if _RELATED_HEADING.match(normalize_space(heading.text_content())) and _RELATED_HEADING.match(
            element_text(heading)
        ):
            parent = heading.getparent()
            if parent is not None:
                blocks.append(parent)
    for paragraph in scope.iter("p"):
        if _READ_MORE_PARAGRAPH.match(paragraph.text_content()) and _READ_MORE_PARAGRAPH.match(element_text(paragraph)):
            blocks.append(paragraph)
    if len(blocks) > 1:  # report blocks in page order, whichever rule found them
        blocks.sort(key=_document_position)
    pairs: list[tuple[str, str]] = []
    seen_blocks: list[HtmlElement] = []
    for block in blocks:
        if any(block is b or block in b.iterdescendants() for b in seen_blocks):
            continue
        if _sitewide(block, scope) or in_comments(block):
            continue
        seen_blocks.append(block)
        for anchor in block.iter("a"):
            title = element_text(anchor)
            if len(title) >= _MIN_TITLE_CHARS and not has_ancestor(anchor, _NAV):
                pairs.append((anchor.get("href") or "", title))
    page = urldefrag(base_url)[0]
    return [(u, t) for u, t in _resolve_pairs(pairs, base_url) if u != page]


def body_links(
    root: HtmlElement, texts: list[str], base_url: str, own_urls: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """(url, anchor text) of links inside the extracted lead and body paragraphs `texts`, in page order.

    The body text is extracted from a copy of the tree (trafilatura) or by selectors, so an anchor
    counts when its nearest block's text is one of `texts`, compared without whitespace: trafilatura
    puts spaces around inline elements ("a <b>b</b>." -> "a b ."). Links in navigation, share bars,
    comments and related blocks, and links to the page itself (`own_urls`) are left out.
    """
    keys = {text.replace(" ", "") for text in texts if text}  # record texts are normalised already
    keys.discard("")
    if not keys:
        return []
    body = "\n".join(keys)
    blocks: dict[HtmlElement, bool] = {}
    pairs: list[tuple[str, str]] = []
    for anchor in root.iter("a"):
        # Most anchors of a page (menus, footers, comment controls) have text found nowhere in the
        # body: this test comes first and stays cheap (no normalisation of ASCII text, no block walk).
        text = anchor.text
        if not text or text.isspace():
            if not len(anchor):
                continue
            text = anchor.text_content()
        words = "".join(text.split())
        if not words or (words not in body and (words.isascii() or _squeeze(words) not in body)):
            continue
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(_NOT_WEB) or _SHARE_URL.search(href):
            continue
        block = next((node for node in anchor.iterancestors() if node.tag in BLOCK_TAGS), None)
        if block is None:
            continue
        inside = blocks.get(block)
        if inside is None:
            inside = blocks[block] = _in_texts(block, keys)
        if inside and not (_in_related_block(anchor) or in_boilerplate(anchor) or in_comments(anchor)):
            pairs.append((href, element_text(anchor)))
    if not pairs:
        return []
    own = {urldefrag(u)[0] for u in (base_url, *own_urls)}
    return [(u, t) for u, t in _resolve_pairs(pairs, base_url) if u not in own]


def _squeeze(text: str | None) -> str:
    """Text without any whitespace (or zero-width characters), for matching renderings of one text."""
    return normalize_space(text).replace(" ", "")


def _in_texts(block: HtmlElement, keys: set[str]) -> bool:
    """Whether the block's text is one of the body texts, or a long enough part of one."""
    text = element_text(block)
    if _READ_MORE_PARAGRAPH.match(text):
        return False
    key = _squeeze(text)
    if key in keys:
        return True
    return len(key) >= _MIN_PART_CHARS and any(key in other for other in keys)


def _in_related_block(anchor: HtmlElement) -> bool:
    """Inside an element whose class or id marks a related-articles block."""
    for node in anchor.iterancestors():
        if (node.get("class") or node.get("id")) and _RELATED_BLOCK.search(
            f"{node.get('class', '')} {node.get('id', '')}"
        ):
            return True
    return False


def _document_position(element: HtmlElement) -> int:
    """Where the element starts in document order (counted by libxml2, not by a walk over every element)."""
    return int(_POSITION(element))


def _sitewide(block: HtmlElement, scope: HtmlElement) -> bool:
    """A block in the page furniture (sidebar, footer, nav) rather than with the article."""
    if has_ancestor(block, _NAV_OR_FOOTER, or_self=True):
        return True
    inside_scope = block is scope or scope in block.iterancestors()
    return not inside_scope and in_boilerplate(block)


def _is_tiny(element: HtmlElement) -> bool:
    return element.find(".//a") is None


def _resolve_pairs(pairs: list[tuple[str, str]], base_url: str) -> list[tuple[str, str]]:
    resolved: list[tuple[str, str]] = []
    seen: set[str] = set()
    for href, title in pairs:
        href = href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urldefrag(urljoin(base_url, href))[0]
        if urlsplit(url).scheme not in {"http", "https"} or url in seen or not title:
            continue
        seen.add(url)
        resolved.append((url, normalize_space(title)))
    return resolved


def _unique(values) -> list[str]:
    seen: set[str] = set()
    result = []
    for value in values:
        text = normalize_space(value)
        if text and text.casefold() not in seen and len(text) <= 80:
            seen.add(text.casefold())
            result.append(text)
    return result
