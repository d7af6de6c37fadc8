"""Opaque pagination cursors: URL-safe base64 of a small versioned text, never trusted blindly."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from services.api.errors import ApiError
from shared.store.listing import EventPosition

_ARTICLE_PREFIX = "a1:"
_EVENT_PREFIX = "e1:"
MAX_ID = 2**63 - 1


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, prefix: str, what: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_cursor", f"`{what}` is not a cursor this API returned") from None
    if not raw.startswith(prefix):
        raise ApiError(400, "invalid_cursor", f"`{what}` is not a cursor this API returned")
    return raw[len(prefix) :]


def encode_article_cursor(before_id: int) -> str:
    """Cursor of an article listing: continue with ids below `before_id`."""
    return _encode(f"{_ARTICLE_PREFIX}{before_id}")


def decode_article_cursor(cursor: str) -> int:
    """The id to continue below; 400 invalid_cursor for anything this API did not hand out."""
    body = _decode(cursor, _ARTICLE_PREFIX, "cursor")
    if not body.isdigit() or not 0 < int(body) <= MAX_ID:
        raise ApiError(400, "invalid_cursor", "`cursor` is not a cursor this API returned")
    return int(body)


def encode_event_cursor(position: EventPosition) -> str:
    """Cursor of a comment event stream: continue strictly after this event."""
    return _encode(f"{_EVENT_PREFIX}{position.at.astimezone(UTC).isoformat()}|{position.rank}|{position.row_id}")


def decode_since(since: str) -> EventPosition:
    """`since` is either an event cursor (strictly after that event) or an ISO-8601 time (inclusive)."""
    try:
        at = datetime.fromisoformat(since)
    except ValueError:
        at = None
    if at is not None:
        try:
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        except OverflowError:
            raise ApiError(400, "invalid_cursor", "`since` is out of range") from None
        return EventPosition(at, -1, 0)
    body = _decode(since, _EVENT_PREFIX, "since")
    try:
        at_text, rank, row_id = body.split("|")
        position = EventPosition(datetime.fromisoformat(at_text).astimezone(UTC), int(rank), int(row_id))
    except (ValueError, OverflowError):
        raise ApiError(400, "invalid_cursor", "`since` is not a time or a cursor this API returned") from None
    if not (0 <= position.row_id <= MAX_ID and -1 <= position.rank <= 1):
        raise ApiError(400, "invalid_cursor", "`since` is not a time or a cursor this API returned")
    return position
