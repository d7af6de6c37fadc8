# ruff: noqa: E501 - the page templates are HTML written as it appears on the wire.
"""Render the fixture corpus `tests/fixtures/pages/*.html` with the expected record beside each page.

Run `python -m bench.parse_corpus` to rewrite the pages. Each page imitates the markup of a
real kind of site (WordPress, JSON-LD newspapers, AMP, legacy tables, live blogs, galleries,
comment widgets, non-UTF-8 pages); the text comes from `bench.parse_stories` and is invented.
The expected record is written from the same data as the page, never from the parser.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.parse_stories import COMMENT_TEXTS, STORIES

PAGES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pages"
E = html.escape


def chrome_top(site: str) -> str:
    """Site header and navigation every page carries (boilerplate the parser must ignore)."""
    return (
        f'<header class="site-header"><a class="logo" href="/">{E(site)}</a><nav class="main-nav"><ul>'
        '<li><a href="/news/">News</a></li><li><a href="/business/">Business</a></li>'
        '<li><a href="/sport/">Sport</a></li><li><a href="/culture/">Culture</a></li></ul></nav></header>'
    )


def chrome_bottom(site: str) -> str:
    """Sidebar with other headlines and a footer."""
    return (
        '<aside class="sidebar"><h3>Most read</h3><ul>'
        '<li><a href="/news/2020/01/01/weather-warning-issued-for-weekend">Weather warning issued for the weekend</a></li>'
        '<li><a href="/news/2020/01/01/council-tax-to-rise-next-year">Council tax to rise by 3 percent next year</a></li>'
        "</ul></aside>"
        f'<footer class="site-footer"><p>© 2020 {E(site)}. All rights reserved.</p>'
        '<a href="/privacy">Privacy policy</a> <a href="/contact">Contact us</a></footer>'
    )


def paragraphs_html(paragraphs: list[str], tag: str = "p") -> str:
    return "".join(f"<{tag}>{E(p)}</{tag}>" for p in paragraphs)


def jsonld(data: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def comment_record(
    cid: str, author: str, text: str, posted: str | None, parent: str | None = None, reply_to: str | None = None
) -> dict:
    return {
        "id": cid,
        "author": author,
        "text": text,
        "parent_id": parent,
        "reply_to_author": reply_to,
        "posted_at": posted,
        "edited_at": None,
    }


def expected_record(
    url: str,
    story: dict,
    *,
    title: str | None = None,
    published: str | None,
    authors: list[str],
    lead: str | None = "story",
    images: list[dict] | None = None,
    tags: list[str] | None = None,
    related: list[dict] | None = None,
    comments: list[dict] | None = None,
    canonical: str | None = None,
    paragraphs: list[str] | None = None,
) -> dict:
    return {
        "url": url,
        "canonical_url": canonical or url,
        "title": title or story["title"],
        "published_at": published,
        "authors": authors,
        "lead": story["lead"] if lead == "story" else lead,
        "body_paragraphs": paragraphs if paragraphs is not None else story["paragraphs"],
        "images": [_unlabelled(image) for image in images or []],
        "tags": tags or [],
        "related_links": related or [],
        "comments": comments or [],
        "comment_count": len(comments or []),
    }


_CREDIT_LABEL = re.compile(r"^(?:©|photo(?:graph)?\s*:|picture\s*:)\s*", re.IGNORECASE)


def shown(caption: str, credit: str) -> dict:
    """An image whose credit is shown inside its caption block: the caption as displayed, credit included."""
    return {"caption": f"{caption} {credit}", "credit": credit}


def _unlabelled(image: dict) -> dict:
    """A picture credit is recorded without its label ("Photo: AFP" -> "AFP"), as on real pages."""
    if image.get("credit"):
        return {**image, "credit": _CREDIT_LABEL.sub("", image["credit"])}
    return image


# ---------------------------------------------------------------------------------------------- pages


def wordpress_html5() -> tuple[str, dict, dict]:
    """WordPress (twenty-* theme): entry-meta, wp-caption figure, rel=tag, threaded ol.comment-list."""
    s = STORIES["harbour"]
    url = "https://harbourtimes.example/2020/03/04/council-approves-harbour-redevelopment/"
    c = COMMENT_TEXTS
    tree = [
        ("101", "Olav", c[0], "2020-03-04T19:02:00+01:00", None),
        ("102", "Mette K.", c[1], "2020-03-04T19:40:00+01:00", "101"),
        ("103", "Olav", c[6], "2020-03-04T20:15:00+01:00", "102"),
        ("104", "harbourwatcher", c[4], "2020-03-05T08:05:00+01:00", None),
    ]

    def comment_li(cid: str, author: str, text: str, posted: str, children: str) -> str:
        paras = "".join(f"<p>{'<br>'.join(E(x) for x in part.split(chr(10)))}</p>" for part in text.split("\n\n"))
        return (
            f'<li id="comment-{cid}" class="comment even thread-even depth-1"><article id="div-comment-{cid}" '
            'class="comment-body"><footer class="comment-meta"><div class="comment-author vcard">'
            f'<img alt="" src="https://secure.gravatar.com/avatar/{cid}?s=32" class="avatar avatar-32" height="32" '
            f'width="32"><b class="fn">{E(author)}</b> <span class="says">says:</span></div>'
            f'<div class="comment-metadata"><a href="{url}#comment-{cid}"><time datetime="{posted}">'
            f"March 4, 2020 at 7:02 pm</time></a></div></footer>"
            f'<div class="comment-content">{paras}</div><div class="reply"><a rel="nofollow" '
            f'class="comment-reply-link" href="#comment-{cid}">Reply</a></div></article>{children}</li>'
        )

    nested = comment_li(*tree[2][:4], "")
    nested = comment_li(*tree[1][:4], f'<ol class="children">{nested}</ol>')
    first = comment_li(*tree[0][:4], f'<ol class="children">{nested}</ol>')
    last = comment_li(*tree[3][:4], "")
    body = s["paragraphs"]
    page = f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="UTF-8">
<title>{E(s["title"])} &#8211; Harbour Times</title>
<link rel="canonical" href="{url}"><meta property="og:site_name" content="Harbour Times">
<meta property="og:title" content="{E(s["title"])}"><meta property="article:published_time" content="2020-03-04T11:20:00+01:00">
<meta property="article:modified_time" content="2020-03-04T15:01:10+01:00"></head>
<body class="post-template-default single single-post">{chrome_top("Harbour Times")}
<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">
<article id="post-2211" class="post-2211 post type-post status-publish format-standard hentry category-local">
<header class="entry-header"><h1 class="entry-title">{E(s["title"])}</h1>
<div class="entry-meta"><span class="posted-on">Posted on <a href="{url}" rel="bookmark"><time class="entry-date published" datetime="2020-03-04T11:20:00+01:00">March 4, 2020</time><time class="updated" datetime="2020-03-04T15:01:10+01:00">March 4, 2020</time></a></span>
<span class="byline"> by <span class="author vcard"><a class="url fn n" href="/author/kjell/">Kjell Andersen</a></span></span></div></header>
<div class="entry-content"><p><strong>{E(s["lead"])}</strong></p>
{paragraphs_html(body[:2])}
<figure id="attachment_2212" class="wp-caption aligncenter" style="width: 1024px"><img class="size-large wp-image-2212" src="/wp-content/uploads/2020/03/terminal-1024x683.jpg" alt="" width="1024" height="683"><figcaption class="wp-caption-text">The old container terminal seen from the north pier. Photo: Kjell Andersen</figcaption></figure>
{paragraphs_html(body[2:])}
</div><footer class="entry-footer"><span class="cat-links">Posted in <a href="/category/local/" rel="category tag">Local</a></span>
<span class="tags-links">Tagged <a href="/tag/harbour/" rel="tag">harbour</a>, <a href="/tag/housing/" rel="tag">housing</a>, <a href="/tag/city-council/" rel="tag">city council</a></span></footer></article>
<nav class="navigation post-navigation"><div class="nav-links"><a href="/2020/03/01/ferry-timetable-changes/" rel="prev">Ferry timetable changes from Monday</a></div></nav>
<div id="comments" class="comments-area"><h2 class="comments-title">4 thoughts on &ldquo;{E(s["title"])}&rdquo;</h2>
<ol class="comment-list">{first}{last}</ol>
<div id="respond" class="comment-respond"><h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3><form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form"><p class="comment-form-comment"><label for="comment">Comment</label> <textarea id="comment" name="comment"></textarea></p><p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Post Comment"></p></form></div></div>
</main></div></div>{chrome_bottom("Harbour Times")}</body></html>"""
    comments = [
        comment_record("101", "Olav", c[0], "2020-03-04T19:02:00+01:00"),
        comment_record("102", "Mette K.", c[1], "2020-03-04T19:40:00+01:00", "101", "Olav"),
        comment_record("103", "Olav", c[6], "2020-03-04T20:15:00+01:00", "102", "Mette K."),
        comment_record("104", "harbourwatcher", c[4], "2020-03-05T08:05:00+01:00"),
    ]
    expected = expected_record(
        url,
        s,
        published="2020-03-04T11:20:00+01:00",
        authors=["Kjell Andersen"],
        lead=None,
        paragraphs=[s["lead"], *body],
        images=[shown("The old container terminal seen from the north pier.", "Photo: Kjell Andersen")],
        tags=["harbour", "housing", "city council"],
        comments=comments,
    )
    return page, expected, {}


