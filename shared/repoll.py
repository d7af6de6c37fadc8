"""When to look at a page or a feed again: pure policies over times and counters.

Articles are re-polled on a decaying schedule (frequent while young, then hourly, then daily) and
stop after the last tier's age or after a run of polls that found nothing new. Feeds are polled at
the rhythm they publish, bounded by a minimum and a maximum interval.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median

from shared.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


def parse_duration(text: str) -> timedelta:
    """'15m', '6h', '7d', '30s' as a timedelta. Raises ConfigError."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(detail=f"not a duration like 15m, 6h or 7d: {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True, slots=True)
class RepollPolicy:
    """Tiers of (age limit, interval), youngest first, and the unchanged-poll limit."""

    tiers: tuple[tuple[timedelta, timedelta], ...]
    stop_after_unchanged: int

    @classmethod
    def parse(cls, schedule: str, stop_after_unchanged: int) -> RepollPolicy:
        """Read 'AGE=EVERY,AGE=EVERY,...' (e.g. '6h=15m,48h=1h,7d=1d'), or 'off' for no re-polls.
        Raises ConfigError."""
        if schedule.strip().lower() == "off":
            return cls((), stop_after_unchanged)
        tiers = []
        for part in filter(None, (p.strip() for p in schedule.split(","))):
            age, _, every = part.partition("=")
            tiers.append((parse_duration(age), parse_duration(every)))
        if not tiers:
            raise ConfigError(detail=f"empty re-poll schedule: {schedule!r} (use 'off' for none)")
        if any(b[0] <= a[0] for a, b in pairwise(tiers)):
            raise ConfigError(detail=f"re-poll tiers must have growing ages: {schedule!r}")
        return cls(tuple(tiers), stop_after_unchanged)

    def next_poll(self, first_seen: datetime, now: datetime, unchanged_polls: int) -> datetime | None:
        """The time of the next re-poll, or None when the article is old or quiet enough to stop."""
        if not self.tiers or unchanged_polls >= self.stop_after_unchanged:
            return None
        age = now - first_seen
        for limit, every in self.tiers:
            if age < limit:
                return now + every
        return None


def next_feed_interval(
    entry_times: Iterable[datetime | None],
    previous: timedelta | None,
    *,
    not_modified: bool,
    minimum: timedelta,
    maximum: timedelta,
    default: timedelta,
) -> timedelta:
    """The wait before a feed's next poll: the median gap between its recent entries (a feed that
    publishes every 10 minutes is polled every 10 minutes), stretched by half when nothing changed,
    always within [minimum, maximum]."""
    if not_modified:
        interval = (previous or default) * 1.5
    else:
        times = sorted({t for t in entry_times if t is not None}, reverse=True)[:20]
        gaps = [(a - b).total_seconds() for a, b in pairwise(times) if a > b]
        interval = timedelta(seconds=median(gaps)) if gaps else (previous or default)
    return max(minimum, min(maximum, interval))
