"""URL validation, canonical form and natural keys, shared by every stage."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from shared.errors import InvalidURLError

MAX_URL_LENGTH = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that only track the visitor; they never select different content.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "ref_src", "cmpid"}
)
# What str.isspace() calls whitespace (re's \s is the same set) and the C0 control characters.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f]")


def validate_url(url: str) -> str:
    """Return `url` stripped if it is an absolute http(s) URL with a host, else raise InvalidURLError."""
    candidate = (url or "").strip()
    if not candidate:
        raise InvalidURLError(detail="empty URL")
    if len(candidate) > MAX_URL_LENGTH:
        raise InvalidURLError(detail=f"URL longer than {MAX_URL_LENGTH} characters")
    if _SPACE_OR_CONTROL.search(candidate):
        raise InvalidURLError(detail=f"URL contains whitespace or control characters: {candidate[:80]!r}")
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise InvalidURLError(detail=f"not an http(s) URL: {candidate[:200]}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise InvalidURLError(detail=f"bad host or port in {candidate[:200]}: {exc}") from None
    if not host:
        raise InvalidURLError(detail=f"URL has no host: {candidate[:200]}")
    if port == 0:
        raise InvalidURLError(detail=f"bad port in {candidate[:200]}")
    return candidate


@lru_cache(maxsize=16384)
def canonicalize_url(url: str, base: str | None = None) -> str:
    """The canonical form of an absolute http(s) URL: lower-case scheme and host, no default
    port, no fragment, no utm_* or click-id parameters, '/' for an empty path. Raises InvalidURLError.
    Cached: a batch is canonicalized when validated and again when stored, and many feeds and
    clients submit the same stories."""
    absolute = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(validate_url(absolute))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise InvalidURLError(detail=f"bad international host name in {absolute[:200]}") from None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{parts.port}"
    if parts.username:
        raise InvalidURLError(detail="URLs with credentials are not fetched")
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)], doseq=True
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key.startswith("utm_") or key in TRACKING_PARAMS


def url_hash(canonical_url: str) -> str:
    """The natural key of a canonical URL (sha256 hex), short enough for a unique index."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()


def url_host(url: str) -> str:
    """The lower-case host of a URL."""
    return (urlsplit(url).hostname or "").lower()


def content_hash(*parts: str | bytes | None) -> str:
    """A stable sha256 over text or byte parts, used to tell changed content from unchanged."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else (part or b"")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()
