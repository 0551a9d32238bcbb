"""Durations, instants and clocks (workflow_kit/timeutil.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from workflow_kit.timeutil import SystemClock, VirtualClock, from_ms, iso, parse_duration, parse_instant, to_ms

# --- parse_duration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, timedelta(0)),
        (500, timedelta(milliseconds=500)),
        (1500, timedelta(seconds=1.5)),
        (86_400_000, timedelta(days=1)),
    ],
)
def test_parse_duration_ints_are_milliseconds(value: int, expected: timedelta) -> None:
    assert parse_duration(value) == expected


def test_parse_duration_timedelta_passes_through() -> None:
    delta = timedelta(minutes=3, seconds=2)
    assert parse_duration(delta) == delta


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1d2h3m4s5ms", timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=5)),
        ("1.5h", timedelta(minutes=90)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("  10s  ", timedelta(seconds=10)),
        ("1H", timedelta(hours=1)),
        ("1 hour", timedelta(hours=1)),
        ("2 hours", timedelta(hours=2)),
        ("10 seconds", timedelta(seconds=10)),
        ("90 minutes", timedelta(minutes=90)),
        ("3 days", timedelta(days=3)),
        ("1 week", timedelta(weeks=1)),
        ("250 milliseconds", timedelta(milliseconds=250)),
        ("1 hour 30 minutes", timedelta(hours=1, minutes=30)),
        ("12.5 hours", timedelta(hours=12.5)),
    ],
)
def test_parse_duration_text(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "abc", "1x", "h", "1h30", "-1h", "1 fortnight", "1h,30m", "one hour"])
def test_parse_duration_bad_text_raises(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration") as info:
        parse_duration(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize("value", [True, False])
def test_parse_duration_rejects_bools(value: bool) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


# --- parse_instant -------------------------------------------------------------------------------


def test_parse_instant_naive_datetime_is_utc() -> None:
    result = parse_instant(datetime(2026, 1, 31, 9, 0, 0))
    assert result == datetime(2026, 1, 31, 9, 0, 0, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_parse_instant_aware_datetime_is_converted_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    result = parse_instant(datetime(2026, 1, 31, 11, 0, tzinfo=plus_two))
    assert result == datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert result.utcoffset() == timedelta(0)
    assert result.hour == 9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31T09:00:00Z", datetime(2026, 1, 31, 9, 0, tzinfo=UTC)),
        ("2026-01-31T09:00:00.250Z", datetime(2026, 1, 31, 9, 0, 0, 250_000, tzinfo=UTC)),
        ("2026-01-31T09:00:00+00:00", datetime(2026, 1, 31, 9, 0, tzinfo=UTC)),
        ("2026-01-31T11:00:00+02:00", datetime(2026, 1, 31, 9, 0, tzinfo=UTC)),
        ("2026-01-31T09:00:00", datetime(2026, 1, 31, 9, 0, tzinfo=UTC)),
        (" 2026-01-31T09:00:00z ", datetime(2026, 1, 31, 9, 0, tzinfo=UTC)),
    ],
)
def test_parse_instant_iso_text(text: str, expected: datetime) -> None:
    result = parse_instant(text)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1_767_225_600_000, datetime(2026, 1, 1, tzinfo=UTC)),
        (1_767_225_600_123, datetime(2026, 1, 1, 0, 0, 0, 123_000, tzinfo=UTC)),
    ],
)
def test_parse_instant_epoch_milliseconds(ms: int, expected: datetime) -> None:
    result = parse_instant(ms)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-01T00:00:00Z", "", True])
def test_parse_instant_bad_values_raise(value: str | bool) -> None:
    with pytest.raises(ValueError):
        parse_instant(value)


def test_ms_conversions_round_trip() -> None:
    ms = 1_767_225_600_123
    assert to_ms(from_ms(ms)) == ms
    assert iso(ms) == "2026-01-01T00:00:00.123Z"
    assert to_ms(datetime(2026, 1, 1)) == 1_767_225_600_000


# --- clocks --------------------------------------------------------------------------------------


def test_virtual_clock_starts_where_told_and_only_moves_when_told() -> None:
    clock = VirtualClock(1000)
    assert clock.now_ms() == 1000
    assert clock.now_ms() == 1000


def test_virtual_clock_advance() -> None:
    clock = VirtualClock(1000)
    clock.advance(timedelta(seconds=2))
    assert clock.now_ms() == 3000
    clock.advance(parse_duration("1h"))
    assert clock.now_ms() == 3000 + 3_600_000


def test_virtual_clock_advance_to_never_goes_back() -> None:
    clock = VirtualClock(5000)
    clock.advance_to(9000)
    assert clock.now_ms() == 9000
    clock.advance_to(1000)
    assert clock.now_ms() == 9000


def test_virtual_clock_defaults_to_system_time() -> None:
    before = time.time_ns() // 1_000_000
    clock = VirtualClock()
    after = time.time_ns() // 1_000_000
    assert before <= clock.now_ms() <= after


def test_system_clock_reads_the_time() -> None:
    before = time.time_ns() // 1_000_000
    now = SystemClock().now_ms()
    after = time.time_ns() // 1_000_000
    assert isinstance(now, int)
    assert before <= now <= after
