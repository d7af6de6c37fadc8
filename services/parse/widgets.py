"""Comment widgets: embedded comment systems whose comments are not in the page's HTML.

`find_widgets` names each platform on the page (Disqus, Facebook, Coral, Spot.IM/OpenWeb,
Viafoura, VK, ...) with its thread id; `find_comment_threads` reads, for the platforms newsflow
can read, everything the page says about its thread there, the way the platform's own embed
reads it (Disqus: `disqus_config`'s `this.page.identifier`/`url` and the forum's embed.js host;
Viafoura: `<vf-conversations vf-container-id>` or `<meta name="vf:container_id">`, `vf:url`;
OpenWeb: the launcher's `sp_` spot id and `data-post-id`; Coral: `Coral.createStreamEmbed`'s
`rootURL`, `storyID`, `storyURL`). Pure: the result is a `CommentSource` per thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from services.parse.tree import class_id_text, marked
from shared.records import CommentSource, CommentWidget

MAX_SCRIPT = 200_000


def find_widgets(root: HtmlElement, page_url: str, marks: str | None = None) -> list[CommentWidget]:
    """Embedded comment systems (Disqus, Facebook, Coral, Spot.IM, ...) and their thread ids.

    `marks` is the page's class/id text (`tree.class_id_text`); without any widget marker in it,
    the scripts or the custom elements, the selector queries are skipped (most pages).
    """
    found: dict[str, str | None] = {}
    scripts = " ".join(s.text or "" for s in root.iter("script") if s.text and len(s.text) < 200_000)
    sources = " ".join(s.get("src", "") for s in root.iter("script"))
    blob = f"{scripts} {sources}"
    if marks is None:
        marks = class_id_text(root)
    if not (
        marked(marks, _WIDGET_MARK)
        or next(root.iter(*_WIDGET_TAGS), None) is not None
        or _SPOTIM_ATTRIBUTES(root)
        or any(hint in blob for hint in _WIDGET_HINTS)
    ):
        return []

    def add(provider: str, thread_id: str | None) -> None:
        if provider not in found or (found[provider] is None and thread_id):
            found[provider] = thread_id.strip() if thread_id else None

    containers = _widget_containers(root)
    for provider in _CONTAINER_ORDER:
        for thread_id in containers.get(provider, ()):
            add(provider, thread_id)
    for provider, pattern, group in _SCRIPT_WIDGETS:
        match = pattern.search(blob)
        if match:
            add(provider, group(match))
    if (
        "disqus" in found
        and found["disqus"] is None
        and "disqus.com/embed.js" not in blob
        and not containers.get("disqus_thread")
    ):
        del found["disqus"]
    return [CommentWidget(provider, thread_id) for provider, thread_id in found.items()]


# Every element the walk below may report, found by libxml2 rather than by visiting each element in Python.
_CONTAINER_CANDIDATES = etree.XPath(
    "//*[contains(@class, 'fb-comments') or contains(@class, 'viafoura') or @id='disqus_thread'"
    " or @data-spotim-module or @data-spot-im-module or @data-spotim-app or @id='coral_thread'"
    " or @id='coral-thread' or starts-with(@id, 'coral_talk') or starts-with(@id, 'vk_comments')"
    " or @id='mc-container' or @id='mc_container' or @id='hypercomments_widget' or starts-with(@id, 'vf-conv')"
    " or @id='commento' or name()='fb:comments']"
    " | //coral-stream | //vf-conversations | //meta[@name='vf:container_id']"
)
# Providers in the order their containers are reported (then script-only detections).
_CONTAINER_ORDER = ("facebook", "disqus", "spotim", "coral", "vk", "cackle", "hypercomments", "viafoura", "commento")


def _widget_containers(root: HtmlElement) -> dict[str, list[str | None]]:
    """Thread ids (or None) of each provider's container elements, in document order; one walk.

    Containers: `.fb-comments`/`<fb:comments>`, `#disqus_thread`, Spot.IM `data-spotim-*`, `#coral_thread`/
    `coral_talk*`/`<coral-stream>`, `vk_comments*`, Cackle `#mc-container`, `#hypercomments_widget`,
    Viafoura `vf-conv*`/`<vf-conversations>`/`.viafoura`, `#commento`.
    """
    hits: dict[str, list[str | None]] = {}
    for element in _CONTAINER_CANDIDATES(root):
        tag = element.tag
        ident = element.get("id") or ""
        classes = (element.get("class") or "").split()
        if "fb-comments" in classes or tag == "fb:comments":
            hits.setdefault("facebook", []).append(element.get("data-href") or element.get("href") or None)
        if ident == "disqus_thread":
            hits.setdefault("disqus", []).append(element.get("data-disqus-identifier") or None)
            hits.setdefault("disqus_thread", []).append(None)
        if any(element.get(name) is not None for name in _SPOTIM_NAMES):
            hits.setdefault("spotim", []).append(element.get("data-post-id") or None)
        if ident in {"coral_thread", "coral-thread"} or ident.startswith("coral_talk") or tag == "coral-stream":
            hits.setdefault("coral", []).append(element.get("data-story-id") or element.get("data-story-url") or None)
        if ident.startswith("vk_comments"):
            hits.setdefault("vk", []).append(None)
        if ident in {"mc-container", "mc_container"}:
            hits.setdefault("cackle", []).append(None)
        if ident == "hypercomments_widget":
            hits.setdefault("hypercomments", []).append(None)
        if ident.startswith("vf-conv") or tag == "vf-conversations" or "viafoura" in classes:
            hits.setdefault("viafoura", []).append(element.get("vf-container-id") or None)
        if tag == "meta" and element.get("name") == "vf:container_id":  # Postmedia's, Reach's pages
            hits.setdefault("viafoura", []).append((element.get("content") or "").strip() or None)
        if ident == "commento":
            hits.setdefault("commento", []).append(element.get("data-page-id") or None)
    return hits


# Class/id fragments, element names and attributes of every widget container selected below.
_WIDGET_MARK = (
    "fb-comments", "disqus_thread", "coral", "vk_comments", "mc-container", "mc_container", "hypercomments_widget",
    "vf-conv", "viafoura", "commento",
)  # fmt: skip
_WIDGET_TAGS = ("fb:comments", "coral-stream", "vf-conversations")
_SPOTIM_NAMES = ("data-spotim-module", "data-spot-im-module", "data-spotim-app")
_SPOTIM_ATTRIBUTES = etree.XPath(
    "//@data-spotim-module | //@data-spot-im-module | //@data-spotim-app", smart_strings=False
)
# Words of the widgets' loader scripts, as they are written (substring tests: far cheaper than a
# case-insensitive regex over every script of the page).
_WIDGET_HINTS = (
    "disqus", "Disqus", "DISQUS", "Coral.", "spot.im", "Spot.IM", "VK.Widgets", "cackle", "Cackle", "_hcwp",
    "fyre", "Fyre", "fb:comments",
)  # fmt: skip


def _group(index: int) -> Callable[[re.Match[str]], str | None]:
    return lambda match: match.group(index) if match.lastindex and match.lastindex >= index else None


_SCRIPT_WIDGETS: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    ("disqus", re.compile(r"""disqus_identifier\s*=\s*["']([^"']+)|page\.identifier\s*=\s*["']([^"']+)"""),
     lambda m: m.group(1) or m.group(2)),
    ("disqus", re.compile(r"[\w-]+\.disqus\.com/embed\.js"), lambda m: None),
    ("coral", re.compile(r"""Coral\.(?:Talk\.render|createStreamEmbed)\s*\((?:[^)]*?storyID\s*:\s*["']([^"']+))?"""),
     _group(1)),
    ("spotim", re.compile(r"launcher\.spot\.im/spot/(sp_\w+)"), lambda m: None),
    ("vk", re.compile(r"""VK\.Widgets\.Comments\s*\(\s*["'][^"']*["']\s*,\s*\{[^}]*\}\s*(?:,\s*["']?([\w-]+))?"""),
     _group(1)),
    ("cackle", re.compile(r"""cackle_widget\.push\(\s*\{[^}]*?channel\s*:\s*["']?([^"',}]+)"""), _group(1)),
    ("hypercomments", re.compile(r"""_hcwp\.push\(\s*\{[^}]*?xid\s*:\s*["']?([^"',}]+)"""), _group(1)),
    ("livefyre", re.compile(r"""fyre\.conv\.load|articleId\s*:\s*["']([^"']+)["'][^}]*?siteId"""), _group(1)),
    ("facebook", re.compile(r"""<fb:comments[^>]*href=["']([^"']+)"""), _group(1)),
)  # fmt: skip


