"""Run a workflow in memory, without a database: for users' unit tests and ours.

Semantics are the runtime's (same planner, same executor, same Step API and replay), on a virtual
clock: sleeps and retry backoff take no real time. ``wait_for_event`` takes the events you pass as
``events=[...]`` (each is received by the first waiting step it matches) or times out to None.
Events sent with ``ctx.step.send_event`` are collected in ``result.sent_events`` and can satisfy waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from . import expressions
from .connections.credential import Credential
from .engine import WorkflowGraph
from .errors import ErrorInfo, ExpressionError, NonRetriableError
from .events import new_id, normalize_event, normalize_events
from .executor import RunContext
from .records import ActionRecord, StepRecord, StepStatus
from .retry import RetryPolicy
from .runner import RunDriver
from .timeutil import VirtualClock, to_ms
from .validation import ensure_valid
from .workflow import WorkflowLike

if TYPE_CHECKING:
    from .kit import WorkflowKit

DEFAULT_EVENT = {"name": "workflow-kit/test", "data": {}}


@dataclass
class RunResult:
    """How an in-memory run ended."""

    run_id: str
    status: Literal["completed", "failed"]
    state: dict[str, Any]
    """Outputs of the completed actions, by id."""
    executed: list[str]
    """Action ids in the order they started (each once, retries included)."""
    skipped: list[str]
    """Action ids skipped by conditions, in the order they were decided."""
    error: dict[str, Any] | None
    """``{"name", "message", "action", "step"?}`` when the run failed."""
    actions: dict[str, ActionRecord]
    """The full record of each action: status, inputs, attempts, sub-steps, timings."""
    sent_events: list[dict[str, Any]] = field(default_factory=list)
    trace: list[tuple[str, str]] = field(default_factory=list)
    """``(what, action id)`` in order: started, completed, failed, skipped."""

    def steps(self, action_id: str) -> list[StepRecord]:
        """The recorded sub-steps of one action."""
        return self.actions[action_id].steps


class _MemoryJournal:
    def __init__(
        self,
        clock: VirtualClock,
        trigger: dict[str, Any],
        events: list[dict[str, Any]],
        invoke: Callable[[str, dict[str, Any]], Awaitable[RunResult]],
    ) -> None:
        self.clock = clock
        self.trigger = trigger
        self.inbox = list(events)
        self.sent: list[dict[str, Any]] = []
        self.invoke = invoke

    async def save_step(self, action_id: str, record: StepRecord) -> None:
        return None

    async def save_actions(self, records: Sequence[ActionRecord]) -> None:
        return None

    async def send_events(self, action_id: str, step_key: str, events: list[dict[str, Any]]) -> list[str]:
        sent = [{**event, "id": event.get("id") or new_id(self.clock.now_ms())} for event in events]
        self.sent.extend(sent)
        self.inbox.extend(sent)
        return [event["id"] for event in sent]

    async def resolve_waits(self, record: ActionRecord) -> bool:
        resolved = False
        for step in record.steps:
            if step.status == StepStatus.WAITING and step.invoke is not None:
                await self._run_child(step, step.invoke.workflow_id, step.invoke.data)
                resolved = True
                continue
            if step.status != StepStatus.WAITING or step.wait is None:
                continue
            for candidate in self.inbox:
                if candidate["name"] == step.wait.event and self._matches(step.wait.if_exp, candidate):
                    self.inbox.remove(candidate)
                    step.status, step.output, step.wake_at = StepStatus.COMPLETED, candidate, None
                    resolved = True
                    break
        return resolved

    async def _run_child(self, step: StepRecord, workflow_id: str, data: dict[str, Any]) -> None:
        try:
            child = await self.invoke(workflow_id, data)
        except LookupError as exc:
            step.status, step.error, step.wake_at = StepStatus.FAILED, ErrorInfo("NotFoundError", str(exc)), None
            return
        if child.status == "completed":
            step.status, step.output, step.wake_at = StepStatus.COMPLETED, child.state, None
        else:
            message = (child.error or {}).get("message", "")
            error = ErrorInfo(name="InvokeError", message=f"the invoked run {child.run_id} failed: {message}")
            step.status, step.error, step.wake_at = StepStatus.FAILED, error, None

    def _matches(self, if_exp: str | None, candidate: dict[str, Any]) -> bool:
        if if_exp is None:
            return True
        try:
            return expressions.evaluate_bool(if_exp, {"event": self.trigger, "async": candidate})
        except ExpressionError:
            return False


async def arun_workflow(
    kit: WorkflowKit,
    workflow: WorkflowLike,
    event: dict[str, Any] | None = None,
    *,
    events: Iterable[dict[str, Any]] = (),
    retry_policy: RetryPolicy | None = None,
    start_time: datetime | None = None,
    run_id: str | None = None,
    workflows: Mapping[str, WorkflowLike] | None = None,
    tenant: str = "test",
    connections: Mapping[str, Credential] | None = None,
) -> RunResult:
    """Validate and run `workflow` for `event` in memory; see the module docstring.

    `workflows` maps workflow ids to workflows that ``ctx.step.invoke`` (and ``builtin:invoke``) may run.
    `connections` maps connection ids to the `Credential` a step whose input names that id gets
    (``Credential(id=..., name=..., type=..., secret={"api_key": ...}, headers={})``).

    Raises `WorkflowValidationError` (with every problem) before anything runs if the workflow is
    invalid, and `EventError` if an event is malformed.
    """
    checked = ensure_valid(workflow, kit.registry)
    clock = VirtualClock(to_ms(start_time) if start_time else None)
    trigger = normalize_event(event or DEFAULT_EVENT, clock.now_ms())
    known = dict(workflows or {})

    async def invoke(workflow_id: str, data: dict[str, Any]) -> RunResult:
        if workflow_id not in known:
            raise _UnknownWorkflow(workflow_id)
        child_event = {"name": "workflow/invoked", "data": data}
        return await arun_workflow(
            kit,
            known[workflow_id],
            child_event,
            retry_policy=retry_policy,
            start_time=clock.now(),
            workflows=known,
            tenant=tenant,
            connections=connections,
        )

    journal = _MemoryJournal(clock, trigger, normalize_events(list(events), clock.now_ms()), invoke)
    run = RunContext(
        run_id=run_id or new_id(clock.now_ms()),
        workflow=checked,
        event=trigger,
        clock=clock,
        policy=retry_policy or kit.retry_policy,
        journal=journal,
        ai=kit.ai,
        tenant=tenant,
        connections=_GivenConnections(connections or {}),
    )
    driver = RunDriver(kit.registry, WorkflowGraph.build(checked), run, journal, resolve_waits=journal.resolve_waits)
    while True:
        progress = await driver.advance()
        if progress.status != "suspended":
            break
        if progress.wake_at_ms is None:  # cannot happen: every wait has a timeout
            raise RuntimeError("the run is parked with nothing to wake it")
        clock.advance_to(progress.wake_at_ms)
    return RunResult(
        run_id=run.run_id,
        status="completed" if progress.status == "completed" else "failed",
        state=driver.outputs,
        executed=[action_id for what, action_id in driver.trace if what == "started"],
        skipped=[action_id for what, action_id in driver.trace if what == "skipped"],
        error=progress.error,
        actions=driver.records,
        sent_events=journal.sent,
        trace=driver.trace,
    )


def run_workflow(
    kit: WorkflowKit,
    workflow: WorkflowLike,
    event: dict[str, Any] | None = None,
    *,
    events: Iterable[dict[str, Any]] = (),
    retry_policy: RetryPolicy | None = None,
    start_time: datetime | None = None,
    run_id: str | None = None,
    workflows: Mapping[str, WorkflowLike] | None = None,
    tenant: str = "test",
    connections: Mapping[str, Credential] | None = None,
) -> RunResult:
    """`arun_workflow` for synchronous code (it starts its own event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("run_workflow() was called inside a running event loop; use `await arun_workflow(...)`")
    return asyncio.run(
        arun_workflow(
            kit,
            workflow,
            event,
            events=events,
            retry_policy=retry_policy,
            start_time=start_time,
            run_id=run_id,
            workflows=workflows,
            tenant=tenant,
            connections=connections,
        )
    )


class _GivenConnections:
    """The credentials a test gives by connection id (a step naming another id fails, saying so)."""

    def __init__(self, given: Mapping[str, Credential]) -> None:
        self._given = dict(given)

    async def credentials(self, tenant: str, wanted: Mapping[str, tuple[str, str]]) -> dict[str, Credential]:
        found: dict[str, Credential] = {}
        for name, (type_id, connection_id) in wanted.items():
            credential = self._given.get(connection_id)
            if credential is None or credential.type != type_id:
                raise NonRetriableError(f"no {type_id} connection {connection_id!r} was given in connections={{...}}")
            found[name] = credential
        return found


class _UnknownWorkflow(LookupError):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"no workflow {workflow_id!r} was given in workflows={{...}}")
