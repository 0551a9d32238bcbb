"""One invocation of one action: interpolate and check its inputs, call the handler with the Step API,
and say how it ended. The record of the action is updated in place; the caller persists it.

Every action is a durable step: its handler runs until it returns (Completed), fails (Retry or
Failed), or reaches a step that cannot finish now (Suspended). Invoked again later, it replays the
sub-steps it recorded and goes on from there.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import msgspec

from . import refs
from .actions import ActionDefinition
from .ai import AIProvider
from .context import ActionContext, ActionContextSync, ReplayAwareLogger
from .errors import ErrorInfo, NonRetriableError, RefError, RetryAfterError, StepError
from .records import ActionRecord, Attempt, StepStatus
from .retry import RetryPolicy
from .signals import Interrupted, Suspend
from .step import Step, StepBudget, StepCore, StepJournal, StepSync
from .timeutil import Clock
from .workflow import Workflow, WorkflowAction


@dataclass
class RunContext:
    """What every action of one run shares."""

    run_id: str
    workflow: Workflow
    event: dict[str, Any]
    clock: Clock
    policy: RetryPolicy
    journal: StepJournal
    events: tuple[dict[str, Any], ...] = ()
    budget: StepBudget = field(default_factory=StepBudget)
    stopped: Callable[[], bool] = lambda: False
    """True once the run must start no further step (cancelled, or the worker is stopping)."""
    ai: AIProvider | None = None
    """The chat model behind ``ctx.step.ai``."""
    tenant: str = "test"
    executor: Executor | None = None
    """Where sync handlers run (None: the event loop's default thread pool)."""

    def __post_init__(self) -> None:
        if not self.events:
            self.events = (self.event,)


@dataclass(frozen=True, slots=True)
class Completed:
    output: Any


@dataclass(frozen=True, slots=True)
class Retry:
    """The handler failed; it will be invoked again at `at_ms`."""

    error: ErrorInfo
    at_ms: int


@dataclass(frozen=True, slots=True)
class Failed:
    """The action failed for good (non-retriable, or out of retries)."""

    error: ErrorInfo
    step: str | None = None


@dataclass(frozen=True, slots=True)
class Suspended:
    """Parked on a sleep, a wait or a step's backoff; `wake_at_ms` is the earliest time to look again."""

    wake_at_ms: int | None
    waiting: bool
    sleeping: bool


Outcome = Completed | Retry | Failed | Suspended


async def invoke_action(
    run: RunContext,
    action: WorkflowAction,
    definition: ActionDefinition,
    record: ActionRecord,
    state: Mapping[str, Any],
) -> Outcome:
    """Run one attempt of `action` (replaying its recorded sub-steps) and report how it ended."""
    if run.stopped():
        raise Interrupted(run.run_id)
    started = run.clock.now_ms()
    policy = run.policy.with_retries(definition.retries)
    try:
        inputs = refs.interpolate(action.inputs, {"event": run.event, "state": state})
        typed_inputs = definition.prepare_inputs(inputs) if definition.takes_inputs else None
    except (RefError, NonRetriableError) as exc:
        error = NonRetriableError(f"action {action.id!r}: {exc}")
        return _failed(record, error, started, run.clock.now_ms())
    if record.inputs is None:
        record.inputs = inputs
    core = StepCore(action.id, record, run.clock, policy, run.budget, run_id=run.run_id, stopped=run.stopped)
    fields: dict[str, Any] = {
        "event": run.event,
        "events": run.events,
        "workflow": run.workflow,
        "action": msgspec.structs.replace(action, inputs=inputs),
        "state": MappingProxyType(dict(state)),
        "run_id": run.run_id,
        "tenant": run.tenant,
        "attempt": _attempt(record),
        "logger": ReplayAwareLogger(run.run_id, action.id, lambda: core.replaying),
    }
    args: tuple[Any, ...] = (typed_inputs,) if definition.takes_inputs else ()
    try:
        if definition.is_async:
            value = await definition.handler(ActionContext(**fields, step=Step(core, run.journal, run.ai)), *args)
        else:
            step_sync = StepSync(core, run.journal, asyncio.get_running_loop(), run.ai)
            call = functools.partial(definition.handler, ActionContextSync(**fields, step=step_sync), *args)
            value = await asyncio.get_running_loop().run_in_executor(
                run.executor, functools.partial(contextvars.copy_context().run, call)
            )
    except Suspend:
        await core.drain()
        return _suspended(record)
    except (NonRetriableError, StepError) as exc:
        await core.drain()
        return _failed(record, exc, started, run.clock.now_ms())
    except Exception as exc:
        await core.drain()
        return _retry_or_fail(record, exc, started, policy, run.clock.now_ms())
    try:
        output = definition.encode_output(value)
    except NonRetriableError as exc:
        return _failed(record, exc, started, run.clock.now_ms())
    record.attempts.append(Attempt(started_at=started, ended_at=run.clock.now_ms()))
    return Completed(output)


def _attempt(record: ActionRecord) -> int:
    """The retry count of whatever this invocation will execute: a failing sub-step's, else the handler's."""
    for step in record.steps:
        if step.status in (StepStatus.RETRYING, StepStatus.RUNNING) and step.failures:
            return step.failures
    return record.failures


def _failed(record: ActionRecord, exc: BaseException, started: int, now: int) -> Failed:
    info = ErrorInfo.from_exception(exc)
    record.attempts.append(Attempt(started_at=started, ended_at=now, error=info))
    return Failed(info, step=exc.step_id if isinstance(exc, StepError) else None)


def _retry_or_fail(record: ActionRecord, exc: Exception, started: int, policy: RetryPolicy, now: int) -> Outcome:
    info = ErrorInfo.from_exception(exc)
    record.attempts.append(Attempt(started_at=started, ended_at=now, error=info))
    if record.failures > policy.retries:
        return Failed(info)
    if isinstance(exc, RetryAfterError):
        return Retry(info, policy.retry_at_ms(exc, now))
    return Retry(info, now + policy.delay_ms(record.failures))


def _suspended(record: ActionRecord) -> Suspended:
    parked = [s for s in record.steps if s.status in (StepStatus.SLEEPING, StepStatus.WAITING, StepStatus.RETRYING)]
    wakes = [s.wake_at for s in parked if s.wake_at is not None]
    return Suspended(
        wake_at_ms=min(wakes) if wakes else None,
        waiting=any(s.status == StepStatus.WAITING for s in parked),
        sleeping=any(s.status == StepStatus.SLEEPING for s in parked),
    )
