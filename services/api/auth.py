"""Bearer-token access: writes always need NEWSFLOW_API_TOKEN; reads too unless
NEWSFLOW_API_PUBLIC_READS is true. With no token configured, write endpoints are closed (401
writes_disabled) and so are reads that are not public: the safe default for a fresh deployment.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.errors import ApiError
from shared.config import Settings

bearer = HTTPBearer(auto_error=False, description="NEWSFLOW_API_TOKEN as `Authorization: Bearer <token>`.")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="newsflow"'}


def app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def _check_token(settings: Settings, credentials: HTTPAuthorizationCredentials | None, what: str) -> None:
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
