"""The article's tags: its topic list as the page shows or declares it.

Sources: the visible tag list (`rel=tag`, tag/topic/keyword containers, a "Tags:" label before links),
`article:tag` meta, keyword meta and JSON-LD `keywords`. A site often shows only the first few of its
tags, or declares a list in one place that another place extends (the section added to the keywords),
so where one source's tags are all in another, longer one, the longer one is the page's list.
Where no list is shown and the declared ones disagree, a keyword list that no link on the page names
gives way to one whose tags are all links. Every source is cleaned of what CMSs put beside the topics: ids,
host names, layout flags, "Category: " prefixes, counters, controls ("Themen bearbeiten") and keywords
seeded from the URL slug.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from services.parse.layout import in_boilerplate, in_comments
from services.parse.profiles import SiteProfile, spec_values
from services.parse.structured import StructuredData, ld_list
from services.parse.text import element_text, normalize_space
from services.parse.tree import marked, select

_TAG_CONTAINERS = (
    "[class*=tags] a, [class*=Tags] a, [class*=tag-list] a, [class*=taglist] a, [class*=keywords] a,"
    " [class*=Keywords] a, [id*=tags] a, [class*=topics] a, [class*=Topics] a, [class*=article-tag] a,"
    " [class*=post-tag] a, [class*=entry-tag] a"
)
_TAG_LINKS = f"a[rel~=tag], {_TAG_CONTAINERS}"
_TAG_MARK = ("tag", "keyword", "topic", "Tag", "Keyword", "Topic", "TAG")
# Links whose own class says tag or topic ("tag--comp", "article-topic__cta"), not "stage" or "vintage".
_CLASSED_LINKS = etree.XPath(
    "//a[contains(@class, 'tag') or contains(@class, 'topic') or *[contains(@class, 'tag')]]", smart_strings=False
)
_TAG_CLASS = re.compile(r"(?:^|[\s_-])(?:tags?|topics?)(?:$|[\s_-])", re.IGNORECASE)
# A label that introduces a list of tag links in its parent ("<strong>Schlagwörter</strong> <a>...").
_TAG_LABEL = re.compile(
    r"^(?:tags?|topics?|themen|thema|schlagw(?:ö|oe)rter|schlagworte|stichw(?:ö|oe)rter|keywords|mots[- ]cl(?:é|e)s"
    r"|sujets|etiquetas|temas|argomenti|tag correlati|onderwerpen|emner|ämnen|aiheet|tematy|tagi|konular"
    r"|etiketler|теги|темы|ключевые слова|mehr lesen über|mehr über|more about|read more about|en savoir plus sur"
    r"|leer más sobre|leggi di più su|lees meer over)\s*:?$",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*[,;]\s*")
_UUID_OR_ID = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{24,}|\d+)$", re.I)
_HOST = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}$", re.IGNORECASE)
# "Category: Economy" keeps its value; other "Label: value" entries are machine annotations ("NLP Category:").
_KEPT_PREFIX = re.compile(r"^(?:category|tag|topic|keyword|thema|schlagwort|rubrik)\s*:\s*", re.IGNORECASE)
_LABELLED = re.compile(r"^[A-Z][\w ]{1,30}:\s+\S")
# "sections/sverige", "topic/misshandel": a path-like type prefix.
_TYPE_PREFIX = re.compile(r"^[a-z]+/(?=\S)")
# A count shown with the tag: "(1) 無料記事", "Brexit (12)".
_COUNTER = re.compile(r"^\(\d+\)\s*|\s*\(\d+\)$|^#\s+")
# Layout and paywall flags that CMSs put among the keywords: "_commerce", "splitscreenimageleftinset".
_LAYOUT_FLAG = re.compile(r"^_|^[a-z]+(?:inset|left|right|small|large)$|^paywall\b|^comments?-(?:enabled|disabled)$")
_MAX_TAG_CHARS = 80
# A control among the tag links ("Themen bearbeiten", "Show all topics", "+ 3 more"), not a topic.
_CONTROL = re.compile(
    r"^(?:(?:show|see|view|load)\s+(?:more|all)\b.*|(?:edit|manage|follow)\s+(?:tags?|topics?)|\+\s*\d+(?:\s+\w+)?"
    r"|(?:themen|tags|schlagw(?:ö|oe)rter)\s+(?:bearbeiten|verwalten|folgen)|(?:mehr|alle)\s+(?:themen|tags)(?:\s+anzeigen)?"
    r"|(?:voir|afficher)\s+(?:plus|tous|tout)\b.*|(?:ver|mostrar)\s+(?:más|todos)\b.*)$",
    re.IGNORECASE,
)
# A labelled tag list is a small block: climbing further would reach the page's other links.
_MAX_LABELLED_BLOCK_CHARS = 1500


def profile_tags(root: HtmlElement, profile: SiteProfile) -> list[str]:
    """Tags by the profile's `tags` selector."""
    return clean_tags(spec_values(root, profile.article.get("tags")))


