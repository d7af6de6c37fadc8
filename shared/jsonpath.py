"""Dotted paths into decoded JSON (`"data.comments"`, `"user.name"`, `"items.0.id"`), as site profiles
write them; shared because ingest (is a comments page empty?) and parse (read each field) both read them."""

from __future__ import annotations

from typing import Any


def read_path(document: Any, path: str) -> Any:
    """The value at `path` ("" is the document itself), or None where the path does not lead."""
    value = document
    for part in path.split(".") if path else ():
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def read_items(document: Any, path: str) -> list[Any]:
    """The list at `path`, or an empty list where there is none."""
    value = read_path(document, path)
    return value if isinstance(value, list) else []
