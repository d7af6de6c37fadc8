"""Article images with their caption and credit as displayed.

Profile rules name image containers. The generic rules read, in order: `<figure>` and caption
wrappers; caption elements that sit beside an image rather than around it (`<div class=img-box>`
followed by `<div class=caption>`); content images outside any caption block (caption from alt/title);
then what the page declares in JSON-LD `ImageObject`s (caption, credit, on the same image or as one
of their own) and `og:image:alt`. Images load lazily, so the source may sit in `data-*` attributes,
`srcset`, or a custom element (`<amp-img>`, `<brick-image>`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from services.parse.captions import caption_and_credit, clean_credit, credit_elements, split_credit
from services.parse.layout import in_boilerplate, in_comments
from services.parse.profiles import SiteProfile, spec_elements, spec_value
from services.parse.structured import StructuredData, ld_list, ld_text, node_types
from services.parse.text import clean_or_none, element_text
from services.parse.tree import classed_with, select
from shared.records import Image

_FIGURES = "figure, [class*=wp-caption], [class*=image-caption-wrapper]"
# Caption elements outside a figure, matched by class ("caption", "img-info", "bildunterschrift").
_LOOSE_CAPTIONS = etree.XPath(
    "//*[not(self::figure) and not(self::img) and (contains(@class, 'caption') or contains(@class, 'Caption')"
    " or contains(@class, 'img-info') or contains(@class, 'image-info') or contains(@class, 'bildunterschrift'))]"
)
_CAPTION_FRAGMENTS = ("caption", "img-info", "image-info", "bildunterschrift")
_NOT_CAPTIONS = frozenset({"figure", "img"})
# Elements that show an image: <img>, AMP and web-component images.
_IMAGE_OBJECTS = etree.XPath(".//*[contains(@itemtype, 'ImageObject')]")
_IMAGE_TAGS = frozenset({"img", "amp-img", "brick-image", "brick-image-v3", "picture"})
_SRC_ATTRIBUTES = ("src", "data-src", "data-original", "data-lazy-src", "data-lazyimage-src", "data-url", "data-lazy")
_SKIP_SRC = re.compile(
    r"avatar|gravatar|logo|icon|sprite|pixel|blank\.|spacer|1x1|tracking|/ads?/|badge|emoji|\.svg(\?|$)",
    re.IGNORECASE,
)
_FILE_NAME = re.compile(r"^[\w.-]+\.(?:jpe?g|png|gif|webp|avif)$", re.IGNORECASE)
_MIN_SIDE = 120
_MAX_CAPTION_CLIMB = 3
_MAX_BLOCK_CLIMB = 4
_MAX_BLOCK_CHARS = 800
_MAX_CREDIT_WORDS = 12
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


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


def generic_images(
    scope: HtmlElement, structured: StructuredData, base_url: str, marks: str | None = None
) -> list[Image]:
    """Figures, captioned and sizeable content images of the article, then the images its JSON-LD and
    `og:image:alt` describe; one per source, and a declared caption or credit fills a missing one."""
    found = _Found()
    handled: set[HtmlElement] = set()
    for figure in select(scope, _FIGURES):
        if figure in handled or in_comments(figure) or in_boilerplate(figure):
            continue
        handled.update(figure.iter())
        img = _first_image(figure)
        if img is not None:
            shown = _figure_caption(figure) or _block_caption(figure, handled)
            caption, credit = shown or split_credit(_alt_text(img))
            found.add(_image_src(img, base_url), caption, credit or _credit_near(figure) or _alt_credit(img))
    loose = _LOOSE_CAPTIONS(scope) if marks is None else classed_with(scope, _CAPTION_FRAGMENTS, marks)
    for block in loose:
        if (
            block.tag in _NOT_CAPTIONS
            or block in handled
            or not block.text_content().strip()
            or in_comments(block)
            or in_boilerplate(block)
        ):
            continue
        img = _image_before(block)
        if img is not None and img not in handled:
            handled.update(block.iter())
            handled.add(img)
            caption, credit = caption_and_credit(block)
            found.add(_image_src(img, base_url), caption, credit or _alt_credit(img))
    for img in scope.iter("img", "amp-img"):
        if img in handled or _too_small(img):
            continue
        src = _image_src(img, base_url)
        if not found.wants(src) or in_comments(img) or in_boilerplate(img):
            continue
        caption, credit = _block_caption(img, handled) or _loose_caption(img)
        found.add(src, caption, credit or _alt_credit(img))
    for src, caption, credit in (*_microdata_images(scope, base_url), *_declared_images(structured, base_url)):
        found.declare(src, caption, credit)
    return found.images


class _Found:
    """Images in page order, one per source; declarations complete them or are added after them."""

    def __init__(self) -> None:
        self.images: list[Image] = []
        self._by_key: dict[str, int] = {}

    def wants(self, src: str | None) -> bool:
        """Whether an image of this source would be added (a source not seen yet, not a logo or pixel)."""
        return bool(src) and not _SKIP_SRC.search(src) and _key(src) not in self._by_key

    def add(self, src: str | None, caption: str | None, credit: str | None) -> None:
        if not self.wants(src):
            return
        self._by_key[_key(src)] = len(self.images)
        self.images.append(Image(src=src, caption=caption, credit=credit))

    def declare(self, src: str, caption: str | None, credit: str | None) -> None:
        index = self._by_key.get(_key(src))
        if index is None:
            index = next((i for i, shown in enumerate(self.images) if _same_picture(shown, src, caption)), None)
        if index is None:
            if caption:
                self.add(src, caption, credit)
            return
        shown = self.images[index]
        self.images[index] = Image(src=shown.src, caption=shown.caption or caption, credit=shown.credit or credit)


def _key(src: str) -> str:
    """The same picture under different sizes and query strings: its path without the query."""
    parts = urlsplit(src)
    return f"{parts.netloc}{parts.path}".casefold()


def _same_picture(shown: Image, src: str, caption: str | None) -> bool:
    """A declared image that is a shown one under another size ("fab.jpg" ~ "fab-articleLarge.jpg") or
    with the same caption text."""
    if caption and shown.caption and (caption in shown.caption or shown.caption in caption):
        return True
    a, b = _key(shown.src or ""), _key(src)
    stem_a, stem_b = a.rsplit(".", 1)[0], b.rsplit(".", 1)[0]
    return a.rsplit("/", 1)[0] == b.rsplit("/", 1)[0] and (stem_a.startswith(stem_b) or stem_b.startswith(stem_a))


def _microdata_images(scope: HtmlElement, base_url: str) -> list[tuple[str, str | None, str | None]]:
    """(src, caption, credit) of microdata ImageObjects (`itemprop=description` and `author` metas beside the
    picture, as Reach and other CMSs write them)."""
    declared = []
    for holder in _IMAGE_OBJECTS(scope):
        values: dict[str, str] = {}
        for element in holder.iter():
            for name in (element.get("itemprop") or "").split():
                value = element.get("content") or element.get("src") or element.get("href") or element_text(element)
                if value and name not in values:
                    values[name] = value.strip()
        src = values.get("contentUrl") or values.get("url")
        caption = values.get("caption") or values.get("description")
        credit = values.get("creditText") or values.get("copyrightHolder") or values.get("author")
        if src and (caption or credit):
            declared.append((urljoin(base_url, src), clean_or_none(caption), clean_credit(credit)))
    return declared


def _declared_images(structured: StructuredData, base_url: str) -> list[tuple[str, str | None, str | None]]:
    """(src, caption, credit) of the article's JSON-LD images and of stand-alone ImageObjects, then og:image."""
    nodes: list[Any] = [structured.resolve(i) for i in ld_list(structured.article.get("image"))]
    nodes += [n for n in structured.nodes if "imageobject" in node_types(n)]
    declared = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        src = ld_text(node.get("contentUrl")) or ld_text(node.get("url"))
        caption = next(
            (c for c in (ld_text(node.get(k)) for k in ("caption", "description", "name")) if c and _is_caption(c)),
            None,
        )
        credit = next(
            (ld_text(node.get(k)) for k in ("creditText", "copyrightHolder", "author", "creator") if node.get(k)),
            None,
        )
        if src and (caption or credit):
            caption, credit_in_text = split_credit(caption)
            declared.append((urljoin(base_url, src), caption, clean_credit(credit) or credit_in_text))
    og_image, og_alt = structured.first_meta("og:image"), structured.first_meta("og:image:alt")
    if og_image and og_alt and _is_caption(og_alt):
        declared.append((urljoin(base_url, og_image), *split_credit(og_alt)))
    return declared