def generic_tags(scope: HtmlElement, structured: StructuredData, marks: str | None = None, url: str = "") -> list[str]:
    """The page's tags: the visible list, or a declared list that holds all of it and more; else the first
    declared list (article:tag, keyword meta, JSON-LD keywords, links after a "Tags:" label).

    Declared lists lose the page's own routing words, its host and slug ("dailymail", "dollar bill worth
    THOUSANDS check" on dailymail.co.uk/yourmoney/...-check.html).
    `marks` (the page's class/id text) lets a page without any tag-list class skip those selectors.
    """
    shown = visible_tags(scope, marks)
    routing = _routing_words(url)
    slug = _slug_words(url)
    root = scope.getroottree().getroot()
    declared = (
        lambda: _without(routing, clean_tags(_split(structured.meta.get("article:tag", [])))),
        lambda: _without_categories(
            root,
            _without(
                routing,
                _without_slug(
                    slug,
                    clean_tags(_split(structured.meta.get("news_keywords") or structured.meta.get("keywords") or [])),
                ),
            ),
        ),
        lambda: _without(routing, clean_tags(_split(ld_list(structured.article.get("keywords"))))),
        # The labelled list may sit beside the article element rather than inside it.
        lambda: clean_tags(element_text(a) for a in _labelled_links(root)),
    )
    if shown:
        # A page may show only the first few of the tags it declares.
        longer = (
            tags for tags in (source() for source in declared[:3]) if len(tags) > len(shown) and _holds(tags, shown)
        )
        return next(longer, shown)
    lists = [tags for tags in (source() for source in declared[:3]) if tags]
    if len(lists) > 1:
        return _best_linked(root, lists)
    return lists[0] if lists else declared[3]()


def _category_names(root: HtmlElement) -> frozenset[str]:
    """Names of the site's category links (`rel=category`, WordPress `/category/` URLs), case-folded."""
    return frozenset(
        normalize_space(a.text_content()).casefold()
        for a in root.iter("a")
        if "/category/" in (a.get("href") or "") or "category" in (a.get("rel") or "")
    )


def _without_categories(root: HtmlElement, tags: list[str]) -> list[str]:
    """A keyword list without the site's category names: SEO plugins write tags and categories into one
    `keywords` meta, and a category ("Local News", "Msunduzi") is the site's section, not a topic."""
    if not tags:
        return tags
    categories = _category_names(root)
    return [tag for tag in tags if tag.casefold() not in categories] or tags


def _best_linked(root: HtmlElement, lists: list[list[str]]) -> list[str]:
    """The first declared list, unless no link on the page names any of its tags while another list's tags
    are all the page's links.

    A page's topics are usually also its topic links ("/haberleri/tefecilik"); an SEO keyword list of
    phrases no link names ("Pos tefeciliği soruşturması") is not the page's topic list.
    """
    linked = {normalize_space(a.text_content()).casefold() for a in root.iter("a")}
    shares = [sum(t.casefold() in linked for t in tags) / len(tags) for tags in lists]
    if shares[0] == 0:
        return next((tags for tags, share in zip(lists, shares, strict=True) if share == 1 and len(tags) > 1), lists[0])
    return lists[0]


def _slug_words(url: str) -> str:
    """The URL slug's words squashed, without a trailing id ("zweite-drogenrazzia-in-palma-115221903")."""
    slug = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return _squash(re.sub(r"[-_]?\d{5,}$", "", slug))


def _without_slug(slug: str, tags: list[str]) -> list[str]:
    """A keyword list without leading entries that are the URL slug cut into pieces: CMSs seed keywords
    from the slug ("zweite, drogenrazzia, in, palma, innerhalb 48 stunden, Polizei, ...")."""
    joined = ""
    for i, tag in enumerate(tags):
        joined += _squash(tag)
        if not joined or not slug.startswith(joined):
            return tags[i:] if i >= 2 and len(joined) - len(_squash(tag)) >= 12 else tags
    return tags