def wordpress_classic() -> tuple[str, dict, dict]:
    """Old WordPress (Kubrick-era): ol.commentlist, cite.fn, text dates, comment paragraphs without a wrapper."""
    s = STORIES["bakery"]
    url = "http://villagenotes.example/2012/11/how-a-village-bakery-survived/"
    c = COMMENT_TEXTS
    rows = [
        ("2001", "Anna", c[2], "November 20, 2012 at 9:14 am", "2012-11-20T09:14:00+01:00", None, None),
        (
            "2002",
            "Tomas Berg",
            "Thank you Anna! See you on Saturday.",
            "November 20, 2012 at 10:02 am",
            "2012-11-20T10:02:00+01:00",
            "2001",
            "Anna",
        ),
        ("2003", "P. Lind", c[5], "November 21, 2012 at 6:45 pm", "2012-11-21T18:45:00+01:00", None, None),
    ]

    def li(row: tuple, children: str = "") -> str:
        cid, author, text, shown, _, _, _ = row
        paras = "".join(f"<p>{'<br />'.join(E(x) for x in part.split(chr(10)))}</p>" for part in text.split("\n\n"))
        return (
            f'<li class="comment byuser" id="li-comment-{cid}"><div id="comment-{cid}"><div class="comment-author vcard">'
            f'<img alt="" src="http://0.gravatar.com/avatar/{cid}?s=40" class="avatar avatar-40 photo" height="40" width="40" />'
            f'<cite class="fn">{E(author)}</cite> <span class="says">says:</span></div>'
            f'<div class="comment-meta commentmetadata"><a href="{url}#comment-{cid}">{shown}</a></div>'
            f'{paras}<div class="reply"><a class="comment-reply-link" href="?replytocom={cid}#respond">Reply</a></div></div>'
            f"{children}</li>"
        )

    thread = li(rows[0], f'<ul class="children">{li(rows[1])}</ul>') + li(rows[2])
    page = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" dir="ltr" lang="en-US"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<title>Village Notes &raquo; {E(s["title"])}</title><meta name="generator" content="WordPress 3.4.2" />
<meta property="article:published_time" content="2012-11-19T16:30:00+01:00" /></head>
<body><div id="page"><div id="header"><h1><a href="/">Village Notes</a></h1><div class="description">News from the valley</div></div>
<div id="content" class="narrowcolumn"><div class="post" id="post-412"><h2><a href="{url}" rel="bookmark">{E(s["title"])}</a></h2>
<small>November 19th, 2012 by Lena Holm</small><div class="entry">{paragraphs_html(s["paragraphs"])}</div>
<p class="postmetadata">Tags: <a href="/tag/bakery/" rel="tag">bakery</a>, <a href="/tag/energy/" rel="tag">energy</a><br /> Posted in <a href="/category/business/" rel="category tag">Business</a> | <a href="#respond">3 Comments</a></p></div>
<h3 id="comments">3 Responses to &#8220;{E(s["title"])}&#8221;</h3><ol class="commentlist">{thread}</ol>
<h3 id="respond">Leave a Reply</h3><form action="/wp-comments-post.php" method="post" id="commentform"><p><textarea name="comment" id="comment" cols="100%" rows="10"></textarea></p><p><input name="submit" type="submit" id="submit" value="Submit Comment" /></p></form></div>
<div id="sidebar"><ul><li><h2>Archives</h2><ul><li><a href="/2012/10/">October 2012</a></li><li><a href="/2012/09/">September 2012</a></li></ul></li></ul></div>
<div id="footer"><p>Village Notes is proudly powered by WordPress</p></div></div></body></html>"""
    comments = [comment_record(r[0], r[1], r[2], r[4], r[5], r[6]) for r in rows]
    expected = expected_record(
        url,
        s,
        published="2012-11-19T16:30:00+01:00",
        authors=["Lena Holm"],
        tags=["bakery", "energy"],
        comments=comments,
    )
    return page, expected, {}


def newspaper_jsonld() -> tuple[str, dict, dict]:
    """A big newspaper: JSON-LD NewsArticle with Person authors, summary, figure with caption and credit."""
    s = STORIES["chipplant"]
    url = "https://www.dailyrecord.example/2023/05/08/business/chipmaker-northern-valley-factory.html"
    body = s["paragraphs"]
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": s["title"],
        "description": s["lead"],
        "datePublished": "2023-05-08T13:05:12.000Z",
        "dateModified": "2023-05-08T18:40:00.000Z",
        "author": [
            {"@type": "Person", "name": "Rebecca Lowe", "url": "/by/rebecca-lowe"},
            {"@type": "Person", "name": "Ken Oyama"},
        ],
        "publisher": {"@type": "NewsMediaOrganization", "name": "The Daily Record"},
        "image": [
            {
                "@type": "ImageObject",
                "url": "https://static.dailyrecord.example/images/2023/05/08/fab.jpg",
                "caption": "The site of the planned factory.",
                "creditText": "Mia Holt for The Daily Record",
            }
        ],
        "articleSection": "Business",
        "keywords": ["Semiconductors", "Manufacturing"],
    }
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{E(s["title"])} - The Daily Record</title>
<meta property="og:title" content="{E(s["title"])}"><meta property="og:site_name" content="The Daily Record">
<link rel="canonical" href="{url}">{jsonld(ld)}</head><body><div id="app">{chrome_top("The Daily Record")}
<main id="site-content"><article id="story"><header><p class="kicker"><a href="/section/business">Business</a></p>
<h1 data-testid="headline">{E(s["title"])}</h1><p id="article-summary" class="summary-class">{E(s["lead"])}</p>
<figure class="sizeLarge" aria-label="media" role="group"><div><picture><img alt="The site of the planned factory." src="https://static.dailyrecord.example/images/2023/05/08/fab-articleLarge.jpg" srcset="https://static.dailyrecord.example/images/2023/05/08/fab-superJumbo.jpg 2048w" width="600" height="400"></picture></div>
<figcaption><span class="caption-text">The site of the planned factory.</span><span class="credit"><span class="visually-hidden">Credit...</span>Mia Holt for The Daily Record</span></figcaption></figure>
<div class="byline"><p class="byline-line">By <a href="/by/rebecca-lowe" class="last-byline">Rebecca Lowe</a> and <span class="last-byline">Ken Oyama</span></p>
<time datetime="2023-05-08T09:05:12-04:00">May 8, 2023, 9:05 a.m. ET</time></div></header>
<section name="articleBody" itemprop="articleBody"><div class="StoryBodyCompanionColumn"><div>{paragraphs_html(body[:2])}</div></div>
<div class="StoryBodyCompanionColumn"><div>{paragraphs_html(body[2:])}</div></div></section>
<div class="bottom-of-article"><h2>Related Coverage</h2><ul><li><a href="/2023/03/14/business/chip-subsidies-law.html">Lawmakers Approve New Chip Subsidies</a></li>
<li><a href="https://www.dailyrecord.example/2022/11/02/technology/valley-hydro-power.html">The Valley That Runs on Water Power</a></li></ul></div>
</article></main>{chrome_bottom("The Daily Record")}</div></body></html>"""
    expected = expected_record(
        url,
        s,
        published="2023-05-08T13:05:12+00:00",
        authors=["Rebecca Lowe", "Ken Oyama"],
        images=[shown("The site of the planned factory.", "Mia Holt for The Daily Record")],
        tags=["Semiconductors", "Manufacturing"],
        related=[
            {
                "url": "https://www.dailyrecord.example/2023/03/14/business/chip-subsidies-law.html",
                "title": "Lawmakers Approve New Chip Subsidies",
            },
            {
                "url": "https://www.dailyrecord.example/2022/11/02/technology/valley-hydro-power.html",
                "title": "The Valley That Runs on Water Power",
            },
        ],
    )
    return page, expected, {}


