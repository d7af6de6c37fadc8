"""Fixtures for end-to-end tests: the bundled news site and a running stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.demosite.server import DemoSite
from tests.e2e.stack import Stack, running_stack


@pytest.fixture
def site() -> Iterator[DemoSite]:
    """The bundled news site on a free port of 127.0.0.1."""
    with DemoSite() as demo:
        yield demo


@pytest.fixture
def stack(postgres_admin_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A migrated, empty deployment; the test starts the processes it needs."""
    with running_stack(postgres_admin_url, redis_url, tmp_path / "logs") as s:
        yield s
