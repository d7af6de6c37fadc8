"""Where things are on a page: the article's own container and the site's boilerplate.

Several layers (images, tags, related links, dates) must look inside the article and
nowhere else; this module finds that scope once with cheap structural rules.
"""

from __future__ import annotations

from lxml.html import HtmlElement

# Class/id fragments of page furniture that never holds the article's own content.
BOILERPLATE_XPATH = (
    "ancestor-or-self::*[self::nav or self::footer[not(ancestor::article)] or self::form"
    " or contains(@class,'sidebar') or contains(@id,'sidebar') or contains(@class,'l-sidebar')"
    " or (contains(@class,'footer') and not(ancestor::article)) or contains(@class,'navbar') or contains(@class,'menu')"
    " or contains(@class,'cookie') or contains(@class,'modal') or contains(@class,'banner')"
    " or contains(@class,'breadcrumb') or contains(@class,'share') or contains(@class,'social')]"
)
COMMENTS_XPATH = (
    "ancestor-or-self::*[contains(@class,'comment') or contains(@id,'comment')"
    " or contains(@id,'disqus') or contains(@class,'respond')]"
)
_ARTICLE_XPATHS = (
    "//*[contains(@itemtype,'Article') or contains(@itemtype,'BlogPosting')]",
    "//article",
    "//main | //*[@role='main']",
    "//*[@id='content' or @id='main' or @class='content' or contains(@class,'post-content')"
    " or contains(@class,'entry-content') or contains(@class,'article-body')]",
)


def in_boilerplate(element: HtmlElement) -> bool:
    """Inside navigation, footer, sidebar, banners or share bars."""
    return bool(element.xpath(BOILERPLATE_XPATH))


def in_comments(element: HtmlElement) -> bool:
    """Inside a reader-comment section."""
    return bool(element.xpath(COMMENTS_XPATH))


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
