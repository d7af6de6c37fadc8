"""Related-link canonicalisation and the follow policy."""

from __future__ import annotations

import pytest

from services.enrich.links import FollowPolicy, link_edges, match_hashes, select_follow, slash_variant
from shared.records import RelatedLink
from shared.urls import url_hash

PAGE = "https://News.example.com:443/politics/seed/"


@pytest.mark.parametrize(
    ("href", "target"),
    [
        ("/politics/a/?utm_source=x&id=2#comments", "https://news.example.com/politics/a/?id=2"),
        ("HTTPS://NEWS.EXAMPLE.COM:443/b", "https://news.example.com/b"),
        ("../c?fbclid=1", "https://news.example.com/politics/c"),
        ("//other.example.org/d", "https://other.example.org/d"),
    ],
)
def test_targets_are_absolute_and_canonical(href: str, target: str) -> None:
    [edge] = link_edges([RelatedLink(href, " Title ")], PAGE)
    assert (edge.target_url, edge.target_hash, edge.anchor, edge.kind) == (target, url_hash(target), "Title", "related")


def test_self_links_duplicates_and_bad_links_dropped() -> None:
    links = [RelatedLink(u, "t") for u in ("/politics/seed", "/x", "/x#top", "mailto:a@b.c", "javascript:void(0)")]
    assert [e.target_url for e in link_edges(links, PAGE)] == ["https://news.example.com/x"]


@pytest.mark.parametrize(
    ("url", "variant"),
    [
        ("https://a.example/x/", "https://a.example/x"),
        ("https://a.example/x?q=1", "https://a.example/x/?q=1"),
        ("https://a.example/", None),
        ("https://a.example/x.html", None),
    ],
)
def test_slash_variant(url: str, variant: str | None) -> None:
    assert slash_variant(url) == variant
    assert match_hashes(url)[0] == url_hash(url)


def test_follow_policy() -> None:
    targets = ["https://news.example.com/a", "https://cdn.other.org/b", "https://news.example.com/c"]
    same_site = FollowPolicy(max_depth=1, budget=10)
    assert select_follow(targets, PAGE, 0, same_site) == [targets[0], targets[2]]
    assert select_follow(targets, PAGE, 1, same_site) == []  # a page at depth 1 queues nothing more
    allowed = FollowPolicy.from_settings(2, "other.org", 10)
    assert select_follow(targets, PAGE, 1, allowed) == [targets[1]]
    assert select_follow(targets, PAGE, 0, FollowPolicy.from_settings(1, "*", 10)) == targets
    assert select_follow(targets, PAGE, 0, FollowPolicy(max_depth=1, budget=0)) == []
