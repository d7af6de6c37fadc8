"""A local stand-in for the comment platforms: tests/fixtures/providers served on 127.0.0.1.

Each platform's recorded answers live in `<provider>/<version>/` (version "first", then "later" with
new, edited and removed comments; a file missing from "later" is the "first" one), and its
`routes.json` says which request gets which file: method and path, then the query parameters (null:
absent), JSON-encoded query parameters (`query_json`, a subset), headers and the JSON body (subsets).
Article pages with each platform's embed are at /news/<provider>-story ({base} is this server).

    with ProviderSite() as site:
        settings_env = site.env()          # NEWSFLOW_* pointing every platform at this server
        site.set_version("later")
        site.override("/api/3.0/threads/listPosts.json", Route(status=429, headers={"Retry-After": "7"}))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers.httpserver import LocalServer, Request, Route

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
PROVIDERS = ("disqus", "viafoura", "openweb", "coral")
PAGES = (*PROVIDERS, "facebook")
VERSIONS = ("first", "later")
DISQUS_KEY = "test-public-key"
JSON_TYPE = "application/json; charset=utf-8"


class ProviderSite:
    """The fixture server: article pages and every platform's API paths, switchable between versions."""

    def __init__(self) -> None:
        self.version = "first"
        self.overrides: dict[tuple[str, str], Route] = {}
        self.server = LocalServer()
        self.base_url = self.server.base_url
        self.routes = {
            v: [r | {"provider": p} for p in PROVIDERS for r in _load(p, v, "routes.json")] for v in VERSIONS
        }
        for path in {r["path"] for routes in self.routes.values() for r in routes}:
            self.server.routes[path] = self._answer
        for name in PAGES:
            html = (FIXTURES / "pages" / f"{name}.html").read_text(encoding="utf-8").replace("{base}", self.base_url)
            self.server.routes[f"/news/{name}-story"] = Route(body=html)

    def page_url(self, name: str) -> str:
        """The article page that embeds `name`'s comments."""
        return f"{self.base_url}/news/{name}-story"

    def env(self) -> dict[str, str]:
        """The NEWSFLOW_* settings that point every platform at this server, politeness off."""
        return {
            "NEWSFLOW_DISQUS_API_KEY": DISQUS_KEY,
            "NEWSFLOW_DISQUS_API_URL": f"{self.base_url}/api/3.0",
            "NEWSFLOW_VIAFOURA_SECTIONS_URL": self.base_url,
            "NEWSFLOW_VIAFOURA_LIVECOMMENTS_URL": self.base_url,
            "NEWSFLOW_VIAFOURA_USERS_URL": self.base_url,
            "NEWSFLOW_OPENWEB_API_URL": f"{self.base_url}/v1.0.0",
            "NEWSFLOW_PROVIDER_POLITENESS_DELAY": "0",
        }

    def set_version(self, name: str) -> None:
        """Answer as the platforms did at first ("first") or later ("later")."""
        if name not in VERSIONS:
            raise ValueError(f"unknown version {name!r}")
        self.version = name

    def override(self, path: str, route: Route | None, method: str = "*") -> None:
        """Answer requests to `path` (of `method`, or any) with `route` (an outage, a 429, a changed
        format); None undoes it."""
        if route is None:
            self.overrides.pop((method, path), None)
        else:
            self.overrides[(method, path)] = route

    def hits(self, path: str) -> int:
        """Requests that reached `path`, whatever their query."""
        return sum(1 for r in self.server.requests if urlsplit(r.path).path == path)

    def _answer(self, request: Request) -> Route:
        path = urlsplit(request.path).path
        override = self.overrides.get((request.method, path)) or self.overrides.get(("*", path))
        if override is not None:
            return override
        for route in self.routes[self.version]:
            if _matches(route, request):
                body = _load_bytes(route["provider"], self.version, route["file"])
                return Route(status=route.get("status", 200), body=body, content_type=JSON_TYPE)
        return Route(status=404, body=json.dumps({"error": "no fixture for this request"}), content_type=JSON_TYPE)

    def __enter__(self) -> ProviderSite:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


def _matches(route: dict[str, Any], request: Request) -> bool:
    parts = urlsplit(request.path)
    if route["method"] != request.method or route["path"] != parts.path:
        return False
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    for name, wanted in (route.get("query") or {}).items():
        if query.get(name) != wanted:
            return False
    for name, wanted in (route.get("query_json") or {}).items():
        if not _subset(wanted, json.loads(query.get(name, "null"))):
            return False
    for name, wanted in (route.get("headers") or {}).items():
        if request.headers.get(name.lower()) != wanted:
            return False
    return not route.get("body") or _subset(route["body"], json.loads(request.body or b"null"))


def _subset(wanted: dict[str, Any], got: Any) -> bool:
    """Every key of `wanted` in `got` with the same value (nested objects compared the same way)."""
    if not isinstance(got, dict):
        return False
    return all(_subset(v, got.get(k)) if isinstance(v, dict) else got.get(k) == v for k, v in wanted.items())


def _load(provider: str, version: str, name: str) -> Any:
    return json.loads(_load_bytes(provider, version, name))


def _load_bytes(provider: str, version: str, name: str) -> bytes:
    path = FIXTURES / provider / version / name
    return (path if path.exists() else FIXTURES / provider / "first" / name).read_bytes()
