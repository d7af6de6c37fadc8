"""Main text: the lead (standfirst) and body paragraphs.

With a site profile the profile's selectors decide. Otherwise trafilatura, the reference
extractor, runs on the shared tree (it copies it) and its paragraph structure is kept;
when it finds nothing, the paragraphs of the page's `articleBody` / `<article>` are used.
"""

from __future__ import annotations

import logging
import re

from lxml.html import HtmlElement

from services.parse.profiles import SiteProfile, spec_elements, spec_value
from services.parse.text import element_text, normalize_space
from services.parse.tree import select

LOGGER = logging.getLogger(__name__)

# Standfirst markers seen on news sites: "lead", "standfirst", "dek", "chapô", "summary", "intro", "teaser".
_LEAD_SELECTORS = (
    "[itemprop~=description]:not(meta)", "[data-gu-name=standfirst]", "[class*=standfirst]", "[class*=__lead]",
    "[class*=-lead]", "[class*=_lead]", ".lead", "[class*=dek]", ".chapo", ".chapeau", "[class*=summary]",
    "[id*=summary]", "[class*=__intro]", "[class*=-intro]", ".intro", "[class*=teaser]", "[class*=subtitle]",
    "[class*=subheadline]", "[class*=excerpt]", "h2.strapline",
)  # fmt: skip
_DATELINE = re.compile(
    r"^\W*(?:published|posted|updated|date|veröffentlicht|publié|опубликовано)?[\s:]*"
    r"[\w ,.:/-]*(?<!\d)(?:19|20)\d\d(?!\d)[\w ,.:/-]*$",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(?:by|von|par|por|di|door|автор|текст)\s*:?\s+\S", re.IGNORECASE)
_MIN_LEAD_CHARS = 20
_FALLBACK_CONTAINERS = ("[itemprop~=articleBody]", "article", "main", "[role=main]", "body")
_PARAGRAPH_TAGS = ("p", "h2", "h3", "h4", "blockquote", "li", "pre")
_MAX_LEAD_CHARS = 1200
# trafilatura is trusted unless its text is under this share of the densest paragraph block's.
_DENSITY_FALLBACK_RATIO = 0.4
_MAX_LINK_DENSITY = 0.5


def profile_body(root: HtmlElement, profile: SiteProfile) -> tuple[str | None, list[str]]:
    """Lead and paragraphs by the profile's `lead` and `paragraphs` selectors."""
    rules = profile.article
    lead = spec_value(root, rules.get("lead"))
    paragraphs = [element_text(p) for p in spec_elements(root, rules.get("paragraphs"))]
    return lead, [p for p in paragraphs if p]


def generic_body(root: HtmlElement, url: str) -> list[str]:
    """Body paragraphs of an unknown site: trafilatura, unless it missed most of the densest text block."""
    paragraphs = _trafilatura_paragraphs(root, url)
    dense = _densest_block_paragraphs(root)
    # trafilatura missed most of the text, or ran a layout table's cells together into a few lumps
    too_short = sum(map(len, paragraphs)) < _DENSITY_FALLBACK_RATIO * sum(map(len, dense))
    lumped = len(dense) >= 3 and 2 * len(paragraphs) < len(dense)
    if too_short or lumped:
        return dense
    return paragraphs or _container_paragraphs(root)


def find_lead(root: HtmlElement, paragraphs: list[str], title: str | None) -> str | None:
    """A visible standfirst near the headline, if the page marks one up (class names, itemprop)."""
    for element in select(root, ", ".join(_LEAD_SELECTORS)):  # one query; document order
        if True:
            if element.tag in {"meta", "body", "html", "article", "main", "section"} or _in_boilerplate(element):
                continue
            if len(element.findall(".//p")) > 1:  # a container of paragraphs is an intro section, not a lead
                continue
            text = element_text(element)
            if _MIN_LEAD_CHARS <= len(text) <= _MAX_LEAD_CHARS and text != title and not _BYLINE.match(text):
                return text
    return None


def drop_page_furniture(
    paragraphs: list[str], title: str | None, authors: list[str], byline: set[str] | None = None
) -> list[str]:
    """Remove the headline, byline and dateline lines extractors leave at the top of the body."""
    names = {a.casefold() for a in authors} | {line.casefold() for line in byline or ()}
    kept = []
    for index, paragraph in enumerate(paragraphs):
        head = index < 6 and len(paragraph) <= 120
        if paragraph == title or (head and _is_furniture(paragraph, names)):
            continue
        kept.append(paragraph)
    return kept


def _is_furniture(paragraph: str, names: set[str]) -> bool:
    if paragraph.casefold() in names or (_BYLINE.match(paragraph) and len(paragraph.split()) <= 8):
        return True
    return bool(_DATELINE.match(paragraph)) and len(paragraph.split()) <= 8


def split_lead(lead: str | None, paragraphs: list[str]) -> list[str]:
    """Paragraphs without the lead: body paragraphs must not repeat the standfirst."""
    if not lead:
        return paragraphs
    return [p for p in paragraphs if p != lead and not (len(p) > 40 and lead.startswith(p))]


def _trafilatura_paragraphs(root: HtmlElement, url: str) -> list[str]:
    try:
        from trafilatura import bare_extraction

        document = bare_extraction(
            root, url=url or None, include_comments=False, include_tables=True, include_images=False
        )
    except Exception as error:
        LOGGER.debug("trafilatura failed: %s", error)
        return []
    if document is None or document.body is None:
        return []
    paragraphs: list[str] = []
    for child in document.body:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "list":
            paragraphs.extend(element_text(item) for item in child.iter("item"))
        elif tag == "table":
            for row in child.iter("row"):
                paragraphs.append(" ".join(element_text(cell) for cell in row.iter("cell")))
        else:
            paragraphs.append(normalize_space(" ".join(child.itertext())))
    return [p for p in paragraphs if p]


def _densest_block_paragraphs(root: HtmlElement) -> list[str]:
    """Paragraphs of the element whose direct `<p>` children hold the most text (readability's core idea)."""
    weight: dict[HtmlElement, int] = {}
    for paragraph in root.iter("p"):
        parent = paragraph.getparent()
        if parent is not None:
            weight[parent] = weight.get(parent, 0) + len(paragraph.text_content())
    best = next((c for c in sorted(weight, key=weight.__getitem__, reverse=True) if not _in_boilerplate(c)), None)
    if best is None:
        return []
    paragraphs = []
    for child in best:
        if child.tag in _PARAGRAPH_TAGS and _link_density(child) <= _MAX_LINK_DENSITY:
            text = element_text(child)
            if text:
                paragraphs.append(text)
    return paragraphs


def _link_density(element: HtmlElement) -> float:
    total = len(element.text_content()) or 1
    return sum(len(a.text_content()) for a in element.iter("a")) / total


def _container_paragraphs(root: HtmlElement) -> list[str]:
    for selector in _FALLBACK_CONTAINERS:
        for container in select(root, selector):
            paragraphs = [
                element_text(element)
                for element in container.iter(*_PARAGRAPH_TAGS)
                if not _in_boilerplate(element) and not element.xpath("ancestor::p|ancestor::li")
            ]
            paragraphs = [p for p in paragraphs if p]
            if paragraphs:
                return paragraphs
    return []


def _in_boilerplate(element: HtmlElement) -> bool:
    """Inside navigation, footer, sidebar, comments or a related block."""
    return bool(
        element.xpath(
            "ancestor-or-self::*[self::nav or self::footer or self::aside or self::form"
            " or contains(@class,'comment') or contains(@id,'comment') or contains(@class,'sidebar')"
            " or contains(@class,'related') or contains(@class,'footer') or contains(@class,'nav')]"
        )
    )
