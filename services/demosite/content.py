"""Everything the demo site serves, rendered once for a given base URL (standard library only).

The seed article is one of two saved Sputnik pages with the sputniknews.com origin rewritten to
the local site; the related and private articles come from articles.json through one template
in the seed's markup family; feeds, sitemap, robots.txt and the home page list them.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape, unescape
from importlib import resources
from typing import Any

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
JSON = "application/json; charset=utf-8"
# A charset parameter means nothing for binary types, so image/png goes without one.
PNG = "image/png"

CAPTURED_VERSIONS = ("first", "later")
# Later states of the seed page, derived from the "later" capture by exact edits, for re-poll tests:
# "noise" changes only counters and clocks (no revision, no comment change), "removed" also takes
# one comment off the page, "revised" also rewrites one body sentence (one article revision).
_NOISE = [
    ('title="Views">21447', 'title="Views">21502'),
    ("<span>05:24 GMT +3</span>", "<span>07:10 GMT +3</span>"),
]
_REMOVED_COMMENT = re.compile(r'<li class="b-comments__item" id="comment_1050773838".*?</li>\n?', re.DOTALL)
_REVISION = (
    "Tillerson did not take questions, instead walking out",
    "Tillerson did not take questions from reporters, instead walking out",
)
DERIVED_VERSIONS: dict[str, tuple[str, datetime]] = {
    "noise": ("later", datetime(2017, 3, 30, 4, 10, tzinfo=UTC)),
    "removed": ("noise", datetime(2017, 3, 30, 5, 0, tzinfo=UTC)),
    "revised": ("removed", datetime(2017, 3, 30, 6, 0, tzinfo=UTC)),
}
VERSIONS = (*CAPTURED_VERSIONS, *DERIVED_VERSIONS)
SITE_NAME = "Sputnik International (newsflow demo)"

# The comments JSON endpoint named in the Sputnik profile: ?article_id=...&page=N, 10 per page,
# an empty list after the last page. It lists what the page shows, and for the seed also one reply
# the page has not rendered (a comment only the endpoint has).
COMMENTS_PATH = "/services/comments/list/"
COMMENTS_PER_PAGE = 10
JSON_ONLY_COMMENT = {
    "id": 1052099001,
    "parent_id": 1050773521,
    "user": {"name": "Baikal_Watcher", "id": 6100042},
    "text": "<p>Pierre_L, agreed: talks first, sanctions later.</p>"
    "<p>Both sides need<br>a channel that stays open.</p>",
    "created_at": "2017-03-30T07:05",
    "edited_at": None,
    "is_deleted": False,
}
_SEED_COMMENT = re.compile(
    r'<li class="b-comments__item" id="comment_\d+" data-id="(?P<id>\d+)"[^>]*?data-parent-id="(?P<parent>\d*)">'
    r"(?P<body>.*?)</li>",
    re.DOTALL,
)
_AUTHOR = re.compile(r'<a class="b-comment__author"[^>]*>(.*?)</a>', re.DOTALL)
_POSTED = re.compile(r'<time class="b-comment__date" datetime="([^"]+)"')
_EDITED = re.compile(r'class="b-comment__edited" data-edited="([^"]+)"')
_TEXT = re.compile(r'<div class="b-comment__text">(.*?)</div>', re.DOTALL)

# Origins of the live site; subdomains (cdn*.img, id., comet.) and mailto: addresses are left alone.
_ORIGIN_RE = re.compile(r"(https?:)?//sputniknews\.com(?![\w.-])")


def _png_1x1() -> bytes:
    """A valid 1x1 grey PNG, built here so that no binary file has to ship."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


# For /broken/image.png and the article photos.
PNG_BYTES = _png_1x1()

