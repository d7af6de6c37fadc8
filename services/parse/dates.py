"""Date parsing and the published/updated date search, recording where each date came from.

Sources, most trusted first: the site profile, JSON-LD, meta tags, microdata and `<time>`
elements, then htmldate's heuristics (URL patterns, visible text). A value without an
offset is read in the profile's time zone, else in the offset the page itself uses in
its other dates (a site prints one wall clock), else UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from dateutil import parser as dateutil_parser
from lxml.html import HtmlElement

from services.parse.structured import StructuredData, microdata_value

_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "datepublished", "publishdate", "pubdate",
    "publish-date", "publish_date", "date", "dc.date.issued", "dc.date", "dcterms.created", "dc.created",
    "sailthru.date", "parsely-pub-date", "article.published", "published_time", "og:published_time",
    "cxenseparse:recs:publishtime", "date_published", "citation_publication_date", "release_date",
)  # fmt: skip
_UPDATED_META = (
    "article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "dc.date.modified",
    "last-modified", "lastmod", "article.updated", "modified_time", "og:article:modified_time",
)  # fmt: skip
_EPOCH = re.compile(r"^\d{10}(\d{3})?$")
_OFFSET_SUFFIX = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z|UTC|GMT)$", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19[9]\d|20\d\d)\b")
_PUBLISHED_HINT = re.compile(
    r"^\W*(?:published|posted|first published|date|veröffentlicht|publié le|publié)\b\s*(?:on|am|le)?\s*:?",
    re.IGNORECASE,
)
_UPDATED_HINT = re.compile(r"^\W*(?:updated|last updated|modified|aktualisiert|mis à jour)\b", re.IGNORECASE)
# A dateline either says what it is or carries a clock time next to the year.
_DATELINE_HINT = re.compile(
    r"^\W*(?:published|posted|first published|veröffentlicht|publié)\b|\b\d{1,2}[:.h]\d{2}\b", re.IGNORECASE
)
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FoundDate:
    """A date and the name of the source it came from (for `ArticleRecord.date_sources`)."""

    value: datetime
    source: str


def parse_datetime(value: Any, tz: tzinfo | None = None) -> datetime | None:
    """Parse an ISO-8601, RFC 2822, epoch or free-form date; naive values get `tz` (default UTC)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    text = str(value).strip()
    if not text or len(text) > 80 or not any(ch.isdigit() for ch in text):
        return None
    if _EPOCH.match(text):
        return _from_epoch(float(text) / (1000 if len(text) == 13 else 1))
    parsed = _parse_text(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz or UTC)
    if not _EARLIEST <= parsed <= datetime.now(UTC) + timedelta(days=2):
        return None
    return parsed


def has_offset(value: str) -> bool:
    """Whether a date string states its own offset (so it is an instant, not wall-clock time)."""
    return bool(_OFFSET_SUFFIX.search(value.strip()))


def page_offset(structured: StructuredData) -> tzinfo | None:
    """The UTC offset the page uses in its own offset-bearing dates (a site prints one clock)."""
    candidates = [structured.article.get("datePublished"), structured.article.get("dateModified")]
    candidates += [structured.first_meta(name) for name in (*_PUBLISHED_META, *_UPDATED_META)]
    for candidate in candidates:
        if isinstance(candidate, str) and has_offset(candidate):
            parsed = _parse_text(candidate.strip())
            if parsed is not None and parsed.tzinfo is not None:
                return parsed.tzinfo
    return None


def find_published(
    root: HtmlElement, structured: StructuredData, url: str, tz: tzinfo | None, scope: HtmlElement | None = None
) -> FoundDate | None:
    """The article's first-publication instant from structured data, then markup heuristics."""
    found = _from_structured(structured, "datePublished", _PUBLISHED_META, tz)
    if found:
        return found
    for element in structured.microdata.get("datePublished", ()):
        parsed = parse_datetime(microdata_value(element), tz)
        if parsed:
            return FoundDate(parsed, "microdata")
    found = _from_time_elements(root, tz) or _from_dateline(scope if scope is not None else root, tz)
    return found or _from_htmldate(root, url, tz)