# --- each platform's thread, as its embed reads it ---------------------------------------------------


def find_comment_threads(root: HtmlElement, page_url: str, widgets: list[CommentWidget]) -> list[CommentSource]:
    """One `CommentSource` per platform thread the page embeds, with the identifiers its embed uses;
    a platform whose identifiers are not all on the page gives none (nothing to ask for). Facebook's
    plugin is not one: it has no public read path (services/parse/providers records it unsupported)."""
    found = {w.provider for w in widgets}
    if not found & {"disqus", "viafoura", "spotim", "coral"}:
        return []
    blob = " ".join(s.text or "" for s in root.iter("script") if s.text and len(s.text) < MAX_SCRIPT)
    sources = [s.get("src", "") for s in root.iter("script") if s.get("src")]
    threads: list[CommentSource | None] = []
    widget_ids = {w.provider: w.thread_id for w in widgets}
    if "disqus" in found:
        threads.append(_disqus_thread(page_url, blob, sources, widget_ids.get("disqus")))
    if "viafoura" in found:
        threads.append(_viafoura_thread(root, page_url))
    if "spotim" in found:
        threads.append(_openweb_thread(root, page_url, sources))
    if "coral" in found:
        scripts = [s.text for s in root.iter("script") if s.text and "coralHost" in s.text]
        threads.append(_coral_thread(page_url, blob, sources, scripts))
    return [t for t in threads if t is not None]


