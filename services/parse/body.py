"""Main text: the lead (standfirst) and body paragraphs.

With a site profile the profile's selectors decide. Otherwise trafilatura, the reference
extractor, runs on the shared tree (it copies it) and its paragraph structure is kept;
when it finds nothing, the paragraphs of the page's `articleBody` / `<article>` are used.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from typing import Any

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from services.parse.layout import has_ancestor
from services.parse.profiles import SiteProfile, spec_elements, spec_value
from services.parse.text import element_text, normalize_space
from services.parse.tree import classed_with, marked, select, select_marked

LOGGER = logging.getLogger(__name__)

# Standfirst markers seen on news sites: "lead", "standfirst", "dek", "chapô", "summary", "intro", "teaser".
_LEAD_SELECTORS = (
    "[itemprop~=description]:not(meta)", "[data-gu-name=standfirst]", "[class*=standfirst]", "[class*=__lead]",
    "[class*=-lead]", "[class*=_lead]", ".lead", "[class*=dek]", ".chapo", ".chapeau", "[class*=summary]",
    "[id*=summary]", "[class*=__intro]", "[class*=-intro]", ".intro", "[class*=teaser]", "[class*=subtitle]",
    "[class*=subheadline]", "[class*=excerpt]", "h2.strapline", "p[class*=__desc]",
)  # fmt: skip
# Every class/id fragment `_LEAD_SELECTORS` tests; the other two test itemprop and data-gu-name.
_LEAD_MARK = (
    "standfirst", "lead", "dek", "chapo", "chapeau", "summary", "intro", "teaser", "subtitle", "subheadline",
    "excerpt", "strapline", "__desc",
)  # fmt: skip
# Boxes inside the article that are not its text: sign-up and subscribe offers, cookie and consent notices.
_SIGNUP_MARK = re.compile(r"signup|sign-up|newsletter|subscri|consent|cookie|gdpr", re.I)
_SIGNUP_FRAGMENTS = ("signup", "sign-up", "newsletter", "subscri", "consent", "cookie", "gdpr")
_GU_NAME = etree.XPath("//@data-gu-name", smart_strings=False)
_DATELINE = re.compile(
    r"^\W*(?:published|posted|updated|date|veröffentlicht|publié|опубликовано)?[\s:]*"
    r"[\w ,.:/-]*(?<!\d)(?:19|20)\d\d(?!\d)[\w ,.:/-]*$",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(?:by|von|par|por|di|door|автор|текст)\s*:?\s+\S", re.IGNORECASE)
_MIN_LEAD_CHARS = 20
# A label that introduces a link to another article inside the body.
_READ_MORE_LABEL = re.compile(
    r"^(?:>>\s*|(?:read (?:more|also)|see also|also read|more|les også|les mer|lesen sie auch|mehr dazu|mehr zum thema"
    r"|lire aussi|à lire aussi|leer más|lea también|leggi anche|lees ook|läs också|læs også|читайте также"
    r"|ayrıca okuyun)\s*:\s*)",
    re.IGNORECASE,
)
# A teaser's kicker before its linked headline ("US-Politik: <a>Alle Entwicklungen im Newsblog</a>").
_KICKER = re.compile(r"^[^:.!?]{1,40}:\s+")
_MIN_TEASER_CHARS = 15
# A line that is only a picture credit ("Photo: AFP", "Foto: dpa/Jane Doe").
_CREDIT_LINE = re.compile(r"^\s*(?:©|(?:photo|foto|bild|image|picture)s?\s*:)\s*[^.!?]{1,60}$", re.IGNORECASE)
# Posts embedded from social networks: the quoted post is not the article's text.
_SOCIAL_EMBEDS = etree.XPath(
    "//blockquote[contains(@class, 'twitter-tweet') or contains(@class, 'instagram-media')"
    " or contains(@class, 'tiktok-embed') or contains(@class, 'bluesky-embed') or contains(@class, 'threads-post')"
    " or contains(@class, 'fb-xfbml') or contains(@class, 'reddit-embed')]"
)
_CAPTION_ELEMENTS = etree.XPath(
    "//figcaption | //*[contains(@class, 'caption') and not(self::figure) and not(self::img)]"
)
_FALLBACK_CONTAINERS = ("[itemprop~=articleBody]", "article", "main", "[role=main]", "body")
_PARAGRAPH_TAGS = ("p", "h2", "h3", "h4", "blockquote", "li", "pre")
_MAX_LEAD_CHARS = 1200
# trafilatura is trusted unless its text is under this share of the densest paragraph block's.
_DENSITY_FALLBACK_RATIO = 0.4
_MAX_LINK_DENSITY = 0.5
_SAME_TEXT_SHARE = 0.6
# Less text than this in the markup sends the body search to the page's JSON data islands.
_MIN_SHOWN_BODY_CHARS = 200
# Below this, trafilatura's own algorithm is checked against its fallbacks (readability, jusText).
_MIN_FAST_BODY_CHARS = 1000
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.){200,}"')
_BOILERPLATE_TAGS = frozenset({"nav", "footer", "aside", "form"})
_BOILERPLATE_CLASSES = ("comment", "sidebar", "related", "footer", "nav")
_NESTING_TAGS = frozenset({"p", "li"})
_LINK = frozenset({"a"})


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
    # trafilatura missed most of the text, or ran a layout table's cells together into a few lumps;
    # unless what it found is another text than the dense block (a second article loaded below the first).
    too_short = sum(map(len, paragraphs)) < _DENSITY_FALLBACK_RATIO * sum(map(len, dense))
    lumped = len(dense) >= 3 and 2 * len(paragraphs) < len(dense)
    if (too_short or lumped) and (not paragraphs or _shares_text(paragraphs, dense)):
        return dense
    found = paragraphs or _container_paragraphs(root)
    if sum(map(len, found)) < _MIN_SHOWN_BODY_CHARS:
        # Nothing in the markup: an app that renders its article from a JSON data island.
        return _data_island_paragraphs(root) or found
    return found


def _data_island_paragraphs(root: HtmlElement) -> list[str]:
    """Paragraphs of the longest HTML fragment held in a JSON string inside a script (Next.js, Nuxt and
    similar apps ship the article as `"contentHtml": "<p>..."` and render it in the browser)."""
    best: list[str] = []
    for script in root.iter("script"):
        text = script.text or ""
        if "u003cp" not in text and "<p" not in text:
            continue
        for literal in _JSON_STRING.findall(text):
            if "u003cp" not in literal and "<p" not in literal:
                continue
            try:
                fragment = lxml_html.fragment_fromstring(json.loads(literal), create_parent="div")
            except (ValueError, etree.LxmlError):
                continue
            paragraphs = [t for t in (element_text(p) for p in fragment.iter("p")) if t]
            if sum(map(len, paragraphs)) > sum(map(len, best)):
                best = paragraphs
    return best


def _shares_text(paragraphs: list[str], block: list[str]) -> bool:
    """Whether most of the paragraphs' words also occur in the block: the same text, found differently."""
    words = " ".join(paragraphs).casefold().split()
    vocabulary = set(" ".join(block).casefold().split())
    return bool(words) and sum(w in vocabulary for w in words) >= _SAME_TEXT_SHARE * len(words)


