"""A workflow's flow-control settings: what they are, their limits, and every check made at save time. Pure.

The options and their meaning follow Inngest's function options (see DESIGN.md and the reference):

- ``concurrency``: at most 2 limits ``{limit, key?, scope}``; a limit counts runs *executing a step*
  (sleeping and waiting runs do not count), per value of `key` if given; `scope` ``workflow`` (this
  workflow's runs) or ``tenant`` (every workflow of the tenant with the same key shares the limit).
- ``idempotency``: a key expression; one run per key value per 24 hours.
- ``rate_limit`` ``{limit, period, key?}``: at most `limit` runs start per `period`; events over it start
  nothing (they stay stored).
- ``throttle`` ``{limit, period, burst, key?}``: runs over the limit are delayed, never dropped; `burst` runs
  may start at once (1: evenly spread).
- ``debounce`` ``{period, key?, timeout?}``: the run starts `period` after the last matching event, with
  that event; `timeout` caps the total delay from the first one.
- ``batch_events`` ``{max_size, timeout, key?}``: one run for up to `max_size` events, started when full
  or `timeout` after the first; the handlers see them as ``ctx.events``.
- ``priority`` ``{run}``: an expression giving seconds: positive runs ahead of runs queued up to that
  long ago, negative waits that long.
- ``cancel_on``: up to 5 ``{event, if_exp?, timeout?}``; a matching event (``async`` in `if_exp`, the
  trigger is ``event``) received after the run started cancels it before its next step.
- ``timeouts`` ``{start?, finish?}``: cancel a run not started within `start` of being queued, or not
  finished within `finish` of starting.
- ``singleton`` ``{key?, mode}``: one active run per key: ``skip`` drops the new one, ``cancel`` cancels
  the running one for it.
- ``retries`` (0-20): the retry count of every step.
- ``retention``: how long the workflow's ended runs are kept, with their steps (1 hour to 10 years;
  the tenant's time, 30 days by default, if empty: see `retention.py`).

Keys are CEL over ``event`` (the triggering event). Durations are text such as ``"30s"``, ``"1h30m"``,
``"7d"``, or integer milliseconds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated, Any, Literal

import msgspec

from ... import expressions, jsonlimits
from ...errors import ExpressionError, Problem, WorkflowValidationError, split_msgspec_error
from ...events import NUL_MESSAGE, has_nul
from ...retry import MAX_RETRIES
from ...timeutil import parse_duration

SECOND_MS = 1000
DAY_MS = 86_400_000
MAX_CONCURRENCY_LIMITS = 2
MAX_CANCEL_ON = 5
MAX_CONCURRENCY = 100_000
MAX_BATCH_SIZE = 1000
MAX_PRIORITY_S = 12 * 3600
IDEMPOTENCY_MS = DAY_MS
MAX_RETENTION_MS = 3650 * DAY_MS
KEY_VARIABLES = ("event",)
CANCEL_VARIABLES = ("event", "async")

Duration = Annotated[
    str | int,
    msgspec.Meta(
        description="A duration: text such as '30s', '5m', '1h30m', '7d', or integer milliseconds",
        examples=["30s", "5m", "1h"],
    ),
]
Key = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=1024,
        description="A CEL expression over `event`, e.g. event.data.user_id",
        extra_json_schema={"x-cel": True},
    ),
]
Count = Annotated[int, msgspec.Meta(ge=1)]


def _doc(title: str, description: str | None = None) -> msgspec.Meta:
    """A field's label and help text in the JSON Schema (the editor's settings form shows them)."""
    return msgspec.Meta(title=title, description=description) if description else msgspec.Meta(title=title)


class _Setting(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    pass


class ConcurrencyLimit(_Setting):
    """At most `limit` runs executing a step at once, per value of `key` (all runs if none)."""

    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_CONCURRENCY)]
    key: Key | None = None
    scope: Annotated[
        Literal["workflow", "tenant"],
        _doc("Scope", "workflow: this workflow's runs; tenant: every workflow of the tenant with the same key"),
    ] = "workflow"


class RateLimit(_Setting):
    """At most `limit` runs start per `period` (per key); events over the limit start nothing."""

    limit: Count
    period: Duration
    key: Key | None = None


class Throttle(_Setting):
    """At most `limit` runs start per `period` (per key); runs over the limit wait their turn."""

    limit: Count
    period: Duration
    burst: Annotated[Count, _doc("Burst", "How many runs may start at once (1: evenly spread)")] = 1
    key: Key | None = None


class Debounce(_Setting):
    """Start `period` after the last matching event (per key), with that event; at most `timeout` late."""

    period: Annotated[Duration, _doc("Period", "Quiet time after the last event before the run starts")]
    key: Key | None = None
    timeout: Annotated[Duration | None, _doc("Timeout", "The longest delay from the first event")] = None


class BatchEvents(_Setting):
    """One run for up to `max_size` events (per key), started when full or `timeout` after the first."""

    max_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_BATCH_SIZE)]
    timeout: Duration
    key: Key | None = None


class Priority(_Setting):
    """`run`: an expression giving seconds ahead (positive) or behind (negative) in the queue."""

    run: Key


class CancelOn(_Setting):
    """A run is cancelled by an `event` received after it started, if `if_exp` holds (``async`` is that
    event, ``event`` the trigger), until `timeout` after the run started."""

    event: Annotated[str, msgspec.Meta(min_length=1, max_length=255), _doc("Event", "One exact event name")]
    if_exp: Annotated[
        Key | None, _doc("Condition", "CEL: `async` is the cancelling event, `event` the trigger (always if empty)")
    ] = None
    timeout: Annotated[Duration | None, _doc("Timeout", "Only cancel until this long after the run started")] = None


class Timeouts(_Setting):
    """Cancel a run not started within `start` of being queued, or not finished `finish` after starting."""

    start: Annotated[Duration | None, _doc("Start", "Cancel a run not started this long after it was queued")] = None
    finish: Annotated[Duration | None, _doc("Finish", "Cancel a run not finished this long after it started")] = None


class Singleton(_Setting):
    """One active run per key: ``skip`` drops a new run while one is active; ``cancel`` replaces it."""

    key: Key | None = None
    mode: Annotated[
        Literal["skip", "cancel"], _doc("Mode", "skip: drop the new run; cancel: cancel the active one for it")
    ] = "skip"


class WorkflowSettings(_Setting):
    """Per-workflow settings (see the module's docstring). Every field is optional."""

    retries: Annotated[
        Annotated[int, msgspec.Meta(ge=0, le=MAX_RETRIES)] | None,
        _doc("Retries", f"How often a failed step is retried (0-{MAX_RETRIES}); the kit's default if empty"),
    ] = None
    concurrency: Annotated[
        list[ConcurrencyLimit] | None,
        _doc(
            "Concurrency limits",
            f"At most {MAX_CONCURRENCY_LIMITS} limits on the runs executing a step at once (sleeping and waiting"
            " runs do not count)",
        ),
        msgspec.Meta(extra_json_schema={"maxItems": MAX_CONCURRENCY_LIMITS}),
    ] = None
    idempotency: Annotated[
        Key | None, _doc("Idempotency key", "CEL over `event`: at most one run per value per 24 hours")
    ] = None
    rate_limit: Annotated[RateLimit | None, _doc("Rate limit")] = None
    throttle: Annotated[Throttle | None, _doc("Throttle")] = None
    debounce: Annotated[Debounce | None, _doc("Debounce")] = None
    batch_events: Annotated[BatchEvents | None, _doc("Batch events")] = None
    priority: Annotated[Priority | None, _doc("Priority")] = None
    cancel_on: Annotated[
        list[CancelOn] | None,
        _doc("Cancel on events", f"Up to {MAX_CANCEL_ON} events that cancel a run before its next step"),
        msgspec.Meta(extra_json_schema={"maxItems": MAX_CANCEL_ON}),
    ] = None
    timeouts: Annotated[Timeouts | None, _doc("Timeouts")] = None
    singleton: Annotated[Singleton | None, _doc("Singleton")] = None
    retention: Annotated[
        Duration | None,
        _doc(
            "Keep history",
            "How long ended runs are kept, with their steps, e.g. 90d (empty: as long as the workspace"
            " settings say, 30 days unless changed)",
        ),
    ] = None

    @classmethod
    def parse(cls, value: Any) -> WorkflowSettings:
        """Checked settings from JSON (or settings); raises `WorkflowValidationError` with every problem."""
        if value is None:
            return cls()
        if isinstance(value, WorkflowSettings):
            settings = value
        else:
            try:
                settings = msgspec.convert(value, cls)
            except msgspec.ValidationError as exc:
                path, message = split_msgspec_error(str(exc), "settings")
                raise WorkflowValidationError([Problem("invalid_settings", path, message)]) from None
        problems = settings_problems(settings)
        if problems:
            raise WorkflowValidationError(problems)
        return settings

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result


def duration_ms(value: str | int) -> int:
    return int(parse_duration(value).total_seconds() * 1000)


def settings_schema() -> dict[str, Any]:
    """The JSON Schema of the settings (for the editor's form)."""
    schema: dict[str, Any] = msgspec.json.schema(WorkflowSettings)
    return schema


def settings_problems(settings: WorkflowSettings) -> list[Problem]:
    """Everything wrong with settings that decode: durations and their ranges, expressions, and
    options that do not go together."""
    try:
        encoded = jsonlimits.encode(msgspec.to_builtins(settings), "settings")
    except jsonlimits.JSONShapeError as exc:  # a lone surrogate in a key expression, say
        return [Problem("invalid_settings", exc.path, exc.reason)]
    if has_nul(encoded):
        return [Problem("invalid_settings", "settings", NUL_MESSAGE)]
    check = _Checker()
    s = settings
    if s.concurrency is not None:
        if len(s.concurrency) > MAX_CONCURRENCY_LIMITS:
            check.add("settings.concurrency", f"at most {MAX_CONCURRENCY_LIMITS} concurrency limits")
        for i, limit in enumerate(s.concurrency):
            check.key(f"settings.concurrency[{i}].key", limit.key)
            if limit.scope == "tenant" and limit.key is None:
                check.add(f"settings.concurrency[{i}].key", "a tenant-wide limit needs a key (e.g. '\"openai\"')")
    check.key("settings.idempotency", s.idempotency)
    if s.rate_limit is not None:
        check.duration("settings.rate_limit.period", s.rate_limit.period, SECOND_MS, DAY_MS)
        check.key("settings.rate_limit.key", s.rate_limit.key)
    if s.throttle is not None:
        check.duration("settings.throttle.period", s.throttle.period, SECOND_MS, 7 * DAY_MS)
        check.key("settings.throttle.key", s.throttle.key)
    if s.debounce is not None:
        period = check.duration("settings.debounce.period", s.debounce.period, SECOND_MS, 7 * DAY_MS)
        check.key("settings.debounce.key", s.debounce.key)
        if s.debounce.timeout is not None:
            timeout = check.duration("settings.debounce.timeout", s.debounce.timeout, SECOND_MS, 7 * DAY_MS)
            if period is not None and timeout is not None and timeout < period:
                check.add("settings.debounce.timeout", "must be at least the period")
    if s.batch_events is not None:
        check.duration("settings.batch_events.timeout", s.batch_events.timeout, SECOND_MS, 10 * 60 * SECOND_MS)
        check.key("settings.batch_events.key", s.batch_events.key)
        for name in ("idempotency", "rate_limit", "debounce", "priority", "cancel_on", "singleton"):
            if getattr(s, name) is not None:
                check.add(f"settings.{name}", "cannot be combined with batch_events (a run has many events)")
        if any(limit.key is not None for limit in s.concurrency or []):
            check.add("settings.concurrency", "a keyed concurrency limit cannot be combined with batch_events")
    if s.priority is not None:
        check.key("settings.priority.run", s.priority.run)
    if s.cancel_on is not None:
        if len(s.cancel_on) > MAX_CANCEL_ON:
            check.add("settings.cancel_on", f"at most {MAX_CANCEL_ON} cancellation events")
        for i, cancel in enumerate(s.cancel_on):
            if "*" in cancel.event:
                check.add(f"settings.cancel_on[{i}].event", "a cancellation event is one exact event name")
            check.key(f"settings.cancel_on[{i}].if_exp", cancel.if_exp, CANCEL_VARIABLES)
            if cancel.timeout is not None:
                check.duration(f"settings.cancel_on[{i}].timeout", cancel.timeout, SECOND_MS, 366 * DAY_MS)
    if s.timeouts is not None:
        for name in ("start", "finish"):
            value = getattr(s.timeouts, name)
            if value is not None:
                check.duration(f"settings.timeouts.{name}", value, SECOND_MS, 366 * DAY_MS)
    if s.singleton is not None:
        check.key("settings.singleton.key", s.singleton.key)
    if s.retention is not None:
        check.duration("settings.retention", s.retention, 3600 * SECOND_MS, MAX_RETENTION_MS)
    return check.problems


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, code: str = "invalid_settings") -> None:
        self.problems.append(Problem(code, path, message))

    def key(self, path: str, source: str | None, variables: tuple[str, ...] = KEY_VARIABLES) -> None:
        if source is None:
            return
        try:
            expressions.check(source, variables)
        except ExpressionError as exc:
            self.add(path, str(exc), "invalid_expression")

    def duration(self, path: str, value: str | int, least_ms: int, most_ms: int) -> int | None:
        try:
            ms = duration_ms(value)
        except (ValueError, OverflowError) as exc:
            self.add(path, str(exc))
            return None
        if not least_ms <= ms <= most_ms:
            self.add(path, f"must be between {_say(least_ms)} and {_say(most_ms)}")
            return None
        return ms


def _say(ms: int) -> str:
    for unit, size in (("d", DAY_MS), ("h", 3_600_000), ("m", 60_000), ("s", SECOND_MS)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


class SettingsCache:
    """Versions' settings, each parsed once (versions are immutable). One per kit: the writer's threads
    (events received) and the kit's workers read it, so it is thread-safe; the oldest entries go first."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._parsed: OrderedDict[str, WorkflowSettings] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, version_id: str) -> WorkflowSettings | None:
        """The settings of `version_id` if they are in the cache."""
        return self._parsed.get(version_id)

    def get(self, version_id: str, raw: dict[str, Any] | None) -> WorkflowSettings:
        """The settings of `version_id`, whose stored JSON is `raw` (parsed on the first call only)."""
        settings = self._parsed.get(version_id)
        if settings is not None:
            return settings
        settings = WorkflowSettings.parse(raw or {})
        with self._lock:
            self._parsed[version_id] = settings
            if len(self._parsed) > self._size:
                self._parsed.popitem(last=False)
        return settings
