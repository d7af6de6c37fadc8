"""Text helpers shared by every layer: whitespace normalisation and element text.

Records carry normalised strings (NBSP becomes a space, runs of whitespace collapse,
ends are trimmed); comment text keeps its line structure (`<br>` -> newline, paragraph
-> blank line). All walks are iterative so hostile nesting cannot exhaust the stack.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

# Elements whose text is never reader-visible content.
INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "svg", "math", "button"})
# Elements that start a new line of text when rendered.
BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "blockquote", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2",
        "h3", "h4", "h5", "h6", "pre", "table", "tr", "figure", "figcaption", "header", "footer", "aside",
        "address", "hr", "main", "nav", "form", "fieldset",
    }
)  # fmt: skip
_HIDDEN_CLASSES = frozenset({"visually-hidden", "visuallyhidden", "sr-only", "screen-reader-text", "a11y-hidden"})
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_ZERO_WIDTH_CHAR = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_space(value: str | None) -> str:
    """Collapse every run of whitespace (NBSP included) to one space and trim the ends."""
    if not value:
        return ""
    if _ZERO_WIDTH_CHAR.search(value):  # rare: a search is far cheaper than translating every string
        value = value.translate(_ZERO_WIDTH)
    return " ".join(value.split())


def clean_or_none(value: str | None) -> str | None:
    """`normalize_space`, with an empty result turned into None (for optional record fields)."""
    text = normalize_space(value)
    return text or None


def is_hidden(node: etree._Element) -> bool:
    """Marked invisible: `hidden`, `display:none`, or a screen-reader-only class."""
    if node.get("hidden") is not None or "display:none" in (node.get("style") or "").replace(" ", ""):
        return True
    return not _HIDDEN_CLASSES.isdisjoint((node.get("class") or "").split())


def _tag(node: etree._Element) -> str:
    tag = node.tag
    return tag.lower() if isinstance(tag, str) else ""


def element_text(element: HtmlElement | None) -> str:
    """Visible text of an element on one line: inline pieces touch as rendered, blocks get a space."""
    if element is None:
        return ""
    parts: list[str] = []
    skip_depth = 0
    for event, node in etree.iterwalk(element, events=("start", "end")):
        tag = _tag(node)
        if event == "start":
            if skip_depth or tag in INVISIBLE_TAGS or not tag or (node is not element and is_hidden(node)):
                skip_depth += 1
                continue
            if tag in BLOCK_TAGS or tag == "br":
                parts.append(" ")
            if node.text:
                parts.append(node.text)
        else:
            if skip_depth:
                skip_depth -= 1
                if skip_depth == 0 and node is not element and node.tail:
                    parts.append(node.tail)
                continue
            if tag in BLOCK_TAGS:
                parts.append(" ")
            if node is not element and node.tail:
                parts.append(node.tail)
    return normalize_space("".join(parts))


def multiline_text(element: HtmlElement | None) -> str:
    """Visible text keeping line structure: `<br>` is a newline, a paragraph or block a blank line."""
    if element is None:
        return ""
    parts: list[str] = []
    skip_depth = 0
    for event, node in etree.iterwalk(element, events=("start", "end")):
        tag = _tag(node)
        if event == "start":
            if skip_depth or tag in INVISIBLE_TAGS or not tag or (node is not element and is_hidden(node)):
                skip_depth += 1
                continue
            if tag == "br":
                parts.append("\n")
            elif tag in BLOCK_TAGS and node is not element:
                parts.append("\n\n")
            if node.text:
                parts.append(node.text)
        else:
            if skip_depth:
                skip_depth -= 1
                if skip_depth == 0 and node is not element and node.tail:
                    parts.append(node.tail)
                continue
            if tag in BLOCK_TAGS and node is not element:
                parts.append("\n\n")
            if node is not element and node.tail:
                parts.append(node.tail)
    lines = [normalize_space(line) for line in "".join(parts).split("\n")]
    return _MANY_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
