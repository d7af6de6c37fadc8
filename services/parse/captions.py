"""Caption text and picture credit, told apart.

A caption block shows the caption and often the credit beside it: in its own element
(`.credit`, `<footer>`, `<small>`, a last `<span>` such as "IMAGO/Nico Herbertz"), or
written into the text ("... Foto: dpa", "... (AP Photo/Jane Doe)", "... — Picture by X",
"... 있다. 뉴시스"). Credits are returned without their label ("Foto:", "©", "Quelle:")
and with the parts a site separates by "|" joined by "; ".
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from services.parse.text import clean_or_none, element_text, normalize_space
from services.parse.tree import select

CREDIT_SELECTOR = (
    ".credit, .credits, .copyright, .photo-credit, .image-credit, .img-credit, .caption-credit,"
    " .source, .photographer, .media-credit, .wp-media-credit, [itemprop~=copyrightHolder],"
    " [itemprop~=creditText], [itemprop~=author], figcaption small, figcaption cite, figure > footer,"
    " [class*=credit], [class*=Credit], [class*=copyright], [class*=Copyright], [class*=photographer],"
    " [class*=source], [data-fp-flag*=source], [class*=distributor], [class*=image-author], [class*=image--author],"
    " [class*=photo-author], [class*=img-author]"
)
# Words that label a credit, in the languages of the news.
_LABEL = (
    r"(?:©|\(c\)|copyright\b|(?:photo(?:graph)?s?|pictures?|images?|fotos?|фото|bild(?:er)?|bildquelle|quelle|source"
    r"|fuente|fonte|crédit|credit|kilde|källa|lähde|zdjęcie|isithombe|picha|写真|사진|圖|图)(?:\s+(?:by|credit|von|de|di|par))?\s*:"
    r"|(?:photo|picture|image|foto)\s+by\b)"
)
_AGENCIES = (
    r"AP|AFP|Reuters|EPA|EFE|ANSA|ANP|AAP|PA|dpa|DPA|Getty(?:\s+Images)?|IMAGO|imago|Keystone|Xinhua|Bloomberg|NTB|TT"
    r"|Ritzau|Yonhap|Kyodo|Shutterstock|iStock(?:photo)?|picture[ -]alliance|Europa Press|Anadolu|Sputnik|TASS"
    r"|연합뉴스|뉴시스|뉴스1|共同|時事"
)
# A credit written after the caption text.
_CREDIT_IN_TEXT = re.compile(
    rf"(?:\s*[|/–—-]?\s*)(\(?{_LABEL}[^()]*\)?"
    rf"|\((?:[^()]*\b(?:{_AGENCIES})\b[^()]*)\)"
    rf"|(?:{_AGENCIES})\s+(?:Photo|Images)\b[^()]*)\s*$",
    re.IGNORECASE,
)
# A caption that ends in an agency's name after its last sentence ("... 있다. 뉴시스", "... Foto AP").
_TRAILING_AGENCY = re.compile(rf"(?<=[.!?。])\s+((?:{_AGENCIES})(?:\s*/\s*[^\s/]+){{0,3}})\s*$")
_LABEL_PREFIX = re.compile(rf"^\(?\s*{_LABEL}\s*", re.IGNORECASE)
_LABEL_ONLY = re.compile(rf"^(?:{_LABEL}|copyright|©|credits?|photo|foto|bild)$", re.IGNORECASE)
_PART_SEPARATOR = re.compile(r"\s+\|\s+")
_MAX_CREDIT_WORDS = 14


def caption_and_credit(block: HtmlElement) -> tuple[str | None, str | None]:
    """Caption as displayed and the credit in it, of a caption element (figcaption, `.caption`): the credit
    read from its own element when it has one, else from the end of the text.

    The caption keeps a credit shown inside the caption block ("... Photo by AFP"): that is the caption
    readers see, and the credit is also given on its own.
    """
    parts = credit_elements(block)
    if not parts:
        last = _last_credit_child(block)
        parts = [last] if last is not None else []
    text = element_text(block)
    if not parts:
        return clean_or_none(text), split_credit(text)[1]
    for part in parts:
        # A credit's own element may be set apart by style alone: keep a space on each side of it
        # (of its last occurrence: the caption may name the same agency).
        before, shown, after = text.rpartition(element_text(part))
        text = f"{before} {shown} {after}" if shown else text
    credits = [c for c in (clean_credit(element_text(p)) for p in parts) if c]
    return clean_or_none(text), "; ".join(dict.fromkeys(credits)) or None


def credit_elements(holder: HtmlElement) -> list[HtmlElement]:
    """The credit elements under `holder` ("Photo by Jean Levac" + "Postmedia News"), outermost only, without
    those that hold only a label ("Copyright")."""
    found: list[HtmlElement] = []
    for element in select(holder, CREDIT_SELECTOR):
        if element is holder or any(f in element.iterancestors() for f in found):
            continue
        if clean_credit(element_text(element)):
            found.append(element)
    return found


def split_credit(caption: str | None) -> tuple[str | None, str | None]:
    """Separate a trailing credit ("© Reuters", "Foto: AFP", "(AP)", "— Picture by X") from caption text."""
    if not caption:
        return None, None
    match = _CREDIT_IN_TEXT.search(caption) or _TRAILING_AGENCY.search(caption)
    if match is None or len(match.group(1).split()) > _MAX_CREDIT_WORDS:
        return clean_or_none(caption), None
    return clean_or_none(caption[: match.start()].rstrip(" —–-|/")), clean_credit(match.group(1))


def clean_credit(credit: str | None) -> str | None:
    """A credit without its label or enclosing brackets, parts separated by "; "."""
    credit = normalize_space(credit)
    if credit.startswith("(") and credit.endswith(")"):
        credit = credit[1:-1]
    credit = _LABEL_PREFIX.sub("", credit).strip(" |:;–—-/")
    if credit.endswith(")") and credit.count(")") > credit.count("("):
        credit = credit[:-1]
    if credit.startswith("(") and credit.count("(") > credit.count(")"):
        credit = credit[1:]
    if not credit or _LABEL_ONLY.match(credit):
        return None
    return clean_or_none(_PART_SEPARATOR.sub("; ", credit))


def _last_credit_child(block: HtmlElement) -> HtmlElement | None:
    """A caption's last child element that holds a credit: after the caption text, short, and either in
    brackets, or naming an agency or a photographer's "Agency/Name" path."""
    children = [c for c in block if isinstance(c.tag, str) and element_text(c)]
    if not children or (len(children) == 1 and not normalize_space(block.text)):
        return None
    last = children[-1]
    text = element_text(last)
    if last.tag not in {"span", "small", "em", "i", "p", "div", "cite"} or len(text.split()) > _MAX_CREDIT_WORDS:
        return None
    if (text.startswith("(") and text.endswith(")")) or "/" in text or _LABEL_PREFIX.match(text):
        return last
    return last if re.search(rf"\b(?:{_AGENCIES})\b", text) else None
