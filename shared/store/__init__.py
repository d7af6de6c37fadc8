"""Every SQL statement newsflow runs lives in this package, grouped by table family.

Writes are idempotent upserts on natural keys and report what they did as an `Outcome`.
"""

from shared.store.upsert import Outcome

__all__ = ["Outcome"]
