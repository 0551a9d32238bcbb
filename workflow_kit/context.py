"""What a handler receives besides its inputs: the event, the workflow, its own action, the state of the
run so far, the Step API, and a logger that stays quiet while recorded steps are replayed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from .step import Step, StepSync
from .workflow import Workflow, WorkflowAction

_LOGGER = logging.getLogger("workflow_kit.actions")


class ReplayAwareLogger(logging.LoggerAdapter[logging.Logger]):
    """Tags records with the run and action, and drops them while the handler replays recorded steps,
    so a line logged before a sleep appears once, not once per resumption."""

    def __init__(self, run_id: str, action_id: str, replaying: Callable[[], bool]) -> None:
        super().__init__(_LOGGER, {"run_id": run_id, "action_id": action_id})
        self._replaying = replaying

    def isEnabledFor(self, level: int) -> bool:
        return not self._replaying() and super().isEnabledFor(level)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


@dataclass(frozen=True, slots=True)
class _Context:
    event: dict[str, Any]
    """The event that triggered the run: ``{name, data, id?, ts, v?}``."""
    events: tuple[dict[str, Any], ...]
    """Every event of the run (one, unless the workflow batches events)."""
    workflow: Workflow
    action: WorkflowAction
    """This action, with its inputs interpolated."""
    state: Mapping[str, Any]
    """Read-only outputs of the actions that completed before this one started, by action id."""
    run_id: str
    tenant: str
    """The tenant the run belongs to: use it to reach that tenant's data, and only that."""
    attempt: int
    """0 on the first attempt of the step being executed; incremented by each retry."""
    logger: logging.LoggerAdapter[logging.Logger]
    item: Any = field(default=None, kw_only=True)
    """Inside a "for each" loop's body: the item of this iteration (None elsewhere)."""
    index: int | None = field(default=None, kw_only=True)
    """Inside a "for each" loop's body: the 0-based position of the item (None elsewhere)."""
    loop: Mapping[str, Any] = field(default_factory=dict, kw_only=True)
    """Inside a loop's body, what its refs and CEL see besides ``event`` and ``state``: ``item`` and
    ``index`` (for each), or ``round`` and ``last`` (repeat until). Empty elsewhere."""
    trigger: dict[str, Any] | None = field(default=None, kw_only=True)
    """Which of the workflow's triggers started the run: its ``index`` in the workflow's list and the
    trigger as it was then, ``{"index": 1, "event": "app/order.*", "if": "..."}`` or ``{"index": 0,
    "cron": "0 9 * * *"}``. None when no trigger started the run (a test run, an invoked workflow, a
    run in memory)."""


@dataclass(frozen=True, slots=True)
class ActionContext(_Context):
    """The context of an async handler: ``await ctx.step.run(...)``."""

    step: Step


@dataclass(frozen=True, slots=True)
class ActionContextSync(ActionContext):
    """The context of a sync handler: ``ctx.step.run(...)`` blocks until the step is recorded.

    A subclass of `ActionContext`, so a sync handler annotated with either works; annotate
    `ActionContextSync` to have the blocking Step API typed."""

    step: StepSync  # type: ignore[assignment]
