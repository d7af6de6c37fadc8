"""Print the API's OpenAPI document: `python -m services.api.openapi > openapi.json` (committed)."""

from __future__ import annotations

import json
import sys
from typing import Any

from services.api.app import create_app
from shared.config import Settings


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document; independent of the environment (default settings)."""
    return create_app(Settings.model_construct()).openapi()


def render() -> str:
    """The document as the committed file holds it: indented, keys in order, newline at the end."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
