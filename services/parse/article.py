"""HTML -> ArticleRecord: the parse service's entry point.

The page is parsed once (`tree.load_tree`) and the tree is shared by every layer:
site profile, structured data, then generic heuristics. Whatever the input, the
result is a record or a `ParseError` with a stable reason; no other exception escapes.
"""

from __future__ import annotations

import logging
from datetime import tzinfo

from lxml.html import HtmlElement

from services.parse import body, comment_json, comments, dates, images, links, metadata, tags, widgets
from services.parse.layout import find_article_scope
from services.parse.profiles import SiteProfile, match_profile, spec_value
from services.parse.structured import StructuredData, microdata_value, read_structured
from services.parse.tree import class_id_text, load_tree
from shared.errors import ParseError
from shared.records import ArticleRecord, Comment, RelatedLink

LOGGER = logging.getLogger(__name__)


def parse_article(html: bytes | str, url: str, *, content_type: str | None = None) -> ArticleRecord:
    """Extract one article record from a page; raise ParseError(reason) if there is none."""
    try:
        root = load_tree(html, content_type)
        return _build_record(root, url)
    except ParseError:
        raise
    except RecursionError as error:
        raise ParseError("too_deep", "recursion limit while walking the page") from error
    except MemoryError as error:
        raise ParseError("too_large", "out of memory while parsing") from error
    except Exception as error:
        LOGGER.exception("parser crash url=%s", url)
        raise ParseError("parser_crash", f"{type(error).__name__}: {error}") from error


def _build_record(root: HtmlElement, url: str) -> ArticleRecord:
    structured = read_structured(root)
    base_url = _base_url(root, url)
    profile = match_profile(root, url)
    scope = find_article_scope(root)
    tz = _site_timezone(profile, structured)

    title = metadata.find_title(root, scope, structured, profile, url)
    site_name = metadata.find_site_name(root, structured)
    marks = class_id_text(root)
    bylines = metadata.byline_elements(scope, marks)
    authors = metadata.find_authors(root, scope, structured, profile, site_name, bylines)
    lead, paragraphs = _find_text(root, url, profile, title, structured, marks)
    if not profile:
        paragraphs = body.drop_page_furniture(paragraphs, title, authors, metadata.byline_lines(scope, bylines))
        paragraphs = body.drop_signup_blocks(paragraphs, root, marks)
        paragraphs = body.drop_embedded_blocks(paragraphs, root)
    published, updated, date_sources = _find_dates(root, scope, structured, url, profile, tz)
    found_comments = _find_comments(root, structured, profile, tz)
    comment_list = found_comments.comments
    found_widgets = widgets.find_widgets(root, url, marks)
    if not paragraphs and not lead and not title and not comment_list:
        raise ParseError("no_content", "no title, text or comments found")

    if profile and profile.images:
        image_list = images.profile_images(root, profile, base_url)
    else:
        image_list = images.generic_images(scope, structured, base_url, marks)
    if profile and profile.article.get("tags"):
        tag_list = tags.profile_tags(root, profile)
    else:
        tag_list = tags.generic_tags(scope, structured, marks, url)
    if profile and profile.article.get("related"):
        related = links.profile_related(root, profile, base_url)
    else:
        related = links.generic_related(scope, root, base_url, marks)
    canonical_url = metadata.find_canonical(structured, url)
    in_body = links.body_links(root, [lead or "", *paragraphs], base_url, (url, canonical_url))

    return ArticleRecord(
        url=url,
        canonical_url=canonical_url,
        title=title,
        published_at=published.value if published else None,
        updated_at=updated.value if updated else None,
        authors=tuple(authors),
        lead=lead,
        body_paragraphs=tuple(paragraphs),
        images=tuple(image_list),
        tags=tuple(tag_list),
        related_links=tuple(RelatedLink(url=u, title=t) for u, t in related),
        body_links=tuple(RelatedLink(url=u, title=t) for u, t in in_body),
        comments=tuple(comment_list),
        comment_count=_comment_count(comment_list, structured, found_widgets),
        section=metadata.find_section(root, structured, profile),
        language=metadata.find_language(root, structured),
        site_name=site_name,
        comment_widgets=tuple(found_widgets),
        comment_sources=(
            *comment_json.find_comment_sources(root, profile, base_url),
            *widgets.find_comment_threads(root, canonical_url, found_widgets),
        ),
        date_sources=date_sources,
        pingbacks=tuple(found_comments.pingbacks),
    )


def _find_text(
    root: HtmlElement,
    url: str,
    profile: SiteProfile | None,
    title: str | None,
    structured: StructuredData,
    marks: str,
) -> tuple[str | None, list[str]]:
    lead: str | None = None
    paragraphs: list[str] = []
    if profile and profile.article.get("paragraphs"):
        lead, paragraphs = body.profile_body(root, profile)
    if not paragraphs:
        paragraphs = body.live_blog_paragraphs(structured.article, body.generic_body(root, url))
    if lead is None:
        lead = body.find_lead(root, paragraphs, title, marks, "description" in structured.microdata)
    return lead, body.split_lead(lead, paragraphs)


def _find_dates(
    root: HtmlElement,
    scope: HtmlElement,
    structured: StructuredData,
    url: str,
    profile: SiteProfile | None,
    tz: tzinfo | None,
) -> tuple[dates.FoundDate | None, dates.FoundDate | None, dict[str, str]]:
    published = updated = None
    if profile:
        value = dates.parse_datetime(spec_value(root, profile.article.get("published")), tz)
        published = dates.FoundDate(value, "profile") if value else None
        value = dates.parse_datetime(spec_value(root, profile.article.get("updated")), tz)
        updated = dates.FoundDate(value, "profile") if value else None
    published = published or dates.find_published(root, structured, url, tz, scope)
    updated = updated or dates.find_updated(structured, tz)
    if published and updated and updated.value < published.value:
        updated = None
    sources = {}
    if published:
        sources["published_at"] = published.source
    if updated:
        sources["updated_at"] = updated.source
    return published, updated, sources


def _find_comments(
    root: HtmlElement, structured: StructuredData, profile: SiteProfile | None, tz: tzinfo | None
) -> comments.FoundComments:
    if profile and profile.comments.get("item"):
        found = comments.profile_comments(root, profile, tz)
        if found:
            return comments.FoundComments(found)
    return comments.generic_comments(root, structured, tz)


def _comment_count(found: list[Comment], structured: StructuredData, widgets: list) -> int:
    """Native comments in the HTML; a declared count only when the page shows none of them.

    A page whose comments live in a widget (Disqus, Coral...) often still declares how many there
    are: JSON-LD `commentCount` on the article, or a microdata `itemprop=commentCount`.
    """
    if found:
        return len(found)
    return _declared_comment_count(structured) or 0


def _declared_comment_count(structured: StructuredData) -> int | None:
    values: list[object] = [structured.article.get("commentCount")]
    values += [microdata_value(e) for e in structured.microdata.get("commentCount", ())]
    values += structured.meta.get("commentcount", [])
    for value in values:
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float) and value >= 0:
            return int(value)
        if isinstance(value, str):
            digits = value.strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
            if digits.isdigit():
                return int(digits)
    return None


def _site_timezone(profile: SiteProfile | None, structured: StructuredData) -> tzinfo | None:
    return (profile.tzinfo if profile else None) or dates.page_offset(structured)


def _base_url(root: HtmlElement, url: str) -> str:
    base = root.find(".//base[@href]")
    if base is not None:
        from urllib.parse import urljoin

        return urljoin(url, base.get("href", "").strip())
    return url
