"""A webhook request, to the event it becomes. Pure.

A request to ``POST /hooks/<id>`` is ``{method, headers, query, body}``: `headers` with lower-case
names, `query` the URL's parameters, `body` parsed by its content type (JSON, a form as an object of
strings, anything else as text). The hook's `transform`, a CEL expression over those four names, makes
the event from it: a map with ``name`` (default: the trigger's event name), ``data`` (an object) and an
optional ``id`` (the 24-hour dedupe key); without a transform, the event is the trigger's name with the
body as its data (a body that is not an object is ``{"body": ...}``) and, as its id, the delivery header
the sender sets (``X-GitHub-Delivery``, ``Webhook-Id``, ...), if any.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from ... import expressions
from ...errors import ExpressionError, Problem

MAX_BODY_BYTES = 512 * 1024
"""The largest request a hook takes (413 beyond), as the largest event."""
DEFAULT_RATE_LIMIT = 60
"""Requests a minute a hook takes by default (429 beyond, with ``Retry-After``)."""
MAX_RATE_LIMIT = 100_000
TRANSFORM_VARIABLES = ("method", "headers", "query", "body")
DELIVERY_HEADERS = ("x-github-delivery", "webhook-id", "x-webhook-id", "x-delivery-id", "x-request-id")
"""Headers whose value, when the request has one, is the event's id (first found), without a transform."""
MAX_TRANSFORM = 4096


class TransformError(Exception):
    """The request cannot become an event (a body that is not what it says, a transform that fails)."""


def transform_problems(transform: str | None, path: str = "transform") -> list[Problem]:
    """What is wrong with a transform's CEL, with its position (path `path`)."""
    if transform is None:
        return []
    if len(transform) > MAX_TRANSFORM:
        return [Problem("invalid_expression", path, f"longer than {MAX_TRANSFORM} characters")]
    try:
        expressions.check(transform, TRANSFORM_VARIABLES)
    except ExpressionError as exc:
        return [Problem("invalid_expression", path, str(exc))]
    return []


def parse_body(content_type: str | None, raw: bytes) -> Any:
    """The body, by its content type: JSON (``application/json``, ``*+json``), a form
    (``application/x-www-form-urlencoded``: each field a string, a repeated one a list), else text."""
    kind = (content_type or "").split(";")[0].strip().lower()
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise TransformError("the body is not UTF-8 text") from None
    if kind == "application/json" or kind.endswith("+json"):
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise TransformError(f"the body is not JSON: {exc}") from None
    if kind == "application/x-www-form-urlencoded":
        return flatten(parse_qs(text, keep_blank_values=True))
    return text


def flatten(fields: Mapping[str, list[str]]) -> dict[str, str | list[str]]:
    """Form or query fields: one value as a string, several as a list."""
    return {key: values[0] if len(values) == 1 else values for key, values in fields.items()}


def to_event(transform: str | None, request: dict[str, Any], default_name: str) -> dict[str, Any]:
    """The event `request` becomes (see the module docstring): ``{name, data, id?}``. Raises
    `TransformError` with the reason."""
    if transform is None:
        body = request["body"]
        event: dict[str, Any] = {"name": default_name, "data": body if isinstance(body, dict) else {"body": body}}
        headers: Mapping[str, str] = request["headers"]
        delivery = next((headers[h] for h in DELIVERY_HEADERS if headers.get(h)), None)
        if delivery is not None:
            event["id"] = delivery
        return event
    try:
        made = expressions.evaluate(transform, request)
    except ExpressionError as exc:
        raise TransformError(f"the transform failed: {exc}") from None
    if not isinstance(made, dict):
        raise TransformError(f"the transform made {_kind(made)}, not a map such as {{'name': ..., 'data': ...}}")
    unknown = sorted(set(made) - {"name", "data", "id"})
    if unknown:
        raise TransformError(f"the transform's map has {unknown[0]!r}: it may have name, data and id")
    name = made.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise TransformError(f"the transform's name is {_kind(name)}, not a name")
    data = made.get("data", {})
    if not isinstance(data, dict):
        raise TransformError(f"the transform's data is {_kind(data)}, not a map")
    event = {"name": name, "data": data}
    if made.get("id") is not None:
        if not isinstance(made["id"], str | int):
            raise TransformError(f"the transform's id is {_kind(made['id'])}, not text")
        event["id"] = str(made["id"])
    return event


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "a map"


def retry_after_ms(tat: int | None, now: int, limit: int) -> tuple[int, int | None]:
    """A hook's rate limit, `limit` requests a minute with bursts of as many (the generic cell rate
    algorithm over its theoretical arrival time `tat`): how long the request must wait (0: it passes)
    and the new `tat` if it passes (None if not)."""
    interval = 60_000 / limit
    tat = now if tat is None or tat < now else tat
    allowed_at = tat - interval * (limit - 1)
    if allowed_at > now:
        return math.ceil(allowed_at - now), None
    return 0, int(tat + interval)
