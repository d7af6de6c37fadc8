"""Hand stored work to the broker after the commit, for the CLI and the HTTP API alike.

Items are always stored first; publishing only saves the scheduler's sweep the wait. In the embedded
mode (no broker) nothing is published: `newsflow run` picks the items up from the database.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.config import Settings
from shared.errors import TransientError

DISPATCH_BATCH = 1000


class BrokerUnavailableError(TransientError):
    """The broker refused or timed out; the items are stored and the sweep will dispatch them."""

    default_reason = "broker_unavailable"


def publish_items(settings: Settings, items: Sequence[tuple[str, int]]) -> bool:
    """Publish (stage, item id) pairs; False when nothing was sent (embedded mode or no items). A stage
    with several items gets one batch message per DISPATCH_BATCH of them (`ingest.dispatch` publishes
    each item's task), so a request of 1,000 URLs costs a publish, not a thousand.

    Raises BrokerUnavailableError when the broker cannot be reached after a short retry.
    """
    if settings.embedded or not items:
        return False
    from shared.celery_app import app, publish, publish_batch

    by_stage: dict[str, list[int]] = {}
    for stage, item_id in items:
        by_stage.setdefault(stage, []).append(item_id)
    retry = {"retry": True, "retry_policy": {"max_retries": 2, "interval_start": 0.5}}
    try:
        # One producer for every message: one broker connection checkout instead of one per message.
        with app.producer_or_acquire() as producer:
            for stage, ids in by_stage.items():
                if len(ids) == 1:
                    publish(stage, ids[0], producer=producer, **retry)
                    continue
                for start in range(0, len(ids), DISPATCH_BATCH):
                    publish_batch(stage, ids[start : start + DISPATCH_BATCH], producer=producer, **retry)
    except Exception as exc:
        raise BrokerUnavailableError(
            detail=f"broker unreachable ({settings.broker_url.split('@')[-1]}): {exc}"
        ) from exc
    return True