def yoast_graph() -> tuple[str, dict, dict]:
    """WordPress + Yoast: a JSON-LD @graph whose Article points at a Person node by @id."""
    s = STORIES["marathon"]
    url = "https://runnersdaily.example/news/record-field-city-marathon/"
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "Article",
                "@id": url + "#article",
                "isPartOf": {"@id": url},
                "author": {"@id": "https://runnersdaily.example/#/schema/person/7f3a"},
                "headline": s["title"],
                "datePublished": "2024-04-11T07:30:00+00:00",
                "dateModified": "2024-04-11T09:00:00+00:00",
                "publisher": {"@id": "https://runnersdaily.example/#organization"},
                "keywords": ["marathon", "road closures"],
                "articleSection": ["Races"],
                "inLanguage": "en-US",
            },
            {"@type": "WebPage", "@id": url, "url": url, "name": s["title"] + " - Runners Daily"},
            {"@type": "Organization", "@id": "https://runnersdaily.example/#organization", "name": "Runners Daily"},
            {"@type": "Person", "@id": "https://runnersdaily.example/#/schema/person/7f3a", "name": "Sam Okafor"},
        ],
    }
    page = f"""<!doctype html><html lang="en-US"><head><meta charset="UTF-8"><title>{E(s["title"])} - Runners Daily</title>
<meta property="og:type" content="article"><meta property="og:title" content="{E(s["title"])} - Runners Daily">
<meta property="og:url" content="{url}"><meta name="author" content="Sam Okafor">{jsonld(graph)}</head>
<body class="post-template-default single">{chrome_top("Runners Daily")}<div class="site-content"><main id="primary">
<article class="post type-post"><header class="entry-header"><h1 class="entry-title">{E(s["title"])}</h1>
<p class="entry-subtitle excerpt">{E(s["lead"])}</p></header><div class="entry-content">{paragraphs_html(s["paragraphs"])}
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3><ul><li><a href="https://twitter.com/share">Twitter</a></li></ul></div>
<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline"><em>Related</em></h3>
<div class="jp-relatedposts-items"><div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title"><a href="/news/new-marathon-route-unveiled/">New marathon route unveiled for spring</a></h4></div>
<div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title"><a href="/news/kiprop-wins-city-marathon/">Kiprop wins city marathon in course record</a></h4></div></div></div>
</div></article></main></div>{chrome_bottom("Runners Daily")}</body></html>"""
    expected = expected_record(
        url,
        s,
        published="2024-04-11T07:30:00+00:00",
        authors=["Sam Okafor"],
        tags=["marathon", "road closures"],
        related=[
            {
                "url": "https://runnersdaily.example/news/new-marathon-route-unveiled/",
                "title": "New marathon route unveiled for spring",
            },
            {
                "url": "https://runnersdaily.example/news/kiprop-wins-city-marathon/",
                "title": "Kiprop wins city marathon in course record",
            },
        ],
    )
    return page, expected, {}


