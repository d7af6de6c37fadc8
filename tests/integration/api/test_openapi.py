"""The committed OpenAPI document is the one the app serves."""

from __future__ import annotations

import json
from pathlib import Path

from services.api.openapi import render

COMMITTED = Path(__file__).parents[3] / "openapi.json"


def test_committed_openapi_matches_the_app():
    assert COMMITTED.read_text(encoding="utf-8") == render(), (
        "openapi.json is stale: run `python -m services.api.openapi > openapi.json`"
    )


def test_openapi_is_served(client):
    served = client.get("/openapi.json").json()
    assert served == json.loads(render())
    assert {"/urls", "/urls/{url_id}", "/feeds", "/articles", "/search", "/readyz"} <= set(served["paths"])