_DISQUS_FORUM = re.compile(r"(?:https?:)?//([\w-]+)\.disqus\.com/(?:embed|count)\.js")
_DISQUS_SHORTNAME = re.compile(r"""disqus_shortname\s*=\s*["']([\w-]+)["']""")
_DISQUS_URL = re.compile(r"""(?:this\.page\.url|disqus_url)\s*=\s*["']([^"']+)["']""")


def _disqus_thread(page_url: str, blob: str, sources: list[str], identifier: str | None) -> CommentSource | None:
    """Disqus' `threads/listPosts` needs the forum (shortname) and the thread as `ident:` or `link:`."""
    forum = next((m.group(1) for m in map(_DISQUS_FORUM.search, [*sources, blob]) if m), None)
    shortname = _DISQUS_SHORTNAME.search(blob)
    forum = forum or (shortname.group(1) if shortname else None)
    if not forum:
        return None
    link = _DISQUS_URL.search(blob)
    url = urljoin(page_url, link.group(1)) if link else page_url
    thread = {"forum": forum, "ident": identifier} if identifier else {"forum": forum, "link": url}
    return CommentSource(url=url, provider="disqus", thread=thread)


def _viafoura_thread(root: HtmlElement, page_url: str) -> CommentSource | None:
    """Viafoura's live comments take the site's uuid (looked up by its host) and the container id."""
    container = next(
        (e.get("vf-container-id") for e in root.iter("vf-conversations") if e.get("vf-container-id")), None
    ) or _meta(root, "vf:container_id")
    if not container:
        return None
    article_url = _meta(root, "vf:url") or page_url
    host = urlsplit(urljoin(page_url, article_url)).hostname or urlsplit(page_url).hostname or ""
    thread = {"container_id": container.strip(), "site": host}
    return CommentSource(url=urljoin(page_url, article_url), provider="viafoura", thread=thread)