def find_updated(structured: StructuredData, tz: tzinfo | None) -> FoundDate | None:
    """The last-modified instant the page declares (structured data only: guessing it is noise)."""
    found = _from_structured(structured, "dateModified", _UPDATED_META, tz)
    if found:
        return found
    for element in structured.microdata.get("dateModified", ()):
        parsed = parse_datetime(microdata_value(element), tz)
        if parsed:
            return FoundDate(parsed, "microdata")
    return None


def _from_structured(
    structured: StructuredData, ld_key: str, meta_names: tuple[str, ...], tz: tzinfo | None
) -> FoundDate | None:
    parsed = parse_datetime(structured.article.get(ld_key), tz)
    if parsed:
        return FoundDate(parsed, "json_ld")
    for name in meta_names:
        parsed = parse_datetime(structured.first_meta(name), tz)
        if parsed:
            return FoundDate(parsed, f"meta:{name}")
    return None


def _from_time_elements(root: HtmlElement, tz: tzinfo | None) -> FoundDate | None:
    """`<time pubdate>` first, then the first `<time datetime>` inside the article or its header."""
    scopes = root.xpath("//article | //main | //*[@role='main']") or [root]
    for xpath in (".//time[@pubdate][@datetime]", ".//time[@datetime]"):
        for scope in scopes:
            for element in scope.xpath(xpath):
                if _in_comment_block(element):
                    continue
                parsed = parse_datetime(element.get("datetime"), tz)
                if parsed:
                    return FoundDate(parsed, "time_element")
    return None


def _from_dateline(scope: HtmlElement, tz: tzinfo | None) -> FoundDate | None:
    """A visible dateline such as "Published: Thursday, 12 February 2004, 16:20 GMT" (date and time)."""
    for element in scope.iter("span", "div", "p", "font", "small", "time", "em", "li", "td"):
        text = " ".join(element.text_content().split())
        if not 8 <= len(text) <= 80 or not _DATELINE_HINT.search(text) or not _YEAR.search(text):
            continue
        if _UPDATED_HINT.match(text) or _in_comment_block(element):
            continue
        cleaned = _PUBLISHED_HINT.sub("", text).strip(" :|-")
        try:
            parsed = dateutil_parser.parse(cleaned, fuzzy=True, dayfirst=_looks_dayfirst(cleaned))
        except (ValueError, OverflowError, TypeError):
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=tz or UTC)
        if _EARLIEST <= parsed <= datetime.now(UTC) + timedelta(days=2):
            return FoundDate(parsed, "dateline")
    return None


def _in_comment_block(element: HtmlElement) -> bool:
    """Below an element whose class or id names comments (a comment's own date is not the article's)."""
    return any(
        "comment" in (node.get("class") or "") or "comment" in (node.get("id") or "")
        for node in element.iterancestors()
    )


def _from_htmldate(root: HtmlElement, url: str, tz: tzinfo | None) -> FoundDate | None:
    """Last resort: htmldate's heuristics on the same tree (URL pattern, visible dates)."""
    try:
        from htmldate import find_date

        # htmldate prunes the tree it is given, so it gets a copy.
        value = find_date(_copy(root), url=url, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    except Exception:
        return None
    if not value:
        return None
    parsed = parse_datetime(value, tz)
    return FoundDate(parsed, "htmldate") if parsed else None


def _copy(root: HtmlElement) -> HtmlElement:
    from copy import deepcopy

    return deepcopy(root)


def _parse_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        pass
    try:
        parsed = dateutil_parser.parse(text, fuzzy=False, dayfirst=_looks_dayfirst(text))
    except (ValueError, OverflowError, TypeError):
        return None
    if isinstance(parsed, date) and not isinstance(parsed, datetime):
        parsed = datetime(parsed.year, parsed.month, parsed.day)
    return parsed


def _looks_dayfirst(text: str) -> bool:
    # 16.02.2017 (Europe, Russia) is day-first; 02/16/2017 (US) is month-first.
    return bool(re.match(r"^\d{1,2}\.\d{1,2}\.\d{2,4}", text))


def _from_epoch(seconds: float) -> datetime | None:
    try:
        parsed = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return parsed if _EARLIEST <= parsed <= datetime.now(UTC) + timedelta(days=2) else None
