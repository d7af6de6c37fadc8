"""Per-field precision, recall and F1 of newsflow's parser and of trafilatura over the fixture corpus.

Run `python -m bench.eval_parse`. Body text is scored by word 3-gram shingles, lists (authors,
tags, related URLs, image captions, comment ids) by exact item match, dates by exact instant,
scalars (title, lead) by exact match. trafilatura is scored on the fields it gives.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

PAGES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pages"
FIELDS = ("body", "title", "lead", "published_at", "authors", "tags", "related_links", "images", "comments")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(slots=True)
class Score:
    """Accumulated true positives and the sizes of predicted and expected sets (micro-averaged)."""

    tp: float = 0.0
    predicted: float = 0.0
    expected: float = 0.0

    def add(self, tp: float, predicted: float, expected: float) -> None:
        """Add one page's counts."""
        self.tp += tp
        self.predicted += predicted
        self.expected += expected

    @property
    def precision(self) -> float:
        """Share of predicted items that are right (1.0 when nothing was predicted nor expected)."""
        return self.tp / self.predicted if self.predicted else float(self.expected == 0)

    @property
    def recall(self) -> float:
        """Share of expected items that were found."""
        return self.tp / self.expected if self.expected else float(self.predicted == 0)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Report:
    """Scores per field for one extractor."""

    fields: dict[str, Score] = field(default_factory=lambda: {name: Score() for name in FIELDS})


def load_corpus() -> list[tuple[str, bytes, str, str | None, dict[str, Any]]]:
    """(name, html, url, content_type, expected) for every page with an expected record."""
    pages = []
    for expected_path in sorted(PAGES.glob("*.expected.json")):
        name = expected_path.name.removesuffix(".expected.json")
        html_path = PAGES / f"{name}.html"
        if not html_path.exists():
            continue
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        meta_path = PAGES / f"{name}.meta.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        pages.append(
            (name, html_path.read_bytes(), meta.get("url") or expected["url"], meta.get("content_type"), expected)
        )
    return pages


