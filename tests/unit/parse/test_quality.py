"""Quality gate: per-field F1 over the fixture corpus must not fall below the pinned minimums.

The minimums can only go up: when a change raises a score, raise its floor here in the same change.
Body F1 must also stay at or above trafilatura's own on the same pages.
"""

from __future__ import annotations

import logging

import pytest

from bench.eval_parse import evaluate_newsflow, evaluate_trafilatura, load_corpus

MIN_F1 = {
    "body": 0.999,
    "title": 1.0,
    "lead": 1.0,
    "published_at": 1.0,
    "authors": 1.0,
    "tags": 1.0,
    "related_links": 1.0,
    "images": 1.0,
    "comments": 1.0,
}
MIN_PAGES = 32


@pytest.fixture(scope="module")
def pages() -> list:
    logging.disable(logging.CRITICAL)
    try:
        return load_corpus()
    finally:
        logging.disable(logging.NOTSET)


def test_corpus_is_large_enough(pages: list) -> None:
    assert len(pages) >= MIN_PAGES


@pytest.mark.parametrize("field", sorted(MIN_F1))
def test_field_f1_at_least_pinned(pages: list, field: str) -> None:
    score = evaluate_newsflow(pages).fields[field]
    assert score.f1 >= MIN_F1[field], f"{field}: P={score.precision:.3f} R={score.recall:.3f} F1={score.f1:.3f}"


def test_body_f1_at_least_trafilatura(pages: list) -> None:
    ours = evaluate_newsflow(pages).fields["body"].f1
    theirs = evaluate_trafilatura(pages).fields["body"].f1
    assert ours >= theirs
