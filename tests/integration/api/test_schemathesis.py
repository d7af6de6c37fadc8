"""Property-based requests from the committed OpenAPI document against the live app on real
Postgres: whatever schemathesis sends, the API never answers 5xx, and answers match the document."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.api.app import create_app
from services.api.openapi import render
from shared.config import Settings
from tests.integration.api.conftest import AUTH, TOKEN, add_article, truncate

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_dict(json.loads(render()))


@pytest.fixture(scope="module")
def live_app(postgres_url: str):
    """The app on a store holding one article with its comments, so reads find something."""
    truncate(postgres_url)
    add_article(postgres_url)
    config = Settings(database_url=postgres_url, broker_url="memory://", api_token=TOKEN, api_max_batch=20)
    return create_app(config)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_api_never_answers_5xx(case, live_app):
    case.call_and_validate(app=live_app, headers=AUTH, checks=CHECKS)
