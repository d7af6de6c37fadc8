"""Quality gate on real pages (`python -m bench.eval_enrich_real` prints the same measures): entity
precision and recall on the hand-labelled real pages, and the editors' topics recovered from title, lead
and body. Pinned minimums only go up."""

from __future__ import annotations

import pytest

from bench.eval_enrich_real import ENTITY_LABELS, evaluate_entities, evaluate_topics, topic_summary
from services.enrich.gazetteer import load_gazetteer
from services.enrich.scoring import load_labels

ENTITY_MINIMUMS = {"precision": 0.94, "recall": 0.78}
# Every language of the table holds the targets (precision 0.85, recall 0.60) on its own; the
# pins are what was reached (`python -m bench.eval_enrich_real`). Languages with one to four labelled pages
# (es, ja, ko, sv, it, da, fr, nl) move by a whole entity at a time: their pins say little beyond the targets.
LANGUAGE_MINIMUMS = {
    "de": (0.94, 0.84),
    "en": (0.93, 0.81),
    "no": (0.96, 0.75),
    "es": (1.00, 0.63),
    "ja": (0.93, 0.68),
    "ko": (0.92, 0.66),
    "sv": (1.00, 0.76),
    "it": (1.00, 0.80),
    "da": (1.00, 0.75),
    "fr": (0.92, 0.81),
    "nl": (0.91, 0.64),
}
TOPICS_MINIMUM = 0.42


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


def test_entities_on_hand_labelled_real_pages(gazetteer) -> None:
    pages = load_labels(ENTITY_LABELS)
    assert len(pages) >= 40 and len({p.language for p in pages}) >= 5
    table = evaluate_entities(pages, gazetteer)
    overall = table["all"]["all"]
    assert overall["precision"] >= ENTITY_MINIMUMS["precision"], table["all"]
    assert overall["recall"] >= ENTITY_MINIMUMS["recall"], table["all"]
    for language, (min_p, min_r) in LANGUAGE_MINIMUMS.items():
        scores = table[language]["all"]
        assert scores["precision"] >= min_p and scores["recall"] >= min_r, (language, scores)


def test_editors_topics_recovered_from_the_text(gazetteer) -> None:
    summary = topic_summary(evaluate_topics(gazetteer))
    assert summary["pages"] >= 100
    assert summary["recovered"] >= TOPICS_MINIMUM, summary
