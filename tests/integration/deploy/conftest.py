"""What the deployment checks share: the repository and the tools the dev extras install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def tool(name: str) -> str:
    """A console script installed beside this interpreter by the dev extras (docker-compose, hadolint, uv)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is missing: `make install` (the dev extras install it)", pytrace=False)
    return str(path)
