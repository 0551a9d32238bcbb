"""Where a run (or one iteration of a loop) stands after its driver advanced it, and the scope a
driver runs in: the values `runner.py` and `loop_runner.py` pass each other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .step import StepBudget

RunStatus = Literal["completed", "failed", "suspended"]


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a run stands after `RunDriver.advance`."""

    status: RunStatus
    wake_at_ms: int | None = None
    """Suspended: the earliest time an action should be looked at again."""
    error: dict[str, Any] | None = None
    """Failed: ``{"name", "message", "action", "step"?}``."""
    waiting: bool = False
    """Suspended: some action waits for an event."""
    sleeping: bool = False
    """Suspended: some action sleeps."""


@dataclass(frozen=True)
class Scope:
    """Where a driver runs: the whole run (`prefix` empty), or one iteration of a loop's body."""

    prefix: str = ""
    """Put before each body action's id to make its record's id (``each[2]/``); empty for the run."""
    variables: Mapping[str, Any] = field(default_factory=dict)
    """The extra roots refs and CEL see in the body (``item``, ``index``, ``round``, ``last``)."""
    outer_state: Mapping[str, Any] = field(default_factory=dict)
    """The outputs of the enclosing scopes' actions, which the body's refs see in ``$.state``."""
    budget: StepBudget | None = None
    """The steps this iteration may record (None: the run's)."""