def _routing_words(url: str) -> frozenset[str]:
    """The URL's host labels and slug, squashed ("dailymail", "dollarbillworththousandscheck"); path segments
    stay, they are often the section a site also lists as a tag ("politik")."""
    parts = urlsplit(url)
    slug = parts.path.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    pieces = [*(parts.hostname or "").split("."), slug]
    return frozenset(s for s in (_squash(p) for p in pieces) if len(s) >= 4)


def _without(routing: frozenset[str], tags: list[str]) -> list[str]:
    return [tag for tag in tags if _squash(tag) not in routing]


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def visible_tags(scope: HtmlElement, marks: str | None = None) -> list[str]:
    """Tag links shown with the article: tag containers, tag-classed links and labelled link lists."""
    if marks is None or marked(marks, _TAG_MARK):
        links = _shown(select(scope, _TAG_LINKS))
        links = links or _shown(a for a in _CLASSED_LINKS(scope) if _tag_classed(a))
    else:
        links = _shown(select(scope, "a[rel~=tag]"))
    return clean_tags(_tag_text(a) for a in links)


def _tag_text(link: HtmlElement) -> str:
    """A tag link's text without a count badge in its own element ("Brexit<span>12</span>")."""
    text = element_text(link)
    for badge in link.iterdescendants():
        count = (badge.text or "").strip()
        if count.isdigit() and text.endswith(count) and len(badge) == 0:
            text = text[: -len(count)]
    return text


def _tag_classed(link: HtmlElement) -> bool:
    """A link whose class, or whose only child's class, says tag or topic ("<a><span class=tag-like>")."""
    inner = link[0].get("class", "") if len(link) == 1 else ""
    return bool(_TAG_CLASS.search(link.get("class", "")) or _TAG_CLASS.search(inner))


def _shown(links: Iterable[HtmlElement]) -> list[HtmlElement]:
    """Tag links of the article: not the site's category links (`rel=category`, a WordPress `/category/` URL),
    navigation, footers or comments."""
    return [
        a
        for a in links
        if "category" not in (a.get("rel") or "")
        and "/category/" not in (a.get("href") or "")
        and not in_boilerplate(a)
        and not in_comments(a)
    ]


def clean_tags(values: Iterable[str]) -> list[str]:
    """Tags as shown, once each (case-folded), without ids, host names, layout flags, prefixes and counters."""
    seen: set[str] = set()
    tags = []
    for value in values:
        tag = _clean_tag(normalize_space(value))
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tags


def _clean_tag(tag: str) -> str | None:
    if not tag or len(tag) > _MAX_TAG_CHARS or _TAG_LABEL.match(tag) or _CONTROL.match(tag):
        return None
    tag = _COUNTER.sub("", _TYPE_PREFIX.sub("", tag))
    kept = _KEPT_PREFIX.match(tag)
    if kept:
        tag = tag[kept.end() :]
    elif _LABELLED.match(tag):
        return None
    if _UUID_OR_ID.match(tag) or _HOST.match(tag) or _LAYOUT_FLAG.search(tag):
        return None
    return tag.strip() or None


def _split(values: Iterable[object]) -> list[str]:
    """Keyword entries split on commas and semicolons ("Spain,Europe,World news" is three tags)."""
    return [part for value in values if isinstance(value, str) for part in _SPLIT.split(value)]


def _holds(longer: list[str], tags: list[str]) -> bool:
    """Whether every tag is one of `longer`'s."""
    keys = {t.casefold() for t in longer}
    return all(t.casefold() in keys for t in tags)


def _labelled_links(scope: HtmlElement) -> list[HtmlElement]:
    """Links that follow a "Tags:"/"Schlagwörter"/"Mehr lesen über" label, in the nearest enclosing block."""
    for label in scope.iter("strong", "b", "span", "dt", "h2", "h3", "h4", "h5", "p", "div"):
        if len(label) or not _TAG_LABEL.match(element_text(label) or "-"):
            continue
        block = label
        for _ in range(6):
            block = block.getparent()
            if block is None or len(block.text_content()) > _MAX_LABELLED_BLOCK_CHARS:
                break
            links = _shown(a for a in block.iter("a") if label not in a.iterancestors())
            if links:
                return links
    return []