def shingles(text: str, size: int = 3) -> Counter[tuple[str, ...]]:
    """Word n-gram multiset of a text (lower-cased), the unit of body scoring."""
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return Counter([tuple(words)]) if words else Counter()
    return Counter(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def score_body(report: Report, predicted: str, expected: str) -> None:
    """Shingle overlap of two texts."""
    got, want = shingles(predicted), shingles(expected)
    report.fields["body"].add(sum((got & want).values()), sum(got.values()), sum(want.values()))


def score_items(report: Report, name: str, predicted: Iterable[Any], expected: Iterable[Any]) -> None:
    """Exact-match overlap of two lists of hashable items."""
    got, want = Counter(predicted), Counter(expected)
    report.fields[name].add(sum((got & want).values()), sum(got.values()), sum(want.values()))


def score_value(report: Report, name: str, predicted: Any, expected: Any) -> None:
    """One optional value: a hit, a miss, a spurious value, or nothing on both sides."""
    report.fields[name].add(
        float(predicted is not None and predicted == expected),
        float(predicted is not None),
        float(expected is not None),
    )


def instant(value: str | None) -> datetime | None:
    """Parse an ISO date so that equal instants in different offsets compare equal."""
    return datetime.fromisoformat(value) if value else None


def body_of(record: dict[str, Any]) -> str:
    """Lead and body paragraphs as one text (the lead/body split is scored separately)."""
    parts = ([record["lead"]] if record.get("lead") else []) + list(record.get("body_paragraphs") or [])
    return "\n\n".join(parts)


def evaluate_newsflow(pages: list) -> Report:
    """Score `parse_article` on every page."""
    from services.parse.article import parse_article
    from shared.errors import ParseError

    report = Report()
    for _, html, url, content_type, expected in pages:
        try:
            got = parse_article(html, url, content_type=content_type).to_dict()
        except ParseError:
            got = {}
        score_body(report, body_of(got) if got else "", body_of(expected))
        score_value(report, "title", got.get("title"), expected.get("title"))
        score_value(report, "lead", got.get("lead"), expected.get("lead"))
        score_value(report, "published_at", instant(got.get("published_at")), instant(expected.get("published_at")))
        score_items(report, "authors", got.get("authors") or [], expected.get("authors") or [])
        score_items(report, "tags", got.get("tags") or [], expected.get("tags") or [])
        score_items(
            report,
            "related_links",
            [r["url"] for r in got.get("related_links") or []],
            [r["url"] for r in expected.get("related_links") or []],
        )
        score_items(
            report,
            "images",
            [(i.get("caption"), i.get("credit")) for i in got.get("images") or []],
            [(i.get("caption"), i.get("credit")) for i in expected.get("images") or []],
        )
        score_items(
            report,
            "comments",
            [
                (
                    c["id"],
                    c["author"],
                    " ".join(c["text"].split()),
                    c["parent_id"],
                    c["posted_at"] and instant(c["posted_at"]),
                )
                for c in got.get("comments") or []
            ],
            [
                (
                    c["id"],
                    c["author"],
                    " ".join(c["text"].split()),
                    c["parent_id"],
                    c["posted_at"] and instant(c["posted_at"]),
                )
                for c in expected.get("comments") or []
            ],
        )
    return report


def evaluate_trafilatura(pages: list) -> Report:
    """Score trafilatura on the fields it extracts (body, title, date, authors, tags)."""
    from trafilatura import bare_extraction

    from services.parse.charset import decode_html

    report = Report()
    for _, html, url, content_type, expected in pages:
        doc = bare_extraction(
            decode_html(html, content_type),
            url=url,
            with_metadata=True,
            date_extraction_params={
                "extensive_search": True,
                "original_date": True,
                "outputformat": "%Y-%m-%dT%H:%M:%S%z",
            },
        )
        text = (doc.text or "") if doc else ""
        score_body(report, text, body_of(expected))
        score_value(report, "title", doc.title if doc else None, expected.get("title"))
        published = None
        if doc and doc.date:
            try:
                published = instant(doc.date)
                published = published if published.tzinfo else None
            except ValueError:
                published = None
        score_value(report, "published_at", published, instant(expected.get("published_at")))
        authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()] if doc else []
        score_items(report, "authors", authors, expected.get("authors") or [])
        tags = [t.strip() for t in (doc.tags or []) if t.strip()] if doc else []
        score_items(report, "tags", tags, expected.get("tags") or [])
    return report


TRAFILATURA_FIELDS = ("body", "title", "published_at", "authors", "tags")


def format_table(newsflow: Report, trafilatura: Report, pages: int) -> str:
    """The comparison table printed by `make eval`."""
    lines = [
        f"GENERATED CORPUS (regression gate, written with the parser; not evidence of quality): {pages} pages,"
        " micro-averaged",
        f"{'field':<15}{'newsflow P':>11}{'R':>7}{'F1':>7}   {'trafilatura P':>13}{'R':>7}{'F1':>7}",
    ]
    for name in FIELDS:
        ours = newsflow.fields[name]
        row = f"{name:<15}{ours.precision:>11.3f}{ours.recall:>7.3f}{ours.f1:>7.3f}"
        if name in TRAFILATURA_FIELDS:
            theirs = trafilatura.fields[name]
            row += f"   {theirs.precision:>13.3f}{theirs.recall:>7.3f}{theirs.f1:>7.3f}"
        else:
            row += f"   {'-':>13}{'-':>7}{'-':>7}"
        lines.append(row)
    return "\n".join(lines)


def main() -> int:
    """Print the table; exit 0."""
    logging.disable(logging.CRITICAL)
    pages = load_corpus()
    print(format_table(evaluate_newsflow(pages), evaluate_trafilatura(pages), len(pages)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
