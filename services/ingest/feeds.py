"""Feeds, feed discovery and sitemaps: bytes in, typed entries out (no HTTP here).

Everything a feed or sitemap names is resolved to an absolute http(s) URL against the
document's own URL. XML entities are never expanded: a feed's DOCTYPE is cut off before
feedparser sees it, and sitemaps go through lxml with entity resolution, DTD loading and
network access turned off.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree

from shared.errors import FeedError

MAX_FEED_ENTRIES = 10_000
# The sitemaps.org protocol caps a sitemap at 50,000 URLs and 50 MB uncompressed.
MAX_SITEMAP_ENTRIES = 50_000
MAX_SITEMAP_BYTES = 50 * 1024 * 1024

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
JSON_FEED_VERSION_PREFIX = "https://jsonfeed.org/version/"

_DOCTYPE_RE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ROOT_START_RE = re.compile(rb"<[A-Za-z_]")
_TAG_RE = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed or sitemap: where it is, and what the feed says about it."""

    url: str
    title: str | None
    published_at: datetime | None
    guid: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A whole feed: its own title and home page, and its entries in document order."""

    title: str | None
    site_url: str | None
    entries: tuple[FeedEntry, ...]


def parse_feed(body: bytes, feed_url: str) -> ParsedFeed:
    """Parse an RSS 0.9x/1.0/2.0, Atom or JSON Feed document into entries with absolute URLs.

    Raises FeedError("empty_feed") for an empty body and FeedError("invalid_feed") when it is no feed.
    A valid feed without items is not an error: it returns no entries.
    """
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise FeedError("empty_feed", "the body is empty")
    if stripped[:1] in (b"{", b"["):
        return _parse_json_feed(stripped, feed_url)
    return _parse_xml_feed(body, feed_url)


def discover_feeds(html: str, page_url: str) -> list[str]:
    """Find the feeds an HTML page advertises with <link rel="alternate" type=...>.

    Returns absolute http(s) URLs in document order without duplicates; honours <base href>.
    """
    finder = _FeedLinkFinder(page_url)
    finder.feed(html)
    finder.close()
    return list(dict.fromkeys(finder.found))


def parse_sitemap(body: bytes, sitemap_url: str) -> list[FeedEntry]:
    """Read a sitemaps.org urlset (with Google News extensions) or a sitemapindex, maybe gzipped.

    A urlset gives its pages, dated by news:publication_date or else lastmod; an index gives its child
    sitemaps as entries with title None. Raises FeedError("empty_feed"|"invalid_feed").
    """
    if body[:2] == b"\x1f\x8b":
        body = _gunzip_capped(body)
    if not body.strip():
        raise FeedError("empty_feed", "the sitemap is empty")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError("invalid_feed", f"sitemap is not XML: {exc}") from exc
    if root is None:
        raise FeedError("invalid_feed", "sitemap has no root element")
    kind = _local_name(root)
    if kind not in ("urlset", "sitemapindex"):
        raise FeedError("invalid_feed", f"root element is <{kind}>, not <urlset> or <sitemapindex>")

    item_tag = "url" if kind == "urlset" else "sitemap"
    entries: list[FeedEntry] = []
    for item in root:
        if _local_name(item) != item_tag:
            continue
        entry = _sitemap_entry(item, sitemap_url)
        if entry is not None:
            entries.append(entry)
            if len(entries) >= MAX_SITEMAP_ENTRIES:
                break
    return entries


# --- XML feeds (feedparser) -------------------------------------------------------------------


def _parse_xml_feed(body: bytes, feed_url: str) -> ParsedFeed:
    headers = {"content-location": feed_url, "content-type": "application/xml"}
    parsed = feedparser.parse(_cap_entries(_drop_doctype(body)), response_headers=headers)
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception")
        raise FeedError("invalid_feed", f"not an RSS, RDF or Atom document ({reason or 'unknown format'})")

    feed: Any = parsed.feed
    entries: list[FeedEntry] = []
    for raw in parsed.entries:
        entry = _feedparser_entry(raw, feed_url)
        if entry is not None:
            entries.append(entry)
            if len(entries) >= MAX_FEED_ENTRIES:
                break
    return ParsedFeed(
        title=_clean_text(feed.get("title")),
        site_url=_absolute_http_url(feed.get("link"), feed_url),
        entries=tuple(entries),
    )


_ENTRY_END = re.compile(rb"</(?:item|entry)\s*>", re.IGNORECASE)


def _cap_entries(body: bytes) -> bytes:
    """Cut a document after its MAX_FEED_ENTRIES-th entry: feedparser reads every entry before we
    can stop it (~90 us each, so a million-entry feed would take minutes); its lenient parser takes
    the unclosed channel as it is."""
    for count, match in enumerate(_ENTRY_END.finditer(body), start=1):
        if count == MAX_FEED_ENTRIES:
            return body[: match.end()]
    return body


def _drop_doctype(body: bytes) -> bytes:
    """Cut everything from <!DOCTYPE to the root element, so no entity is ever declared or expanded.

    This does not rely on feedparser's own doctype filter; references such as &lol9; become
    undefined and stay literal text through feedparser's loose parser.
    """
    first_element = _ROOT_START_RE.search(body)
    doctype = _DOCTYPE_RE.search(body, 0, first_element.start() if first_element else len(body))
    if doctype is None:
        return body
    root = _ROOT_START_RE.search(body, doctype.end())
    return body[: doctype.start()] + (body[root.start() :] if root else b"")


def _feedparser_entry(raw: Any, feed_url: str) -> FeedEntry | None:
    guid = _clean_text(raw.get("id"))
    url = _absolute_http_url(_entry_link(raw), feed_url)
    if url is None and guid is not None and raw.get("guidislink"):
        url = _absolute_http_url(guid, feed_url)
    if url is None:
        return None
    stamp = raw.get("published_parsed") or raw.get("updated_parsed") or raw.get("created_parsed")
    # feedparser has already converted the date to UTC in a struct_time (or left it None).
    published_at = datetime(*stamp[:6], tzinfo=UTC) if stamp else None
    return FeedEntry(url=url, title=_entry_title(raw), published_at=published_at, guid=guid)


def _entry_title(raw: Any) -> str | None:
    """The title as plain text: Atom type="html" titles come back from feedparser as HTML."""
    title = raw.get("title")
    if title and raw.get("title_detail", {}).get("type") in ("text/html", "application/xhtml+xml"):
        title = unescape(_TAG_RE.sub("", title))
    return _clean_text(title)


def _entry_link(raw: Any) -> str | None:
    """The entry's alternate link; Atom entries may also list self/edit/enclosure links first."""
    for link in raw.get("links", ()):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    link = raw.get("link")
    return str(link) if link else None