def guardian_like() -> tuple[str, dict, dict]:
    """Guardian-style: standfirst, figcaption ending in 'Photograph: ...', keyword list, 'More on this story'."""
    s = STORIES["museum"]
    url = "https://www.theobserver.example/culture/2021/sep/17/restored-altarpiece-returns-cathedral"
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{E(s["title"])} | Culture | The Observer</title>
<meta property="og:site_name" content="the Guardian"><meta property="og:title" content="{E(s["title"])}">
<meta property="article:published_time" content="2021-09-17T14:12:05.000Z"><meta property="article:section" content="Culture">
<meta name="author" content="Helen Pike"><link rel="canonical" href="{url}"></head><body>{chrome_top("The Observer")}
<main data-layout="StandardLayout"><article><div data-gu-name="headline"><h1>{E(s["title"])}</h1></div>
<div data-gu-name="standfirst"><div class="dcr-standfirst"><p>{E(s["lead"])}</p></div></div>
<div data-gu-name="media"><figure class="dcr-figure" data-spacefinder-role="inline"><div class="dcr-picture"><picture><img alt="The altarpiece after restoration" src="https://i.guim.example/img/media/8f2c/master/3000.jpg?width=700" width="700" height="420"></picture></div>
<figcaption class="dcr-caption"><span class="dcr-icon"></span>The central panel after restoration, with the newly revealed self-portrait at lower left. Photograph: Piotr Nowak/The Observer</figcaption></figure></div>
<div data-gu-name="meta"><address aria-label="Contributor info"><a rel="author" href="/profile/helen-pike">Helen Pike</a></address>
<details><summary>Fri 17 Sep 2021 15.12 BST</summary></details></div>
<div data-gu-name="body" class="article-body-commercial-selector article-body-viewer-selector">{paragraphs_html(s["paragraphs"])}</div>
<div class="submeta"><ul class="submeta__keywords"><li><a href="/artanddesign/painting">Painting</a></li><li><a href="/world/religion">Religion</a></li><li><a href="/culture/heritage">Heritage</a></li></ul></div>
</article><section data-component="more-on-this-story"><h2>More on this story</h2><ul>
<li><a href="/culture/2019/mar/02/cathedral-altarpiece-conservation-begins">Cathedral altarpiece sent away for six-year conservation</a></li>
<li><a href="/artanddesign/2020/jan/15/hidden-self-portraits-in-medieval-painting">The painters who hid themselves in their pictures</a></li></ul></section></main>
{chrome_bottom("The Observer")}</body></html>"""
    base = "https://www.theobserver.example"
    expected = expected_record(
        url,
        s,
        published="2021-09-17T14:12:05+00:00",
        authors=["Helen Pike"],
        images=[
            shown(
                "The central panel after restoration, with the newly revealed self-portrait at lower left.",
                "Photograph: Piotr Nowak/The Observer",
            )
        ],
        tags=["Painting", "Religion", "Heritage"],
        related=[
            {
                "url": base + "/culture/2019/mar/02/cathedral-altarpiece-conservation-begins",
                "title": "Cathedral altarpiece sent away for six-year conservation",
            },
            {
                "url": base + "/artanddesign/2020/jan/15/hidden-self-portraits-in-medieval-painting",
                "title": "The painters who hid themselves in their pictures",
            },
        ],
    )
    return page, expected, {}


def amp_page() -> tuple[str, dict, dict]:
    """An AMP article: amp-img in a figure, amp boilerplate, JSON-LD, canonical to the normal page."""
    s = STORIES["telescope"]
    url = "https://www.sciencewire.example/amp/2022/06/21/telescope-nebula-image"
    canonical = "https://www.sciencewire.example/2022/06/21/telescope-nebula-image"
    ld = {
        "@context": "http://schema.org",
        "@type": "NewsArticle",
        "headline": s["title"],
        "datePublished": "2022-06-21T16:00:00+02:00",
        "author": {"@type": "Person", "name": "Lukas Brandt"},
        "publisher": {"@type": "Organization", "name": "ScienceWire"},
        "mainEntityOfPage": canonical,
    }
    page = f"""<!doctype html><html ⚡ lang="en"><head><meta charset="utf-8"><script async src="https://cdn.ampproject.org/v0.js"></script>
<title>{E(s["title"])}</title><link rel="canonical" href="{canonical}"><meta name="viewport" content="width=device-width">
<style amp-boilerplate>body{{visibility:hidden}}</style>{jsonld(ld)}</head><body>
<header class="amp-header"><a href="/">ScienceWire</a></header><amp-sidebar id="menu" layout="nodisplay"><ul><li><a href="/space">Space</a></li><li><a href="/climate">Climate</a></li></ul></amp-sidebar>
<article class="amp-article"><h1 class="amp-title">{E(s["title"])}</h1><p class="amp-standfirst standfirst">{E(s["lead"])}</p>
<div class="amp-byline">By <span class="author">Lukas Brandt</span> · <time datetime="2022-06-21T16:00:00+02:00">21 June 2022</time></div>
<figure class="amp-figure"><amp-img src="https://img.sciencewire.example/nebula-1200.jpg" width="1200" height="800" layout="responsive" alt="The nebula"></amp-img>
<figcaption>The star-forming nebula in the new image. © Plateau Observatory</figcaption></figure>
<div class="amp-body">{paragraphs_html(s["paragraphs"])}</div>
<amp-social-share type="twitter"></amp-social-share></article><footer><p>© ScienceWire 2022</p></footer></body></html>"""
    expected = expected_record(
        url,
        s,
        published="2022-06-21T16:00:00+02:00",
        authors=["Lukas Brandt"],
        canonical=canonical,
        images=[shown("The star-forming nebula in the new image.", "© Plateau Observatory")],
    )
    return page, expected, {}


def russian_cp1251(with_meta: bool) -> tuple[str, dict, dict]:
    """A Russian regional news site in windows-1251: 'Читайте также' block; charset in meta or only in HTTP."""
    s = STORIES["ru_metro" if with_meta else "ru_theatre"]
    slug = "metro" if with_meta else "teatr"
    url = f"https://ngs-news.example/text/city/2019/03/12/{slug}/"
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">' if with_meta else ""
    lead = f'<div class="article-lead"><p>{E(s["lead"])}</p></div>' if s["lead"] else ""
    widget = (
        ""
        if with_meta
        else '<div id="mc-container"></div><script>cackle_widget = window.cackle_widget || [];'
        "cackle_widget.push({widget: 'Comment', id: 48211, channel: 'teatr-2019-03-12'});</script>"
    )
    page = f"""<!DOCTYPE html><html lang="ru"><head>{meta}<title>{E(s["title"])} | НГС Новости</title>
<meta property="og:title" content="{E(s["title"])}"><meta property="article:published_time" content="2019-03-12T14:35:00+07:00">
<meta name="keywords" content="Новосибирск, транспорт, город"></head><body>
<div class="header"><a href="/">НГС Новости</a><ul class="menu"><li><a href="/text/city/">Город</a></li><li><a href="/text/sport/">Спорт</a></li></ul></div>
<div class="content"><div class="article"><h1 class="article-title">{E(s["title"])}</h1>
<div class="article-info"><span class="article-date">12 марта 2019, 14:35</span> <span class="article-author">Мария Иванова</span></div>
{lead}<div class="article-text">{paragraphs_html(s["paragraphs"])}</div>
<div class="read-also"><h3>Читайте также</h3><ul><li><a href="/text/city/2019/02/20/tramvai/">В городе запустят новый трамвайный маршрут</a></li>
<li><a href="/text/city/2019/01/15/most/">Ремонт моста через Обь продлится до лета</a></li></ul></div>
{widget}</div></div><div class="footer">© НГС, 2019</div></body></html>"""
    base = "https://ngs-news.example"
    expected = expected_record(
        url,
        s,
        published="2019-03-12T14:35:00+07:00",
        authors=["Мария Иванова"],
        tags=["Новосибирск", "транспорт", "город"],
        related=[
            {"url": base + "/text/city/2019/02/20/tramvai/", "title": "В городе запустят новый трамвайный маршрут"},
            {"url": base + "/text/city/2019/01/15/most/", "title": "Ремонт моста через Обь продлится до лета"},
        ],
    )
    meta_json: dict[str, Any] = {
        "url": url,
        "content_type": "text/html" if with_meta else "text/html; charset=windows-1251",
    }
    if not with_meta:
        meta_json["widgets"] = [["cackle", "teatr-2019-03-12"]]
    return page, expected, {"encoding": "cp1251", **meta_json}


def french_latin1() -> tuple[str, dict, dict]:
    """A French regional paper declared ISO-8859-1 (with windows-1252 quotes, as real ones have)."""
    s = STORIES["fr_vendanges"]
    url = "https://www.le-bien-public.example/economie/2022/08/29/les-vendanges-commencent-plus-tot"
    page = f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"><html lang="fr"><head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><title>{E(s["title"])} - Le Bien Public</title>
<meta property="og:site_name" content="Le Bien Public"><meta property="article:published_time" content="2022-08-29T06:45:00+02:00">
<meta property="article:tag" content="Viticulture"><meta property="article:tag" content="Bourgogne"></head><body>
<div id="bandeau"><a href="/">Le Bien Public</a> <a href="/economie">Économie</a> <a href="/sports">Sports</a></div>
<div id="contenu"><div class="article"><h1 class="titre">{E(s["title"])}</h1><p class="chapo">{E(s["lead"])}</p>
<p class="signature">Par Jean-Luc Mercier</p><div class="texte">{paragraphs_html(s["paragraphs"])}</div>
<div class="sur-le-meme-sujet"><h4>Sur le même sujet</h4><a href="/economie/2022/07/12/la-secheresse-inquiete-les-vignerons">La sécheresse inquiète les vignerons</a></div></div></div>
<div id="pied">© Le Bien Public 2022 – Mentions légales</div></body></html>"""
    expected = expected_record(
        url,
        s,
        published="2022-08-29T06:45:00+02:00",
        authors=["Jean-Luc Mercier"],
        tags=["Viticulture", "Bourgogne"],
        related=[
            {
                "url": "https://www.le-bien-public.example/economie/2022/07/12/la-secheresse-inquiete-les-vignerons",
                "title": "La sécheresse inquiète les vignerons",
            }
        ],
    )
    return page, expected, {"encoding": "cp1252", "url": url, "content_type": "text/html"}


