"""Page-level facts: canonical URL, title, authors, section, language and site name.

Each reads the profile first, then structured data, then visible markup. Authors are
people: an organisation named as author (often the publisher itself) is dropped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from services.parse.layout import in_boilerplate, in_comments
from services.parse.profiles import SiteProfile, spec_value, spec_values
from services.parse.structured import StructuredData, ld_list, ld_text, node_types
from services.parse.text import clean_or_none, element_text, multiline_text, normalize_space
from services.parse.tree import marked, select
from shared.language import normalize_language

_TITLE_PIECES = re.compile(r"\s+(?:[|–—·•»:-]|::)\s+")
# A trailing piece after a separator ("Headline | Site", "Headline - Site", "Headline-Section|Site",
# "Headline * Site"), and a leading "Site: " piece.
_SITE_SUFFIX = re.compile(r"(?:\s+(?:[|–—·•»*:-]|::)\s+|\s*[|ㅣ：]\s*)([^|–—·•»*ㅣ：]{1,60})$")
_SITE_PREFIX = re.compile(r"^([^|–—·•»]{1,60})\s+(?:[|–—·•»:-]|::)\s+")
_STRAIGHT_QUOTES = str.maketrans("\u2018\u2019\u201c\u201d", "''\"\"")
_DATE_PIECE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_GLUED_SECTION = re.compile(r"^-\w{1,12}$")
_SEPARATOR_START = re.compile(r"^\s*(?:[|–—·•»*:]|::|\s-)")
_KICKER_END = re.compile(r"(?:[:|–—·•»]|\s-)\s*$")
_BYLINE_SELECTOR = (
    "[rel~=author], .byline [itemprop~=name], [data-component*=byline], [class*=contributor], .signature,"
    " .author-name, .byline__name, .c-byline__author-name,"
    " .article-author, .author a, .byline a, .byline, .author, .article__author, [class*=author-name],"
    " [class*=byline__author], .entry-author, .post-author, .autor, .author_name, .story-byline"
)
# Where the usual classes name nobody: any element whose class or itemprop speaks of an author or byline.
_BROAD_BYLINE_SELECTOR = (
    "[class*=byline], [class*=Byline], [class*=author], [class*=Author], [class*=autor], [itemprop~=author]"
)
# The selectors above that do not test a class: all the others need one of `_BYLINE_MARK`'s fragments.
_BYLINE_ATTRIBUTE_SELECTOR = "[rel~=author], [data-component*=byline]"
_BYLINE_MARK = ("byline", "contributor", "signature", "author", "autor")
_BY_PREFIX = re.compile(
    r"^(?:by|von|par|por|di|door|av|af|автор|текст|written by|posted by|reporting by|story by)\s*[:\-]?\s+",
    re.I,
)
_BY_WORD = re.compile(r"^\s*(?:by|von|par|por|di|door|av|af|автор|текст)\s*:?\s*$", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|\band\b|\bund\b|\bet\b|\by\b|&|\u0438\b|/)\s*", re.IGNORECASE)
# Never a name: a URL, an e-mail address or handle, a picture credit, a number.
_NOT_A_NAME = re.compile(
    r"https?://|www\.|@|\d{3,}|\(?\b(?:image|photo|foto|picture|bild)\s*:|\bgetty\b|\bistock|©", re.I
)
# Words of a desk or of page furniture rather than a name, where a name is read off a visible byline.
_DESK_WORDS = re.compile(
    r"staff|editor(ial)?s?\b|redaktion|agency|news|press|team|admin|reporters?\b|updated|published|^more\b"
    r"|^share\b|comments?\b",
    re.IGNORECASE,
)
# A job title after the name: "신현주 기자", "山田太郎 記者", "Jane Doe, Staff Writer".
_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|記者|特派員|編集委員)$")
# A label before the author's name, in the languages of the news ("Autorin/Autor", "Auteur", "Forfatter").
_AUTHOR_LABEL = re.compile(
    r"^(?:autor(?:in)?(?:/autor(?:in)?)?|author\(?s?\)?|auteur(?:e|s)?|autore|forfatter|skribent|reporter|text|texto)\s*:?$",
    re.I,
)
_BOLD_NAME = re.compile(r"^[A-ZÀ-Ý][\w'’.-]+(?:\s[A-ZÀ-Ý][\w'’.-]+){1,3}$")
# Author meta tags in order of preference (names lower-cased, as the structured layer stores them).
_AUTHOR_META = (
    "author", "article:author", "articleauthor", "article_author", "dc.creator", "dcterms.creator",
    "citation_author", "byl", "parsely-author", "sailthru.author", "cxenseparse:author",
)  # fmt: skip
# Dublin Core and citation metas write "Surname, Given".
_INVERTED_META = frozenset({"dc.creator", "dcterms.creator", "citation_author"})
_INVERTED_NAME = re.compile(r"^([^\s,]+(?:\s[^\s,]+)?),\s*([^\s,]+(?:\s[^\s,]+)?)$")
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
    """Headline without kicker and site name: profile, else the page's declared titles reconciled.

    The declared titles go first (`og:title`, the JSON-LD `headline`, `twitter:title`; on real pages they
    name the headline more often than the first visible `<h1>`, which can be a section or teaser heading),
    then the `<h1>` and `<title>`; where `og:title` only copies the `<title>` and the JSON-LD headline
    differs, the headline goes first. Each loses the pieces that name the site ("| DW |
    28.04.2023"); a kicker ("Neue Leipziger Schule: Judy Lybke, ...") goes when another declared title is
    the same headline without it, and a headline cut with an ellipsis is completed from a longer one.
    """
    if profile:
        title = spec_value(root, profile.article.get("title"))
        if title:
            return title
    site = _SiteNames.of(structured, url)
    og, headline, social = (
        site.strip(d) if d else None
        for d in (
            clean_or_none(structured.first_meta("og:title")),
            ld_text(structured.article.get("headline")),
            clean_or_none(structured.first_meta("twitter:title")),
        )
    )
    document = _document_title(root)
    page_title = site.strip(document) if document else None
    heading = _visible_headline(root, scope, site, document)
    heading = site.strip(heading) if heading else None
    if og and headline and page_title and _fold(og) == _fold(page_title) != _fold(headline):
        # og:title copies the <title>, the headline written for search engines; a JSON-LD headline that
        # differs from it was written apart, for the article.
        og, headline = headline, og
    declared = [d for d in (og, headline, social) if d]
    fallback = [t for t in (heading, page_title) if t]
    candidates = [c for c in (*declared, *fallback) if c]
    if not candidates:
        return None
    title = candidates[0]
    longer = next((c for c in candidates if _completes(title, c)), None)
    if longer:
        return longer
    shorter = next((c for c in candidates if _has_suffix_of(title, c)), None)
    if shorter:
        return shorter  # "Headline | Sport" where another title says "Headline"
    return next((d for d in declared if _is_kicker_of(title, d)), title)


@dataclass(frozen=True, slots=True)
class _SiteNames:
    """The ways a page names its site (og:site_name, publisher, application name, host) to cut from titles."""

    names: frozenset[str]
    host: str

    @classmethod
    def of(cls, structured: StructuredData, url: str, *extra: str | None) -> _SiteNames:
        values = (
            *extra,
            structured.first_meta("og:site_name"),
            structured.first_meta("application-name"),
            ld_text(structured.article.get("publisher")),
        )
        names = frozenset(n for v in values if v for n in [normalize_space(v).casefold()] if n)
        return cls(names, (urlsplit(url).hostname or "").removeprefix("www.").replace("-", "").replace(".", ""))

    def named(self, piece: str) -> bool:
        """Whether a title piece is the site's name, a date stamp or a byline, not part of the headline."""
        folded = piece.casefold().strip()
        if folded in self.names or _DATE_PIECE.match(folded) or _BY_PREFIX.match(folded):
            return True
        if any(name and folded.endswith(name) and len(folded) - len(name) <= 12 for name in self.names):
            return True  # "정치ㅣ한국일보", "News | Site": a section before the site's name
        squashed = re.sub(r"\W", "", folded)
        return bool(self.host and len(squashed) >= 4 and squashed in self.host)

    def strip(self, title: str) -> str | None:
        """`Headline | Site | 28.04.2023` -> `Headline`, `Headline - Section | Site` -> `Headline`;
        a leading `Site: ` goes too."""
        title = normalize_space(html.unescape(title))
        stripped = False
        while True:
            suffix = _SITE_SUFFIX.search(title)
            if not suffix:
                break
            if not self.named(suffix.group(1)):
                # One section name right before the site's name ("- National | Globalnews.ca").
                if stripped and len(suffix.group(1).split()) <= 2 and not _KICKER_END.search(title[: suffix.start()]):
                    title = title[: suffix.start()]
                break
            title, stripped = title[: suffix.start()], True
        prefix = _SITE_PREFIX.match(title)
        if prefix and self.named(prefix.group(1)):
            title = title[prefix.end() :]
        return clean_or_none(title)


def _visible_headline(
    root: HtmlElement, scope: HtmlElement, site: _SiteNames, document_title: str | None
) -> str | None:
    """The article's visible heading: an `<h1>` (or an `<h2>`/`<h3>` of the article) that the `<title>`
    names, else the first `<h1>` that is not the site's name (old themes put the site in `<h1>`)."""
    h1s = [h for h in (*scope.iter("h1"), *root.iter("h1")) if not in_boilerplate(h) and not in_comments(h)]
    h2s = [h for h in scope.iter("h2", "h3") if not in_boilerplate(h) and not in_comments(h)]
    pieces = {p.casefold() for p in _TITLE_PIECES.split(document_title or "") if p.strip()}
    first = None
    for element in (*h1s, *h2s):
        text = element_text(element)
        if not text or site.named(text):
            continue
        if text.casefold() in pieces:
            return text
        if first is None and element.tag == "h1":
            first = text
    return first


def _fold(title: str) -> str:
    """A title folded for comparison: case, quote style and trailing dots do not count."""
    return title.translate(_STRAIGHT_QUOTES).casefold().rstrip(". \u2026")


def _completes(title: str, other: str) -> bool:
    """Whether `other` is `title` whole where `title` was cut with an ellipsis."""
    cut = title.rstrip(". …")
    return title != cut and len(other) > len(cut) + 3 and other.startswith(cut) and not other.endswith(("…", "..."))


def _has_suffix_of(title: str, headline: str) -> bool:
    """Whether `title` is `headline` followed by a separator and a short piece (a section, a site)."""
    if len(headline) < 12 or len(title) <= len(headline) or not title.startswith(headline):
        return False
    rest = title[len(headline) :]
    # A section glued on with a bare hyphen ("...밀어붙이나"-정치) counts only here, where another title is
    # the headline without it; elsewhere a bare hyphen joins words ("Migrations-Thinktank").
    return (bool(_SEPARATOR_START.match(rest)) and len(rest.split()) <= 5) or bool(_GLUED_SECTION.match(rest))


def _is_kicker_of(title: str, headline: str) -> bool:
    """Whether `title` is `headline` behind a kicker ("Kicker: Headline", "Kicker – Headline")."""
    if len(headline) < 12 or len(title) <= len(headline) or not title.endswith(headline):
        return False
    kicker = title[: -len(headline)]
    return bool(_KICKER_END.search(kicker)) and len(kicker.split()) <= 8


def find_authors(
    root: HtmlElement,
    scope: HtmlElement,
    structured: StructuredData,
    profile: SiteProfile | None,
    site_name: str | None,
    bylines: list[HtmlElement] | None = None,
) -> list[str]:
    """Who the page credits with the article: people, or an agency or desk where that is all it names.

    The article's structured `author` comes first (JSON-LD, then microdata), then author meta tags, then the
    visible byline. Where the structured author is only the site itself ("DER SPIEGEL" on spiegel.de), a
    person named by the meta tags or the byline is the better answer; the site's name stays otherwise.
    """
    if profile and profile.article.get("authors"):
        return _clean_names(spec_values(root, profile.article["authors"]))
    site = _SiteNames.of(structured, "", site_name)
    declared = _clean_names(_structured_authors(structured))
    if declared and not all(site.named(name) for name in declared):
        return declared
    sources = (
        lambda: _clean_names(_meta_authors(structured)),
        lambda: _clean_names(_byline_names(scope, bylines), strict=True),
        lambda: _clean_names(_labelled_names(scope), strict=True),
    )
    for source in sources:
        others = source()
        people = [name for name in others if not site.named(name)]
        if people:
            return people
        declared = declared or others
    return declared


def _structured_authors(structured: StructuredData) -> list[str]:
    """Names in the article's JSON-LD `author`/`creator` (Person or Organization), else microdata authors."""
    names = []
    for author in ld_list(structured.article.get("author")) + ld_list(structured.article.get("creator")):
        author = structured.resolve(author)
        if isinstance(author, dict):
            name = ld_text(author.get("name"))
            if not name and (author.get("givenName") or author.get("familyName")):
                name = normalize_space(
                    f"{ld_text(author.get('givenName')) or ''} {ld_text(author.get('familyName')) or ''}"
                )
        else:
            name = ld_text(author)
        if name:
            names.append(name)
    if not names:
        names = [microdata_name(e) for e in structured.microdata.get("author", ()) if not in_comments(e)]
    return [n for n in names if n]


def _meta_authors(structured: StructuredData) -> list[str]:
    """Author meta tags, one name per tag; "Surname, Given" (Dublin Core, citations) turned around."""
    names: list[str] = []
    for key in _AUTHOR_META:
        for value in structured.meta.get(key, ()):
            value = normalize_space(value)
            inverted = _INVERTED_NAME.match(value) if key in _INVERTED_META else None
            names.append(f"{inverted.group(2)} {inverted.group(1)}" if inverted else value)
        if names:
            break
    return names


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
    if marks is not None and not marked(marks, _BYLINE_MARK):
        return select(scope, _BYLINE_ATTRIBUTE_SELECTOR)
    return select(scope, _BYLINE_SELECTOR)


def _byline_names(scope: HtmlElement, bylines: list[HtmlElement] | None = None) -> list[str]:
    """The name line of the first byline that has one: the usual byline classes, then any author-ish class."""
    for elements in (
        select(scope, _BYLINE_SELECTOR) if bylines is None else bylines,
        select(scope, _BROAD_BYLINE_SELECTOR),
    ):
        for element in elements:
            if in_comments(element) or in_boilerplate(element):
                continue
            lines = [x for x in multiline_text(element).split("\n") if x.strip()]
            # "By" alone on its line (its own element, as in tagDiv themes) is a label for the next line.
            labelled = next((lines[i + 1] for i in range(len(lines) - 1) if _BY_WORD.match(lines[i])), None)
            lines = [x for x in lines if not _BY_WORD.match(x)]
            line = labelled or next((x for x in lines if _BY_PREFIX.match(x)), lines[0] if lines else "")
            if line and len(line) <= 120 and _looks_like_names(line):
                return [line]
    return _by_phrase(scope)


def _labelled_names(scope: HtmlElement) -> list[str]:
    """A name after an author label ("<strong>Autorin/Autor</strong> Roman Goncharenko", "Author: Jane Doe"),
    or an early paragraph that is only a name, or names split by "/", in bold (small sites put the byline
    there)."""
    for label in scope.iter("strong", "b", "dt", "th", "span"):
        text = element_text(label)
        if not text or len(text) > 30 or not _AUTHOR_LABEL.match(text) or in_comments(label):
            continue
        value = normalize_space(label.tail)
        if not value and label.getnext() is not None:
            value = element_text(label.getnext())
        if value and len(value) <= 80 and _looks_like_names(value):
            return [value]
    for paragraph in list(scope.iter("p"))[:3]:
        text = element_text(paragraph)
        bold = [element_text(e) for e in paragraph if e.tag in {"strong", "b"}]
        names = re.split(r"\s*/\s*", text) if text and bold == [text] and len(text) <= 80 else []
        if 0 < len(names) <= 3 and all(_BOLD_NAME.match(name) and len(name) <= 40 for name in names):
            return names  # "Mathatisi Sebusi/Mohalenyane Phakela": co-authors share the line
    return []


def _looks_like_names(line: str) -> bool:
    """A byline line rather than a date, a label or a sentence: few words, no digits."""
    words = _BY_PREFIX.sub("", line).split()
    return 0 < len(words) <= 12 and not any(ch.isdigit() for ch in line)


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


def _clean_names(candidates: list[str], *, strict: bool = False) -> list[str]:
    """Split "A, B and C", drop "By"/"Von" and roles, URLs, handles and picture credits; `strict` (for names read
    from visible bylines) also drops desk words such as "staff" or "news"."""
    names: list[str] = []
    seen: set[str] = set()
    for candidate in candidates:
        candidate = _BY_PREFIX.sub("", normalize_space(candidate))
        if _NOT_A_NAME.search(candidate):
            continue
        for part in _AUTHOR_SPLIT.split(candidate):
            name = _ROLE_SUFFIX.sub("", _BY_PREFIX.sub("", part)).strip(" .,;:|-")
            if not name or name.casefold() in seen:
                continue
            if len(name) > 60 or len(name.split()) > 5 or (strict and _DESK_WORDS.search(name)):
                continue
            seen.add(name.casefold())
            names.append(name)
    return names


def _document_title(root: HtmlElement) -> str | None:
    title = root.find(".//title")
    return clean_or_none(title.text_content()) if title is not None else None
