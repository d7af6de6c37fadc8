"""A second fixture site: a wire service that syndicates one of the demo site's articles.

The copy keeps the original's text under another URL on another origin, with a dateline, a credit
line, a changed date phrase, another headline and the wire desk's own tag spellings ("Sergey Lavrov",
"U.S.", "G-20"): what near-duplicate detection and alias merging must see through.
"""

from __future__ import annotations

from typing import Any

from services.demosite.content import (
    HTML,
    SITE_LAST_MODIFIED,
    TEXT,
    SiteContent,
    _resource,
    load_articles,
    render_article,
)
from services.demosite.server import DemoSite

ORIGINAL_PATH = "/politics/201702151050718436-lavrov-tillerson-ukraine-bonn/"
WIRE_PATH = "/world/2017/02/15/russia-us-ministers-ukraine-bonn/"


def wire_article() -> dict[str, Any]:
    """The syndicated copy of the demo site's Lavrov-Tillerson article, as articles.json would hold it."""
    original = next(a for a in load_articles()["related"] if a["path"] == ORIGINAL_PATH)
    body = list(original["body"])
    body[0] = f"BONN, Feb 15 (Demo Wire) - {body[0]}"
    body[-1] = body[-1].replace("on Thursday", "on Thursday, February 16")
    body.append("(Reporting by the Demo Wire Moscow desk; editing by the Berlin desk)")
    return {
        **original,
        "path": WIRE_PATH,
        "id": "9000000001",
        "rubric": "world",
        "section": "World",
        "title": "Russia, US Top Diplomats to Talk Ukraine at G20 Meeting in Bonn",
        "body": body,
        "tags": [
            {"name": "Sergey Lavrov", "slug": "sergey-lavrov"},
            {"name": "U.S.", "slug": "us"},
            {"name": "G-20", "slug": "g-20"},
            {"name": "Ukraine", "slug": "ukraine"},
        ],
        "related": [],
        "comments": [],
        "views": 0,
    }


def build_wire_site(base_url: str) -> SiteContent:
    """The wire site's responses: its robots.txt and the syndicated article."""
    article = wire_article()
    page = render_article(article, {}, base_url).replace(b"Sputnik International", b"Demo Wire")
    resources = {
        "/robots.txt": _resource(200, TEXT, b"User-agent: *\nAllow: /\n", SITE_LAST_MODIFIED),
        WIRE_PATH: _resource(200, HTML, page, SITE_LAST_MODIFIED),
    }
    return SiteContent(resources=resources, seed_path="", seed_versions={})


class WireSite(DemoSite):
    """The wire site on its own port of 127.0.0.1; same server machinery as the demo site."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        self._content = build_wire_site(self.base_url)
