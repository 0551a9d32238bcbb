"""The error hierarchy: every error a user sees has a stable code, and a path where one applies.

Errors raised *by handlers* to steer retries (`NonRetriableError`, `RetryAfterError`) and the error a
failed step raises *into* a handler (`StepError`) follow Inngest's Python SDK. Control-flow signals
(suspending a run) are not here: they derive from `BaseException` and live with the Step API.
"""

from __future__ import annotations

import re
import traceback
from datetime import datetime, timedelta
from typing import Any

import msgspec


class Problem(msgspec.Struct, frozen=True):
    """One validation problem: a stable `code`, a `path` such as ``actions[2].inputs.email``, a message."""

    code: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ErrorInfo(msgspec.Struct, omit_defaults=True):
    """An error as stored in a run's history: JSON, never a pickled exception."""

    name: str
    message: str
    stack: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        if isinstance(exc, StepError):
            return cls(name=exc.name, message=exc.message, stack=exc.stack)
        stack = "".join(traceback.format_exception(exc)) if exc.__traceback__ else None
        return cls(name=type(exc).__name__, message=str(exc), stack=stack)


class WorkflowKitError(Exception):
    """Base class of the kit's own errors."""

    code = "error"


class WorkflowValidationError(WorkflowKitError):
    """A workflow failed validation; `.problems` lists every problem with its code and path."""

    code = "invalid_workflow"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        count = len(self.problems)
        super().__init__(f"invalid workflow, {count} problem{'s' if count != 1 else ''}: {shown}{more}")


class NonRetriableError(WorkflowKitError):
    """Raise from a handler or a step to fail at once, without retrying."""

    code = "non_retriable"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class RetryAfterError(WorkflowKitError):
    """Raise to retry later, at a time the caller knows (e.g. a provider's ``Retry-After``).

    `retry_after` is milliseconds (int), a `timedelta`, or an absolute `datetime`.
    """

    code = "retry_after"

    def __init__(self, message: str, retry_after: int | timedelta | datetime) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class StepError(WorkflowKitError):
    """A step failed for good (retries exhausted or non-retriable); raised where the step was called.

    Carries the original error's `name`, `message` and `stack`. It is itself non-retriable: left uncaught,
    it fails the action and the run.
    """

    code = "step_failed"

    def __init__(self, message: str, *, name: str, stack: str | None = None, step_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.stack = stack
        self.step_id = step_id


class NonDeterminismError(NonRetriableError):
    """On replay, the handler called a different step than the one recorded at that position."""

    code = "non_deterministic"


class ExpressionError(WorkflowKitError):
    """A CEL expression failed to compile or to evaluate; carries the expression and the position."""

    code = "invalid_expression"

    def __init__(self, expression: str, message: str, *, line: int | None = None, column: int | None = None):
        where = f" at line {line}, column {column}" if line is not None and column is not None else ""
        super().__init__(f"{message}{where} in expression {expression!r}")
        self.expression = expression
        self.reason = message
        self.line = line
        self.column = column


class RefError(WorkflowKitError):
    """A ``!ref(...)`` is malformed, or (embedded in a string) matched nothing at run time."""

    code = "ref_error"

    def __init__(self, ref: str, message: str) -> None:
        super().__init__(f"{ref}: {message}")
        self.ref = ref
        self.reason = message


class LimitExceededError(NonRetriableError):
    """An explicit size or count limit was exceeded (step output size, steps per run, event size)."""

    code = "limit_exceeded"


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The JSON form of an error for results and APIs: ``{"name", "message"}``."""
    info = ErrorInfo.from_exception(exc)
    return {"name": info.name, "message": info.message}


_MISSING_FIELD = re.compile(r"Object missing required field `([^`]+)`")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `([^`]+)`")


def split_msgspec_error(text: str, base: str = "") -> tuple[str, str]:
    """A msgspec validation message as (path, message): ``"Expected `str`, got `int` - at `$.actions[0].id`"``
    gives ``("actions[0].id", "Expected `str`, got `int`")``; a missing or unknown field is named in the path."""
    message, sep, where = text.rpartition(" - at `")
    if not sep:
        message, where = text, "$`"
    path = where.rstrip("`")
    path = path[2:] if path.startswith("$.") else path.removeprefix("$")
    if base:
        path = f"{base}.{path}" if path and not path.startswith("[") else base + path
    for pattern, reason in ((_MISSING_FIELD, "required, but missing"), (_UNKNOWN_FIELD, "unknown field")):
        found = pattern.match(message)
        if found:
            path = f"{path}.{found.group(1)}" if path else found.group(1)
            message = reason
    return path, message


class OverBudgetError(WorkflowKitError):
    """A tenant used more evaluation time (its workflows' conditions and keys, checked against its
    events) than its budget allows: the events were not received. Send them again after
    `retry_after` seconds (the editor API answers 429 with ``Retry-After``)."""

    code = "over_budget"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
