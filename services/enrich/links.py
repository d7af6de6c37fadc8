"""Related-link canonicalisation: absolute, canonical targets with their natural keys."""

from __future__ import annotations

from collections.abc import Iterable

from shared.errors import InvalidURLError
from shared.records import LinkEdge, RelatedLink
from shared.urls import canonicalize_url, url_hash


def link_edges(links: Iterable[RelatedLink], page_url: str, *, kind: str = "related") -> list[LinkEdge]:
    """Edges for an article's links: resolved against the page URL, canonical, de-duplicated,
    links to the page itself and non-http(s) links dropped."""
    own = _canonical(page_url, None)
    seen: set[str] = set()
    edges: list[LinkEdge] = []
    for link in links:
        target = _canonical(link.url, page_url)
        if target is None or target == own:
            continue
        key = url_hash(target)
        if key in seen:
            continue
        seen.add(key)
        edges.append(LinkEdge(target_url=target, target_hash=key, anchor=link.title or None, kind=kind))
    return edges


def _canonical(url: str, base: str | None) -> str | None:
    try:
        return canonicalize_url(url, base)
    except InvalidURLError:
        return None
