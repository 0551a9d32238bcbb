"""Events: ``{name, data, id?, ts?, v?}``, checked with clear errors and explicit size limits."""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from . import jsonlimits, paths
from .errors import WorkflowKitError

MAX_EVENT_BYTES = 512 * 1024
MAX_EVENTS_PER_SEND = 1000
MAX_TS_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last time a datetime can hold
RUN_EVENT_PREFIX = "workflow/run."
"""The names of the events the kit sends itself when a run ends (``workflow/run.completed``, ...)."""
MAX_EVENT_NAME_LENGTH = 256
MAX_EVENT_ID_LENGTH = 256
NUL_MESSAGE = "text may not contain the NUL character (\\u0000): the database cannot store it"
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # an escape, not an escaped backslash followed by u0000
_FIELDS = frozenset({"name", "data", "id", "ts", "v", "user", "traceparent"})
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class EventError(WorkflowKitError):
    """An event is malformed or too large; `path` says where."""

    code = "invalid_event"

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.reason = message


def normalize_event(raw: Any, now_ms: int, *, path: str = "event") -> dict[str, Any]:
    """A checked copy of an event: ``data`` defaults to ``{}``, ``ts`` to now (epoch milliseconds)."""
    if not isinstance(raw, dict):
        raise EventError(path, f"an event is a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise EventError(paths.key(path, unknown[0]), "unknown field (an event has name, data, id, ts, v, user)")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise EventError(paths.key(path, "name"), "an event needs a non-empty string name")
    if len(name) > MAX_EVENT_NAME_LENGTH:
        raise EventError(paths.key(path, "name"), f"longer than {MAX_EVENT_NAME_LENGTH} characters")
    data = raw.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EventError(paths.key(path, "data"), f"expected an object, got {type(data).__name__}")
    event: dict[str, Any] = {"name": name, "data": data}
    if raw.get("id") is not None:
        if not isinstance(raw["id"], str) or not raw["id"]:
            raise EventError(paths.key(path, "id"), "expected a non-empty string")
        if len(raw["id"]) > MAX_EVENT_ID_LENGTH:
            raise EventError(paths.key(path, "id"), f"longer than {MAX_EVENT_ID_LENGTH} characters")
        event["id"] = raw["id"]
    ts = raw.get("ts")
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts <= MAX_TS_MS):
        raise EventError(paths.key(path, "ts"), "expected epoch milliseconds (an integer from 0 to the year 9999)")
    event["ts"] = ts if ts else now_ms  # 0 means "now", as Inngest's Python client treats it
    if raw.get("v") is not None:
        if not isinstance(raw["v"], str):
            raise EventError(paths.key(path, "v"), "expected a string")
        event["v"] = raw["v"]
    if raw.get("user") is not None:
        event["user"] = raw["user"]
    if raw.get("traceparent") is not None:  # the trace the event was sent in: its runs continue it
        if not isinstance(raw["traceparent"], str) or not _TRACEPARENT.fullmatch(raw["traceparent"]):
            raise EventError(
                paths.key(path, "traceparent"), "expected a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)"
            )
        event["traceparent"] = raw["traceparent"]
    try:
        encoded = jsonlimits.encode(event, path)
    except jsonlimits.JSONShapeError as exc:
        raise EventError(exc.path, exc.reason) from None
    size = len(encoded)
    if has_nul(encoded):
        raise EventError(path, NUL_MESSAGE)
    if size > MAX_EVENT_BYTES:
        raise EventError(path, f"the event is {size} bytes; the limit is {MAX_EVENT_BYTES} bytes (512 KB)")
    return event


def normalize_events(raw: Any, now_ms: int, *, path: str = "events") -> list[dict[str, Any]]:
    """One event or a list of them, each checked."""
    if isinstance(raw, dict):
        return [normalize_event(raw, now_ms, path=path)]
    if not isinstance(raw, list | tuple):
        raise EventError(path, f"expected an event or a list of events, got {type(raw).__name__}")
    if len(raw) > MAX_EVENTS_PER_SEND:
        raise EventError(path, f"{len(raw)} events at once; the limit is {MAX_EVENTS_PER_SEND} (send them in batches)")
    return [normalize_event(item, now_ms, path=paths.index(path, i)) for i, item in enumerate(raw)]


_RANDOM_BITS = 80
_last_id = [0]  # the last id made in this process, as a number (monotonic within a millisecond)
_id_lock = threading.Lock()


def new_id(now_ms: int) -> str:
    """A ULID: 48 bits of milliseconds and 80 random bits in Crockford base32, sortable by time.

    Ids made by one process in the same millisecond also sort in the order they were made (the random
    part of the previous one plus one, as ULID's monotonic mode), so "newest first" holds for runs one
    `send` starts at once."""
    value = (now_ms << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big")
    with _id_lock:
        last = _last_id[0]
        if last >> _RANDOM_BITS == now_ms and (last + 1) >> _RANDOM_BITS == now_ms:
            value = last + 1
        _last_id[0] = value
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def has_nul(encoded: bytes) -> bool:
    """Whether JSON text holds a NUL character (PostgreSQL's JSONB rejects ``\\u0000``)."""
    return b"\\u0000" in encoded and _NUL.search(encoded) is not None
