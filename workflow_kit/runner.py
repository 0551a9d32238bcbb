"""Drive one run forward: ask the planner what is ready, start those actions concurrently, record how
each ended, and repeat until nothing more can happen now.

`RunDriver.advance` returns when the run completed, failed, or every live action is parked (on a
sleep, a wait or a backoff); the caller decides when to call it again: the in-memory runner moves a
virtual clock, the durable runtime schedules a wake-up. The same driver serves both.

A loop action's body is driven by a driver of its own per iteration (`loop_runner.py`), over the body's
graph, in a `Scope`: its records are actions of the run like any other, with ids that name the
iteration (``each[2]/reserve``), so each is durable and a resumed run does not run a finished
iteration again.

A failed action fails the run, unless its failure is handled: an error edge leaves it
(``"conditional": {"type": "failed"}``) or its policy says ``continue_on_failure``. Then it stays
failed, its output is ``{"error": {"name", "message"}}``, and the planner goes on from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .actions import ActionRegistry
from .engine import ConditionError, WorkflowGraph, plan
from .engine.loops import LOOP_KINDS
from .errors import ErrorInfo
from .executor import Completed, Failed, Outcome, Retry, RunContext, Suspended, invoke_action
from .loop_runner import run_loop
from .progress import Progress, Scope
from .records import ActionRecord, ActionStatus
from .step import StepJournal


class RunJournal(StepJournal, Protocol):
    """Persistence of a run's action records (the durable runtime writes them to its tables)."""

    async def save_actions(self, records: Sequence[ActionRecord]) -> None:
        """Record these actions' states together (one transaction)."""


