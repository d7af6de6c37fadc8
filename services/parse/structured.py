"""Structured data layer: JSON-LD, OpenGraph / meta tags and microdata, read once per page.

Pages declare much of what we want (headline, dates, authors, section, comments) in
machine-readable form. This module only collects it; `article.py` decides precedence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

from services.parse.text import element_text, normalize_space

ARTICLE_TYPES = frozenset(
    {
        "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
        "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "socialmediaposting",
        "scholarlyarticle", "techarticle", "report", "webpage", "creativework", "mediaobject", "videoobject",
        "imagegallery", "askpublicnewsarticle", "satiricalarticle", "posting", "discussionforumposting",
        "claimreview",
    }
)  # fmt: skip
_MAX_JSON_LD_CHARS = 2_000_000
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


@dataclass(slots=True)
class StructuredData:
    """What the page declares about itself; `article` is the best JSON-LD article node (or {})."""

    article: dict[str, Any] = field(default_factory=dict)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)
    microdata: dict[str, list[HtmlElement]] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """A `{"@id": ...}` reference replaced by the node it names (Yoast-style @graph), else as is."""
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and "@id" in value:
            for node in self.nodes:
                if node.get("@id") == value["@id"] and len(node) > len(value):
                    return node
        return value

    def first_meta(self, *names: str) -> str | None:
        """First non-empty value among meta names/properties, in the order asked."""
        for name in names:
            for value in self.meta.get(name, ()):
                if value.strip():
                    return value.strip()
        return None


def read_structured(root: HtmlElement) -> StructuredData:
    """Collect JSON-LD nodes, meta tags and microdata itemprops from a parsed page."""
    data = StructuredData(meta=_read_meta(root), microdata=_read_microdata(root))
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        data.nodes.extend(_flatten(_load_json(script.text or "")))
    data.article = _pick_article(data.nodes)
    return data


def node_types(node: dict[str, Any]) -> set[str]:
    """Lower-cased schema.org types of a JSON-LD node (`@type` may be a string or a list)."""
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.rsplit("/", 1)[-1].lower() for v in values if isinstance(v, str)}


def ld_text(value: Any) -> str | None:
    """A JSON-LD value as text: strings as is, `{"name"|"@value"|"text": ...}` objects, first of lists."""
    if isinstance(value, list):
        for item in value:
            text = ld_text(item)
            if text:
                return text
        return None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("text")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return normalize_space(value) if isinstance(value, str) else None


def ld_list(value: Any) -> list[Any]:
    """A JSON-LD value that may be one item or a list, always as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _load_json(raw: str) -> Any:
    raw = raw.strip()
    if not raw or len(raw) > _MAX_JSON_LD_CHARS:
        return None
    # Some CMSs wrap JSON-LD in HTML comments or CDATA, or leave trailing commas.
    raw = raw.removeprefix("<!--").removesuffix("-->").removeprefix("//<![CDATA[").removesuffix("//]]>")
    for candidate in (raw, _TRAILING_COMMA.sub(r"\1", raw)):
        try:
            return json.loads(candidate, strict=False)
        except (ValueError, RecursionError):
            continue
    return None


def _flatten(data: Any) -> list[dict[str, Any]]:
    """Every node of a JSON-LD document: top-level lists and `@graph` arrays are unrolled."""
    found: list[dict[str, Any]] = []
    stack = [data]
    while stack and len(found) < 500:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            if "@graph" in item:
                stack.extend(reversed(ld_list(item["@graph"])))
            # A WebPage that carries its article as `mainEntity` (instead of beside it in a graph).
            if isinstance(item.get("mainEntity"), dict | list):
                stack.extend(reversed(ld_list(item["mainEntity"])))
            if "@type" in item:
                found.append(item)
    return found


def _pick_article(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The node describing the article itself: a NewsArticle-like type with a headline wins."""
    best: dict[str, Any] = {}
    best_score = 0
    for node in nodes:
        types = node_types(node)
        if not types & ARTICLE_TYPES:
            continue
        score = 1
        if types - {"webpage", "creativework", "mediaobject"}:
            score += 2
        if "article" in " ".join(types) or "posting" in " ".join(types):
            score += 2
        if node.get("headline"):
            score += 1
        if node.get("datePublished"):
            score += 1
        if score > best_score:
            best, best_score = node, score
    return best


def _read_meta(root: HtmlElement) -> dict[str, list[str]]:
    meta: dict[str, list[str]] = {}
    for element in root.iter("meta"):
        content = element.get("content")
        if content is None:
            continue
        for key in ("property", "name", "itemprop", "http-equiv"):
            name = element.get(key)
            if name:
                meta.setdefault(name.strip().lower(), []).append(content)
    for element in root.iter("link"):
        rel = (element.get("rel") or "").lower().split()
        href = element.get("href")
        if href and rel:
            for name in rel:
                meta.setdefault(f"link:{name}", []).append(href)
    return meta


def _read_microdata(root: HtmlElement) -> dict[str, list[HtmlElement]]:
    found: dict[str, list[HtmlElement]] = {}
    for element in root.xpath("//*[@itemprop]"):
        if element.tag == "meta":
            continue
        for name in element.get("itemprop", "").split():
            found.setdefault(name, []).append(element)
    return found


def microdata_value(element: HtmlElement) -> str:
    """The value of a microdata property: content/datetime/href/src attribute, else the text."""
    for attribute in ("content", "datetime", "href", "src"):
        value = element.get(attribute)
        if value:
            return value.strip()
    return element_text(element)