def german_latin1_header() -> tuple[str, dict, dict]:
    """A German page whose only charset declaration is the HTTP header (ISO-8859-1)."""
    s = STORIES["de_bruecke"]
    url = "https://www.rheinzeitung.example/region/sanierung-rheinbruecke-dauert-laenger-_arid,2261.html"
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": s["title"],
        "datePublished": "2023-02-06T17:20:00+01:00",
        "author": {"@type": "Person", "name": "Katrin Vogel"},
        "publisher": {"@type": "Organization", "name": "Rhein-Zeitung"},
    }
    page = f"""<!DOCTYPE html><html lang="de"><head><title>{E(s["title"])} | Rhein-Zeitung</title>{jsonld(ld)}</head><body>
{chrome_top("Rhein-Zeitung")}<main><article class="article"><header><h1 class="article__headline">{E(s["title"])}</h1>
<p class="article__intro">{E(s["lead"])}</p><p class="article__author">Von Katrin Vogel</p></header>
<div class="article__body">{paragraphs_html(s["paragraphs"])}</div>
<section class="article__related"><h3>Mehr zum Thema</h3><a href="/region/umleitung-fuer-pendler-_arid,2203.html">Umleitung für Pendler ab Montag</a></section>
</article></main>{chrome_bottom("Rhein-Zeitung")}</body></html>"""
    expected = expected_record(
        url,
        s,
        published="2023-02-06T17:20:00+01:00",
        authors=["Katrin Vogel"],
        related=[
            {
                "url": "https://www.rheinzeitung.example/region/umleitung-fuer-pendler-_arid,2203.html",
                "title": "Umleitung für Pendler ab Montag",
            }
        ],
    )
    return page, expected, {"encoding": "cp1252", "url": url, "content_type": "text/html; charset=ISO-8859-1"}


def japanese_sjis() -> tuple[str, dict, dict]:
    """A Japanese news page in Shift_JIS (legacy portal layout) with a 関連記事 list."""
    s = STORIES["ja_typhoon"]
    url = "https://news.nihon-shimbun.example/article/20190814/k10012033.html"
    page = f"""<!DOCTYPE html><html lang="ja"><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">
<title>{E(s["title"])}｜日本新聞</title><meta name="pubdate" content="2019-08-14T06:00:00+09:00">
<meta name="keywords" content="台風,気象,九州"></head><body><div id="header"><a href="/">日本新聞</a><ul class="gnav"><li><a href="/politics/">政治</a></li><li><a href="/economy/">経済</a></li></ul></div>
<div id="main"><div class="article"><h1>{E(s["title"])}</h1><p class="date">2019年8月14日 6時00分</p>
<p class="lead">{E(s["lead"])}</p><div class="ArticleText">{paragraphs_html(s["paragraphs"])}</div>
<div class="related"><h2>関連記事</h2><ul><li><a href="/article/20190813/k10012031.html">台風10号 お盆のUターンに影響も</a></li></ul></div></div></div>
<div id="footer">Copyright 日本新聞社</div></body></html>"""
    expected = expected_record(
        url,
        s,
        published="2019-08-14T06:00:00+09:00",
        authors=[],
        tags=["台風", "気象", "九州"],
        related=[
            {
                "url": "https://news.nihon-shimbun.example/article/20190813/k10012031.html",
                "title": "台風10号 お盆のUターンに影響も",
            }
        ],
    )
    return page, expected, {"encoding": "shift_jis", "url": url, "content_type": "text/html"}


def legacy_table() -> tuple[str, dict, dict]:
    """A 2004-era table layout: font tags, byline 'By ...', a dateline in text and no structured data."""
    s = STORIES["floods"]
    url = "http://news.valleygazette.example/stories/2004/02/12/floods.shtml"
    rows = "".join(f'<p><font face="Arial" size="2">{E(p)}</font></p>' for p in s["paragraphs"])
    page = f"""<html><head><title>Valley Gazette - {E(s["title"])}</title></head>
<body bgcolor="#ffffff"><table width="760" border="0" cellpadding="0" cellspacing="0"><tr><td colspan="2"><a href="/"><img src="/img/masthead.gif" width="760" height="80" alt="Valley Gazette" border="0"></a></td></tr>
<tr><td width="150" valign="top" class="leftnav"><a href="/news/">News</a><br><a href="/sport/">Sport</a><br><a href="/weather/">Weather</a><br><a href="/classifieds/">Classifieds</a></td>
<td width="610" valign="top" class="storybody"><font face="Arial" size="4"><b>{E(s["title"])}</b></font><br>
<font face="Arial" size="1" class="byline">By Peter Hale</font><br><font face="Arial" size="1" class="date">Published: Thursday, 12 February 2004, 16:20 GMT</font>
<p><font face="Arial" size="2"><b>{E(s["lead"])}</b></font></p>{rows}
<p><font face="Arial" size="1"><a href="/stories/2004/02/12/print_floods.shtml">Printable version</a> | <a href="/email/">E-mail this story</a></font></p></td></tr>
<tr><td colspan="2" align="center"><font size="1">Copyright 2004 Valley Gazette Ltd.</font></td></tr></table></body></html>"""
    expected = expected_record(
        url,
        s,
        published="2004-02-12T16:20:00+00:00",
        authors=["Peter Hale"],
        lead=None,
        paragraphs=[s["lead"], *s["paragraphs"]],
    )
    return page, expected, {}


