"""Bearer-token access: writes always need NEWSFLOW_API_TOKEN; reads too unless
NEWSFLOW_API_PUBLIC_READS is true. With no token configured, write endpoints are closed (401
writes_disabled) and so are reads that are not public: the safe default for a fresh deployment.

A served API (`newsflow api`, `serve_app`) also refuses to start with a token anyone could guess
(`require_safe_token`): empty while writes are on, shorter than 32 characters, or a placeholder.
"""

from __future__ import annotations

import hmac
import re
import secrets

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.errors import ApiError
from shared.config import Settings
from shared.errors import ConfigError

MIN_TOKEN_LENGTH = 32
HOW_TO_MAKE_ONE = "make one with `openssl rand -hex 32` or `newsflow api --generate-token`"
# Words that placeholder tokens are made of ("change-me", "your-secret-api-token-here", "test1234"...).
# Only "a" is spelt with hex letters alone, so `openssl rand -hex` output reads as placeholder words only
# when every letter in it is an "a" (about one in 6**24 for 64 characters).
_PLACEHOLDER_TEXT = """
a an with change changeme replace replaceme me it this please your my our the to here goes put insert enter set use
new some random long string value generated secret secrets password passwd pass pwd token tokens key api bearer auth
admin root user test testing example sample demo dummy default placeholder foo bar baz todo fixme xxx newsflow letmein
qwerty asdf hunter welcome login local dev development prod production staging docker compose env
"""
PLACEHOLDER_WORDS = frozenset(_PLACEHOLDER_TEXT.split())

bearer = HTTPBearer(auto_error=False, description="NEWSFLOW_API_TOKEN as `Authorization: Bearer <token>`.")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="newsflow"'}


def app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def _check_token(settings: Settings, credentials: HTTPAuthorizationCredentials | None, what: str) -> None:
    if what == "write" and settings.api_read_only:
        raise ApiError(
            401,
            "writes_disabled",
            "this server is read-only (NEWSFLOW_API_READ_ONLY), so write endpoints are closed",
            headers=CHALLENGE,
        )
    if not settings.api_token:
        raise ApiError(
            401,
            "writes_disabled" if what == "write" else "reads_disabled",
            f"this server has no API token configured (NEWSFLOW_API_TOKEN), so {what} endpoints are closed",
            headers=CHALLENGE,
        )
    if credentials is None:
        raise ApiError(401, "unauthorized", "missing bearer token (Authorization: Bearer <token>)", headers=CHALLENGE)
    if not hmac.compare_digest(credentials.credentials.encode("utf-8", "replace"), settings.api_token.encode()):
        raise ApiError(401, "unauthorized", "invalid bearer token", headers=CHALLENGE)


def require_write(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """Dependency of write endpoints: the configured bearer token, always."""
    _check_token(app_settings(request), credentials, "write")


def require_read(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """Dependency of read endpoints: open when public reads are on, else the bearer token."""
    settings = app_settings(request)
    if not settings.api_public_reads:
        _check_token(settings, credentials, "read")


def token_problem(token: str) -> str | None:
    """Why `token` is not a safe API token (a placeholder, too short), or None when it is safe."""
    if not token:
        return "is empty"
    if is_placeholder(token):
        return "is a well-known placeholder"
    if len(token) < MIN_TOKEN_LENGTH:
        return f"is {len(token)} characters long, at least {MIN_TOKEN_LENGTH} are needed"
    return None


def is_placeholder(token: str) -> bool:
    """True for tokens made of placeholder words and digits ("change-me", "secret123") or of one short
    pattern repeated ("xxxx...", "1234567890" * 4): values people copy from examples, not secrets."""
    lowered = token.lower()
    for period in range(1, len(lowered) // 2 + 1):
        if lowered == (lowered[:period] * (len(lowered) // period + 1))[: len(lowered)]:
            return True
    letters = re.sub(r"[^a-z]", "", lowered)
    return bool(letters) and _segments_into_words(letters)


def _segments_into_words(letters: str) -> bool:
    # ends[i]: letters[:i] is a sequence of placeholder words (classic word-break dynamic programme).
    longest = max(map(len, PLACEHOLDER_WORDS))
    ends = [True] + [False] * len(letters)
    for end in range(1, len(letters) + 1):
        ends[end] = any(
            ends[start] and letters[start:end] in PLACEHOLDER_WORDS for start in range(max(0, end - longest), end)
        )
    return ends[-1]


def require_safe_token(settings: Settings) -> None:
    """Refuse to serve with a guessable token (ConfigError `unsafe_api_token`, one line saying how to
    make one). An empty token is allowed only for a read-only API with public reads, where it guards nothing."""
    if not settings.api_token and settings.api_read_only and settings.api_public_reads:
        return
    problem = token_problem(settings.api_token)
    if problem is None:
        return
    detail = f"NEWSFLOW_API_TOKEN {problem}: {HOW_TO_MAKE_ONE}"
    if not settings.api_token:
        detail += " (a read-only API may go without: NEWSFLOW_API_READ_ONLY=true and NEWSFLOW_API_PUBLIC_READS=true)"
    raise ConfigError("unsafe_api_token", detail)


def generate_token() -> str:
    """A fresh API token: 32 random bytes as 64 hex characters (what `openssl rand -hex 32` prints)."""
    return secrets.token_hex(32)
