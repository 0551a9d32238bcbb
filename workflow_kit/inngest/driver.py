"""Drive one run inside the Inngest function: the embedded runtime's planner over the pinned workflow,
replayed from the start on every request Inngest makes, as Inngest runs function code.

Each round asks the planner what is ready and skipped, then runs the ready actions: one alone, several
(independent branches) as parallel steps with ``ctx.group.parallel``, so Inngest runs them at once and
calls back when every one has ended. A round's outcomes settle as `RunDriver._record` settles them: a
completed action's output joins the state, a failed one's failure is handled by its error edges or
``continue_on_failure``, or fails the run. The planner being pure and every outcome memoized by
Inngest, each replay takes the same rounds.

Loops run their body's graph the same way, per iteration (``each[2]/reserve``): "for each" runs up to
``concurrency`` iterations at a time as parallel steps; "repeat until" one round after another, with an
Inngest sleep between rounds.

Runs end as the function's outcome: its output is the run's state (what ``invoke`` returns); a failed
run raises `WorkflowRunFailed`, a non-retriable error Inngest shows with the run's error.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, TypeVar

import inngest
from inngest._internal.step_lib import SkipInterrupt

from .. import refs
from ..actions import ActionRegistry
from ..ai import AIProvider
from ..engine import ConditionError, WorkflowGraph, plan
from ..engine.loops import FOR_EACH, LOOP_KINDS, ForEachInputs, RepeatUntilInputs
from ..errors import ErrorInfo, NonRetriableError, RefError
from ..executor import Completed, Failed
from ..loop_runner import after_round
from ..progress import Scope
from ..records import ActionStatus
from ..retry import RetryPolicy
from ..runner import failure_output
from ..runtime.lifecycle.remote import ActionNote, StepNote
from ..timeutil import Clock, parse_duration
from ..workflow import Workflow
from .actions import run_action
from .protocol import RunRequest

T = TypeVar("T")
Outcome = Completed | Failed


class RunRecorder(Protocol):
    """Told what runs do, for a timeline kept by the host (`recorder.StoreRecorder`: the kit's own
    tables, the default). The function re-executes from the top on every request Inngest makes: every
    call is repeated with the same facts, so a recorder must be idempotent (keep the latest per run and
    action, never go back)."""

    async def received(
        self, tenant: str, events: list[dict[str, Any]], asked: list[list[RunRequest]]
    ) -> list[tuple[str | None, list[str | None] | None]]:
        """Events are sent to Inngest with the run requests each causes (`asked`, one list per event,
        those to record at once): per event, the id it is known by, and the id each of its requested
        runs is known by (None for a duplicate event, which starts nothing)."""
        ...

    async def requested(self, tenant: str, request: RunRequest) -> str | None:
        """One run is asked for by hand (no event): the id it is known by, or None (Inngest's)."""
        ...

    async def sent(self, pairs: list[tuple[str, str]]) -> None:
        """Inngest's event id of each run's request: (run id, event id)."""
        ...

    async def started(self, run_id: str, remote_id: str, tenant: str, request: RunRequest, version: int | None) -> bool:
        """A request of the run begins (`remote_id`: Inngest's run id); False: the run was cancelled
        meanwhile and goes no further."""
        ...

    async def record(
        self, run_id: str, notes: list[ActionNote | StepNote], end: RunEnd | None, parked: str | None
    ) -> None:
        """A request of the run ends: what its actions did (in order), how the run ended if it did, and
        whether Inngest now holds it until a time or an event (``sleeping``, ``waiting``)."""
        ...


@dataclass(frozen=True)
class RunEnd:
    status: str
    """``completed`` or ``failed``."""
    state: dict[str, Any]
    error: dict[str, Any] | None


class WorkflowRunFailed(inngest.NonRetriableError):
    """The workflow failed: the Inngest function fails for good, with the run's error."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(str(error.get("message") or "the run failed"))
        self.error = error

    @property
    def name(self) -> str:
        return str(self.error.get("name") or "Error")


@dataclass
class ScopeEnd:
    """How the run, or one iteration of a loop, ended."""

    outputs: dict[str, Any]
    """Its own settled actions' outputs (a handled failure's is its error), by action id."""
    error: dict[str, Any] | None = None
    """``{"name", "message", "action"}`` when it failed."""


@dataclass
class InngestRun:
    """One run on Inngest: what its actions see (`ActionHost`), and the driver of its graph."""

    ctx: inngest.Context
    registry: ActionRegistry
    workflow: Workflow
    tenant: str
    event: dict[str, Any]
    events: tuple[dict[str, Any], ...]
    trigger: dict[str, Any] | None
    policy: RetryPolicy
    clock: Clock
    sender: Callable[[str, list[dict[str, Any]], str], Awaitable[list[str]]]
    """Sends a tenant's events at most once per key (`InngestBackend.forward`)."""
    invoker: Callable[[str, str, dict[str, Any]], tuple[str, dict[str, Any]]]
    """The function running a tenant's workflow, and the run request invoking it (`InngestBackend.invoke_target`)."""
    ai: AIProvider | None = None
    notes: list[ActionNote | StepNote] | None = None
    """What this request's actions did, when a recorder listens (None: nothing is noted)."""
    end: RunEnd | None = None
    """How the run ended, once it has."""
    _graph: WorkflowGraph = field(init=False)

    def __post_init__(self) -> None:
        self._graph = WorkflowGraph.build(self.workflow)

    # -- ActionHost -------------------------------------------------------------------------------

    @property
    def step(self) -> inngest.Step:
        return self.ctx.step

    @property
    def attempt(self) -> int:
        return self.ctx.attempt

    @property
    def run_id(self) -> str:
        return self.ctx.run_id

    def now_ms(self) -> int:
        return self.clock.now_ms()

    async def send(self, events: list[dict[str, Any]], once: str) -> list[str]:
        return await self.sender(self.tenant, events, f"{self.run_id}/{once}")

    def invoke_target(self, workflow_id: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.invoker(self.tenant, workflow_id, data)

    # -- the run ----------------------------------------------------------------------------------

    async def drive(self) -> dict[str, Any]:
        """Run (or replay) the whole workflow; its state, or raise `WorkflowRunFailed`."""
        end = await self._scope(self._graph, Scope())
        self.end = RunEnd("failed" if end.error is not None else "completed", end.outputs, end.error)
        if end.error is not None:
            raise WorkflowRunFailed(end.error)
        return end.outputs

    async def _scope(self, graph: WorkflowGraph, scope: Scope) -> ScopeEnd:
        statuses: dict[str, ActionStatus] = {}
        own: dict[str, Any] = {}
        outputs: dict[str, Any] = dict(scope.outer_state)
        error: dict[str, Any] | None = None
        while error is None:
            try:
                decided = plan(graph, statuses, outputs, self.event, variables=scope.variables)
            except ConditionError as exc:
                error = {"name": "ConditionError", "message": str(exc)}
                break
            for action_id in decided.skipped:
                statuses[action_id] = ActionStatus.SKIPPED
                self.note(scope.prefix + action_id, ActionStatus.SKIPPED)
            if not decided.ready:
                break
            state = dict(outputs)
            calls = []
            for action_id in decided.ready:
                statuses[action_id] = ActionStatus.RUNNING
                self.note(scope.prefix + action_id, ActionStatus.RUNNING)
                calls.append(functools.partial(self._action, graph, action_id, scope, state))
            for action_id, outcome in zip(decided.ready, await self._together(calls), strict=True):
                if isinstance(outcome, Completed):
                    statuses[action_id] = ActionStatus.COMPLETED
                    outputs[action_id] = own[action_id] = outcome.output
                    self.note(scope.prefix + action_id, ActionStatus.COMPLETED, output=outcome.output)
                    continue
                statuses[action_id] = ActionStatus.FAILED
                handled = graph.handles_failure(action_id)
                output = failure_output(outcome.error) if handled else None
                self.note(scope.prefix + action_id, ActionStatus.FAILED, error=outcome.error, output=output)
                if handled:
                    outputs[action_id] = own[action_id] = output
                elif error is None:
                    error = {"name": outcome.error.name, "message": outcome.error.message, "action": action_id}
        return ScopeEnd(own, error)

    async def _together(self, calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        """Each call's result, in order: one is awaited; several are Inngest parallel steps (a request
        that finds new steps among them ends by planning them all)."""
        if len(calls) == 1:
            return [await calls[0]()]
        results = await self.ctx.group.parallel(tuple(calls))
        if len(results) != len(calls):
            # Some were skipped: this request executes one step, elsewhere. Nested (a loop's iterations,
            # each with parallel branches), the enclosing group must skip this call too: the SDK's
            # signal for that (it has no public name) does it. At the top it fails the request, as the
            # SDK fails a targeted step it never reaches.
            raise SkipInterrupt("parallel steps")
        return list(results)

    async def _action(self, graph: WorkflowGraph, action_id: str, scope: Scope, state: dict[str, Any]) -> Outcome:
        action = graph.actions[action_id]
        definition = self.registry.get(action.kind)
        if definition is None:
            return Failed(ErrorInfo("UnknownAction", f"no action of kind {action.kind!r} is registered"))
        if action.kind in LOOP_KINDS and action.body is not None:
            began = self.clock.now_ms()
            outcome = await self._loop(graph, action_id, scope, state)
            error = outcome.error if isinstance(outcome, Failed) else None
            # the loop's one attempt (its iterations' actions have their own)
            self.note(scope.prefix + action_id, ActionStatus.RUNNING, attempt=0, attempt_started_at=began, error=error)
            return outcome
        return await run_action(self, action, definition, scope.prefix + action_id, state, scope.variables)

    def note_step(self, note: StepNote) -> None:
        if self.notes is not None:
            self.notes.append(note)

    def note(self, record_id: str, status: ActionStatus, **detail: Any) -> None:
        """Note what an action (`record_id`) did, for the recorder (see `ActionNote` for `detail`)."""
        if self.notes is not None:
            self.notes.append(ActionNote(record_id=record_id, status=status, at=self.clock.now_ms(), **detail))

    # -- loops ------------------------------------------------------------------------------------

    async def _loop(self, graph: WorkflowGraph, action_id: str, scope: Scope, state: dict[str, Any]) -> Outcome:
        action = graph.actions[action_id]
        definition = self.registry.get(action.kind)
        assert definition is not None and action.body is not None
        try:
            inputs = refs.interpolate(action.inputs, {**scope.variables, "event": self.event, "state": state})
            typed = definition.prepare_inputs(inputs)
        except (RefError, NonRetriableError) as exc:
            return Failed(ErrorInfo.from_exception(NonRetriableError(f"action {action.id!r}: {exc}")))
        body = graph.body(action_id)
        result_id = action.body.result
        record_id = scope.prefix + action_id
        self.note(record_id, ActionStatus.RUNNING, inputs=inputs)

        async def iteration(number: int, variables: dict[str, Any]) -> tuple[ScopeEnd, Any]:
            end = await self._scope(body, Scope(f"{record_id}[{number}]/", variables, state))
            return end, (end.outputs if result_id is None else end.outputs.get(result_id))

        if action.kind == FOR_EACH:
            assert isinstance(typed, ForEachInputs)
            return await self._for_each(typed, iteration)
        assert isinstance(typed, RepeatUntilInputs)
        return await self._repeat_until(typed, iteration, record_id, state)

    async def _for_each(
        self, inputs: ForEachInputs, iteration: Callable[[int, dict[str, Any]], Awaitable[tuple[ScopeEnd, Any]]]
    ) -> Outcome:
        items = inputs.items
        results: list[Any] = [None] * len(items)
        for start in range(0, len(items), inputs.concurrency):
            numbers = range(start, min(len(items), start + inputs.concurrency))
            calls = [functools.partial(iteration, i, {"item": items[i], "index": i}) for i in numbers]
            failed: Failed | None = None
            for index, (end, result) in zip(numbers, await self._together(calls), strict=True):
                if end.error is None:
                    results[index] = result
                    continue
                error = _error_info(end.error)
                if inputs.on_failure == "continue":
                    results[index] = {"error": {"name": error.name, "message": error.message}}
                elif failed is None:
                    failed = Failed(ErrorInfo(error.name, f"item {index + 1} of {len(items)}: {error.message}"))
            if failed is not None:
                return failed
        return Completed(results)

    async def _repeat_until(
        self,
        inputs: RepeatUntilInputs,
        iteration: Callable[[int, dict[str, Any]], Awaitable[tuple[ScopeEnd, Any]]],
        record_id: str,
        state: dict[str, Any],
    ) -> Outcome:
        last: Any = None
        pause = int(parse_duration(inputs.wait_between).total_seconds() * 1000) if inputs.wait_between else 0
        for number in range(inputs.max_rounds):
            if number and pause:
                await self.step.sleep(f"{record_id}/between-rounds", timedelta(milliseconds=pause))
            end, result = await iteration(number, {"round": number, "last": last})
            ended = after_round(inputs, number, end.error, result, self.event, state)
            if ended is not None:
                return ended
            last = result
        return Completed({"rounds": inputs.max_rounds, "met": False, "result": last})


def _error_info(error: Mapping[str, Any]) -> ErrorInfo:
    return ErrorInfo(str(error.get("name") or "Error"), str(error.get("message") or "the step failed"))