def live_blog() -> tuple[str, dict, dict]:
    """A live blog: LiveBlogPosting JSON-LD and timestamped entries (newest first)."""
    s = STORIES["election"]
    url = "https://www.eveningpost.example/politics/live/2022/oct/09/regional-election-live"
    entries = [
        ("22:41", "2022-10-09T22:41:00+02:00", "Opposition waits for final count", s["paragraphs"][3]),
        (
            "21:05",
            "2022-10-09T21:05:00+02:00",
            "Coalition ahead with most ballots counted",
            s["paragraphs"][1] + " " + s["paragraphs"][2],
        ),
        ("18:30", "2022-10-09T18:30:00+02:00", "Record turnout", s["paragraphs"][0]),
    ]
    ld = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "headline": s["title"],
        "datePublished": "2022-10-09T08:00:00+02:00",
        "coverageStartTime": "2022-10-09T08:00:00+02:00",
        "author": [{"@type": "Person", "name": "Nora Feld"}],
        "liveBlogUpdate": [
            {"@type": "BlogPosting", "headline": h, "datePublished": iso, "articleBody": t} for _, iso, h, t in entries
        ],
    }
    blocks = "".join(
        f'<article class="block" id="block-{i}"><header class="block-time"><time datetime="{iso}">{hm}</time></header>'
        f'<h2 class="block-title">{E(h)}</h2><div class="block-elements"><p>{E(t)}</p></div></article>'
        for i, (hm, iso, h, t) in enumerate(entries)
    )
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{E(s["title"])} – live | Evening Post</title>
{jsonld(ld)}</head><body>{chrome_top("Evening Post")}<main><div class="liveblog"><h1>{E(s["title"])}</h1>
<div class="standfirst"><p>{E(s["lead"])}</p></div><p class="byline">Nora Feld</p>
<div class="live-blog-body" id="liveblog-body">{blocks}</div></div></main>{chrome_bottom("Evening Post")}</body></html>"""
    body = []
    for _, _, h, t in entries:
        body += [h, t]
    expected = expected_record(url, s, published="2022-10-09T08:00:00+02:00", authors=["Nora Feld"], paragraphs=body)
    return page, expected, {}


def gallery() -> tuple[str, dict, dict]:
    """A photo gallery: a short intro and several figures, each with caption and credit."""
    s = STORIES["drought"]
    url = "https://photo.agrarheute.example/galleries/2022/07/drought-third-month"
    pics = [
        ("Cracked soil in a field near the river.", "Photo: Marta Kowalczyk"),
        ("A dry irrigation channel outside the village.", "Photo: Reuters/Ivan Petrov"),
        ("Cattle waiting for feed at a farm in the southern plains.", "Photo: Reuters/Ivan Petrov"),
        ("The reservoir at its lowest level in twenty years.", "Photo: AFP"),
    ]
    figs = "".join(
        f'<figure class="gallery-item"><img src="/media/gallery/drought-{i}.jpg" width="1200" height="800" alt="">'
        f'<figcaption><span class="gallery-caption">{E(c)}</span> <span class="gallery-credit">{E(cr)}</span></figcaption></figure>'
        for i, (c, cr) in enumerate(pics)
    )
    ld = {
        "@context": "https://schema.org",
        "@type": "ImageGallery",
        "headline": s["title"],
        "datePublished": "2022-07-14T10:00:00+02:00",
    }
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{E(s["title"])} - Photo galleries</title>{jsonld(ld)}</head>
<body>{chrome_top("AgrarHeute")}<main class="gallery-page"><h1>{E(s["title"])}</h1><div class="gallery-intro"><p>{E(s["paragraphs"][0])}</p><p>{E(s["paragraphs"][1])}</p></div>
<div class="gallery">{figs}</div></main>{chrome_bottom("AgrarHeute")}</body></html>"""
    expected = expected_record(
        url,
        s,
        published="2022-07-14T10:00:00+02:00",
        authors=[],
        lead=None,
        paragraphs=s["paragraphs"][:2],
        images=[shown(c, cr) for c, cr in pics],
    )
    return page, expected, {}


def disqus_blog() -> tuple[str, dict, dict]:
    """A static-site blog post (Hugo/Jekyll) with Disqus comments and a date-only <time>."""
    s = STORIES["library"]
    url = "https://blog.campuslife.example/posts/overnight-reading-room/"
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{E(s["title"])} · Campus Life</title>
<meta name="description" content="{E(s["lead"])}"><meta name="generator" content="Hugo 0.92.0"></head><body>
<nav class="navbar"><a href="/">Campus Life</a><a href="/posts/">Posts</a><a href="/about/">About</a></nav>
<main><article class="post"><header class="post-header"><h1 class="post-title">{E(s["title"])}</h1>
<div class="post-meta"><time datetime="2021-05-03">May 3, 2021</time> · <span class="post-author">Jonas Meyer</span></div></header>
<div class="post-content">{paragraphs_html(s["paragraphs"])}</div>
<footer class="post-footer"><ul class="post-tags"><li><a href="/tags/library/">library</a></li><li><a href="/tags/exams/">exams</a></li></ul></footer></article>
<div id="disqus_thread"></div><script>var disqus_config = function () {{ this.page.url = '{url}'; this.page.identifier = 'posts/overnight-reading-room'; }};
(function() {{ var d = document, s = d.createElement('script'); s.src = 'https://campuslife.disqus.com/embed.js'; s.setAttribute('data-timestamp', +new Date()); (d.head || d.body).appendChild(s); }})();</script>
<noscript>Please enable JavaScript to view the <a href="https://disqus.com/?ref_noscript">comments powered by Disqus.</a></noscript></main>
<footer class="footer">© 2021 Campus Life</footer></body></html>"""
    expected = expected_record(
        url, s, published="2021-05-03T00:00:00+00:00", authors=["Jonas Meyer"], lead=None, tags=["library", "exams"]
    )
    return page, expected, {"widgets": [["disqus", "posts/overnight-reading-room"]]}


def widget_page(provider: str) -> tuple[str, dict, dict]:
    """A news page whose comments live in an embedded widget (Facebook, Spot.IM or Coral)."""
    key = {"facebook": "railstrike", "spotim": "startup", "coral": "drought"}[provider]
    s = STORIES[key]
    url = f"https://www.metronews.example/{provider}/2023/01/17/{key}-story"
    widget, thread = {
        "facebook": (
            f'<div class="fb-comments" data-href="{url}" data-numposts="5" data-width="100%"></div>'
            '<script async defer crossorigin="anonymous" src="https://connect.facebook.net/en_US/sdk.js#xfbml=1&version=v16.0"></script>',
            url,
        ),
        "spotim": (
            '<div data-spotim-module="conversation" data-post-id="art-77120" data-post-url="' + url + '"></div>'
            '<script async src="https://launcher.spot.im/spot/sp_AbC123xy" data-spotim-module="spotim-launcher" data-post-id="art-77120"></script>',
            "art-77120",
        ),
        "coral": (
            '<div id="coral_thread"></div><script>(function() { var d = document, s = d.createElement("script");'
            ' s.src = "https://talk.metronews.example/assets/js/embed.js"; s.onload = function() {'
            ' Coral.createStreamEmbed({ id: "coral_thread", autoRender: true, rootURL: "https://talk.metronews.example",'
            ' storyID: "story-8841", storyURL: "' + url + '" }); }; (d.head || d.body).appendChild(s); })();</script>',
            "story-8841",
        ),
    }[provider]
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": s["title"],
        "datePublished": "2023-01-17T06:15:00-05:00",
        "author": {"@type": "Person", "name": "Dana Whitfield"},
        "publisher": {"@type": "Organization", "name": "Metro News"},
    }
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{E(s["title"])} | Metro News</title>
<link rel="canonical" href="{url}">{jsonld(ld)}</head><body>{chrome_top("Metro News")}<main><article class="story">
<h1 class="story-headline">{E(s["title"])}</h1><h2 class="story-dek dek">{E(s["lead"])}</h2>
<div class="story-byline">By <a href="/staff/dana-whitfield" rel="author">Dana Whitfield</a></div>
<div class="story-body">{paragraphs_html(s["paragraphs"])}</div></article>
<section class="comments-section"><h3>Comments</h3>{widget}</section></main>{chrome_bottom("Metro News")}</body></html>"""
    expected = expected_record(url, s, published="2023-01-17T06:15:00-05:00", authors=["Dana Whitfield"])
    return page, expected, {"widgets": [[provider, thread]]}