# --- JSON Feed ---------------------------------------------------------------------------------


def _parse_json_feed(body: bytes, feed_url: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedError("invalid_feed", f"JSON feed does not decode: {exc}") from exc
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith(JSON_FEED_VERSION_PREFIX):
        raise FeedError("invalid_feed", "JSON document without a jsonfeed.org version")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError("invalid_feed", "JSON feed has no items list")

    entries: list[FeedEntry] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        # `url` is the item's own page; `external_url` points elsewhere and is only a fallback.
        url = _absolute_http_url(_str_or_none(item.get("url")), feed_url) or _absolute_http_url(
            _str_or_none(item.get("external_url")), feed_url
        )
        if url is None:
            continue
        guid = item.get("id")
        entries.append(
            FeedEntry(
                url=url,
                title=_clean_text(_str_or_none(item.get("title"))),
                # Like the XML path: the publication date, else the modification date.
                published_at=_parse_w3c_datetime(_str_or_none(item.get("date_published")))
                or _parse_w3c_datetime(_str_or_none(item.get("date_modified"))),
                # JSON Feed 1.0 allowed numeric ids; they are kept as their text form.
                guid=_clean_text(str(guid)) if isinstance(guid, str | int) and not isinstance(guid, bool) else None,
            )
        )
        if len(entries) >= MAX_FEED_ENTRIES:
            break
    return ParsedFeed(
        title=_clean_text(_str_or_none(doc.get("title"))),
        site_url=_absolute_http_url(_str_or_none(doc.get("home_page_url")), feed_url),
        entries=tuple(entries),
    )


# --- Feed discovery ----------------------------------------------------------------------------


class _FeedLinkFinder(HTMLParser):
    """Collects feed links from <link> tags; a <base href> before them changes their base."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = page_url
        self.seen_base = False
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name.lower(): (value or "") for name, value in attrs}
        if tag == "base" and not self.seen_base and attr.get("href"):
            # Only the first <base> counts (HTML spec); it is resolved against the document URL.
            self.seen_base = True
            self.base_url = urljoin(self.base_url, attr["href"].strip())
        elif tag == "link":
            rels = attr.get("rel", "").lower().split()
            media_type = attr.get("type", "").split(";")[0].strip().lower()
            # rel="alternate stylesheet" is a style sheet, whatever its type says.
            if "alternate" in rels and "stylesheet" not in rels and media_type in FEED_TYPES:
                url = _absolute_http_url(attr.get("href"), self.base_url)
                if url is not None:
                    self.found.append(url)

    handle_startendtag = handle_starttag


# --- Sitemaps ----------------------------------------------------------------------------------


def _sitemap_entry(item: etree._Element, sitemap_url: str) -> FeedEntry | None:
    # Only direct children and the news:news block count: image:loc and image:title must not.
    loc = lastmod = news_date = news_title = None
    for child in item:
        name = _local_name(child)
        if name == "loc" and loc is None:
            loc = child.text
        elif name == "lastmod":
            lastmod = child.text
        elif name == "news":
            for field in child:
                if _local_name(field) == "publication_date":
                    news_date = field.text
                elif _local_name(field) == "title":
                    news_title = field.text
    url = _absolute_http_url(loc, sitemap_url)
    if url is None:
        return None
    return FeedEntry(
        url=url,
        title=_clean_text(news_title),
        published_at=_parse_w3c_datetime(news_date) or _parse_w3c_datetime(lastmod),
        guid=None,
    )


def _gunzip_capped(body: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            data = stream.read(MAX_SITEMAP_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise FeedError("invalid_feed", f"gzip sitemap does not decompress: {exc}") from exc
    if len(data) > MAX_SITEMAP_BYTES:
        raise FeedError("invalid_feed", f"sitemap is larger than {MAX_SITEMAP_BYTES} bytes uncompressed")
    return data


def _local_name(element: etree._Element) -> str:
    # Match on local names: real sitemaps use http/https or misspelt namespace URIs.
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


# --- Small helpers ------------------------------------------------------------------------------


def _absolute_http_url(href: str | None, base_url: str) -> str | None:
    """Resolve href against base_url; None unless the result is an http(s) URL with a host."""
    if not href or not href.strip():
        return None
    url = urljoin(base_url, href.strip())
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def _clean_text(value: str | None) -> str | None:
    """Collapse whitespace (NBSP included) to single spaces; None for empty text."""
    if not value:
        return None
    text = " ".join(value.split())
    return text or None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _parse_w3c_datetime(value: str | None) -> datetime | None:
    """Parse W3C/RFC 3339 dates ("2017-02-16", "2017-02-16T18:47:00+03:00", "...Z").

    A date alone means midnight UTC; a time without an offset is taken as UTC. The result is in UTC,
    like feedparser's dates, so every published_at compares and serialises the same way.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