@dataclass
class RunDriver:
    registry: ActionRegistry
    graph: WorkflowGraph
    run: RunContext
    journal: RunJournal
    records: dict[str, ActionRecord] = field(default_factory=dict)
    """Every action record of the run, by record id: the run's own actions and every loop iteration's."""
    resolve_waits: Callable[[ActionRecord], Awaitable[bool]] | None = None
    """Called when an action parks on a wait or an invoke; True if it resolved some (the in-memory runner)."""
    trace: list[tuple[str, str]] = field(default_factory=list)
    """``(event, record id)`` in the order things happened: started, completed, failed, skipped."""
    scope: Scope = field(default_factory=Scope)
    keep_iterations: bool = True
    """Keep the records of a loop's finished iterations in `records` (the in-memory runner shows them);
    the durable runtime drops them once saved, so a long loop's memory stays flat."""

    def __post_init__(self) -> None:
        prefix = self.scope.prefix
        self.own: dict[str, ActionRecord] = {}
        """This scope's records, by action id (of the graph)."""
        for action_id in self.graph.order:
            record = self.records.get(prefix + action_id)
            if record is None:
                record = self.records[prefix + action_id] = ActionRecord(id=prefix + action_id)
            self.own[action_id] = record
        self._outputs = {**self.scope.outer_state, **_outputs_of(self.graph, self.own)}
        self._statuses = _Statuses(self.own)
        self._error: dict[str, Any] | None = next(
            (
                _run_error(a, r.error)
                for a, r in self.own.items()
                if r.status == ActionStatus.FAILED and r.error and not self.graph.handles_failure(a)
            ),
            None,
        )

    @property
    def outputs(self) -> dict[str, Any]:
        """The outputs of this scope's settled actions, by action id (a handled failure's is its error)."""
        return _outputs_of(self.graph, self.own)

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
            recorded: Iterable[tuple[str, ActionRecord]] = self.own.items()
        else:
            recorded = [(self._local(r), r) for r in changed]
            frontier = [c for a, r in recorded if self._settled(a, r) for c in self.graph.children(a)]
        try:
            decided = plan(
                self.graph,
                self._statuses,
                self._outputs,
                self.run.event,
                frontier=frontier,
                variables=self.scope.variables,
            )
        except ConditionError as exc:
            self._error = {"name": "ConditionError", "message": str(exc)}
            return []
        for action_id in decided.skipped:
            record = self.own[action_id]
            record.status, record.ended_at = ActionStatus.SKIPPED, now
            changed.append(record)
            self.trace.append(("skipped", record.id))
        start: list[str] = []
        for action_id in decided.ready:
            record = self.own[action_id]
            record.status, record.started_at = ActionStatus.RUNNING, now
            changed.append(record)
            self.trace.append(("started", record.id))
            start.append(action_id)
        for action_id, record in recorded:
            if record.due(now) or (first and record.status.suspended and self._inside_due(record, now)):
                record.status, record.wake_at = ActionStatus.RUNNING, None
                if record not in changed:
                    changed.append(record)
                start.append(action_id)
            elif first and record.status == ActionStatus.RUNNING and action_id not in active and action_id not in start:
                start.append(action_id)  # interrupted mid-attempt (its worker died), or a loop going on: again
        return start

    def _settled(self, action_id: str, record: ActionRecord) -> bool:
        """Done in this scope: completed, skipped, or failed with the failure handled."""
        return record.status.resolved or (
            record.status == ActionStatus.FAILED and self.graph.handles_failure(action_id)
        )

    def _inside_due(self, record: ActionRecord, now: int) -> bool:
        """Whether an action of a parked loop's iterations is due (an awaited event came for it)."""
        inside = record.id + "["
        return any(r.due(now) for key, r in self.records.items() if key.startswith(inside))

    def _local(self, record: ActionRecord) -> str:
        """The graph's id of one of this scope's records."""
        return record.id[len(self.scope.prefix) :]

    async def _invoke(self, action_id: str) -> Outcome:
        action = self.graph.actions[action_id]
        definition = self.registry.get(action.kind)
        if definition is None:
            return Failed(ErrorInfo("UnknownAction", f"no action of kind {action.kind!r} is registered"))
        if action.kind in LOOP_KINDS and action.body is not None:
            return await run_loop(self, action_id, definition)
        return await invoke_action(
            self.run,
            action,
            definition,
            self.own[action_id],
            self._outputs,
            variables=self.scope.variables,
            budget=self.scope.budget,
        )

    def child(self, graph: WorkflowGraph, scope: Scope) -> RunDriver:
        """A driver for one iteration of a loop's body, sharing this run's records, journal and trace."""
        return RunDriver(
            self.registry,
            graph,
            self.run,
            self.journal,
            records=self.records,
            resolve_waits=self.resolve_waits,
            trace=self.trace,
            scope=scope,
            keep_iterations=self.keep_iterations,
        )

    def forget(self) -> None:
        """Drop this scope's records from the run's records (they are saved; see `keep_iterations`)."""
        if not self.keep_iterations:
            for record in self.own.values():
                self.records.pop(record.id, None)

    @property
    def state(self) -> Mapping[str, Any]:
        """What this scope's refs see in ``$.state``: the outer scopes' outputs and this scope's."""
        return self._outputs

    async def _record(self, action_id: str, outcome: Outcome) -> ActionRecord:
        record = self.own[action_id]
        now = self.run.clock.now_ms()
        if isinstance(outcome, Completed):
            record.status, record.output, record.error, record.ended_at = (
                ActionStatus.COMPLETED,
                outcome.output,
                None,
                now,
            )
            self._outputs[action_id] = outcome.output
            self.trace.append(("completed", record.id))
        elif isinstance(outcome, Failed):
            record.status, record.error, record.ended_at = ActionStatus.FAILED, outcome.error, now
            self.trace.append(("failed", record.id))
            if self.graph.handles_failure(action_id):  # an error edge or continue_on_failure takes it
                record.output = failure_output(outcome.error)
                self._outputs[action_id] = record.output
            elif self._error is None:
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
        if all(self._settled(a, r) for a, r in self.own.items()):
            return Progress("completed")
        wakes = [r.wake_at for r in self.own.values() if r.status.suspended and r.wake_at is not None]
        waiting = any(r.status == ActionStatus.WAITING for r in self.own.values())
        sleeping = any(r.status == ActionStatus.SLEEPING for r in self.own.values())
        return Progress("suspended", wake_at_ms=min(wakes) if wakes else None, waiting=waiting, sleeping=sleeping)


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


def failure_output(error: ErrorInfo | None) -> dict[str, Any]:
    """The output of an action whose failure is handled: ``{"error": {"name", "message"}}``."""
    info = error or ErrorInfo("Error", "the action failed")
    return {"error": {"name": info.name, "message": info.message}}


def _outputs_of(graph: WorkflowGraph, own: Mapping[str, ActionRecord]) -> dict[str, Any]:
    outputs = {}
    for action_id, record in own.items():
        if record.status == ActionStatus.COMPLETED:
            outputs[action_id] = record.output
        elif record.status == ActionStatus.FAILED and graph.handles_failure(action_id):
            outputs[action_id] = failure_output(record.error)
    return outputs


def state_of(records: Mapping[str, ActionRecord]) -> dict[str, Any]:
    """Outputs of the completed actions, by id."""
    return {k: r.output for k, r in records.items() if r.status == ActionStatus.COMPLETED}
