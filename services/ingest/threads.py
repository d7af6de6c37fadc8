"""Comment platform threads, fetched: each platform's walk (services/ingest/providers) driven over the
guarded fetcher, one request at a time.

Every request goes through the fetcher (address guard, robots, caps, per-host politeness) and, before
it, a per-platform politeness slot shared by all workers through Redis, so N workers reading Disqus
threads still space their requests to Disqus. Failures leave as `ProviderError` with a reason:
network errors and 5xx are `provider_unavailable`, 429 (or a platform slot busy longer than the
fetcher waits) is `rate_limited` with its Retry-After; the walks raise `provider_auth` and
`provider_changed`. A walk is bounded by `NEWSFLOW_PROVIDER_MAX_REQUESTS`; names are cut first.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from services.ingest.fetch import Fetcher, parse_retry_after
from services.ingest.providers import Answer, ApiRequest, AskInsteadError, NoThreadError, Walk
from services.ingest.providers.coral import CoralWalk
from services.ingest.providers.disqus import DisqusWalk
from services.ingest.providers.openweb import OpenWebWalk
from services.ingest.providers.viafoura import ViafouraWalk
from shared.config import Settings
from shared.errors import FetchError, ProviderError
from shared.records import CommentSource
from shared.store.comment_fetches import FetchedPage

WALKS: dict[str, Callable[[CommentSource, Settings], Walk]] = {
    "disqus": DisqusWalk,
    "viafoura": ViafouraWalk,
    "openweb": OpenWebWalk,
    "coral": CoralWalk,
}
SECRET_PARAMS = frozenset({"api_key", "api_secret", "access_token", "token"})


def fetch_thread(source: CommentSource, settings: Settings, fetcher: Fetcher) -> list[FetchedPage]:
    """Every answer of one platform thread, in the order asked (empty: the platform has no such
    thread yet); raises ProviderError (or FetchError for a refused address) when it cannot be read."""
    walk = WALKS[source.provider](source, settings)
    return walk_thread(walk, settings.provider_max_requests, lambda r: send(fetcher, source.provider, r, settings))


def walk_thread(walk: Walk, max_requests: int, send: Callable[[ApiRequest], Answer]) -> list[FetchedPage]:
    """Drive a walk over `send` for at most `max_requests` requests, lowest priority first; the
    answers it keeps, with secrets taken out of their URLs. An unfinished walk is returned as far as
    it got (the answers show it: a last page that says there is more)."""
    order = itertools.count()
    queue = [(r.priority, next(order), r) for r in walk.start()]
    heapq.heapify(queue)
    pages: list[FetchedPage] = []
    asked = 0
    while queue and asked < max_requests:
        request = heapq.heappop(queue)[2]
        asked += 1
        answer = send(request)
        if answer.status == 429:
            raise ProviderError("rate_limited", f"429 from {_redacted(request.url)}", retry_after=answer.retry_after)
        if answer.status >= 500:
            raise ProviderError(
                "provider_unavailable", f"{answer.status} from {_redacted(request.url)}", retry_after=answer.retry_after
            )
        try:
            follow = walk.follow(request, answer)
        except NoThreadError:
            return []
        except AskInsteadError as instead:
            follow, request = instead.requests, dataclasses.replace(request, keep=False)
        if request.keep:
            stored = _redacted(request.url) + (f"#{request.label}" if request.label else "")
            pages.append(FetchedPage(stored, "application/json", answer.body))
        for more in follow:
            heapq.heappush(queue, (more.priority, next(order), more))
    return pages


def send(fetcher: Fetcher, provider: str, request: ApiRequest, settings: Settings) -> Answer:
    """One request: the platform's politeness slot (shared by all workers), then the guarded fetcher."""
    try:
        fetcher.politeness.wait(f"provider-{provider}", settings.provider_politeness_delay)
        result = fetcher.request(request.url, method=request.method, body=request.body, headers=dict(request.headers))
    except FetchError as exc:
        if exc.reason == "politeness_wait":
            raise ProviderError("rate_limited", f"{provider}: {exc.detail}", retry_after=exc.retry_after) from exc
        if exc.transient:
            raise ProviderError("provider_unavailable", f"{provider}: {exc}", retry_after=exc.retry_after) from exc
        raise
    return Answer(result.status_code, result.body, parse_retry_after(result.headers.get("retry-after")))


def _redacted(url: str) -> str:
    """The URL without key or token parameters (stored pages and logs never hold a secret)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in SECRET_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(query)))