def no_date_no_author() -> tuple[str, dict, dict]:
    """A plain page without any date or author (a council notice)."""
    s = STORIES["harbour"]
    url = "https://council.example/notices/harbour-redevelopment-decision.html"
    page = f"""<html><head><meta charset="utf-8"><title>Notice: harbour redevelopment decision</title></head><body>
<div id="top"><a href="/">City Council</a> | <a href="/notices/">Notices</a></div><div id="main"><h1>Harbour redevelopment decision</h1>
{paragraphs_html(s["paragraphs"][:4])}</div><div id="bottom">City Council, Town Hall Square 1</div></body></html>"""
    expected = expected_record(
        url,
        s,
        title="Harbour redevelopment decision",
        published=None,
        authors=[],
        lead=None,
        paragraphs=s["paragraphs"][:4],
    )
    return page, expected, {}


def microdata_article() -> tuple[str, dict, dict]:
    """schema.org microdata only: itemprop headline/author/datePublished and Comment items."""
    s = STORIES["startup"]
    url = "https://www.techbeat.example/startups/bike-sharing-raises-30-million"
    c = COMMENT_TEXTS
    comments = [
        ("c-5501", "rider42", c[3], "2019-09-02T12:10:00+02:00"),
        ("c-5502", "Ellen", c[7], "2019-09-02T13:44:00+02:00"),
    ]
    items = "".join(
        f'<div class="comment" id="{cid}" itemprop="comment" itemscope itemtype="http://schema.org/Comment">'
        f'<span class="comment-author" itemprop="author">{E(a)}</span> <meta itemprop="dateCreated" content="{iso}">'
        f'<div class="comment-text" itemprop="text">{"<br>".join(E(x) for x in t.split(chr(10)))}</div></div>'
        for cid, a, t, iso in comments
    )
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{E(s["title"])} — TechBeat</title></head><body>
{chrome_top("TechBeat")}<div class="wrap"><div class="post" itemscope itemtype="http://schema.org/NewsArticle">
<h1 itemprop="headline">{E(s["title"])}</h1><div class="meta">by <span itemprop="author" itemscope itemtype="http://schema.org/Person"><span itemprop="name">Leo Marchetti</span></span>
on <meta itemprop="datePublished" content="2019-09-02T09:00:00+02:00">September 2, 2019</div>
<div itemprop="articleBody">{paragraphs_html(s["paragraphs"])}</div>
<div class="comments"><h3>2 comments</h3>{items}</div></div></div>{chrome_bottom("TechBeat")}</body></html>"""
    expected = expected_record(
        url,
        s,
        published="2019-09-02T09:00:00+02:00",
        authors=["Leo Marchetti"],
        lead=None,
        comments=[comment_record(cid[2:], a, t, iso) for cid, a, t, iso in comments],
    )
    return page, expected, {}


def native_data_parent() -> tuple[str, dict, dict]:
    """A site-native flat comment list: data-comment-id / data-parent-id and 'reply to X' markers."""
    s = STORIES["railstrike"]
    url = "https://www.pendler.example/news/rail-workers-48-hour-strike-88213"
    c = COMMENT_TEXTS
    rows = [
        ("9001", None, None, "commuter_jo", c[1], "2024-02-07 08:12", "2024-02-07T08:12:00+01:00"),
        ("9002", "9001", "commuter_jo", "Hanna_S", c[6], "2024-02-07 08:30", "2024-02-07T08:30:00+01:00"),
        ("9003", None, None, "Ralf", c[4], "2024-02-07 09:01", "2024-02-07T09:01:00+01:00"),
        ("9004", "9002", "Hanna_S", "commuter_jo", c[2], "2024-02-07 09:15", "2024-02-07T09:15:00+01:00"),
    ]
    items = "".join(
        f'<div class="comment-item" data-comment-id="{cid}" data-parent-id="{parent or ""}"><div class="comment-head">'
        f'<span class="comment-user">{E(author)}</span> <span class="comment-date">{shown}</span>'
        + (f'<span class="comment-reply-to">reply to <a href="#c{parent}">{E(rto)}</a></span>' if parent else "")
        + f'</div><div class="comment-text">{"<br>".join(E(x) for x in text.split(chr(10)))}</div>'
        '<a class="comment-answer" href="#">Answer</a></div>'
        for cid, parent, rto, author, text, shown, _ in rows
    )
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": s["title"],
        "datePublished": "2024-02-07T06:40:00+01:00",
        "author": {"@type": "Organization", "name": "Pendler"},
    }
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{E(s["title"])}</title>{jsonld(ld)}</head><body>
{chrome_top("Pendler")}<main><article><h1>{E(s["title"])}</h1><p class="teaser">{E(s["lead"])}</p>
{paragraphs_html(s["paragraphs"])}</article><section class="user-comments"><h2>Comments (4)</h2>{items}</section></main>{chrome_bottom("Pendler")}</body></html>"""
    expected = expected_record(
        url,
        s,
        published="2024-02-07T06:40:00+01:00",
        # An organisation that is the only author the page names is kept, as on real pages ("DER SPIEGEL").
        authors=["Pendler"],
        comments=[comment_record(cid, a, t, iso, p, r) for cid, p, r, a, t, _, iso in rows],
    )
    return page, expected, {}


