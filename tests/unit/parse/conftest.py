"""Shared helpers for the parse tests: the fixture corpus and key-by-key comparison."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.eval_parse import load_corpus

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"


@dataclass(frozen=True, slots=True)
class FixturePage:
    """One corpus page: its HTML bytes, the URL and content type to parse with, the expected record."""

    name: str
    html: bytes
    url: str
    content_type: str | None
    expected: dict[str, Any]


def corpus() -> list[FixturePage]:
    """Every `NAME.html` with a `NAME.expected.json` beside it (and optional `NAME.meta.json`)."""
    return [FixturePage(*page) for page in load_corpus()]


def project(actual: Any, expected: Any) -> Any:
    """`actual` restricted to the keys present in `expected`, recursively (lists item by item)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {key: project(actual.get(key), value) for key, value in expected.items()}
    if isinstance(expected, list) and isinstance(actual, list) and len(actual) == len(expected):
        return [project(a, e) for a, e in zip(actual, expected, strict=True)]
    return actual
