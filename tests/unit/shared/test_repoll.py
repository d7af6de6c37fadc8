"""Re-poll and feed-interval policies: pure functions over times and counters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import ConfigError
from shared.repoll import RepollPolicy, next_feed_interval, parse_duration

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
POLICY = RepollPolicy.parse("6h=15m,48h=1h,7d=1d", stop_after_unchanged=12)


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900), ("6h", 21600), ("7d", 604800), ("30s", 30), (" 1.5h ", 5400)]
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "15", "m15", "15 minutes", "-1h"])
def test_parse_duration_rejects(text):
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_policy_rejects_tiers_out_of_order():
    with pytest.raises(ConfigError):
        RepollPolicy.parse("48h=1h,6h=15m", 3)


@pytest.mark.parametrize(
    ("age", "unchanged", "expected"),
    [
        (timedelta(0), 0, timedelta(minutes=15)),
        (timedelta(hours=5, minutes=59), 3, timedelta(minutes=15)),
        (timedelta(hours=6), 0, timedelta(hours=1)),
        (timedelta(hours=47), 11, timedelta(hours=1)),
        (timedelta(days=3), 0, timedelta(days=1)),
        (timedelta(days=7), 0, None),
        (timedelta(hours=1), 12, None),
    ],
)
def test_repoll_decays_then_stops(age, unchanged, expected):
    now = T0 + age
    got = POLICY.next_poll(T0, now, unchanged)
    assert (got - now if got else None) == expected


BOUNDS = dict(minimum=timedelta(minutes=5), maximum=timedelta(hours=6), default=timedelta(minutes=15))


def test_feed_interval_follows_publishing_rhythm():
    times = [T0 - timedelta(minutes=20 * i) for i in range(10)]
    assert next_feed_interval(times, None, not_modified=False, **BOUNDS) == timedelta(minutes=20)


def test_feed_interval_is_bounded():
    fast = [T0 - timedelta(seconds=30 * i) for i in range(10)]
    slow = [T0 - timedelta(days=2 * i) for i in range(5)]
    assert next_feed_interval(fast, None, not_modified=False, **BOUNDS) == timedelta(minutes=5)
    assert next_feed_interval(slow, None, not_modified=False, **BOUNDS) == timedelta(hours=6)


def test_feed_interval_backs_off_when_not_modified_and_keeps_previous_without_dates():
    assert next_feed_interval([], timedelta(minutes=20), not_modified=True, **BOUNDS) == timedelta(minutes=30)
    assert next_feed_interval([None, None], timedelta(minutes=20), not_modified=False, **BOUNDS) == timedelta(
        minutes=20
    )
    assert next_feed_interval([], None, not_modified=False, **BOUNDS) == timedelta(minutes=15)