def opengraph_only() -> tuple[str, dict, dict]:
    """Only OpenGraph/article meta: published time, several article:tag, meta author; no <article> element."""
    s = STORIES["drought"]
    url = "https://www.farmjournal.example/news/drought-third-month?utm_source=rss"
    canonical = "https://www.farmjournal.example/news/drought-third-month"
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{E(s["title"])}</title>
<meta property="og:url" content="{canonical}"><meta property="og:title" content="{E(s["title"])}"><meta property="og:site_name" content="Farm Journal">
<meta property="article:published_time" content="2022-07-02T05:00:00-05:00"><meta property="article:tag" content="drought">
<meta property="article:tag" content="wheat"><meta property="article:tag" content="livestock"><meta name="author" content="Grace Lindqvist"></head>
<body>{chrome_top("Farm Journal")}<div class="page"><div class="story"><h1>{E(s["title"])}</h1><div class="story-text">{paragraphs_html(s["paragraphs"])}</div></div></div>
{chrome_bottom("Farm Journal")}</body></html>"""
    expected = expected_record(
        url,
        s,
        published="2022-07-02T05:00:00-05:00",
        authors=["Grace Lindqvist"],
        lead=None,
        canonical=canonical,
        tags=["drought", "wheat", "livestock"],
    )
    return page, expected, {}


def bbc_like() -> tuple[str, dict, dict]:
    """BBC-style components: data-component text blocks, byline block, time element, related links block."""
    s = STORIES["floods"]
    url = "https://www.broadcaster.example/news/uk-61234567"
    blocks = "".join(
        f'<div data-component="text-block" class="ssrcss-text"><p class="ssrcss-paragraph">{E(p)}</p></div>'
        for p in s["paragraphs"]
    )
    page = f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{E(s["title"])} - Broadcaster News</title>
<meta property="og:title" content="{E(s["title"])}"></head><body>{chrome_top("Broadcaster")}<main id="main-content"><article>
<header><h1 id="main-heading" class="ssrcss-headline">{E(s["title"])}</h1></header>
<div data-component="byline-block"><div class="ssrcss-contributor"><div>By Owen Price</div><div>Broadcaster News, Riverside</div></div></div>
<div data-component="timestamp-block"><time datetime="2020-02-16T09:31:22.000Z" data-testid="timestamp">16 February 2020</time></div>
<div data-component="image-block"><figure><img src="https://ichef.broadcaster.example/news/976/embankment.jpg" alt="Volunteers on the embankment" width="976" height="549"><span class="ssrcss-copyright" role="text">Getty Images</span>
<figcaption class="ssrcss-caption">Volunteers filled sandbags through the night</figcaption></figure></div>
{blocks}<section data-component="links-block"><h2>Related Internet Links</h2><ul><li><a href="https://floodwarning.example/river">River levels - Flood Warning Service</a></li></ul></section>
</article></main>{chrome_bottom("Broadcaster")}</body></html>"""
    expected = expected_record(
        url,
        s,
        published="2020-02-16T09:31:22+00:00",
        authors=["Owen Price"],
        lead=None,
        images=[{"caption": "Volunteers filled sandbags through the night", "credit": "Getty Images"}],
        related=[{"url": "https://floodwarning.example/river", "title": "River levels - Flood Warning Service"}],
    )
    return page, expected, {}


def bom_press_release() -> tuple[str, dict, dict]:
    """A UTF-8 page with a byte-order mark and no charset declaration anywhere."""
    s = STORIES["telescope"]
    url = "https://www.plateau-observatory.example/press/2022-06-21-first-image"
    page = f"""<!DOCTYPE html><html lang="en"><head><title>Press release: {E(s["title"])}</title></head><body>
<div class="topbar"><a href="/">Plateau Observatory</a> <a href="/press/">Press</a></div><div class="press-release">
<h1>{E(s["title"])}</h1><p class="release-date"><time datetime="2022-06-21T09:00:00-04:00">June 21, 2022</time></p>
{paragraphs_html(s["paragraphs"])}<p class="contact">Media contact: press@plateau-observatory.example</p></div></body></html>"""
    expected = expected_record(
        url,
        s,
        published="2022-06-21T09:00:00-04:00",
        authors=[],
        lead=None,
        paragraphs=[*s["paragraphs"], "Media contact: press@plateau-observatory.example"],
    )
    return page, expected, {"encoding": "utf-8-sig", "url": url, "content_type": "text/html"}


def jsonld_comments() -> tuple[str, dict, dict]:
    """Comments present only as JSON-LD Comment nodes (the visible list is rendered by script)."""
    s = STORIES["museum"]
    url = "https://artblog.example/2021/09/altarpiece-returns"
    c = COMMENT_TEXTS
    ld = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": s["title"],
        "datePublished": "2021-09-18T10:00:00+02:00",
        "author": {"@type": "Person", "name": "Ines Castro"},
        "commentCount": 2,
        "comment": [
            {
                "@type": "Comment",
                "@id": "cmt-31",
                "text": c[2],
                "dateCreated": "2021-09-18T12:00:00+02:00",
                "author": {"@type": "Person", "name": "Arne"},
            },
            {
                "@type": "Comment",
                "@id": "cmt-32",
                "text": c[5],
                "dateCreated": "2021-09-18T14:30:00+02:00",
                "author": {"@type": "Person", "name": "Bea"},
            },
        ],
    }
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{E(s["title"])}</title>{jsonld(ld)}</head><body>
<header><a href="/">Art Blog</a></header><main><article><h1>{E(s["title"])}</h1><p class="post-date">18 September 2021</p>
<div class="post-body">{paragraphs_html(s["paragraphs"])}</div></article><div id="comment-app" data-post="31"></div></main></body></html>"""
    expected = expected_record(
        url,
        s,
        published="2021-09-18T10:00:00+02:00",
        authors=["Ines Castro"],
        lead=None,
        comments=[
            comment_record("cmt-31", "Arne", c[2], "2021-09-18T12:00:00+02:00"),
            comment_record("cmt-32", "Bea", c[5], "2021-09-18T14:30:00+02:00"),
        ],
    )
    return page, expected, {}


BUILDERS: dict[str, Callable[[], tuple[str, dict, dict]]] = {
    "wordpress_html5_threaded": wordpress_html5,
    "wordpress_classic_commentlist": wordpress_classic,
    "newspaper_jsonld_persons": newspaper_jsonld,
    "wordpress_yoast_graph": yoast_graph,
    "guardian_style_photograph_credit": guardian_like,
    "amp_article": amp_page,
    "ru_windows1251_meta": lambda: russian_cp1251(True),
    "ru_windows1251_http_header_cackle": lambda: russian_cp1251(False),
    "fr_iso8859_1_meta": french_latin1,
    "de_iso8859_1_http_header": german_latin1_header,
    "ja_shift_jis": japanese_sjis,
    "legacy_table_layout_2004": legacy_table,
    "live_blog": live_blog,
    "photo_gallery": gallery,
    "blog_disqus_date_only": disqus_blog,
    "news_facebook_comments_widget": lambda: widget_page("facebook"),
    "news_spotim_widget": lambda: widget_page("spotim"),
    "news_coral_widget": lambda: widget_page("coral"),
    "notice_no_date_no_author": no_date_no_author,
    "microdata_article_comments": microdata_article,
    "native_comments_data_parent": native_data_parent,
    "opengraph_meta_only": opengraph_only,
    "broadcaster_components": bbc_like,
    "press_release_utf8_bom": bom_press_release,
    "blog_jsonld_comments": jsonld_comments,
}


def write_corpus(directory: Path = PAGES) -> list[str]:
    """Write every page, its expected record and (when needed) its meta file; return the names."""
    for name, build in BUILDERS.items():
        page, expected, extra = build()
        encoding = extra.pop("encoding", "utf-8")
        widgets = extra.pop("widgets", None)
        (directory / f"{name}.html").write_bytes(page.encode(encoding))
        (directory / f"{name}.expected.json").write_text(
            json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        meta: dict[str, Any] = dict(extra)
        if widgets:
            meta["comment_widgets"] = widgets
        if meta:
            (directory / f"{name}.meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return list(BUILDERS)


if __name__ == "__main__":
    print("\n".join(write_corpus()))
