"""The newsflow HTTP API: `create_app(settings)` builds the FastAPI app; `serve_app` is what a server runs
(`newsflow api`, or `uvicorn --factory services.api.app:serve_app`): it refuses a guessable token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from services.api.auth import require_safe_token
from services.api.errors import error_response, install_error_handlers
from services.api.metrics import observe_request
from services.api.routes import router
from shared.config import Settings, get_settings

API_VERSION = "1.0.0"
DESCRIPTION = """Queue article URLs and feeds, follow them through the pipeline, and read articles,
comments and their changes back. Write endpoints need `Authorization: Bearer <NEWSFLOW_API_TOKEN>`;
read endpoints too unless NEWSFLOW_API_PUBLIC_READS is true. Errors are JSON:
`{"error": "<reason>", "detail": "...", "problems": [...]}`."""
# Room for one URL of the longest accepted length (plus JSON quoting) per batch item, and the rest.
BYTES_PER_URL = 8192 + 64
BODY_OVERHEAD = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API app bound to `settings` (the process environment's when None)."""
    settings = settings or get_settings()
    app = FastAPI(title="newsflow", version=API_VERSION, description=DESCRIPTION)
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(router)
    max_body = settings.api_max_batch * BYTES_PER_URL + BODY_OVERHEAD

    @app.middleware("http")
    async def _limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_body:
            return error_response(413, "body_too_large", f"request body over {max_body} bytes")
        return await call_next(request)

    app.middleware("http")(observe_request)
    return app


def serve_app() -> FastAPI:
    """The app for a server process: the environment's settings, refused (ConfigError unsafe_api_token)
    when NEWSFLOW_API_TOKEN is empty while writes are on, short, or a placeholder."""
    settings = get_settings()
    require_safe_token(settings)
    return create_app(settings)
