"""One action of a run on Inngest: its inputs interpolated and checked as the embedded executor does, its
handler called with the same context, and how it ended (`Completed` or `Failed`; sleeping, waiting and
retrying are Inngest's business, which the SDK's interrupts carry).

- A handler that calls no step (most) runs inside one ``step.run`` whose id is the action's record id
  (``reserve``, ``each[2]/reserve`` in a loop): it runs once per attempt, and Inngest retries it.
- A handler that calls ``ctx.step`` is found out by that first attempt (`UsesSteps`), and from then on
  runs outside any step, replayed on each request as Inngest runs function code, its own steps being
  Inngest steps (``reserve/charge``); how it ended is recorded by a last step, ``reserve#end``, which also
  retries it when it raised outside its steps. The builtins with steps (sleep, wait, send, invoke) go
  this way at once and need no last step: they are deterministic.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Mapping
from typing import Any, Protocol, cast

import inngest
import msgspec

from .. import refs
from ..actions import ActionDefinition
from ..context import ActionContext, ActionContextSync, ReplayAwareLogger
from ..errors import ErrorInfo, NonRetriableError, RefError, StepError
from ..executor import AttemptTimeoutError, Completed, Failed, _within, action_policy, attempt_timeout
from ..records import ActionStatus
from ..retry import RetryPolicy
from ..workflow import Workflow, WorkflowAction
from .protocol import ACTION_END
from .steps import (
    InngestSteps,
    InngestStepsSync,
    Marker,
    ProbeSteps,
    StepHost,
    UsesSteps,
    failed_or_raise,
    failure,
    info_of,
)

STEP_KINDS = frozenset(
    {"builtin:sleep", "builtin:sleep_until", "builtin:wait_for_event", "builtin:send_event", "builtin:invoke"}
)
"""Builtins made of steps only: run outside any step from the first attempt."""
PARKS = {
    "builtin:sleep": ActionStatus.SLEEPING,
    "builtin:sleep_until": ActionStatus.SLEEPING,
    "builtin:wait_for_event": ActionStatus.WAITING,
    "builtin:invoke": ActionStatus.WAITING,
}
"""What a builtin's action is while Inngest holds its step (the run view's status)."""


class ActionHost(StepHost, Protocol):
    """What running an action needs from its run."""

    @property
    def event(self) -> dict[str, Any]: ...

    @property
    def events(self) -> tuple[dict[str, Any], ...]: ...

    @property
    def workflow(self) -> Workflow: ...

    @property
    def run_id(self) -> str: ...

    @property
    def tenant(self) -> str: ...

    @property
    def trigger(self) -> dict[str, Any] | None: ...

    @property
    def policy(self) -> RetryPolicy: ...

    def note(self, record_id: str, status: ActionStatus, **detail: Any) -> None:
        """Tell the run's recorder what the action did (`ActionNote`'s fields)."""
        ...


async def run_action(
    host: ActionHost,
    action: WorkflowAction,
    definition: ActionDefinition,
    record_id: str,
    state: Mapping[str, Any],
    variables: Mapping[str, Any],
) -> Completed | Failed:
    """Run (or replay) `action` whose record id is `record_id`; how it ended."""
    try:
        inputs = refs.interpolate(action.inputs, {**variables, "event": host.event, "state": state})
        typed = definition.prepare_inputs(inputs) if definition.takes_inputs else None
    except (RefError, NonRetriableError) as exc:
        return _ended(failure(NonRetriableError(f"action {action.id!r}: {exc}")))
    host.note(record_id, ActionStatus.RUNNING, inputs=inputs)
    call = _Call(host, msgspec.structs.replace(action, inputs=inputs), definition, typed, state, variables, record_id)
    if action.kind in STEP_KINDS:
        parked = PARKS.get(action.kind)
        if parked is not None:  # until a replay finds its step done, and notes how it ended
            host.note(record_id, parked)
        return await call.with_steps(record=False)
    first = await _recorded(host.step, record_id, call.first_attempt)
    if first.get("steps"):
        return await call.with_steps(record=True)
    return _ended(first)


class _Call:
    def __init__(
        self,
        host: ActionHost,
        action: WorkflowAction,
        definition: ActionDefinition,
        typed: Any,
        state: Mapping[str, Any],
        variables: Mapping[str, Any],
        record_id: str,
    ) -> None:
        self.host = host
        self.action = action
        self.definition = definition
        self.args: tuple[Any, ...] = (typed,) if definition.takes_inputs else ()
        self.state = state
        self.variables = variables
        self.record_id = record_id
        self.policy = action_policy(host.policy, action, definition)

    async def first_attempt(self) -> Marker:
        """The body of the action's own step: the handler once, with no step allowed."""
        host = self.host
        began = host.now_ms()
        try:
            marker = self._encoded(await self._handler(ProbeSteps()))
        except UsesSteps:
            return {"steps": True}
        except Exception as exc:
            try:
                marker = failed_or_raise(exc, host.attempt, self.policy, host.now_ms())
            except BaseException:  # Inngest retries it
                self._attempt(began, ActionStatus.RETRYING, ErrorInfo.from_exception(exc))
                raise
        self._attempt(began, ActionStatus.RUNNING, _error_of(marker))
        return marker

    def _attempt(self, began: int, status: ActionStatus, error: ErrorInfo | None) -> None:
        self.host.note(self.record_id, status, attempt=self.host.attempt, attempt_started_at=began, error=error)

    async def with_steps(self, *, record: bool) -> Completed | Failed:
        """Replay the handler outside any step, its steps Inngest's; `record`: end with ``#end``."""
        host = self.host
        steps = InngestSteps(host, self.record_id, self.policy)
        began = host.now_ms()
        ended: Marker | None = None
        raised: Exception | None = None
        try:
            ended = self._encoded(await self._handler(steps))
        except (NonRetriableError, StepError) as exc:
            ended = failure(exc)
        except Exception as exc:
            raised = exc
        if not record:  # a builtin: deterministic, its one attempt noted once (by its number)
            marker = ended if ended is not None else failure(cast(Exception, raised))
            self._attempt(began, ActionStatus.RUNNING, _error_of(marker))
            return _ended(marker)

        async def end() -> Marker:
            if raised is not None:  # Inngest retries this step: the handler runs again on that request
                try:
                    marker = failed_or_raise(raised, host.attempt, self.policy, host.now_ms())
                except BaseException:
                    self._attempt(began, ActionStatus.RETRYING, ErrorInfo.from_exception(raised))
                    raise
                self._attempt(began, ActionStatus.RUNNING, _error_of(marker))
                return marker
            assert ended is not None
            self._attempt(began, ActionStatus.RUNNING, _error_of(ended))
            return ended

        return _ended(await _recorded(host.step, self.record_id + ACTION_END, end))

    def _encoded(self, value: Any) -> Marker:
        try:
            return {"output": self.definition.encode_output(value)}
        except NonRetriableError as exc:
            return failure(exc)

    async def _handler(self, steps: InngestSteps | ProbeSteps) -> Any:
        """Call the handler with its context and `steps` as ``ctx.step``, within its policy's timeout."""
        host, action = self.host, self.action
        variables = self.variables
        fields: dict[str, Any] = {
            "event": host.event,
            "events": host.events,
            "workflow": host.workflow,
            "action": action,
            "state": dict(self.state),
            "run_id": host.run_id,
            "tenant": host.tenant,
            "attempt": host.attempt,
            "logger": ReplayAwareLogger(host.run_id, action.id, lambda: False),
            "item": variables.get("item"),
            "index": variables.get("index"),
            "loop": dict(variables),
            "trigger": dict(host.trigger) if host.trigger is not None else None,
        }
        timeout_s = attempt_timeout(action)
        if self.definition.is_async:
            expired, value = await _within(
                self.definition.handler(ActionContext(**fields, step=cast(Any, steps)), *self.args), timeout_s
            )
        else:
            loop = asyncio.get_running_loop()
            context = contextvars.copy_context()
            blocking = InngestStepsSync(steps, loop, context) if isinstance(steps, InngestSteps) else steps
            ctx = ActionContextSync(**fields, step=cast(Any, blocking))
            call = functools.partial(context.run, self.definition.handler, ctx, *self.args)
            expired, value = await _within(loop.run_in_executor(None, call), timeout_s)
        if expired:
            raise AttemptTimeoutError(f"the step took longer than its timeout of {timeout_s:g} s")
        return value


async def _recorded(step: inngest.Step, step_id: str, body: Any) -> Marker:
    """The marker a kit step recorded; an Inngest failure (out of attempts first) as a failure marker."""
    try:
        marker: Marker = await step.run(step_id, body)
    except inngest.StepError as exc:
        return {"error": {"name": exc.name, "message": exc.message}}
    return marker


def _error_of(marker: Marker) -> ErrorInfo | None:
    error = marker.get("error")
    return None if error is None else info_of(error)


def _ended(marker: Marker) -> Completed | Failed:
    if "error" in marker:
        error = marker["error"]
        return Failed(ErrorInfo(str(error.get("name") or "Error"), str(error.get("message") or "the action failed")))
    return Completed(marker.get("output"))
