"""Cron schedules: checking one, and the times it ticks at. Pure (no I/O): `schedules.py` fires them.

A schedule is five fields, ``minute hour day-of-month month day-of-week``, in croniter's syntax (``*``,
lists, ranges, steps, names such as ``MON`` and ``JAN``, ``L``, ``W`` and ``#``), optionally after a
time zone: ``TZ=Europe/Paris 0 12 * * 5`` (``CRON_TZ=`` works too); without one it is UTC. As in
Inngest, ``@hourly`` and the other descriptors are refused and the text is at most 255 characters.
Random (``R``) and hashed (``H``) values are refused too: every worker must compute the same ticks.
A kit made with ``cron_seconds=True`` also accepts six fields, seconds first (``*/5 * * * * *``).

Ticks are wall-clock times in the schedule's zone. Across daylight saving time changes:

- a time that does not exist (the clocks jump forward over it) ticks when the clocks jump
  (``30 2 * * *`` ticks at 03:00 that night);
- a time that happens twice (the clocks go back) ticks once, at its first pass, unless the hour field
  is ``*`` or ``*/n`` (a schedule that runs every hour also runs in the repeated hour, which is a real
  hour).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from croniter import CroniterBadDateError, CroniterError, croniter

from ...timeutil import from_ms, iso, to_ms

MAX_CRON_LENGTH = 255
TIMER_EVENT = "workflow/scheduled.timer"
"""The name of the event a tick starts its run with (Inngest's ``inngest/scheduled.timer``)."""
_ZONE_PREFIX = re.compile(r"(?:CRON_)?TZ=(\S*)\s*(.*)", re.DOTALL)
_RANDOM_OR_HASHED = re.compile(r"(?:^|,)[hr](?:$|[(/,])", re.IGNORECASE)
_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_RANGES = ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-7 or SUN-SAT")
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_LOOKAHEAD = 4
"""Repeated hours skipped in a row at most (they are months apart)."""


class CronError(ValueError):
    """A schedule that cannot be used; the message says why, for the field at fault."""


@dataclass(frozen=True)
class CronSchedule:
    """A checked schedule. `text` is what is stored (whitespace collapsed); `fields` the fields alone."""

    text: str
    fields: str
    zone: tzinfo
    seconds: bool
    every_hour: bool
    """The hour field is ``*`` or ``*/n``: the repeated hour of a fall-back night ticks too."""

    @staticmethod
    def parse(text: str, *, allow_seconds: bool = False) -> CronSchedule:
        """Check `text`; raises `CronError` naming the problem."""
        if not isinstance(text, str):
            raise CronError("expected a cron expression such as '0 12 * * 5'")
        return _parse(text, allow_seconds)

    def next_after(self, ms: int) -> int:
        """The first tick strictly after `ms` (epoch milliseconds)."""
        start = ms
        for _ in range(_LOOKAHEAD):
            tick = self._step(start, previous=False)
            if self.every_hour or not self._second_pass(tick):
                return tick
            start = self._fold_edge(tick, forward=True) - 1  # past the repeated hour
        raise CronError(f"{self.text!r}: no tick found after {iso(ms)}")  # pragma: no cover (a zone gone mad)

    def latest_until(self, ms: int) -> int:
        """The latest tick at or before `ms`."""
        start = ms + 1
        for _ in range(_LOOKAHEAD):
            tick = self._step(start, previous=True)
            if self.every_hour or not self._second_pass(tick):
                return tick
            start = self._fold_edge(tick, forward=False)  # before the repeated hour
        raise CronError(f"{self.text!r}: no tick found before {iso(ms)}")  # pragma: no cover

    def _step(self, ms: int, *, previous: bool) -> int:
        """The tick strictly after (or before) `ms`, as croniter computes it in the zone."""
        ticks = croniter(self.fields, from_ms(ms).astimezone(self.zone), second_at_beginning=self.seconds)
        try:
            found: datetime = ticks.get_prev(datetime) if previous else ticks.get_next(datetime)
        except CroniterBadDateError:
            raise CronError(f"{self.text!r} has no tick within 50 years of {iso(ms)}") from None
        return to_ms(found)

    def _second_pass(self, ms: int) -> bool:
        """Whether `ms` is in the second pass of a wall-clock hour the clocks went back over."""
        return from_ms(ms).astimezone(self.zone).fold == 1

    def _fold_edge(self, ms: int, *, forward: bool) -> int:
        """From `ms`, in a repeated hour's second pass: where that pass ends (the first instant after it),
        or where it starts. A binary search over the instants one DST shift away, milliseconds apart."""
        wall = from_ms(ms).astimezone(self.zone).replace(tzinfo=None, fold=0)
        shift = ms - to_ms(wall.replace(tzinfo=self.zone))  # back to the first pass of the same wall time
        low, high = (ms, ms + shift) if forward else (ms - shift, ms)  # the edge is in (low, high]
        while high - low > 1:
            middle = (low + high) // 2
            if self._second_pass(middle) == forward:
                low = middle
            else:
                high = middle
        return high


def timer_event(cron: str, tick_ms: int, now_ms: int) -> dict[str, Any]:
    """The event a tick starts its run with: its `id` is the tick's time (RFC 3339, UTC), its data the
    schedule, when the tick was due (``scheduled_at``) and when it fired (``fire_at``: later than
    ``scheduled_at`` when it fired late, e.g. after every worker was down)."""
    stamp = rfc3339(tick_ms)
    return {
        "name": TIMER_EVENT,
        "data": {"cron": cron, "scheduled_at": stamp, "fire_at": iso(now_ms)},
        "id": stamp,
        "ts": now_ms,
    }


def rfc3339(ms: int) -> str:
    """A tick's time as RFC 3339 in UTC, to the second (ticks fall on whole seconds)."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- checking -------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _parse(text: str, allow_seconds: bool) -> CronSchedule:
    normalized = " ".join(text.split())
    if not normalized:
        raise CronError("a cron expression is required, e.g. '0 12 * * 5' (at noon every Friday)")
    if len(normalized) > MAX_CRON_LENGTH:
        raise CronError(f"longer than {MAX_CRON_LENGTH} characters")
    zone: tzinfo = UTC
    fields = normalized
    prefixed = _ZONE_PREFIX.fullmatch(normalized)
    if prefixed:
        zone = _zone(prefixed.group(1))
        fields = prefixed.group(2)
        if not fields:
            raise CronError(f"the fields are missing after the time zone, e.g. '{normalized} 0 12 * * 5'")
    descriptor = _DESCRIPTORS.get(fields.lower())
    if descriptor is not None:
        raise CronError(f"descriptors such as {fields} are not supported: write the fields, e.g. '{descriptor}'")
    parts = fields.split(" ")
    names = ("second", *_FIELDS) if len(parts) == 6 and allow_seconds else _FIELDS
    ranges = ("0-59", *_RANGES) if len(parts) == 6 and allow_seconds else _RANGES
    if len(parts) != len(names):
        shape = "5 fields (minute hour day-of-month month day-of-week)"
        if allow_seconds:
            shape += ", or 6 with seconds first"
        raise CronError(f"expected {shape}, got {len(parts)}: {fields!r}")
    seconds = len(parts) == 6
    for position, (part, name, allowed) in enumerate(zip(parts, names, ranges, strict=True)):
        if _RANDOM_OR_HASHED.search(part):
            raise CronError(f"the {name} field {part!r}: random (R) and hashed (H) values are not supported")
        probe = ["*"] * len(parts)
        probe[position] = part
        if not croniter.is_valid(" ".join(probe), second_at_beginning=seconds):
            raise CronError(f"the {name} field {part!r} is not valid ({allowed}, with * , - and /)")
    if not croniter.is_valid(fields, second_at_beginning=seconds):
        raise CronError(f"{fields!r} is not a valid cron expression")
    hours = parts[2 if seconds else 1]
    schedule = CronSchedule(
        text=normalized, fields=fields, zone=zone, seconds=seconds, every_hour=hours == "*" or hours.startswith("*/")
    )
    try:
        schedule.next_after(0)  # an impossible date (February 30) never ticks
    except (CronError, CroniterError):
        raise CronError(f"{fields!r} never ticks (no such date)") from None
    return schedule


def _zone(name: str) -> tzinfo:
    if not name:
        raise CronError("TZ= needs a time zone name, e.g. 'TZ=Europe/Paris 0 12 * * 5'")
    if name not in _zones():
        close = difflib.get_close_matches(name, _zones(), n=1)
        hint = f": did you mean {close[0]}?" if close else " (use an IANA name such as Europe/Paris)"
        raise CronError(f"unknown time zone {name!r}{hint}")
    return ZoneInfo(name)


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())
