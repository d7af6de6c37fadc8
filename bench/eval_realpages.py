"""newsflow beside trafilatura on real publisher pages with independent expectations.

Run `python -m bench.eval_realpages [--per-page OUT.jsonl] [--worse]`. The pages and expectations are
`tests/fixtures/realpages/` (real pages of many publishers, expectations made by people outside this
project; see its README); scores come from `bench/realpages_score.py`, the set's own scorer. These are
the numbers that say how newsflow does on real sites; the generated corpus (`bench.eval_parse`) is only a
regression gate for the layouts it was written with.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import realpages_score

REALPAGES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "realpages"
FIELDS = realpages_score.FIELDS
TRAFILATURA_FIELDS = ("title", "authors", "date", "day", "tags", "body")


@dataclass(frozen=True, slots=True)
class Case:
    """One real page: its id, URL, raw bytes and the fields people checked for it."""

    id: str
    url: str
    html: bytes
    expected: dict[str, Any]


def load_cases(directory: Path = REALPAGES) -> list[Case]:
    """Every case of the set with its page bytes (gunzipped)."""
    cases = []
    for line in (directory / "cases.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        html = gzip.decompress((directory / "pages" / f"{row['id']}.html.gz").read_bytes())
        cases.append(Case(row["id"], row["url"], html, row["expected"]))
    return cases


def predict_newsflow(case: Case) -> dict[str, Any]:
    """newsflow's record for a page as the scorer reads it (an empty record on ParseError)."""
    from services.parse.article import parse_article
    from shared.errors import ParseError

    try:
        return parse_article(case.html, case.url).to_dict()
    except ParseError:
        return {}


def predict_trafilatura(case: Case) -> dict[str, Any]:
    """trafilatura 2.x alone, mapped to the scorer's keys: metadata from its defaults (`bare_extraction`,
    metadata on; `favor_precision` loses tags), the body from `favor_precision=True`, its best setting here."""
    from trafilatura import bare_extraction

    from services.parse.charset import decode_html

    html = decode_html(case.html)
    doc = bare_extraction(html, url=case.url, with_metadata=True)
    precise = bare_extraction(html, url=case.url, favor_precision=True)
    if not doc:
        return {}
    return {
        "title": doc.title,
        "authors": [a.strip() for a in (doc.author or "").split(";") if a.strip()],
        "published_at": doc.date,
        "tags": [t.strip() for t in [*(doc.categories or []), *(doc.tags or [])] if t.strip()],
        "body_text": (precise.text if precise else "") or "",
    }


def score_all(cases: list[Case], predict: Callable[[Case], dict[str, Any]]) -> list[dict[str, float]]:
    """Per-page scores (the scorer's fields each page pins) in the order of the cases."""
    return [realpages_score.score(case.expected, predict(case)) for case in cases]


def means(rows: list[dict[str, float]]) -> dict[str, tuple[int, float]]:
    """(pages, mean score) per field over the pages that pin it."""
    out = {}
    for name in FIELDS:
        values = [row[name] for row in rows if name in row]
        if values:
            out[name] = (len(values), sum(values) / len(values))
    return out


def body_regressions(
    cases: list[Case], ours: list[dict[str, float]], theirs: list[dict[str, float]], margin: float = 0.05
) -> Iterator[tuple[str, float, float]]:
    """Pages whose body F1 is more than `margin` below trafilatura's on the same page."""
    for case, a, b in zip(cases, ours, theirs, strict=True):
        if "body" in a and a["body"] < b.get("body", 0.0) - margin:
            yield case.id, a["body"], b["body"]


def format_table(ours: dict[str, tuple[int, float]], theirs: dict[str, tuple[int, float]], pages: int) -> str:
    """The comparison table printed by `make eval`."""
    lines = [
        f"REAL PAGES: {pages} publisher pages, independent expectations (tests/fixtures/realpages, mean per page)",
        f"{'field':<10}{'pages':>6}{'newsflow':>10}{'trafilatura':>13}",
    ]
    for name in FIELDS:
        if name not in ours:
            continue
        count, value = ours[name]
        other = f"{theirs[name][1]:.3f}" if name in TRAFILATURA_FIELDS and name in theirs else "-"
        lines.append(f"{name:<10}{count:>6}{value:>10.3f}{other:>13}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table (and optionally each page's scores); exit 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-page", help="write each page's scores (newsflow and trafilatura) as JSON lines")
    parser.add_argument("--worse", action="store_true", help="list pages whose body is >0.05 below trafilatura's")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)
    cases = load_cases()
    ours, theirs = score_all(cases, predict_newsflow), score_all(cases, predict_trafilatura)
    print(format_table(means(ours), means(theirs), len(cases)))
    if args.per_page:
        with open(args.per_page, "w", encoding="utf-8") as out:
            for case, a, b in zip(cases, ours, theirs, strict=True):
                out.write(json.dumps({"id": case.id, "newsflow": a, "trafilatura": b}, ensure_ascii=False) + "\n")
    if args.worse:
        for page, a, b in body_regressions(cases, ours, theirs):
            print(f"body below trafilatura: {page} newsflow {a:.3f} trafilatura {b:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
