"""Page-level facts: canonical URL, title, authors, section, language and site name.

Each reads the profile first, then structured data, then visible markup. Authors are
people: an organisation named as author (often the publisher itself) is dropped.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from services.parse.layout import in_boilerplate, in_comments
from services.parse.profiles import SiteProfile, spec_value, spec_values
from services.parse.structured import StructuredData, ld_list, ld_text, node_types
from services.parse.text import clean_or_none, element_text, multiline_text, normalize_space
from services.parse.tree import select
from shared.language import normalize_language

_TITLE_PIECES = re.compile(r"\s+(?:[|–—·•»:-]|::)\s+")
_SITE_SUFFIX = re.compile(r"\s+(?:[|–—·•»-]|::)\s+([^|–—·•»]{1,60})$")
_SITE_PREFIX = re.compile(r"^([^|–—·•»]{1,60})\s+(?:[|–—·•»:-]|::)\s+")
_BYLINE_SELECTOR = (
    "[rel~=author], .byline [itemprop~=name], [data-component*=byline], [class*=contributor], .signature,"
    " .author-name, .byline__name, .c-byline__author-name,"
    " .article-author, .author a, .byline a, .byline, .author, .article__author, [class*=author-name],"
    " [class*=byline__author], .entry-author, .post-author, .autor, .author_name, .story-byline"
)
# The selectors above that do not test a class: all the others need one of `_BYLINE_MARK`'s fragments.
_BYLINE_ATTRIBUTE_SELECTOR = "[rel~=author], [data-component*=byline]"
_BYLINE_MARK = re.compile(r"byline|contributor|signature|author|autor")
_BY_PREFIX = re.compile(
    r"^(?:by|von|par|por|di|door|av|af|автор|текст|written by|posted by|reporting by|story by)\s*[:\-]?\s+",
    re.I,
)
_BY_WORD = re.compile(r"^\s*(?:by|von|par|por|di|door|av|af|автор|текст)\s*:?\s*$", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|\band\b|\bund\b|\bet\b|\by\b|&|\u0438\b|/)\s*", re.IGNORECASE)
_NOT_A_NAME = re.compile(
    r"https?://|@|\d{3,}|staff|editor(ial)?s?\b|redaktion|agency|news|press|team|admin|reporters?\b|updated"
    r"|published|^more\b|^share\b|comments?\b",
    re.IGNORECASE,
)
_BY_NAME = re.compile(r"(?:^|\s)(?:by|By|BY)\s+([A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){1,3})\s*$")
_ORG_TYPES = frozenset({"organization", "newsmediaorganization", "corporation", "organisation", "brand"})


def find_canonical(structured: StructuredData, page_url: str) -> str:
    """`<link rel=canonical>`, else `og:url`, resolved against the page URL; else the page URL."""
    for value in (structured.first_meta("link:canonical"), structured.first_meta("og:url")):
        if value:
            resolved = urljoin(page_url, value.strip())
            if urlsplit(resolved).scheme in {"http", "https"}:
                return resolved
    return page_url


def find_title(
    root: HtmlElement, scope: HtmlElement, structured: StructuredData, profile: SiteProfile | None, url: str = ""
) -> str | None:
    """Headline: profile, then a visible heading the page metadata agrees with, then og/JSON-LD/<title>."""
    if profile:
        title = spec_value(root, profile.article.get("title"))
        if title:
            return title
    declared = [
        clean_or_none(structured.first_meta("og:title")),
        ld_text(structured.article.get("headline")),
        clean_or_none(structured.first_meta("twitter:title")),
        _document_title(root),
    ]
    declared = [d for d in declared if d]
    host = (urlsplit(url).hostname or "").replace("-", "").replace(".", "")
    pieces = {p.casefold() for d in declared for p in _TITLE_PIECES.split(d) if p.strip() and not _names_site(p, host)}
    h1s = [h for h in (*scope.iter("h1"), *root.iter("h1")) if not in_boilerplate(h) and not in_comments(h)]
    h2s = [h for h in scope.iter("h2", "h3") if not in_boilerplate(h) and not in_comments(h)]
    for heading in (*h1s, *h2s):
        text = element_text(heading)
        if text and (any(_similar(text, d) for d in declared) or text.casefold() in pieces):
            return text
    if not declared and h1s:
        return element_text(h1s[0]) or None
    for value in declared:
        stripped = _strip_site_name(value, structured, host)
        if stripped:
            return stripped
    return None


def find_authors(
    root: HtmlElement,
    scope: HtmlElement,
    structured: StructuredData,
    profile: SiteProfile | None,
    site_name: str | None,
    bylines: list[HtmlElement] | None = None,
) -> list[str]:
    """Person names credited with the article; organisations and the publisher are not authors."""
    publisher = ld_text(structured.article.get("publisher"))
    not_people = {n.casefold() for n in (publisher, site_name) if n}
    candidates: list[str] = []
    if profile and profile.article.get("authors"):
        candidates = spec_values(root, profile.article["authors"])
    if not candidates:
        for author in ld_list(structured.article.get("author")) + ld_list(structured.article.get("creator")):
            author = structured.resolve(author)
            if isinstance(author, dict) and node_types(author) & _ORG_TYPES:
                not_people.add((ld_text(author) or "").casefold())
                continue
            name = ld_text(author)
            if name:
                candidates.append(name)
    if not candidates:
        candidates = [microdata_name(e) for e in structured.microdata.get("author", ()) if not in_comments(e)]
        candidates = [c for c in candidates if c]
    if not candidates:
        candidates = _byline_names(scope, bylines)
    if not candidates:
        for name in ("author", "article:author", "dc.creator", "byl", "parsely-author", "sailthru.author"):
            for value in structured.meta.get(name, ()):
                candidates.append(value)
    return _clean_names(candidates, not_people)


def microdata_name(element: HtmlElement) -> str:
    """Name of a microdata author: its `itemprop=name` child, else its text."""
    named = element.xpath(".//*[@itemprop='name']")
    if named:
        return named[0].get("content") or element_text(named[0])
    return element.get("content") or element_text(element)


def find_section(root: HtmlElement, structured: StructuredData, profile: SiteProfile | None) -> str | None:
    """Site section: profile, then JSON-LD `articleSection`, then `article:section` meta."""
    if profile:
        section = spec_value(root, profile.article.get("section"))
        if section:
            return section
    return ld_text(structured.article.get("articleSection")) or clean_or_none(
        structured.first_meta("article:section", "section", "parsely-section", "category")
    )


def find_language(root: HtmlElement, structured: StructuredData) -> str | None:
    """The declared language as an ISO 639-1 code, from `<html lang>`, JSON-LD `inLanguage` or language
    meta; a declaration that is no language code ("utf-8") is passed over. Enrich checks it against the text."""
    for value in (
        root.get("lang"),
        root.get("xml:lang"),
        ld_text(structured.article.get("inLanguage")),
        structured.first_meta("content-language", "language", "og:locale", "dc.language"),
    ):
        code = normalize_language(value)
        if code:
            return code
    return None


def find_site_name(root: HtmlElement, structured: StructuredData) -> str | None:
    """Publication name: `og:site_name`, JSON-LD publisher, application-name, or the `<title>` suffix."""
    name = clean_or_none(structured.first_meta("og:site_name", "application-name", "apple-mobile-web-app-title"))
    if name:
        return name
    publisher = ld_text(structured.article.get("publisher"))
    if publisher:
        return publisher
    for node in structured.nodes:
        if node_types(node) & {"website", "newsmediaorganization"} and ld_text(node.get("name")):
            return ld_text(node.get("name"))
    return None


def byline_elements(scope: HtmlElement, marks: str | None = None) -> list[HtmlElement]:
    """Byline blocks of the article in document order; read once, used for authors and body cleanup.

    `marks` (the page's class/id text) lets a page without any byline class skip the class selectors.
    """
    if marks is not None and not _BYLINE_MARK.search(marks):
        return select(scope, _BYLINE_ATTRIBUTE_SELECTOR)
    return select(scope, _BYLINE_SELECTOR)


def _byline_names(scope: HtmlElement, bylines: list[HtmlElement] | None = None) -> list[str]:
    for element in select(scope, _BYLINE_SELECTOR) if bylines is None else bylines:
        if in_comments(element) or in_boilerplate(element):
            continue
        # "By" alone on its line (its own element, as in tagDiv themes) is a label, not a name.
        lines = [line for line in multiline_text(element).split("\n") if line.strip() and not _BY_WORD.match(line)]
        line = next((x for x in lines if _BY_PREFIX.match(x)), lines[0] if lines else "")
        if line and len(line) <= 120:
            return [line]
    return _by_phrase(scope)


def byline_lines(scope: HtmlElement, bylines: list[HtmlElement] | None = None) -> set[str]:
    """Every line of the article's byline blocks (name, role, place), to keep them out of the body."""
    lines: set[str] = set()
    for element in select(scope, _BYLINE_SELECTOR) if bylines is None else bylines:
        if not in_comments(element) and len(element_text(element)) <= 200:
            lines.update(line for line in multiline_text(element).split("\n") if line.strip())
    return lines


def _by_phrase(scope: HtmlElement) -> list[str]:
    """Last resort: a short meta line such as "November 19th, 2012 by Lena Holm"."""
    for element in scope.iter("small", "span", "div", "p", "font"):
        if len(element.text_content()) > 150 or " by " not in f" {element.text_content().lower()}":
            continue
        text = element_text(element)
        if not text or len(text) > 100 or in_comments(element) or in_boilerplate(element):
            continue
        match = _BY_NAME.search(text)
        if match:
            return [match.group(1)]
    return []


def _clean_names(candidates: list[str], not_people: set[str]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for candidate in candidates:
        candidate = _BY_PREFIX.sub("", normalize_space(candidate))
        for part in _AUTHOR_SPLIT.split(candidate):
            name = _BY_PREFIX.sub("", part).strip(" .,;:|-")
            if not name or name.casefold() in not_people or name.casefold() in seen:
                continue
            if len(name) > 60 or len(name.split()) > 5 or _NOT_A_NAME.search(name):
                continue
            seen.add(name.casefold())
            names.append(name)
    return names


def _document_title(root: HtmlElement) -> str | None:
    title = root.find(".//title")
    return clean_or_none(title.text_content()) if title is not None else None


def _strip_site_name(title: str, structured: StructuredData, host: str = "") -> str | None:
    """`Headline | Site` -> `Headline`: drop a leading or trailing piece that names the site."""
    site = (structured.first_meta("og:site_name") or "").casefold()

    def is_site(piece: str) -> bool:
        return piece.casefold() == site or _names_site(piece, host)

    prefix = _SITE_PREFIX.match(title)
    if prefix and is_site(prefix.group(1)):
        title = title[prefix.end() :]
    suffix = _SITE_SUFFIX.search(title)
    if suffix and (is_site(suffix.group(1)) or len(suffix.group(1).split()) <= 4):
        title = title[: suffix.start()]
    return clean_or_none(title)


def _names_site(piece: str, host: str) -> bool:
    """Whether a title piece is the site's name, judged by the host name ("Valley Gazette" ~ valleygazette)."""
    squashed = re.sub(r"\W", "", piece.casefold())
    return bool(host and len(squashed) >= 4 and squashed in host)


def _similar(heading: str, declared: str) -> bool:
    """Same headline, allowing a site name around it (the heading must be most of the title)."""
    a, b = heading.casefold(), declared.casefold()
    return a == b or (len(a) >= 10 and (a in b or b in a) and min(len(a), len(b)) >= 0.6 * max(len(a), len(b)))
