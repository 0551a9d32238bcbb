"""Edge conditions: ``if`` (truthy), ``else`` (falsy), ``match`` (strict JSON equality), and ``failed``
(taken only when the source action failed; decided by the planner from statuses, no ref). Pure."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from .. import refs
from ..errors import RefError, WorkflowKitError
from ..workflow import Conditional

CONDITIONAL_TYPES: Final = ("if", "else", "match", "failed")
FAILED: Final = "failed"
"""The type of an error edge: taken only when its source failed after its retries."""


class ConditionError(WorkflowKitError):
    """An edge's condition could not be evaluated."""

    code = "condition_error"


def truthy(value: Any) -> bool:
    """JavaScript truthiness, as the TypeScript kit uses: null, false, 0, NaN and "" are false; empty
    arrays and objects are true."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    return True


def json_equal(left: Any, right: Any) -> bool:
    """Deep JSON equality: 42 equals 42.0 but not "42"; true is not 1; object key order does not matter."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and bool(left == right)


def holds(
    conditional: Conditional,
    *,
    output: Any,
    event: dict[str, Any],
    state: dict[str, Any],
    variables: Mapping[str, Any] | None = None,
) -> bool:
    """Whether an edge with this condition is taken, given its source's output (`variables`: the extra
    roots of a loop body, such as ``item``)."""
    context = {**(variables or {}), "event": event, "state": state, "output": output}
    try:
        value = refs.interpolate_string(conditional.ref, context)
    except RefError as exc:
        raise ConditionError(f"condition {conditional.ref!r}: {exc.reason}") from None
    if conditional.type == "if":
        return truthy(value)
    if conditional.type == "else":
        return not truthy(value)
    if conditional.type == "match":
        expected = None if conditional.value is msgspec.UNSET else conditional.value
        return json_equal(value, expected)
    raise ConditionError(f"unknown condition type {conditional.type!r} (use one of {', '.join(CONDITIONAL_TYPES)})")
