"""Bytes -> one lxml tree shared by every extraction layer, with the input guards.

lxml rather than selectolax, by measurement on the fixture corpus: parsing costs the same
(median 0.070 ms/page with lxml, 0.066 ms with selectolax's lexbor backend), but trafilatura
(the generic body extractor, ~0.9 ms/page) and htmldate take an lxml tree, so a selectolax
tree would mean parsing twice. libxml2 also caps nesting at 256 levels, bounding every walk.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from cssselect import HTMLTranslator, SelectorError
from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring

from services.parse.charset import decode_html
from shared.errors import ParseError

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
# libxml2 silently re-parents anything deeper than 255 levels; at that depth the page was
# either mangled by the cap or hostile, and its structure cannot be trusted.
MAX_DEPTH = 250
_SNIFF_BYTES = 2048
_BINARY_MAGIC = (
    b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ",
    b"7z\xbc\xaf", b"Rar!", b"OggS", b"ID3", b"RIFF", b"\x00\x00\x01\x00", b"wOFF", b"wOF2", b"\x7fELF",
)  # fmt: skip
_NON_HTML_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip",
                   "application/octet-stream", "application/json", "text/css", "text/javascript",
                   "application/javascript")  # fmt: skip
_TAG = re.compile(r"<\s*(?:!doctype|html|head|body|meta|title|div|p|article|span|a|table|br)\b", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DEEPER_THAN = etree.XPath("boolean(//*[count(ancestor::*) > $limit])")
# The same test for the default limit as a chain of child steps: one pass over the tree instead of
# counting every element's ancestors (~10 µs instead of ~60-190 µs on ordinary pages).
_DEEPER_THAN_MAX = etree.XPath("boolean(" + "/*" * (MAX_DEPTH + 2) + ")")
_CONTROL_CHARS = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# Control characters are invisible in a browser but make libxml2 (and the trafilatura call on its tree)
# drop or cut text around them; form feed too. Tab, line feed and carriage return stay.
_C0_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13)) + b"\x7f"
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
_STRAY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+")
# Every class and id value of the page as plain strings: one C-level scan that lets a layer skip
# its selector queries when none of its markers occurs anywhere on the page.
_CLASS_AND_ID = etree.XPath("//@class | //@id", smart_strings=False)
# The class and id fragments a CSS selector requires: `[class*=lead]`, `.lead`, `#lead`, `[id^=x]`.
_FRAGMENT = re.compile(r"""\[(?:class|id)[*~^$|]?=["']?([^"'\]]+)["']?\]|[.#]([\w-]+)""")
# A descendant or child combinator outside brackets: "figure > footer", "[class*=tags] a".
_COMBINATOR = re.compile(r"(?:^|\])[^\[]*[\s>+~][^\[]*(?:\[|$)|^[^\[]*\s")
_ATTRIBUTE = re.compile(r"\[([\w-]+)")
_PARSER = HTMLParser(remove_comments=True, remove_pis=True, default_doctype=False, collect_ids=False)


def load_tree(html: bytes | str, content_type: str | None = None) -> HtmlElement:
    """Check and parse a page into an lxml root; raise ParseError with a stable reason."""
    if isinstance(html, bytes | bytearray | memoryview):
        raw = bytes(html)
        _check_bytes(raw, content_type)
        text = decode_html(raw, content_type)
    elif isinstance(html, str):
        if len(html) > MAX_DOCUMENT_BYTES:
            raise ParseError("too_large", f"{len(html)} characters")
        text = html
    else:
        raise ParseError("not_html", f"unsupported input type {type(html).__name__}")
    return parse_text(text)


def parse_text(text: str) -> HtmlElement:
    """Parse decoded markup; raise ParseError for empty, non-HTML, binary or too deep input."""
    if not text.strip():
        raise ParseError("empty_document", "no characters besides whitespace")
    sample = text[:_SNIFF_BYTES]
    if "\x00" in sample or _control_ratio(sample) > 0.1:
        raise ParseError("binary_content", "control characters in the first bytes")
    if not _TAG.search(text[: 256 * 1024]):
        raise ParseError("not_html", "no HTML tags found")
    # lxml refuses a str that still carries an XML encoding declaration.
    text = _XML_DECLARATION.sub("", text, count=1)
    text = normalize_characters(text)
    try:
        root = document_fromstring(text, parser=_PARSER)
    except etree.ParserError as error:
        raise ParseError("empty_document", str(error)) from error
    except (ValueError, etree.LxmlError) as error:
        raise ParseError("parser_crash", f"{type(error).__name__}: {error}") from error
    if root is None or (len(root) == 0 and not (root.text or "").strip()):
        raise ParseError("empty_document", "no elements")
    if too_deep(root):
        raise ParseError("too_deep", f"nesting deeper than {MAX_DEPTH} levels")
    return root


def normalize_characters(text: str) -> str:
    """Drop stray control characters and compose to NFC, so that a decomposed "ü" matches a typed one."""
    if _has_controls(text):
        text = _STRAY_CONTROLS.sub("", text)
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _has_controls(text: str) -> bool:
    """Whether the text holds a C0 or C1 control other than tab, CR and LF: checked on its UTF-8 bytes,
    where C0 controls are single bytes and C1 ones start with 0xC2 (several times faster than a regex)."""
    encoded = text.encode("utf-8", "surrogatepass")
    return len(encoded.translate(None, _C0_BYTES)) != len(encoded) or _C1_UTF8.search(encoded) is not None


def class_id_text(root: HtmlElement) -> str:
    """All class and id attribute values of the page, space-joined (a cheap marker index)."""
    return " ".join(_CLASS_AND_ID(root))


def tree_depth(root: HtmlElement) -> int:
    """Deepest element nesting below the root (evaluated inside libxml2, no Python recursion)."""
    deepest = 0
    for leaf in root.xpath("//*[not(*)]"):
        deepest = max(deepest, int(leaf.xpath("count(ancestor::*)")))
    return deepest


def too_deep(root: HtmlElement, limit: int = MAX_DEPTH) -> bool:
    """Whether any element is nested more than `limit` levels deep."""
    if limit == MAX_DEPTH and root.getparent() is None:
        return bool(_DEEPER_THAN_MAX(root))
    return bool(_DEEPER_THAN(root, limit=limit))


def _check_bytes(raw: bytes, content_type: str | None) -> None:
    if not raw.strip():
        raise ParseError("empty_document", "no bytes besides whitespace")
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ParseError("too_large", f"{len(raw)} bytes")
    head = raw[:_SNIFF_BYTES]
    if head.lstrip().startswith(_BINARY_MAGIC):
        raise ParseError("binary_content", "file signature of a binary format")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 with a BOM is full of NUL bytes and still text.
    if b"\x00" in head:
        raise ParseError("binary_content", "NUL bytes in the first bytes")
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime.startswith(_NON_HTML_TYPES):
        raise ParseError("not_html", f"content type {mime}")


def _control_ratio(sample: str) -> float:
    if not sample:
        return 0.0
    return len(_CONTROL_CHARS.findall(sample)) / len(sample)


@lru_cache(maxsize=512)
def compile_css(selector: str) -> etree.XPath:
    """Compile a CSS selector to XPath once; profiles and generic rules share the cache."""
    try:
        return etree.XPath(HTMLTranslator().css_to_xpath(selector))
    except SelectorError as error:
        raise ValueError(f"bad CSS selector {selector!r}: {error}") from error


def select(element: HtmlElement, selector: str) -> list[HtmlElement]:
    """Elements under `element` matching a CSS selector, in document order."""
    return compile_css(selector)(element)


def select_marked(element: HtmlElement, selectors: tuple[str, ...] | str, marks: str | None) -> list[HtmlElement]:
    """Elements matching any of `selectors`, in document order, trying only the selectors whose class or id
    fragments occur in `marks` (the page's class/id text): a union of twenty `contains(@class, ...)` tests
    costs a pass over every element for each, while most of them cannot match on a given page.

    When every selector left is a simple one (no combinator) that names a class/id fragment or an
    attribute, libxml2 first picks the few elements that carry one (a cheap `contains` per element),
    and only those are tested against the selectors themselves."""
    if isinstance(selectors, str):
        selectors = tuple(s.strip() for s in selectors.split(","))
    present = selectors if marks is None else tuple(s for s in selectors if _could_match(s, marks))
    if not present:
        return []
    narrowing = _narrowing(present)
    if narrowing is None or element.getparent() is not None:
        return select(element, ", ".join(present))
    candidates, matches = narrowing
    return [e for e in candidates(element) if matches(e)]


@lru_cache(maxsize=128)
def _narrowing(selectors: tuple[str, ...]) -> tuple[etree.XPath, etree.XPath] | None:
    """(an XPath of the elements that could match, a boolean XPath that tests one of them), for simple
    selectors that each need a class/id fragment or an attribute; None when a selector has neither."""
    tests = []
    for selector in selectors:
        if _COMBINATOR.search(selector):
            return None
        fragments = [attribute or name for attribute, name in _FRAGMENT.findall(selector)]
        attributes = _ATTRIBUTE.findall(selector)
        if fragments:
            tests += [f"contains(@class, '{f}') or contains(@id, '{f}')" for f in fragments]
        elif attributes:
            tests += [f"@{a}" for a in attributes]
        else:
            return None
    translator = HTMLTranslator()
    own = " | ".join(translator.css_to_xpath(s, prefix="self::") for s in selectors)
    return etree.XPath(f"//*[{' or '.join(dict.fromkeys(tests))}]"), etree.XPath(f"boolean({own})")


def _could_match(selector: str, marks: str) -> bool:
    """Whether every class/id fragment the selector requires occurs in `marks` (no fragment: always)."""
    return all((attribute or name) in marks for attribute, name in _FRAGMENT.findall(selector))


def marked(marks: str, fragments: tuple[str, ...]) -> bool:
    """Whether any fragment occurs in the page's class/id text (substring tests: far cheaper than a regex
    of alternatives over the whole text)."""
    return any(fragment in marks for fragment in fragments)


def classed_with(root: HtmlElement, fragments: tuple[str, ...], marks: str) -> list[HtmlElement]:
    """Elements whose class or id contains any of `fragments` (lower-case, matched case-insensitively), in
    document order. Only the fragments that occur in `marks` (the page's class/id text) are tested, by
    libxml2; a fragment the page writes in capitals only is tested case-folded (slower, so not by default)."""
    folded = marks.lower()
    plain = tuple(f for f in fragments if f in marks)
    capitals = tuple(f for f in fragments if f not in marks and f in folded)
    if not plain and not capitals:
        return []
    return _classed_xpath(plain, capitals)(root)


@lru_cache(maxsize=256)
def _classed_xpath(plain: tuple[str, ...], capitals: tuple[str, ...]) -> etree.XPath:
    folded = "translate(concat(@class, ' ', @id), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    tests = [f"contains(@class, '{f}') or contains(@id, '{f}')" for f in plain]
    tests += [f"contains({folded}, '{f}')" for f in capitals]
    return etree.XPath(f"//*[(@class or @id) and ({' or '.join(tests)})]")


def select_one(element: HtmlElement, selector: str) -> HtmlElement | None:
    """First element under `element` matching a CSS selector, or None."""
    found = compile_css(selector)(element)
    return found[0] if found else None
