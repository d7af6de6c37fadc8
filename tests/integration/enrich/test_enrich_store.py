"""Enrichment writes on a real store: entities, key phrases, fingerprints, duplicates and link resolution."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from sqlalchemy import func, select, update

from services.demosite.wire import ORIGINAL_PATH, wire_article
from services.enrich.fingerprint import fingerprint, similarity
from services.enrich.links import link_edges, match_hashes, slash_variant
from shared import models
from shared.records import ArticleRecord, RelatedLink
from shared.store import articles, enrichment, frontier, graph, views
from shared.urls import url_hash

PAGES = Path(__file__).parents[2] / "fixtures" / "pages"
SITE = json.loads((Path(__file__).parents[3] / "services" / "demosite" / "articles.json").read_text())
BASE = "https://news.example.com"


def record(path: str, **changes) -> ArticleRecord:
    seed = ArticleRecord.from_dict(
        json.loads((PAGES / "sputnik_2017_tillerson_lavrov.expected.json").read_text(encoding="utf-8"))
    )
    return dataclasses.replace(seed, url=BASE + path, canonical_url=BASE + path, comments=(), **changes)


def add(session, path: str, **changes) -> int:
    return articles.upsert_article(session, record(path, **changes), None).article_id


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_entities_and_keywords_are_shared_and_set_exactly(session):
    first, second = add(session, "/a/"), add(session, "/b/")
    lavrov = enrichment.EntityRow("sergei lavrov", "Sergei Lavrov", "person", ("Sergey Lavrov",), 3)
    bonn = enrichment.EntityRow("bonn", "Bonn", "place", (), 1)
    for _ in range(2):
        enrichment.set_article_entities(session, first, [lavrov, bonn])
    enrichment.set_article_entities(session, second, [dataclasses.replace(lavrov, aliases=("Lavrov",), mentions=1)])
    assert count(session, models.Entity) == 2 and count(session, models.ArticleEntity) == 3
    entity = session.execute(select(models.Entity).where(models.Entity.key == "sergei lavrov")).scalar_one()
    assert entity.aliases == ["Sergey Lavrov", "Lavrov"]
    enrichment.set_article_entities(session, first, [bonn])
    assert count(session, models.ArticleEntity) == 2 and count(session, models.Entity) == 2

    keywords = [enrichment.KeywordRow("g20 ministerial", "G20 ministerial", 1.0)]
    enrichment.set_article_keywords(session, first, keywords)
    enrichment.set_article_keywords(session, first, keywords)
    tag = session.execute(select(models.Tag).where(models.Tag.key == "g20 ministerial")).scalar_one()
    assert tag.kind == "topic" and count(session, models.ArticleKeyword) == 1
    view = enrichment.enrichment_view(session, first)
    assert view["entities"] == [{"key": "bonn", "name": "Bonn", "kind": "place", "aliases": [], "mentions": 1}]
    assert view["keywords"] == [{"key": "g20 ministerial", "name": "G20 ministerial", "score": 1.0}]


def test_near_duplicates_are_found_through_stored_bands(session):
    original = next(a for a in SITE["related"] if a["path"] == ORIGINAL_PATH)
    texts = {
        "/original/": "\n\n".join([original["lead"], *original["body"]]),
        "/wire/": "\n\n".join([wire_article()["lead"], *wire_article()["body"]]),
        "/other/": "\n\n".join([SITE["related"][1]["lead"], *SITE["related"][1]["body"]]),
    }
    ids = {}
    for path, text in texts.items():
        ids[path] = article_id = add(session, path)
        fp = fingerprint(text)
        enrichment.lock_bands(session, fp.bands)
        assert enrichment.set_fingerprint(session, article_id, fp.signature, fp.bands, fp.shingles, "h" + path)
        assert not enrichment.set_fingerprint(session, article_id, fp.signature, fp.bands, fp.shingles, "h" + path)
        for other_id, signature in enrichment.candidate_signatures(session, article_id, fp.bands):
            score = similarity(fp.signature, tuple(signature))
            if score >= 0.6:
                assert graph.link_duplicates(session, [(article_id, other_id, score)]) == 1
                assert graph.link_duplicates(session, [(article_id, other_id, score)]) == 0  # recorded once
    pairs = session.execute(select(models.ArticleDuplicate.article_id, models.ArticleDuplicate.duplicate_of_id)).all()
    assert pairs == [(ids["/wire/"], ids["/original/"])]
    view = views.article_view(session, ids["/original/"])
    assert [(link["article_id"], link["kind"]) for link in view["links_in"]] == [(ids["/wire/"], "duplicate")]
    assert enrichment.enrichment_view(session, ids["/original/"])["duplicates"][0]["role"] == "copied_by"


def test_links_resolve_through_slash_twins_and_followed_redirects(session):
    seed = add(session, "/seed/")
    slashed = add(session, "/stored-with-slash/")
    links = [
        RelatedLink("/stored-with-slash", "twin"),  # the site serves both forms; stored with the slash
        RelatedLink("https://sho.rt/abc", "short"),  # a short link; the fetch stage follows it later
        RelatedLink("/later", "later"),  # stored later without a slash, linked without one
    ]
    edges = link_edges(links, BASE + "/seed/")
    graph.set_article_links(session, seed, edges, exact_kinds=("related",))
    variants = {e.target_hash: url_hash(v) for e in edges if (v := slash_variant(e.target_url))}
    assert graph.resolve_links(session, seed, url_hash(BASE + "/seed/"), target_variants=variants) == (1, 0)
    assert graph.unresolved_targets(session, seed) == ["https://sho.rt/abc", BASE + "/later"]

    # The short link was queued and its fetch ended (after redirects) at an article.
    short = frontier.enqueue_url(session, "https://sho.rt/abc", source="related", depth=1)
    target = add(session, "/long-story/")
    session.execute(update(models.Url).where(models.Url.id == short.url_id).values(article_id=target))
    assert graph.resolve_links(session, target, url_hash(BASE + "/long-story/")) == (0, 1)
    later = add(session, "/later/")
    assert graph.resolve_links(
        session, later, url_hash(BASE + "/later/"), alias_hashes=match_hashes(BASE + "/later/")[1:]
    ) == (0, 1)
    resolved = session.execute(
        select(models.Link.anchor, models.Link.target_article_id).order_by(models.Link.position)
    ).all()
    assert resolved == [("twin", slashed), ("short", target), ("later", later)]

    # The page drops a related link: the edge goes, a re-run changes nothing.
    graph.set_article_links(session, seed, edges[:2], exact_kinds=("related",))
    graph.set_article_links(session, seed, edges[:2], exact_kinds=("related",))
    assert count(session, models.Link) == 2


def test_resolved_language_replaces_the_declaration(session):
    article_id = add(session, "/lang/", language="en")
    assert enrichment.set_article_language(session, article_id, "zu") is True
    assert enrichment.set_article_language(session, article_id, "zu") is False  # twice: nothing changes
    stored = session.execute(select(models.Article.language).where(models.Article.id == article_id)).scalar_one()
    assert stored == "zu"
    assert enrichment.set_article_language(session, article_id, None) is True
    assert session.execute(select(models.Article.language).where(models.Article.id == article_id)).scalar_one() is None
