"""What a run remembers: one record per action, and inside it one record per sub-step, in call order.

These are plain msgspec Structs (JSON, never pickle). The in-memory runner keeps them in a dict; the
durable runtime stores the same records in its tables. Times are epoch milliseconds.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec

from .errors import ErrorInfo


class ActionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SLEEPING = "sleeping"
    WAITING = "waiting"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def resolved(self) -> bool:
        """Completed or skipped: its children may be planned."""
        return self in (ActionStatus.COMPLETED, ActionStatus.SKIPPED)

    @property
    def suspended(self) -> bool:
        """Started, then parked until a time or an event."""
        return self in (ActionStatus.SLEEPING, ActionStatus.WAITING, ActionStatus.RETRYING)


class StepStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    RETRYING = "retrying"
    SLEEPING = "sleeping"
    WAITING = "waiting"


class Attempt(msgspec.Struct, omit_defaults=True):
    """One execution of a step body or an action handler that ended (in a value or an error)."""

    started_at: int
    ended_at: int
    error: ErrorInfo | None = None


class WaitSpec(msgspec.Struct, omit_defaults=True):
    """What a waiting step waits for: an event name and an optional CEL match (``event``, ``async``)."""

    event: str
    if_exp: str | None = None
    registered_at: int = 0


class InvokeSpec(msgspec.Struct, omit_defaults=True):
    """What an invoke step started: another workflow of the tenant, with this data, as this run."""

    workflow_id: str
    run_id: str
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class StepRecord(msgspec.Struct):
    """One sub-step (``ctx.step.*``) of an action: its memoized result and its attempts."""

    key: str
    """The step id, with ``:N`` for the N-th repeat of the same id within the action."""
    kind: str
    status: StepStatus
    output: Any = None
    error: ErrorInfo | None = None
    attempts: list[Attempt] = msgspec.field(default_factory=list)
    wake_at: int | None = None
    """Sleeping: when it ends. Waiting: the timeout. Retrying: when the next attempt may start."""
    wait: WaitSpec | None = None
    invoke: InvokeSpec | None = None

    @property
    def failures(self) -> int:
        return sum(1 for a in self.attempts if a.error is not None)


class ActionRecord(msgspec.Struct):
    """An action in a run: status, interpolated inputs, output or error, attempts, and its sub-steps."""

    id: str
    status: ActionStatus = ActionStatus.PENDING
    inputs: dict[str, Any] | None = None
    output: Any = None
    error: ErrorInfo | None = None
    attempts: list[Attempt] = msgspec.field(default_factory=list)
    steps: list[StepRecord] = msgspec.field(default_factory=list)
    started_at: int | None = None
    ended_at: int | None = None
    wake_at: int | None = None
    """When a suspended action should be invoked again (None: only when an awaited event arrives)."""

    @property
    def failures(self) -> int:
        return sum(1 for a in self.attempts if a.error is not None)

    def due(self, now_ms: int) -> bool:
        return self.status.suspended and self.wake_at is not None and self.wake_at <= now_ms
