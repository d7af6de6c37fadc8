"""Store tests run on both backends through the `store_url` fixture of tests/conftest.py."""

from __future__ import annotations

import pytest

from shared.db import session_scope


@pytest.fixture
def session(store_url: str):
    """A session on the store, committed at the end of the test."""
    with session_scope(store_url) as s:
        yield s
