"""Precision and recall of extracted entities against labelled pages (tests/fixtures/entities).

Labels are per document: the set of canonical entities of each kind; "A|B" lists spellings of one
entity. Shared by `python -m bench.eval_entities`, the quality gate in the unit tests and the e2e test.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from services.enrich.aliases import ENTITY_KINDS
from services.enrich.tags import tag_key


@dataclass(frozen=True, slots=True)
class LabelledPage:
    """One labelled page: its name, source, text and the entities a reader finds in it."""

    name: str
    source: str
    title: str | None
    lead: str | None
    body_paragraphs: tuple[str, ...]
    entities: dict[str, tuple[str, ...]]
    language: str | None = None
    kinds: tuple[str, ...] = ENTITY_KINDS


@dataclass(frozen=True, slots=True)
class Score:
    """Counts of one kind over all pages, with precision and recall."""

    kind: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load_labels(directory: Path) -> list[LabelledPage]:
    """Every labelled page in `directory` (*.json), by file name."""
    pages = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        pages.append(
            LabelledPage(
                name=path.stem,
                source=data["source"],
                title=data.get("title"),
                lead=data.get("lead"),
                body_paragraphs=tuple(data.get("body_paragraphs") or ()),
                entities={k: tuple(data["entities"].get(k) or ()) for k in ENTITY_KINDS},
                language=data.get("language"),
                kinds=tuple(data.get("kinds") or ENTITY_KINDS),
            )
        )
    return pages


def score_page(
    predicted: Iterable[tuple[str, str, Iterable[str]]],
    labels: Mapping[str, Iterable[str]],
    kinds: Iterable[str] = ENTITY_KINDS,
) -> dict[str, tuple[int, int, int]]:
    """(tp, fp, fn) per kind for one page; `predicted` holds (kind, name, aliases) per entity, and a
    prediction matches a label when its name or any alias folds to one of the label's spellings.
    Only the labelled `kinds` are scored (a page labelled for places only says nothing of people)."""
    out: dict[str, tuple[int, int, int]] = {}
    for kind in kinds:
        wanted = [{tag_key(s) for s in label.split("|")} for label in labels.get(kind, ())]
        matched: set[int] = set()
        fp = 0
        for p_kind, name, aliases in predicted:
            if p_kind != kind:
                continue
            keys = {tag_key(name), *(tag_key(a) for a in aliases)}
            hit = next((i for i, spellings in enumerate(wanted) if i not in matched and keys & spellings), None)
            if hit is None:
                fp += 1
            else:
                matched.add(hit)
        out[kind] = (len(matched), fp, len(wanted) - len(matched))
    return out


def total(per_page: Iterable[Mapping[str, tuple[int, int, int]]]) -> dict[str, Score]:
    """Per-kind scores summed over pages, plus 'all'."""
    sums = {k: [0, 0, 0] for k in (*ENTITY_KINDS, "all")}
    for page in per_page:
        for kind, counts in page.items():
            for target in (kind, "all"):
                for i, n in enumerate(counts):
                    sums[target][i] += n
    return {k: Score(k, *v) for k, v in sums.items()}
