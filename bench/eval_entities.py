"""Entity extraction scored on the labelled pages (tests/fixtures/entities): precision and recall per
kind, and milliseconds per article, for the shipped method and for the bare gazetteer without the
curated alias table. Run `python -m bench.eval_entities` (`make eval` calls it too)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from services.enrich.aliases import AliasTable
from services.enrich.entities import extract_entities
from services.enrich.gazetteer import Gazetteer, load_gazetteer
from services.enrich.scoring import LabelledPage, Score, load_labels, score_page, total

LABELS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "entities"


def evaluate(pages: list[LabelledPage], gazetteer: Gazetteer, repeat: int = 20) -> tuple[dict[str, Score], float]:
    """Scores per kind over `pages` and the mean milliseconds to extract one article."""
    results = []
    started = time.perf_counter()
    for _ in range(repeat):
        results = [extract_entities(page.title, page.lead, page.body_paragraphs, gazetteer) for page in pages]
    elapsed_ms = (time.perf_counter() - started) * 1000 / (repeat * len(pages))
    per_page = [
        score_page([(e.kind, e.name, e.aliases) for e in found], page.entities)
        for page, found in zip(pages, results, strict=True)
    ]
    return total(per_page), elapsed_ms


def main(argv: list[str] | None = None) -> int:
    """Print the score table (or JSON) for each method."""
    parser = argparse.ArgumentParser(prog="python -m bench.eval_entities", description=__doc__)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    pages = load_labels(LABELS)
    full = load_gazetteer()
    bare = Gazetteer(**{**{f: getattr(full, f) for f in full.__slots__}, "aliases": AliasTable()})
    report = {}
    for method, gazetteer in (("gazetteer+rules+aliases (shipped)", full), ("gazetteer+rules, no alias table", bare)):
        scores, ms = evaluate(pages, gazetteer)
        report[method] = {
            "ms_per_article": round(ms, 3),
            **{
                k: {
                    "precision": round(s.precision, 3),
                    "recall": round(s.recall, 3),
                    "tp": s.tp,
                    "fp": s.fp,
                    "fn": s.fn,
                }
                for k, s in scores.items()
            },
        }
    if args.json:
        print(json.dumps({"pages": len(pages), "methods": report}, indent=2))
        return 0
    print(f"entity extraction on {len(pages)} labelled pages ({LABELS})")
    for method, row in report.items():
        print(f"\n{method}: {row['ms_per_article']:.3f} ms/article")
        print(f"  {'kind':<14}{'precision':>10}{'recall':>8}{'tp':>5}{'fp':>5}{'fn':>5}")
        for kind in ("person", "place", "organisation", "all"):
            s = row[kind]
            print(f"  {kind:<14}{s['precision']:>10.3f}{s['recall']:>8.3f}{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