def live_blog_paragraphs(article: dict[str, Any], paragraphs: list[str]) -> list[str]:
    """A live blog's entries as headline + text from JSON-LD `liveBlogUpdate`, when the page shows them all.

    Extractors drop entry headings (they look like teaser headlines); the JSON-LD keeps them. It is
    only used when every entry's text is in the extracted body, so truncated or stale JSON-LD is ignored.
    """
    updates = article.get("liveBlogUpdate")
    if not isinstance(updates, list) or not updates:
        return paragraphs
    shown = normalize_space(" ".join(paragraphs))
    rebuilt: list[str] = []
    for update in updates:
        if not isinstance(update, dict):
            return paragraphs
        headline = normalize_space(update.get("headline") if isinstance(update.get("headline"), str) else "")
        text = update.get("articleBody")
        if not isinstance(text, str) or not normalize_space(text) or normalize_space(text) not in shown:
            return paragraphs
        if headline:
            rebuilt.append(headline)
        rebuilt.extend(normalize_space(p) for p in re.split(r"\n\s*\n", text) if normalize_space(p))
    return rebuilt


def find_lead(
    root: HtmlElement,
    paragraphs: list[str],
    title: str | None,
    marks: str | None = None,
    has_description: bool = True,
) -> str | None:
    """A visible standfirst near the headline, if the page marks one up (class names, itemprop).

    `marks` (the page's class/id text) and `has_description` (an element with `itemprop=description`)
    let a page with none of the markers skip the query.
    """
    if marks is not None and not has_description and not marked(marks, _LEAD_MARK) and not _GU_NAME(root):
        return None
    for element in select_marked(root, _LEAD_SELECTORS, marks):  # one query; document order
        if True:
            if element.tag in {"meta", "body", "html", "article", "main", "section"} or _in_boilerplate(element):
                continue
            if len(element.findall(".//p")) > 1:  # a container of paragraphs is an intro section, not a lead
                continue
            if has_ancestor(element, _LINK) or _link_density(element) > _MAX_LINK_DENSITY:
                continue  # a teaser for another article ("article-teaser" cards are links)
            text = element_text(element)
            if _MIN_LEAD_CHARS <= len(text) <= _MAX_LEAD_CHARS and text != title and not _BYLINE.match(text):
                return text
    return None


def drop_page_furniture(
    paragraphs: list[str], title: str | None, authors: list[str], byline: set[str] | None = None
) -> list[str]:
    """Remove the headline, byline and dateline lines extractors leave at the top of the body."""
    names = {a.casefold() for a in authors} | {line.casefold() for line in byline or ()}
    # Extractors may run a byline's name and role lines together ("Jane DoeBusiness reporter").
    pieces = sorted({line.casefold().replace(" ", "") for line in byline or ()}, key=len, reverse=True)
    kept = []
    for index, paragraph in enumerate(paragraphs):
        head = index < 6 and len(paragraph) <= 120
        run_together = bool(pieces) and head and not _remove_all(paragraph.casefold().replace(" ", ""), pieces)
        if paragraph == title or (head and (run_together or _is_furniture(paragraph, names))):
            continue
        kept.append(paragraph)
    return kept


