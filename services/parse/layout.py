"""Where things are on a page: the article's own container and the site's boilerplate.

Several layers (images, tags, related links, dates) must look inside the article and
nowhere else; this module finds that scope once with cheap structural rules.
"""

from __future__ import annotations

from lxml.html import HtmlElement

# Class fragments of page furniture that never holds the article's own content. The checks
# are Python walks up the ancestors rather than `ancestor-or-self::` XPaths: libxml2's XPath
# context costs ~20 µs per call, the walk ~1 µs, and they run for hundreds of elements a page.
_FURNITURE_CLASSES = ("sidebar", "navbar", "menu", "cookie", "modal", "banner", "breadcrumb", "share", "social")
# Classes WordPress and similar CMSs derive from a post's tags and categories ("tag-social-media").
_TAXONOMY_PREFIXES = ("tag-", "category-", "categories-", "topic-", "section-", "post-", "format-", "type-")
# Footers of the article itself (tags, credits, author box), not of the site.
_OWN_FOOTER_PREFIXES = ("entry", "article", "post", "story", "content")
_COMMENT_CLASSES = ("comment", "respond")
_COMMENT_IDS = ("comment", "disqus")
_ARTICLE_XPATHS = (
    "//*[contains(@itemtype,'Article') or contains(@itemtype,'BlogPosting')]",
    "//article",
    "//main | //*[@role='main']",
    "//*[@id='content' or @id='main' or @class='content' or contains(@class,'post-content')"
    " or contains(@class,'entry-content') or contains(@class,'article-body')]",
)


def in_boilerplate(element: HtmlElement) -> bool:
    """Inside navigation, a footer (outside the article's own), a form, sidebar, banners or share bars."""
    chain = [element, *element.iterancestors()]
    in_article = False  # a footer inside an <article> is the article's own (tags, credits)
    for node in reversed(chain):  # top-down, so `in_article` means "has an article ancestor"
        tag = node.tag
        if tag == "body" or tag == "html":
            continue  # their classes name the page's template ("stackednavigation-site-navigation"), not furniture
        if tag == "nav" or tag == "form":
            return True
        classes = node.get("class") or ""
        if classes and _furniture(classes):
            return True
        if "sidebar" in (node.get("id") or ""):
            return True
        if not in_article and (tag == "footer" or _site_footer(classes)):
            return True
        if tag == "article":
            in_article = True
    return False


def _furniture(classes: str) -> bool:
    """A class of page furniture; WordPress's taxonomy classes on a post ("tag-social-media") are not, nor
    is "shared" (components a site shares between pages: "article-headers-shared-topic")."""
    return any(
        fragment in token
        for token in classes.split()
        if not token.startswith(_TAXONOMY_PREFIXES)
        for fragment in _FURNITURE_CLASSES
        if fragment != "share" or "share" in token.replace("shared", "")
    )


def _site_footer(classes: str) -> bool:
    """A footer class of the page ("footer", "site-footer"), not an entry's own ("entry-footer", "article-footer")."""
    return "footer" in classes and any(
        "footer" in token and not token.startswith(_OWN_FOOTER_PREFIXES) for token in classes.split()
    )


def in_comments(element: HtmlElement) -> bool:
    """Inside a reader-comment section."""
    for node in (element, *element.iterancestors()):
        classes = node.get("class")
        if classes and any(fragment in classes for fragment in _COMMENT_CLASSES):
            return True
        ident = node.get("id")
        if ident and any(fragment in ident for fragment in _COMMENT_IDS):
            return True
    return False


def has_ancestor(element: HtmlElement, tags: frozenset[str] | set[str], *, or_self: bool = False) -> bool:
    """Whether the element (with `or_self`, or the element itself) sits inside one of `tags`."""
    if or_self and element.tag in tags:
        return True
    return any(node.tag in tags for node in element.iterancestors())


def find_article_scope(root: HtmlElement) -> HtmlElement:
    """The element holding the article (headline to tags); the body element if none stands out."""
    body = root.find("body")
    fallback = body if body is not None else root
    for xpath in _ARTICLE_XPATHS:
        candidates = [c for c in root.xpath(xpath) if not in_comments(c) and not in_boilerplate(c)]
        if not candidates:
            continue
        if len(candidates) == 1:
            return candidates[0]
        # Several articles (a live blog, teasers): take the one with most paragraph text, unless
        # none dominates, then their common container.
        weights = [(_paragraph_chars(c), c) for c in candidates]
        total = sum(w for w, _ in weights) or 1
        weight, best = max(weights, key=lambda pair: pair[0])
        if weight / total >= 0.6:
            return _outermost(best, candidates)
        common = _common_ancestor(candidates)
        return common if common is not None else fallback
    return fallback


def _paragraph_chars(element: HtmlElement) -> int:
    return sum(len(p.text_content()) for p in element.iter("p"))


def _outermost(element: HtmlElement, candidates: list[HtmlElement]) -> HtmlElement:
    """An article nested in another candidate article stands for the outer one."""
    chosen = element
    for ancestor in element.iterancestors():
        if ancestor in candidates:
            chosen = ancestor
    return chosen


def _common_ancestor(elements: list[HtmlElement]) -> HtmlElement | None:
    paths = [[element, *element.iterancestors()][::-1] for element in elements]
    common = None
    for level in zip(*paths, strict=False):
        if all(node is level[0] for node in level):
            common = level[0]
        else:
            break
    return common
