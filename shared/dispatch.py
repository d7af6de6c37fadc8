"""Hand stored work to the broker after the commit, for the CLI and the HTTP API alike.

Items are always stored first; publishing only saves the scheduler's sweep the wait. In the embedded
mode (no broker) nothing is published: `newsflow run` picks the items up from the database.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.config import Settings
from shared.errors import TransientError


class BrokerUnavailableError(TransientError):
    """The broker refused or timed out; the items are stored and the sweep will dispatch them."""

    default_reason = "broker_unavailable"


def publish_items(settings: Settings, items: Sequence[tuple[str, int]]) -> bool:
    """Publish (stage, item id) pairs; False when nothing was sent (embedded mode or no items).

    Raises BrokerUnavailableError when the broker cannot be reached after a short retry.
    """
    if settings.embedded or not items:
        return False
    from shared.celery_app import publish_many

    try:
        publish_many(items, retry=True, retry_policy={"max_retries": 2, "interval_start": 0.5})
    except Exception as exc:
        raise BrokerUnavailableError(
            detail=f"broker unreachable ({settings.broker_url.split('@')[-1]}): {exc}"
        ) from exc
    return True