def _is_caption(text: str) -> bool:
    """A caption rather than a file name or a one-word label."""
    return len(text) >= 8 and not _FILE_NAME.match(text)


def _figure_caption(figure: HtmlElement) -> tuple[str | None, str | None] | None:
    """Caption and credit of a figure's caption element, with a credit beside it (`<figcaption>` + `<footer>`)."""
    captions = select(figure, "figcaption, .wp-caption-text, [class*=caption]:not(figure):not(img)")
    caption_el = next((c for c in captions if c is not figure and element_text(c)), None)
    if caption_el is None:
        return None
    caption, credit = caption_and_credit(caption_el)
    return caption, credit or _credit_near(figure, exclude=caption_el)


def _block_caption(image: HtmlElement, handled: set[HtmlElement]) -> tuple[str | None, str | None] | None:
    """Caption and credit from the short text elements that follow an image inside its own small block
    (`<div><picture/><div>Caption</div><div>Getty Images</div></div>`), where no class says "caption".

    The block is the largest ancestor (up to a few levels) holding this one image and little text; the first
    text element after the image is the caption, a short second one the credit. Headings and link-only
    elements are teasers for other articles, not captions.
    """
    node = _picture_of(image)
    if any(a.tag == "a" for a in node.iterancestors()):
        return None  # an image that links elsewhere is a teaser card's
    found = None
    for _ in range(_MAX_BLOCK_CLIMB):
        block = node.getparent()
        if block is None or len(block.text_content()) > _MAX_BLOCK_CHARS or _images_in(block) > 1:
            break
        after = False
        texts = []
        for child in block:
            if child is node:
                after = True
            elif after and isinstance(child.tag, str) and element_text(child):
                texts.append(child)
        if texts:
            found = texts
            break
        node = block
    if not found or found[0].tag in _HEADINGS or _is_link_text(found[0]):
        return None
    handled.update(e for t in found[:2] for e in t.iter())
    caption, credit = caption_and_credit(found[0])
    if credit is None and len(found) > 1 and len(element_text(found[1]).split()) <= _MAX_CREDIT_WORDS:
        credit = clean_credit(element_text(found[1]))
    return caption, credit


