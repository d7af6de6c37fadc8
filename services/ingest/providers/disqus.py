"""Disqus: a thread's posts through the public `threads/listPosts` API, page by page on its cursor.

Request: `GET {NEWSFLOW_DISQUS_API_URL}/threads/listPosts.json?api_key=...&forum=<shortname>&thread=
ident:<identifier>` (or `thread=link:<page url>` when the page gives no identifier), `limit=100`
(the maximum), `order=asc`, then `cursor=<cursor.next>` while `cursor.hasNext`. The key is a public
one (the kind Disqus' JavaScript API takes with a referrer check), so the page is sent as Referer.
Answer: `{"code": 0, "cursor": {"prev", "hasNext", "next", "hasPrev", "total", "id", "more"},
"response": [post, ...]}`; an error is `{"code": N, "response": "<message>"}`.

Where the shape comes from: Disqus' docs (disqus.com/api/docs/requests/: public key and referrer,
GET for reads; the threads/listPosts arguments `thread` with `ident:`/`link:` plus `forum`, `cursor`,
`limit` up to 100, `order`); the cursor and envelope as typed in raycast/extensions
extensions/nusmods/src/utils/disqus.ts (CursorSchema, PostListResponseSchema, ErrorResponseSchema);
paging on `cursor.hasNext`/`cursor.next` as chbrown/disqust-python disqust/__init__.py does.
Error codes (Disqus' API error list): 2 invalid argument (with "Unable to find thread": the thread
does not exist yet), 4/5/9/11/12/17/18 key or access refused, 13/14 rate limits, 15/16 server error
or timeout.
"""

from __future__ import annotations

from services.ingest.providers import Answer, ApiRequest, NoThreadError, document, with_query
from shared.config import Settings
from shared.errors import ProviderError, expect_shape
from shared.records import CommentSource

PAGE_SIZE = "100"
AUTH_CODES = frozenset({4, 5, 9, 11, 12, 17, 18})
RATE_CODES = frozenset({13, 14})
SERVER_CODES = frozenset({15, 16})


class DisqusWalk:
    """The pages of one Disqus thread."""

    def __init__(self, source: CommentSource, settings: Settings):
        self.source = source
        self.settings = settings

    def start(self) -> list[ApiRequest]:
        """The first page; provider_auth without a key (Disqus refuses every read without one)."""
        if not self.settings.disqus_api_key:
            raise ProviderError("provider_auth", "NEWSFLOW_DISQUS_API_KEY is not set (Disqus reads need a public key)")
        return [self._page(None)]

    def follow(self, request: ApiRequest, answer: Answer) -> list[ApiRequest]:
        """The next page while the cursor says there is one."""
        found = answer.json()
        if isinstance(found, dict) and isinstance(found.get("code"), int) and found["code"] != 0:
            raise _api_error(found["code"], str(found.get("response"))[:300], answer.retry_after)
        found = document("disqus", answer)
        expect_shape(isinstance(found, dict) and found.get("code") == 0, "disqus", "code 0")
        expect_shape(isinstance(found.get("response"), list), "disqus", "list of posts at 'response'")
        cursor = found.get("cursor")
        expect_shape(isinstance(cursor, dict) and isinstance(cursor.get("hasNext"), bool), "disqus", "cursor.hasNext")
        if not cursor["hasNext"]:
            return []
        expect_shape(isinstance(cursor.get("next"), str) and bool(cursor["next"]), "disqus", "cursor.next")
        return [self._page(cursor["next"])]

    def _page(self, cursor: str | None) -> ApiRequest:
        thread = self.source.thread
        locator = f"ident:{thread['ident']}" if thread.get("ident") else f"link:{thread.get('link') or self.source.url}"
        params = {
            "api_key": self.settings.disqus_api_key,
            "forum": thread["forum"],
            "thread": locator,
            "limit": PAGE_SIZE,
            "order": "asc",
        }
        if cursor:
            params["cursor"] = cursor
        base = self.settings.disqus_api_url.rstrip("/") + "/threads/listPosts.json"
        return ApiRequest(with_query(base, params), headers=(("Referer", self.source.url),))


def _api_error(code: int, message: str, retry_after: float | None) -> Exception:
    if code == 2 and "unable to find thread" in message.lower():
        return NoThreadError(message)
    if code in AUTH_CODES:
        return ProviderError("provider_auth", f"Disqus error {code}: {message}")
    if code in RATE_CODES:
        return ProviderError("rate_limited", f"Disqus error {code}: {message}", retry_after=retry_after)
    if code in SERVER_CODES:
        return ProviderError("provider_unavailable", f"Disqus error {code}: {message}", retry_after=retry_after)
    return ProviderError("provider_changed", f"Disqus error {code}: {message}")
