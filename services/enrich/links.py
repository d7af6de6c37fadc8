"""Related-link canonicalisation and the link-following policy: pure functions over typed records.

Targets are absolutised against the page URL and canonicalised (shared.urls: scheme and host case,
default ports, utm_* and click ids, fragments). Trailing slashes are matched in the store: a link to
/a and an article stored at /a/ on the same host are the same page (`slash_variant`). Redirects and
short links are followed by the fetch stage under its address guard; the store then matches the edge
through the frontier row of the URL as linked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from shared.errors import InvalidURLError
from shared.records import LinkEdge, RelatedLink
from shared.urls import canonicalize_url, url_hash, url_host


@dataclass(frozen=True, slots=True)
class FollowPolicy:
    """Which unresolved link targets to queue: hops from the seed, hosts, and a per-article budget.
    Empty `allow_hosts` means the linking page's own host; "*" allows any host."""

    max_depth: int = 1
    allow_hosts: frozenset[str] = frozenset()
    budget: int = 20

    @classmethod
    def from_settings(cls, max_depth: int, allow_hosts: str, budget: int) -> FollowPolicy:
        """Build from the NEWSFLOW_LINK_FOLLOW_* settings."""
        hosts = frozenset(h.strip().lower() for h in allow_hosts.split(",") if h.strip())
        return cls(max_depth=max_depth, allow_hosts=hosts, budget=budget)

    def allows(self, target: str, page_url: str) -> bool:
        """True when `target`'s host may be followed from `page_url`."""
        host = url_host(target)
        if "*" in self.allow_hosts:
            return True
        if not self.allow_hosts:
            return host == url_host(page_url)
        return any(host == allowed or host.endswith("." + allowed) for allowed in self.allow_hosts)


def link_edges(links: Iterable[RelatedLink], page_url: str, *, kind: str = "related") -> list[LinkEdge]:
    """Edges for an article's links: resolved against the page URL, canonical, de-duplicated,
    links to the page itself and non-http(s) links dropped."""
    own = _canonical(page_url, None)
    own_variant = slash_variant(own) if own else None
    seen: set[str] = set()
    edges: list[LinkEdge] = []
    for link in links:
        target = _canonical(link.url, page_url)
        if target is None or target in (own, own_variant):
            continue
        key = url_hash(target)
        if key in seen:
            continue
        seen.add(key)
        edges.append(LinkEdge(target_url=target, target_hash=key, anchor=(link.title or "").strip() or None, kind=kind))
    return edges


def slash_variant(canonical_url: str) -> str | None:
    """The same URL with its path's trailing slash toggled ('/a' <-> '/a/'); None for the root or
    a path whose last segment looks like a file ('/a.html')."""
    parts = urlsplit(canonical_url)
    path = parts.path
    if path in ("", "/"):
        return None
    if path.endswith("/"):
        other = path.rstrip("/") or "/"
    else:
        if "." in path.rsplit("/", 1)[-1]:
            return None
        other = path + "/"
    return urlunsplit((parts.scheme, parts.netloc, other, parts.query, ""))


def match_hashes(canonical_url: str) -> tuple[str, ...]:
    """Natural keys under which a link to or an article at `canonical_url` is matched."""
    variant = slash_variant(canonical_url)
    return (url_hash(canonical_url),) if variant is None else (url_hash(canonical_url), url_hash(variant))


def select_follow(targets: Sequence[str], page_url: str, page_depth: int, policy: FollowPolicy) -> list[str]:
    """The targets that may be queued at depth page_depth + 1 (within depth, allowed hosts), in order;
    the caller stops after `policy.budget` of them were new to the frontier."""
    if page_depth + 1 > policy.max_depth or policy.budget <= 0:
        return []
    return [t for t in targets if policy.allows(t, page_url)]


def _canonical(url: str, base: str | None) -> str | None:
    try:
        return canonicalize_url(url, base)
    except InvalidURLError:
        return None
