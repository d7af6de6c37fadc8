"""One error taxonomy for every stage.

Each error carries a stable snake_case `reason` used in logs, metric labels and
the frontier row's last error. Whether a task retries is decided from
`transient` alone, in one place (the base task), never per call site.
"""

from __future__ import annotations


class NewsflowError(Exception):
    """Base error: a stable `reason` plus a human detail."""

    transient: bool = False
    default_reason = "error"

    def __init__(
        self,
        reason: str | None = None,
        detail: str = "",
        *,
        retry_after: float | None = None,
        attempt: int | None = None,
    ):
        self.reason = reason or self.default_reason
        self.detail = detail
        self.retry_after = retry_after
        # Failed attempts in a row, for work whose handler counts them itself (a comment source's).
        self.attempt = attempt
        super().__init__(f"{self.reason}: {detail}" if detail else self.reason)


class TransientError(NewsflowError):
    """Worth retrying later: timeouts, connection errors, 5xx, 429, database or broker down."""

    transient = True
    default_reason = "transient"


class PermanentError(NewsflowError):
    """Retrying will not help: recorded on the row with its reason and acknowledged."""

    default_reason = "permanent"


# Reasons of fetch failures that are worth retrying. Everything else is permanent.
TRANSIENT_FETCH_REASONS = frozenset(
    {"timeout", "connect_error", "dns_error", "read_error", "http_5xx", "http_429", "politeness_wait"}
)


class FetchError(NewsflowError):
    """An HTTP fetch failed. Reasons: timeout, connect_error, dns_error, read_error, http_4xx,
    http_404, http_410, http_429, http_5xx, blocked_address, robots_disallowed, too_large,
    too_many_redirects, unsupported_content_type, invalid_url, unsupported_scheme."""

    default_reason = "fetch_error"

    @property
    def transient(self) -> bool:  # type: ignore[override]
        return self.reason in TRANSIENT_FETCH_REASONS


class InvalidURLError(PermanentError):
    """A URL given by a user or found in a page is not an absolute http(s) URL."""

    default_reason = "invalid_url"


class ParseError(PermanentError):
    """Bytes could not be turned into an article record. Reasons: empty_document, not_html,
    binary_content, too_large, too_deep, no_content, parser_crash."""

    default_reason = "parse_error"


class FeedError(NewsflowError):
    """A feed could not be read. Transient for network reasons, permanent for bad content."""

    default_reason = "feed_error"

    @property
    def transient(self) -> bool:  # type: ignore[override]
        return self.reason in TRANSIENT_FETCH_REASONS


class StoreUnavailableError(TransientError):
    """The database cannot be reached right now."""

    default_reason = "store_unavailable"


class NotFoundError(PermanentError):
    """A row asked for by id or URL does not exist."""

    default_reason = "not_found"


class ConfigError(PermanentError):
    """A setting has a value newsflow cannot use."""

    default_reason = "config_error"


class WriteConflictError(TransientError):
    """The database rolled the transaction back to break a deadlock or a serialization conflict with
    concurrent writers (or a lock could not be had): it is up and nothing was written. Retried in place."""

    default_reason = "write_conflict"


# Reasons of comment-platform failures; the first two are worth retrying.
TRANSIENT_PROVIDER_REASONS = frozenset({"provider_unavailable", "rate_limited"})
PROVIDER_REASONS = (*sorted(TRANSIENT_PROVIDER_REASONS), "provider_auth", "provider_changed", "unsupported")


class ProviderError(NewsflowError):
    """A comment platform (Disqus, Viafoura, OpenWeb, Coral, ...) did not give its thread. Reasons:
    provider_unavailable (network, 5xx), rate_limited (429 or the platform's own limit, with
    retry_after), provider_auth (key or token missing or refused), provider_changed (the answer no
    longer has the shape newsflow reads), unsupported (no public read path)."""

    default_reason = "provider_changed"

    @property
    def transient(self) -> bool:  # type: ignore[override]
        return self.reason in TRANSIENT_PROVIDER_REASONS


def expect_shape(condition: bool, provider: str, what: str) -> None:
    """provider_changed unless `condition`: the platform's answer lacks what newsflow reads (`what`)."""
    if not condition:
        raise ProviderError("provider_changed", f"{provider}'s answer has no {what}")
