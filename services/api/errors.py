"""Every error answer is JSON `{"error", "detail", "problems"}`; nothing escapes as a bare 500.

Mapping, in one place: request validation -> 422 invalid_request, unknown id -> 404 not_found,
bad URL -> 422 invalid_url, database down -> 503 store_unavailable, writes that kept colliding with
concurrent writers after the retries in place -> 503 write_conflict, bad database input -> 400.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api.schemas import ErrorBody, ErrorProblem
from shared.errors import NewsflowError, StoreUnavailableError, WriteConflictError

log = logging.getLogger("newsflow.api")

STATUS_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    503: "unavailable",
}


class ApiError(Exception):
    """An error answer with a status, a stable reason and a detail."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        *,
        problems: list[ErrorProblem] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail
        self.problems = problems or []
        self.headers = headers


def error_response(
    status: int,
    error: str,
    detail: str,
    problems: list[ErrorProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The JSON error answer."""
    body = ErrorBody(error=error, detail=detail, problems=problems or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a JSON error answer."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.error, exc.detail, exc.problems, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(e) for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(map(str, p.loc))}: {p.message}" for p in problems[:5])
        return error_response(422, "invalid_request", detail or "invalid request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, STATUS_REASONS.get(exc.status_code, "error"), detail, headers=headers)

    @app.exception_handler(StoreUnavailableError)
    async def _store_down(_: Request, exc: StoreUnavailableError) -> JSONResponse:
        log.warning("database unavailable", extra={"reason": exc.reason})
        return error_response(
            503, exc.reason, "the database is unreachable; try again later", headers={"Retry-After": "5"}
        )

    @app.exception_handler(WriteConflictError)
    async def _write_conflict(_: Request, exc: WriteConflictError) -> JSONResponse:
        # The database is up: the request's transaction lost to concurrent writers every time it ran.
        log.warning("write conflict after retries", extra={"reason": exc.reason})
        detail = "the write collided with concurrent writes and was rolled back; nothing was stored; try again"
        return error_response(503, exc.reason, detail, headers={"Retry-After": "1"})

    @app.exception_handler(DataError)
    async def _bad_value(_: Request, exc: DataError) -> JSONResponse:
        # A value the database refused (out of range, bad encoding) that validation let through.
        return error_response(400, "invalid_value", f"the database refused a value: {str(exc.orig).splitlines()[0]}")

    @app.exception_handler(NewsflowError)
    async def _newsflow(_: Request, exc: NewsflowError) -> JSONResponse:
        if exc.transient:
            return error_response(503, exc.reason, exc.detail or str(exc), headers={"Retry-After": "5"})
        return error_response(422, exc.reason, exc.detail or str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path, "reason": "internal_error"})
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def _problem(error: dict[str, Any]) -> ErrorProblem:
    loc = [part for part in error.get("loc", ()) if isinstance(part, str | int)]
    return ErrorProblem(loc=loc, message=str(error.get("msg", "invalid")))
