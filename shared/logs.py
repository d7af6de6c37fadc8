"""Structured logs: one JSON object per line, carrying the task, URL and reason bound to the current work.

Context is bound with `bind(task=..., url=...)` (a context variable, so it follows the task and never
leaks into the next one) and added to every record logged while it is bound; `extra={"reason": ...}`
fields of a call are added too.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_CONTEXT: ContextVar[dict[str, Any]] = ContextVar("newsflow_log_context", default={})  # noqa: B039 (never mutated)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"})
# Fields first in every line, in this order, so that a line reads the same whoever logged it.
_LEADING = ("task", "task_id", "stage", "item_id", "url", "article_id", "reason")


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add `fields` to every log line inside the block (None values are left out)."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def bound() -> dict[str, Any]:
    """The fields bound right now."""
    return dict(_CONTEXT.get())


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message, bound context and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = {**_CONTEXT.get(), **{k: v for k, v in vars(record).items() if k not in _STANDARD}}
        for key in _LEADING:
            if fields.get(key) is not None:
                line[key] = fields.pop(key)
        line.update((k, v) for k, v in fields.items() if v is not None and not k.startswith("_"))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO", *, structured: bool = True) -> None:
    """Send all logs to stderr, as JSON lines (`structured`) or as short text for interactive commands."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if structured else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