def _remove_all(text: str, pieces: list[str]) -> str:
    for piece in pieces:
        text = text.replace(piece, "")
    return text


def drop_signup_blocks(paragraphs: list[str], root: HtmlElement, marks: str) -> list[str]:
    """Remove the text of newsletter sign-up and subscribe boxes that CMSs place inside the body."""
    boxed: set[str] = set()
    for box in classed_with(root, _SIGNUP_FRAGMENTS, marks):
        # a box is short; a long element named so ("newsletter-post") is the post itself
        if _SIGNUP_MARK.search(f"{box.get('class', '')} {box.get('id', '')}") and len(box.text_content()) <= 500:
            boxed.update(element_text(e) for e in box.iter(*_PARAGRAPH_TAGS, "div", "span", "label"))
    return [p for p in paragraphs if p not in boxed]


def drop_embedded_blocks(paragraphs: list[str], root: HtmlElement) -> list[str]:
    """Remove what extractors take for body text inside the article: teasers that are one link to another
    page (behind a "Read more:" / "Les også:" / ">>" label or not), and image captions and credit lines."""
    anchors = {_fold(a.text_content()) for a in root.iter("a")}
    anchors.discard("")
    # Captions compared without spaces: a caption and its credit may be run together in one of the texts.
    captions = {_squash(element_text(c)) for c in _CAPTION_ELEMENTS(root)}
    captions.discard("")
    embeds = " ".join(_squash(element_text(e)) for e in _SOCIAL_EMBEDS(root))
    kept = []
    for paragraph in paragraphs:
        key, squashed = _fold(paragraph), _squash(paragraph)
        if len(key) >= _MIN_TEASER_CHARS and (
            key in anchors or _READ_MORE_LABEL.sub("", key) in anchors or _KICKER.sub("", key) in anchors
        ):
            continue
        if squashed in captions or _CREDIT_LINE.match(paragraph) or (embeds and squashed in embeds):
            continue
        kept.append(paragraph)
    return kept


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


def _fold(text: str) -> str:
    return normalize_space(text).casefold()


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
    """trafilatura's body paragraphs: its own algorithm alone first; its fallbacks (readability, jusText)
    only when that finds little, since comparing with them costs about as much again on every page."""
    paragraphs = _run_trafilatura(root, url, fast=True)
    if sum(map(len, paragraphs)) < _MIN_FAST_BODY_CHARS:
        paragraphs = _run_trafilatura(root, url, fast=False)
    return paragraphs


def _run_trafilatura(root: HtmlElement, url: str, *, fast: bool) -> list[str]:
    try:
        from trafilatura import bare_extraction

        document = bare_extraction(root, options=_trafilatura_options(fast))
    except Exception as error:
        LOGGER.debug("trafilatura failed url=%s: %s", url, error)
        return []
    if document is None or document.body is None:
        return []
    # Text can sit loose in the body, before the first element or after one (a paragraph after a headline).
    paragraphs: list[str] = [normalize_space(document.body.text)]
    for child in document.body:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "head":
            pass  # section headlines are not body text
        elif tag == "list":
            paragraphs.extend(element_text(item) for item in child.iter("item"))
        elif tag == "table":
            for row in child.iter("row"):
                paragraphs.append(" ".join(element_text(cell) for cell in row.iter("cell")))
        else:
            paragraphs.append(normalize_space(" ".join(child.itertext())))
        paragraphs.append(normalize_space(child.tail))
    return [p for p in paragraphs if p]


@lru_cache(maxsize=2)
def _trafilatura_options(fast: bool) -> Any:
    """One shared extractor configuration: building it per call re-reads trafilatura's config (~0.1 ms).

    The body tree is all we read, so the "xml" format skips its text rendering; the page URL only
    matters to trafilatura for links and images, which are off. It copies the tree it is given.
    """
    from trafilatura.settings import Extractor

    return Extractor(
        output_format="xml", comments=False, tables=True, images=False, links=False, precision=True, fast=fast
    )


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
                if not _in_boilerplate(element) and not has_ancestor(element, _NESTING_TAGS)
            ]
            paragraphs = [p for p in paragraphs if p]
            if paragraphs:
                return paragraphs
    return []


def _in_boilerplate(element: HtmlElement) -> bool:
    """Inside navigation, footer, sidebar, comments or a related block."""
    for node in (element, *element.iterancestors()):
        if node.tag in _BOILERPLATE_TAGS or "comment" in (node.get("id") or ""):
            return True
        classes = node.get("class")
        if classes and any(fragment in classes for fragment in _BOILERPLATE_CLASSES):
            return True
    return False
