"""Article images with their caption and credit as displayed.

Profile rules name image containers; the generic rules read `<figure>`/`<figcaption>`,
credit elements (`.credit`, `.copyright`, `[itemprop=copyrightHolder]`...) and the
usual credit patterns at the end of a caption ("©...", "Photo: ...", "(AP Photo/...)").
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml.html import HtmlElement

from services.parse.layout import in_boilerplate, in_comments
from services.parse.profiles import SiteProfile, spec_elements, spec_value
from services.parse.text import clean_or_none, element_text
from services.parse.tree import select
from shared.records import Image

_CREDIT_SELECTOR = (
    ".credit, .credits, .copyright, .photo-credit, .image-credit, .img-credit, .caption-credit, .byline,"
    " .source, .photographer, .media-credit, .wp-media-credit, [itemprop~=copyrightHolder],"
    " [itemprop~=creditText], [itemprop~=author], figcaption small, figcaption cite, [class*=__credit],"
    " [class*=-credit], [class*=copyright]"
)
# A credit written into the caption text: "... Photo: AFP", "... (AP Photo/Jane Doe)", "... © Reuters".
_CREDIT_IN_TEXT = re.compile(
    r"(?:\s*[|/–—-]?\s*)(\(?(?:©|\(c\)|Copyright\b|(?:Photo|Photograph|Picture|Image|Foto|Фото|Bild|写真)"
    r"(?:\s+(?:by|credit|von|de))?\s*:|(?:AP|AFP|Reuters|EPA|Getty)\s+(?:Photo|Images)\b)[^()]*\)?)\s*$",
    re.IGNORECASE,
)
_SKIP_SRC = re.compile(
    r"avatar|gravatar|logo|icon|sprite|pixel|blank\.|spacer|1x1|tracking|/ads?/|badge|emoji|\.svg(\?|$)",
    re.IGNORECASE,
)
_MIN_SIDE = 120


def profile_images(root: HtmlElement, profile: SiteProfile, base_url: str) -> list[Image]:
    """Images from the profile's containers, each with `src`, `caption` and `credit` specs."""
    rules = profile.images
    images = []
    for container in spec_elements(root, rules.get("container")):
        src = spec_value(container, rules.get("src") or "img @src")
        images.append(
            Image(
                src=urljoin(base_url, src) if src else None,
                caption=clean_or_none(spec_value(container, rules.get("caption"))),
                credit=clean_or_none(spec_value(container, rules.get("credit"))),
            )
        )
    return images


def generic_images(scope: HtmlElement, base_url: str) -> list[Image]:
    """Figures and sizeable content images inside the article scope, deduplicated by source."""
    images: list[Image] = []
    seen: set[str] = set()
    handled: set[HtmlElement] = set()
    for figure in select(scope, "figure, [class*=wp-caption], [class*=image-caption-wrapper]"):
        if figure in handled or in_comments(figure) or in_boilerplate(figure):
            continue
        handled.update(figure.iter())
        img = _first_image(figure)
        src = _image_src(img, base_url) if img is not None else None
        if img is None or not src or src in seen or _SKIP_SRC.search(src):
            continue
        caption, credit = _figure_caption(figure, img)
        seen.add(src)
        images.append(Image(src=src, caption=caption, credit=credit))
    for img in scope.iter("img"):
        if img in handled or in_comments(img) or in_boilerplate(img) or _too_small(img):
            continue
        src = _image_src(img, base_url)
        if not src or src in seen or _SKIP_SRC.search(src):
            continue
        seen.add(src)
        caption, credit = _loose_caption(img)
        images.append(Image(src=src, caption=caption, credit=credit))
    return images


def split_credit(caption: str | None) -> tuple[str | None, str | None]:
    """Separate a trailing credit ("© Reuters", "Photo: AFP") from caption text."""
    if not caption:
        return None, None
    match = _CREDIT_IN_TEXT.search(caption)
    if match is None:
        return clean_or_none(caption), None
    credit = match.group(1)
    if credit.startswith("(") and credit.endswith(")"):
        credit = credit[1:-1]
    return clean_or_none(caption[: match.start()]), clean_or_none(credit)


def _figure_caption(figure: HtmlElement, img: HtmlElement) -> tuple[str | None, str | None]:
    captions = select(figure, "figcaption, .wp-caption-text, [class*=caption]:not(figure):not(img)")
    caption_el = next((c for c in captions if c is not figure and element_text(c)), None)
    credit_el = next((c for c in select(figure, _CREDIT_SELECTOR) if c is not figure and element_text(c)), None)
    credit = element_text(credit_el) or None if credit_el is not None else None
    if caption_el is None:
        caption = clean_or_none(img.get("alt")) or clean_or_none(img.get("title"))
        return caption, credit
    text = element_text(caption_el)
    if credit:
        text = text.replace(credit, " ")
        return clean_or_none(text), credit
    return split_credit(text)


def _loose_caption(img: HtmlElement) -> tuple[str | None, str | None]:
    """An image outside a figure: caption from alt/title, credit from an adjacent credit element."""
    caption = clean_or_none(img.get("alt")) or clean_or_none(img.get("title"))
    parent = img.getparent()
    credit = None
    for holder in (parent, parent.getparent() if parent is not None else None):
        if holder is None:
            continue
        credit_el = next((c for c in select(holder, _CREDIT_SELECTOR) if element_text(c)), None)
        if credit_el is not None:
            credit = element_text(credit_el)
            break
    return caption, credit


def _first_image(figure: HtmlElement) -> HtmlElement | None:
    for img in figure.iter("img", "amp-img"):
        return img
    return None


def _image_src(img: HtmlElement, base_url: str) -> str | None:
    for attribute in ("src", "data-src", "data-original", "data-lazy-src", "data-url"):
        value = (img.get(attribute) or "").strip()
        if value and not value.startswith("data:"):
            return urljoin(base_url, value)
    srcset = (img.get("srcset") or img.get("data-srcset") or "").strip()
    if srcset:
        return urljoin(base_url, srcset.split(",")[0].split()[0])
    return None


def _too_small(img: HtmlElement) -> bool:
    for attribute in ("width", "height"):
        value = (img.get(attribute) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < _MIN_SIDE:
            return True
    return False