_SPOT_ID = re.compile(r"launcher\.spot\.im/spot/(sp_\w+)")
_SPOT = re.compile(r"sp_\w{1,64}", re.ASCII)
_HEADER_VALUE = re.compile(r"[\x21-\x7e]{1,200}")


def _openweb_thread(root: HtmlElement, page_url: str, sources: list[str]) -> CommentSource | None:
    """OpenWeb's conversation API takes the spot id (the launcher's `sp_...`) and the post id."""
    spot = next((m.group(1) for m in map(_SPOT_ID.search, sources) if m), None)
    post = post_url = None
    for element in _SPOTIM_ELEMENTS(root):
        spot = spot or element.get("data-spot-id")
        post = post or element.get("data-post-id")
        post_url = post_url or element.get("data-post-url")
    # Both travel as request headers: only what a header can carry (no hostile CR/LF from the page).
    if not spot or not post or not _SPOT.fullmatch(spot.strip()) or not _HEADER_VALUE.fullmatch(post.strip()):
        return None
    url = urljoin(page_url, post_url) if post_url else page_url
    return CommentSource(url=url, provider="openweb", thread={"spot_id": spot.strip(), "post_id": post.strip()})


_SPOTIM_ELEMENTS = etree.XPath("//*[@data-spotim-module or @data-spot-im-module or @data-spotim-app]")
_CORAL_CONFIG = re.compile(r"Coral\.(?:createStreamEmbed|Talk\.render)\s*\((?P<args>[^)]{0,2000})\)")
_CORAL_KEY = r"""\b{key}\s*:\s*["']([^"']+)["']"""
_CORAL_HOST = re.compile(r'"coralHost(?:Name)?"\s*:\s*"([\w.-]+\.[a-z]{2,})"')
_CORAL_SCRIPT = re.compile(r"^(https?://[^/]+)/(?:static|assets)/(?:js/)?embed\.js")


def _coral_thread(page_url: str, blob: str, sources: list[str], scripts: list[str]) -> CommentSource | None:
    """Coral's GraphQL API answers at the embed's `rootURL`; its story is looked up by id or by URL."""
    config = _CORAL_CONFIG.search(blob)
    args = config.group("args") if config else ""

    def value(key: str) -> str | None:
        match = re.search(_CORAL_KEY.format(key=key), args)
        return match.group(1).strip() if match else None

    root_url = value("rootURL") or next(
        (m.group(1) for m in map(_CORAL_SCRIPT.search, [urljoin(page_url, s) for s in sources]) if m), None
    )
    if not root_url:
        embed = re.search(r"""["']((?:https?:)?//[^"'/]+)/(?:static|assets)/(?:js/)?embed\.js""", blob)
        root_url = urljoin(page_url, embed.group(1)) if embed else None
    if not root_url:  # Condé Nast pages name the tenant in their (large) page config: "coralHostName": "..."
        host = next((m for m in map(_CORAL_HOST.search, scripts) if m), None)
        root_url = f"https://{host.group(1)}" if host else None
    if not root_url:
        return None
    story_url = urljoin(page_url, value("storyURL") or page_url)
    thread = {"root_url": urljoin(page_url, root_url).rstrip("/"), "story_url": story_url}
    if value("storyID"):
        thread["story_id"] = value("storyID") or ""
    return CommentSource(url=story_url, provider="coral", thread=thread)


def _meta(root: HtmlElement, name: str) -> str | None:
    for element in root.iter("meta"):
        if name in (element.get("name"), element.get("property")) and (element.get("content") or "").strip():
            return (element.get("content") or "").strip()
    return None