def _picture_of(image: HtmlElement) -> HtmlElement:
    """The element that stands for the image in its block: the image, or the `<picture>` around it, past the
    `<source>` elements an unclosed `<source>` tag wraps it in (`<picture><source><source><img>`)."""
    node = image
    while node.getparent() is not None and node.getparent().tag in {"picture", "source"}:
        node = node.getparent()
    return node


def _images_in(element: HtmlElement) -> int:
    return sum(1 for e in element.iter("img", "amp-img", "brick-image", "brick-image-v3"))


def _is_link_text(element: HtmlElement) -> bool:
    """Most of the element's text is one link's: a teaser for another article."""
    text = len(element_text(element))
    return element.tag == "a" or any(len(element_text(a)) >= 0.8 * text for a in element.iter("a"))


def _loose_caption(img: HtmlElement) -> tuple[str | None, str | None]:
    """An image outside a figure: caption from alt/title, credit from the text or an adjacent credit element."""
    caption, credit = split_credit(_alt_text(img))
    parent = img.getparent()
    for holder in (parent, parent.getparent() if parent is not None else None):
        if credit is None and holder is not None:
            credit = _credit_near(holder)
    return caption, credit


def _credit_near(holder: HtmlElement, exclude: HtmlElement | None = None) -> str | None:
    """The credit elements under `holder` other than the caption block `exclude` and what holds it."""
    parts = [
        e
        for e in credit_elements(holder)
        if exclude is None or not (e is exclude or exclude in e.iterdescendants() or e in exclude.iterdescendants())
    ]
    credits = [c for c in (clean_credit(element_text(e)) for e in parts) if c]
    return "; ".join(dict.fromkeys(credits)) or None


def _alt_credit(img: HtmlElement) -> str | None:
    """The credit an image's alt text ends with ("... (Photo: Gallo Images / Sharon Seretlo)"), for an image
    whose shown caption names none."""
    return split_credit(_alt_text(img))[1]


def _alt_text(img: HtmlElement) -> str | None:
    if img.tag == "picture":
        inner = next(img.iter("img"), None)
        img = inner if inner is not None else img
    return clean_or_none(img.get("alt")) or clean_or_none(img.get("title"))


def _image_before(block: HtmlElement) -> HtmlElement | None:
    """The image a caption element belongs to: in an earlier sibling of the caption or of its ancestors."""
    node = block
    for _ in range(_MAX_CAPTION_CLIMB):
        sibling = node.getprevious()
        while sibling is not None:
            if isinstance(sibling.tag, str):
                image = sibling if sibling.tag in _IMAGE_TAGS else _first_image(sibling)
                if image is not None:
                    return image
                if element_text(sibling):
                    return None  # text between them: the caption is not this image's
            sibling = sibling.getprevious()
        node = node.getparent()
        if node is None:
            return None
    return None


def _first_image(element: HtmlElement) -> HtmlElement | None:
    for img in element.iter(*_IMAGE_TAGS):
        if img.tag == "picture":
            inner = next(img.iter("img"), None)
            if inner is not None:
                return inner
            continue
        return img
    return None


def _image_src(img: HtmlElement, base_url: str) -> str | None:
    for attribute in _SRC_ATTRIBUTES:
        value = (img.get(attribute) or "").strip()
        if value and not value.startswith("data:"):
            return urljoin(base_url, value)
    srcset = (img.get("srcset") or img.get("data-srcset") or "").strip()
    if srcset:
        return urljoin(base_url, srcset.split(",")[0].split()[0])
    holder = _picture_of(img)
    if img.tag == "img" and holder is not img:
        for source in holder.iter("source"):
            srcset = (source.get("srcset") or source.get("data-srcset") or "").strip()
            if srcset:
                return urljoin(base_url, srcset.split(",")[0].split()[0])
    return None


def _too_small(img: HtmlElement) -> bool:
    for attribute in ("width", "height"):
        value = (img.get(attribute) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < _MIN_SIDE:
            return True
    return False
