"""Comment platforms' public read APIs, walked the way each platform's own embed reads a thread.

One module per platform turns a `CommentSource` (what the page says about its thread) into the
requests its embed sends, and each answer into the next requests (pages, replies, display names).
It checks what walking needs (the envelope, the cursor, the platform's own error codes) and raises
`ProviderError` with a reason when an answer is not what it reads; mapping the comments is parse's
(services/parse/providers). Pure: the HTTP, the politeness and the request bound are
services/ingest/threads.py's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from shared.errors import ProviderError

# Statuses that mean "this key or token is not let in".
AUTH_STATUSES = frozenset({401, 403})


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One request of a thread walk. `priority` orders the walk (0 the thread's pages, 1 replies,
    2 display names), so that a request bound cuts names first; `keep` is False for an answer that
    must not be stored (a guest token); `label` says what a POST asked for (its stored page's URL
    gets it as a fragment: parse tells a reply page of one comment from the next page that way)."""

    url: str
    method: str = "GET"
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    priority: int = 0
    keep: bool = True
    label: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """A platform's answer: status, body, and the seconds its Retry-After asks for."""

    status: int
    body: bytes
    retry_after: float | None = None

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None


class NoThreadError(Exception):
    """The platform has no thread for these identifiers yet (nobody has commented): an empty round."""


class AskInsteadError(Exception):
    """The answer is not part of the thread (a persisted query the tenant does not know): drop it and
    ask `requests` instead."""

    def __init__(self, requests: list[ApiRequest]):
        super().__init__(f"{len(requests)} other request(s)")
        self.requests = requests


class Walk(Protocol):
    """How one platform's thread is read: the first requests, then the requests each answer leads to."""

    def start(self) -> list[ApiRequest]: ...

    def follow(self, request: ApiRequest, answer: Answer) -> list[ApiRequest]: ...


def document(provider: str, answer: Answer) -> Any:
    """The answer's JSON document once its status is a success; provider_auth for 401/403,
    provider_changed for any other refusal or a body that is not JSON."""
    if answer.status in AUTH_STATUSES:
        raise ProviderError("provider_auth", f"{provider} answered {answer.status}: {answer.body[:200]!r}")
    if not 200 <= answer.status < 300:
        raise ProviderError("provider_changed", f"{provider} answered {answer.status}: {answer.body[:200]!r}")
    found = answer.json()
    if found is None:
        raise ProviderError("provider_changed", f"{provider} answered with a body that is not JSON")
    return found


def with_query(base: str, params: dict[str, str]) -> str:
    """`base` with `params` as its query string, in the given order."""
    return f"{base}?{urlencode(params)}"


def json_body(value: dict[str, Any]) -> bytes:
    """A compact JSON request body."""
    return json.dumps(value, separators=(",", ":")).encode()
