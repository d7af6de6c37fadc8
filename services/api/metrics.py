"""HTTP API metrics, labelled by route template, method and status class (never a raw path or id)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "newsflow_api_requests_total",
    "HTTP API requests by route template, method and status class.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "newsflow_api_request_duration_seconds",
    "Time to answer an HTTP API request.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
URLS_SUBMITTED = Counter("newsflow_api_urls_submitted_total", "URLs submitted through the API.", ["outcome"])

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


async def observe_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Middleware: count and time each request under its route template."""
    started = time.perf_counter()
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
        return response
    finally:
        route = getattr(request.scope.get("route"), "path", None) or "unmatched"
        method = request.method if request.method in METHODS else "OTHER"
        REQUESTS.labels(route, method, f"{status // 100}xx").inc()
        REQUEST_SECONDS.labels(route).observe(time.perf_counter() - started)
