"""Durations, instants and clocks. Stored times are integer milliseconds since the epoch (UTC)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*")
_UNIT_WORDS = {
    "millisecond": "ms", "milliseconds": "ms", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "min": "m", "mins": "m", "minute": "m", "minutes": "m", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "day": "d", "days": "d", "week": "w", "weeks": "w",
}  # fmt: skip
_WORD = re.compile(r"(\d(?:\.\d+)?)\s*([a-z]+)")


def parse_duration(value: int | float | timedelta | str) -> timedelta:
    """A duration from milliseconds (int), a `timedelta`, or text such as ``"1h30m"``, ``"2d"``, ``"500ms"``.

    Raises `ValueError` with the offending text.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        return timedelta(milliseconds=value)
    text = _WORD.sub(lambda m: m.group(1) + _UNIT_WORDS.get(m.group(2), m.group(2)), value.strip().lower())
    position, total = 0, 0.0
    while position < len(text):
        match = _PART.match(text, position)
        if not match:
            raise ValueError(f"invalid duration {value!r}: use a number and a unit (ms, s, m, h, d, w), e.g. '1h30m'")
        total += float(match.group(1)) * _UNITS_MS[match.group(2)]
        position = match.end()
    if position == 0:
        raise ValueError(f"invalid duration {value!r}: it is empty")
    return timedelta(milliseconds=total)


def parse_instant(value: datetime | str | int) -> datetime:
    """An aware UTC datetime from a datetime (naive means UTC), an ISO 8601 string, or epoch milliseconds."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError(f"expected a time, got {value!r}")
    if isinstance(value, int | float):
        return from_ms(int(value))
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"invalid time {value!r}: use ISO 8601, e.g. '2026-01-31T09:00:00Z'") from None
    return parse_instant(parsed)


def to_ms(moment: datetime) -> int:
    return int(parse_instant(moment).timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso(ms: int) -> str:
    """Milliseconds as ISO 8601 UTC with a ``Z``."""
    return from_ms(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Clock(Protocol):
    """Where the engine reads the time. The runtime uses the system clock; tests inject their own."""

    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class VirtualClock:
    """A clock that only moves when told to: in-memory runs sleep and back off without waiting."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = SystemClock().now_ms() if start_ms is None else start_ms

    def now_ms(self) -> int:
        return self._now

    def now(self) -> datetime:
        return from_ms(self._now)

    def advance_to(self, ms: int) -> None:
        self._now = max(self._now, ms)

    def advance(self, delta: timedelta) -> None:
        self._now += int(delta.total_seconds() * 1000)