# When the demo pages and feeds were "last modified" (the seed has its own per-version dates).
SITE_LAST_MODIFIED = datetime(2017, 3, 29, 22, 51, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Resource:
    """One pre-rendered response: status, Content-Type, body and its validators."""

    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class SiteContent:
    """All responses of the site by path, plus the seed page in each of its versions."""

    resources: dict[str, Resource]
    seed_path: str
    seed_versions: dict[str, Resource]
    # Comments the JSON endpoint lists, by article id; the seed's per version of its page.
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seed_id: str = ""
    seed_comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def load_articles() -> dict[str, Any]:
    """The seed's metadata and the related and private articles, as stored in articles.json."""
    return json.loads(resources.files(__package__).joinpath("articles.json").read_text(encoding="utf-8"))


def rewrite_origin(html: str, base_url: str) -> str:
    """Point every https://, http:// and //sputniknews.com origin at the local site.

    A protocol-relative origin stays protocol-relative (//127.0.0.1:PORT), so the page keeps that quirk.
    """
    authority = base_url.split("://", 1)[1]
    return _ORIGIN_RE.sub(lambda m: base_url if m.group(1) else f"//{authority}", html)


def build_site(base_url: str) -> SiteContent:
    """Render every page, feed and error body for a site served at base_url (no trailing slash)."""
    data = load_articles()
    seed = data["seed"]
    articles = [*data["related"], data["private"]]
    titles = {seed["path"]: seed["title"]} | {a["path"]: a["title"] for a in articles}
    listed = sorted([seed, *data["related"]], key=lambda a: datetime.fromisoformat(a["published_at"]), reverse=True)
    rss = _resource(200, RSS, render_rss(listed, base_url), SITE_LAST_MODIFIED)

    res: dict[str, Resource] = {
        "/": _resource(200, HTML, render_home(seed, articles, base_url), SITE_LAST_MODIFIED),
        "/rss.xml": rss,
        # The seed page advertises this path for its RSS feed; serve the same feed there.
        "/export/rss2/archive/index.xml": rss,
        "/atom.xml": _resource(200, ATOM, render_atom(listed, base_url), SITE_LAST_MODIFIED),
        "/sitemap.xml": _resource(200, XML, render_news_sitemap(listed, base_url), SITE_LAST_MODIFIED),
        "/robots.txt": _resource(200, TEXT, render_robots(base_url), SITE_LAST_MODIFIED),
        "/broken/500": Resource(500, HTML, _error_page("500 Internal Server Error")),
        "/broken/404": Resource(404, HTML, _error_page("404 Not Found")),
        "/broken/notfound-feed.xml": Resource(404, HTML, _error_page("404 Not Found")),
        "/broken/garbage.xml": Resource(200, XML, b"\x00\x01<<<<garbage>>>> &&& not <xml at all\n{]\n"),
        "/broken/image.png": _resource(200, PNG, PNG_BYTES, SITE_LAST_MODIFIED),
        "/i/avatar-default.png": _resource(200, PNG, PNG_BYTES, SITE_LAST_MODIFIED),
    }
    for article in articles:
        page = render_article(article, titles, base_url)
        res[article["path"]] = _resource(200, HTML, page, _last_modified(article))
        res[f"/i/photo-{article['id']}.png"] = _resource(200, PNG, PNG_BYTES, SITE_LAST_MODIFIED)

    pages = resources.files(__package__).joinpath("pages")
    seed_versions = {}
    htmls = {}
    for name in CAPTURED_VERSIONS:
        version = seed["versions"][name]
        htmls[name] = rewrite_origin(pages.joinpath(version["file"]).read_text(encoding="utf-8"), base_url)
        modified = datetime.fromisoformat(version["last_modified"])
        seed_versions[name] = _resource(200, HTML, htmls[name].encode("utf-8"), modified)
    for name, (base, modified) in DERIVED_VERSIONS.items():
        htmls[name] = derive_version(name, htmls[base])
        seed_versions[name] = _resource(200, HTML, htmls[name].encode("utf-8"), modified)
    return SiteContent(
        resources=res,
        seed_path=seed["path"],
        seed_versions=seed_versions,
        comments={a["id"]: [_json_comment(c) for c in a["comments"]] for a in articles},
        seed_id=seed["id"],
        seed_comments={name: [*seed_comment_items(html), JSON_ONLY_COMMENT] for name, html in htmls.items()},
    )


def seed_comment_items(html: str) -> list[dict[str, Any]]:
    """The comments a seed page shows, as the endpoint lists them (text as the page's markup)."""
    items = []
    for match in _SEED_COMMENT.finditer(html):
        body = match.group("body")
        author, posted = _AUTHOR.search(body), _POSTED.search(body)
        edited, text = _EDITED.search(body), _TEXT.search(body)
        items.append(
            {
                "id": int(match.group("id")),
                "parent_id": int(match.group("parent")) if match.group("parent") else None,
                "user": {"name": unescape(author.group(1)) if author else None},
                "text": text.group(1) if text else "",
                "created_at": posted.group(1) if posted else None,
                "edited_at": edited.group(1) if edited else None,
                "is_deleted": False,
            }
        )
    return items


def render_comments_page(comments: list[dict[str, Any]], page: int) -> Resource:
    """One page of the comments endpoint (an empty list past the last page), never cached."""
    start = (page - 1) * COMMENTS_PER_PAGE if page >= 1 else len(comments)
    chunk = comments[start : start + COMMENTS_PER_PAGE]
    body = {"page": page, "per_page": COMMENTS_PER_PAGE, "total": len(comments), "comments": chunk}
    return Resource(200, JSON, json.dumps(body, ensure_ascii=False).encode("utf-8"))


def _json_comment(comment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(comment["id"]),
        "parent_id": int(comment["parent_id"]) if comment["parent_id"] else None,
        "user": {"name": comment["author"], "id": int(comment["user_id"])},
        "text": "<br>".join(escape(line) for line in comment["text"].split("\n")),
        "created_at": comment["posted_at"],
        "edited_at": None,
        "is_deleted": False,
    }


def derive_version(name: str, html: str) -> str:
    """The seed page in a derived state (see DERIVED_VERSIONS), from the state it derives from."""
    if name == "noise":
        for old, new in _NOISE:
            assert html.count(old) == 1, old
            html = html.replace(old, new)
    elif name == "removed":
        html, removed = _REMOVED_COMMENT.subn("", html)
        assert removed == 1
    elif name == "revised":
        assert html.count(_REVISION[0]) == 1
        html = html.replace(*_REVISION)
    return html


def render_article(article: dict[str, Any], titles: dict[str, str], base_url: str) -> bytes:
    """One article page in the Sputnik 2017 markup family (b-article, JSON-LD, tags, related, comments)."""
    url = base_url + article["path"]
    title, lead = escape(article["title"]), escape(article["lead"])
    published = datetime.fromisoformat(article["published_at"])
    updated = datetime.fromisoformat(article["updated_at"]) if article["updated_at"] else None
    image = f"{base_url}/i/photo-{article['id']}.png"
    keywords = ", ".join(t["name"] for t in article["tags"])
    json_ld = {
        "@context": "http://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "headline": article["title"],
        "description": article["lead"],
        "image": {"@type": "ImageObject", "url": image, "width": 1000, "height": 541},
        "datePublished": published.isoformat(),
        "dateModified": (updated or published).isoformat(),
        "articleSection": article["section"],
        "keywords": keywords,
        "inLanguage": "en",
        "author": {"@type": "Organization", "name": "Sputnik"},
        "publisher": {"@type": "Organization", "name": "Sputnik"},
        "commentCount": len(article["comments"]),
    }
    refs_update = (
        f'<time class="b-article__refs-update" datetime="{_local_stamp(updated)}" itemprop="dateModified">'
        f"(updated {updated:%H:%M %d.%m.%Y})</time>"
        if updated
        else ""
    )
    body = "\n".join(f"<p>{escape(p)}</p>" for p in article["body"])
    related = "".join(
        f'<div class="b-article__related-item"><a href="{escape(path)}">{escape(titles[path])}</a></div>'
        for path in article["related"]
    )
    tags = ", ".join(
        f'<a class="b-article__tags-item" href="/tags/tag_{escape(t["slug"])}/" rel="tag">{escape(t["name"])}</a>'
        for t in article["tags"]
    )
    authors = {c["id"]: c["author"] for c in article["comments"]}
    comments = "\n".join(_render_comment(c, authors) for c in article["comments"])
    page = f"""<!DOCTYPE html SYSTEM "about:legacy-compat">
<html lang="en" class="responsive"><head><title>{title} - Sputnik International</title>\
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\
<meta name="description" content="{lead}"><meta name="keywords" content="{escape(keywords)}">\
<meta name="author" content="Sputnik"><link rel="canonical" href="{url}">\
<meta property="og:title" content="{title}"><meta property="og:url" content="{url}">\
<meta property="og:type" content="article"><meta property="og:description" content="{lead}">\
<meta property="og:image" content="{image}">\
<link rel="alternate" href="/export/rss2/archive/index.xml" title="RSS" type="application/rss+xml">
<script type="application/ld+json">
{json.dumps(json_ld, indent=1, ensure_ascii=False)}
</script>
</head><body class="site_int article">
<div class="b-mainnav" id="mainnav"><div class="l-wrap"><ul class="b-mainnav__list">\
<li class="b-mainnav__item"><a href="/">Home</a></li><li class="b-mainnav__item"><a href="/politics/">Politics</a></li>\
</ul></div></div>
<div class="l-main m-oh">
<div class="l-wrap m-oh">
<div class="l-maincolumn">
<div class="b-article" itemscope itemtype="http://schema.org/NewsArticle" data-article-id="{article["id"]}">\
<meta itemprop="mainEntityOfPage" content="{url}">
<div class="b-article__header" data-type="photo"><img src="{image}" width="1000" height="541" \
alt="{escape(article["image_caption"])}" title="{escape(article["image_caption"])}" itemprop="image">\
<div class="b-article__header-title"><h1 itemprop="headline">{title}</h1></div>\
<div class="b-article__header-copy"><span><span>{escape(article["credit"])}</span></span></div></div>
<div class="b-article__refs"><div class="b-article__refs-credits"><time class="b-article__refs-date" \
datetime="{_local_stamp(published)}" itemprop="datePublished">{published:%H:%M %d.%m.%Y}</time>{refs_update}\
<a class="b-article__refs-rubric" href="/{article["rubric"]}/">{escape(article["section"])}</a></div>\
<div class="b-article__refs-item b-article__refs-counters"><span class="b-counters-icon b-counters-icon_comments" \
title="Comments">{len(article["comments"])}</span> <span class="b-counters-icon b-counters-icon_views" \
title="Views">{article["views"]}</span></div></div>
<div class="b-article__lead" itemprop="description"><p>{lead}</p></div>
<div class="b-article__text" itemprop="articleBody">
{body}
</div>
<div class="b-article__related">{related}</div>
<div class="b-article__tags">{tags}</div>
</div>
<div class="b-comments" id="comments" data-article-id="{article["id"]}" data-count="{len(article["comments"])}">\
<div class="b-comments__header"><h3 class="b-comments__title">Discussion</h3></div>
<div class="b-comments__tabs-content m-active" id="comments-sputnik"><ul class="b-comments__list">
<li class="b-comments__item m-form"><form class="b-comments__form" action="/services/comments/add/" method="post">\
<input type="hidden" name="article_id" value="{article["id"]}">\
<textarea class="b-comments__form-text" name="text" placeholder="Add a comment"></textarea>\
<button class="b-comments__form-submit" type="submit">Сomment</button></form></li>
{comments}
</ul></div></div>
</div>
</div>
</div>
<footer class="footer"><div class="l-wrap m-oh"><a href="/">Home</a> <a href="/rss.xml">RSS</a></div></footer>
</body></html>
"""
    return page.encode("utf-8")


def render_home(seed: dict[str, Any], articles: list[dict[str, Any]], base_url: str) -> bytes:
    """The home page: a link to every article (the private one too) and the feed autodiscovery links."""
    items = "\n".join(
        f'<li class="b-news-stripe__item"><a class="b-news-stripe__item-title" href="{base_url}{a["path"]}">'
        f"{escape(a['title'])}</a></li>"
        for a in [seed, *articles]
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(SITE_NAME)}</title>
<link rel="canonical" href="{base_url}/">
<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss.xml">
<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom.xml">
</head><body class="site_int index">
<h1>{escape(SITE_NAME)}</h1>
<ul class="b-news-stripe__list">
{items}
</ul>
</body></html>
"""
    return page.encode("utf-8")


def render_rss(listed: list[dict[str, Any]], base_url: str) -> bytes:
    """RSS 2.0 feed of the seed and the related articles, newest first."""
    items = "\n".join(
        f"""    <item>
      <title>{escape(a["title"])}</title>
      <link>{base_url}{a["path"]}</link>
      <guid isPermaLink="true">{base_url}{a["path"]}</guid>
      <pubDate>{format_datetime(datetime.fromisoformat(a["published_at"]))}</pubDate>
      <category>{escape(a["section"])}</category>
      <description>{escape(a["lead"])}</description>
    </item>"""
        for a in listed
    )
    feed = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{escape(SITE_NAME)}</title>
    <link>{base_url}/</link>
    <atom:link href="{base_url}/rss.xml" rel="self" type="application/rss+xml"/>
    <description>Local fixture news site for newsflow</description>
    <language>en</language>
    <lastBuildDate>{format_datetime(SITE_LAST_MODIFIED, usegmt=True)}</lastBuildDate>
{items}
  </channel>
</rss>
"""
    return feed.encode("utf-8")


def render_atom(listed: list[dict[str, Any]], base_url: str) -> bytes:
    """Atom feed with the same entries as the RSS feed."""
    entries = "\n".join(
        f"""  <entry>
    <title>{escape(a["title"])}</title>
    <link rel="alternate" type="text/html" href="{base_url}{a["path"]}"/>
    <id>{base_url}{a["path"]}</id>
    <published>{a["published_at"]}</published>
    <updated>{a.get("updated_at") or a["published_at"]}</updated>
    <summary>{escape(a["lead"])}</summary>
  </entry>"""
        for a in listed
    )
    feed = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{escape(SITE_NAME)}</title>
  <link rel="alternate" type="text/html" href="{base_url}/"/>
  <link rel="self" href="{base_url}/atom.xml"/>
  <id>{base_url}/</id>
  <updated>{SITE_LAST_MODIFIED.isoformat()}</updated>
  <author><name>Sputnik</name></author>
{entries}
</feed>
"""
    return feed.encode("utf-8")


def render_news_sitemap(listed: list[dict[str, Any]], base_url: str) -> bytes:
    """Google News sitemap of the seed and the related articles."""
    urls = "\n".join(
        f"""  <url>
    <loc>{base_url}{a["path"]}</loc>
    <news:news>
      <news:publication><news:name>Sputnik</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>{a["published_at"]}</news:publication_date>
      <news:title>{escape(a["title"])}</news:title>
    </news:news>
  </url>"""
        for a in listed
    )
    sitemap = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}
</urlset>
"""
    return sitemap.encode("utf-8")


def render_robots(base_url: str) -> bytes:
    """robots.txt: everything is allowed except /private/."""
    return f"User-agent: *\nDisallow: /private/\n\nSitemap: {base_url}/sitemap.xml\n".encode()


def _render_comment(comment: dict[str, Any], authors: dict[str, str]) -> str:
    posted = datetime.fromisoformat(comment["posted_at"])
    parent = comment["parent_id"] or ""
    reply_to = (
        f'<div class="b-comment__reply-to"><span class="b-comment__reply-author">{escape(comment["author"])}'
        f'</span> reply to<a class="b-comment__reply-parent" href="#comment_{parent}" data-parent-id="{parent}">'
        f'{escape(authors[parent])}</a>(<a class="b-comment__reply-show" href="#">Show comment</a>'
        f'<a class="b-comment__reply-hide" href="#" style="display: none;">Hide comment</a>)</div>'
        if parent
        else ""
    )
    text = "<br>".join(escape(line) for line in comment["text"].split("\n"))
    return (
        f'<li class="b-comments__item" id="comment_{comment["id"]}" data-id="{comment["id"]}" '
        f'data-user-id="{comment["user_id"]}" data-parent-id="{parent}"><div class="b-comment">'
        '<div class="b-comment__avatar"><img src="/i/avatar-default.png" width="50" height="50" alt="avatar">'
        '</div><div class="b-comment__content"><div class="b-comment__header">'
        f'<a class="b-comment__author" href="/id/user/{comment["user_id"]}/">{escape(comment["author"])}</a>'
        f'<time class="b-comment__date" datetime="{posted:%Y-%m-%dT%H:%M}">{posted:%H:%M %d.%m.%Y}</time></div>'
        f'{reply_to}<div class="b-comment__text">{text}</div></div></div></li>'
    )


def _local_stamp(moment: datetime) -> str:
    # Like the seed, the visible <time datetime> carries Moscow wall time without an offset.
    return f"{moment:%Y-%m-%dT%H:%M}"


def _last_modified(article: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(article["updated_at"] or article["published_at"]).astimezone(UTC)


def _resource(status: int, content_type: str, body: bytes, last_modified: datetime) -> Resource:
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Resource(status, content_type, body, etag, last_modified.replace(microsecond=0))


def _error_page(title: str) -> bytes:
    return f"<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>\n".encode()


NOT_FOUND = Resource(404, HTML, _error_page("404 Not Found"))
