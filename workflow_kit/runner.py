"""Drive one run forward: ask the planner what is ready, start those actions concurrently, record how
each ended, and repeat until nothing more can happen now.

`RunDriver.advance` returns when the run completed, failed, or every live action is parked (on a
sleep, a wait or a backoff); the caller decides when to call it again: the in-memory runner moves a
virtual clock, the durable runtime schedules a wake-up. The same driver serves both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .actions import ActionRegistry
from .engine import ConditionError, WorkflowGraph, plan
from .errors import ErrorInfo
from .executor import Completed, Failed, Outcome, Retry, RunContext, Suspended, invoke_action
from .records import ActionRecord, ActionStatus
from .step import StepJournal

RunStatus = Literal["completed", "failed", "suspended"]


class RunJournal(StepJournal, Protocol):
    """Persistence of a run's action records (the durable runtime writes them to its tables)."""

    async def save_actions(self, records: Sequence[ActionRecord]) -> None:
        """Record these actions' states together (one transaction)."""


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a run stands after `RunDriver.advance`."""

    status: RunStatus
    wake_at_ms: int | None = None
    """Suspended: the earliest time an action should be looked at again."""
    error: dict[str, Any] | None = None
    """Failed: ``{"name", "message", "action", "step"?}``."""


@dataclass
class RunDriver:
    registry: ActionRegistry
    graph: WorkflowGraph
    run: RunContext
    journal: RunJournal
    records: dict[str, ActionRecord] = field(default_factory=dict)
    resolve_waits: Callable[[ActionRecord], Awaitable[bool]] | None = None
    """Called when an action parks on a wait or an invoke; True if it resolved some (the in-memory runner)."""
    trace: list[tuple[str, str]] = field(default_factory=list)
    """``(event, action id)`` in the order things happened: started, completed, failed, skipped."""

    def __post_init__(self) -> None:
        for action_id in self.graph.order:
            self.records.setdefault(action_id, ActionRecord(id=action_id))
        self._outputs = state_of(self.records)  # kept up to date as actions complete
        self._statuses = _Statuses(self.records)
        self._error: dict[str, Any] | None = next(
            (_run_error(r.id, r.error) for r in self.records.values() if r.status == ActionStatus.FAILED and r.error),
            None,
        )

    @property
    def outputs(self) -> dict[str, Any]:
        return state_of(self.records)

    async def advance(self) -> Progress:
        running: dict[asyncio.Task[Outcome], str] = {}
        changed: list[ActionRecord] = []
        first = True
        try:
            while True:
                start = self._startable(set(running.values()), changed, first) if self._error is None else []
                first = False
                if changed:
                    # How the finished actions ended and what starts next, in one transaction: an action
                    # starts only once that is recorded (and the worker proved it still owns the run).
                    await self.journal.save_actions(changed)
                    changed = []
                if len(start) == 1 and not running:  # one action at a time (a chain): no task to schedule
                    changed.append(await self._record(start[0], await self._invoke(start[0])))
                    continue
                for action_id in start:
                    running[asyncio.create_task(self._invoke(action_id))] = action_id
                if not running:
                    break
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    changed.append(await self._record(running.pop(task), task.result()))
        except BaseException:
            # A control-flow signal (the run was taken away or cancelled) or a bug: stop the siblings.
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        return self._progress()

    def _startable(self, active: set[str], changed: list[ActionRecord], first: bool) -> list[str]:
        """Decide what starts now (marking it running) and what is skipped; add them to `changed`.

        The first time, every action is looked at (a resumed run may have anything due); after that
        only the children of what just completed can become ready, and only what just parked can be due."""
        now = self.run.clock.now_ms()
        if first:
            frontier = None
            recorded: Iterable[ActionRecord] = self.records.values()
        else:
            frontier = [c for r in changed if r.status == ActionStatus.COMPLETED for c in self.graph.children(r.id)]
            recorded = list(changed)
        try:
            decided = plan(self.graph, self._statuses, self._outputs, self.run.event, frontier=frontier)
        except ConditionError as exc:
            self._error = {"name": "ConditionError", "message": str(exc)}
            return []
        for action_id in decided.skipped:
            record = self.records[action_id]
            record.status, record.ended_at = ActionStatus.SKIPPED, now
            changed.append(record)
            self.trace.append(("skipped", action_id))
        start: list[str] = []
        for action_id in decided.ready:
            record = self.records[action_id]
            record.status, record.started_at = ActionStatus.RUNNING, now
            changed.append(record)
            self.trace.append(("started", action_id))
            start.append(action_id)
        for record in recorded:
            if record.due(now):
                record.status, record.wake_at = ActionStatus.RUNNING, None
                if record not in changed:
                    changed.append(record)
                start.append(record.id)
            elif first and record.status == ActionStatus.RUNNING and record.id not in active and record.id not in start:
                start.append(record.id)  # interrupted mid-attempt (its worker died): run it again
        return start

    async def _invoke(self, action_id: str) -> Outcome:
        action = self.graph.actions[action_id]
        definition = self.registry.get(action.kind)
        if definition is None:
            return Failed(ErrorInfo("UnknownAction", f"no action of kind {action.kind!r} is registered"))
        return await invoke_action(self.run, action, definition, self.records[action_id], self._outputs)

    async def _record(self, action_id: str, outcome: Outcome) -> ActionRecord:
        record = self.records[action_id]
        now = self.run.clock.now_ms()
        if isinstance(outcome, Completed):
            record.status, record.output, record.error, record.ended_at = (
                ActionStatus.COMPLETED,
                outcome.output,
                None,
                now,
            )
            self._outputs[action_id] = outcome.output
            self.trace.append(("completed", action_id))
        elif isinstance(outcome, Failed):
            record.status, record.error, record.ended_at = ActionStatus.FAILED, outcome.error, now
            self.trace.append(("failed", action_id))
            if self._error is None:
                self._error = _run_error(action_id, outcome.error, outcome.step)
        elif isinstance(outcome, Retry):
            record.status, record.error, record.wake_at = ActionStatus.RETRYING, outcome.error, outcome.at_ms
        elif isinstance(outcome, Suspended):
            record.wake_at = outcome.wake_at_ms
            if outcome.waiting:
                record.status = ActionStatus.WAITING
            else:
                record.status = ActionStatus.SLEEPING if outcome.sleeping else ActionStatus.RETRYING
            if outcome.waiting and self.resolve_waits is not None and await self.resolve_waits(record):
                record.wake_at = now
        return record

    def _progress(self) -> Progress:
        if self._error is not None:
            return Progress("failed", error=self._error)
        if all(r.status.resolved for r in self.records.values()):
            return Progress("completed")
        wakes = [r.wake_at for r in self.records.values() if r.status.suspended and r.wake_at is not None]
        return Progress("suspended", wake_at_ms=min(wakes) if wakes else None)


def _run_error(action_id: str, error: ErrorInfo | None, step: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": error.name if error else "Error",
        "message": error.message if error else "the action failed",
        "action": action_id,
    }
    if step:
        payload["step"] = step
    return payload


class _Statuses(Mapping[str, ActionStatus]):
    """The actions' statuses as the planner reads them: a live view of the records, not a copy."""

    __slots__ = ("_records",)

    def __init__(self, records: Mapping[str, ActionRecord]) -> None:
        self._records = records

    def __getitem__(self, action_id: str) -> ActionStatus:
        return self._records[action_id].status

    def get(self, action_id: str, default: Any = None) -> Any:
        record = self._records.get(action_id)
        return default if record is None else record.status

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)


def state_of(records: Mapping[str, ActionRecord]) -> dict[str, Any]:
    """Outputs of the completed actions, by id."""
    return {k: r.output for k, r in records.items() if r.status == ActionStatus.COMPLETED}
