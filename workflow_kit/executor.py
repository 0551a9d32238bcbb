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
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import msgspec

from . import refs
from .actions import ActionDefinition
from .ai import AIProvider
from .connections.credential import Credential
from .context import ActionContext, ActionContextSync, ReplayAwareLogger
from .errors import ErrorInfo, NonRetriableError, RefError, RetryAfterError, StepError
from .records import ActionRecord, Attempt, StepStatus
from .retry import RetryPolicy
from .signals import Interrupted, Suspend
from .step import Step, StepBudget, StepCore, StepJournal, StepSync
from .timeutil import Clock, parse_duration
from .workflow import Workflow, WorkflowAction


class CredentialSource(Protocol):
    """Where a run gets the live credentials of a step's connection inputs (the kit's connections)."""

    async def credentials(self, tenant: str, wanted: Mapping[str, tuple[str, str]]) -> dict[str, Credential]: ...


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
    trigger: dict[str, Any] | None = None
    """The trigger that started the run (``ctx.trigger``), None if none did."""
    connections: CredentialSource | None = None
    """The live credentials of connection inputs (None: a step with one fails, saying why)."""

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

_NO_VARIABLES: Mapping[str, Any] = MappingProxyType({})


async def invoke_action(
    run: RunContext,
    action: WorkflowAction,
    definition: ActionDefinition,
    record: ActionRecord,
    state: Mapping[str, Any],
    *,
    variables: Mapping[str, Any] | None = None,
    budget: StepBudget | None = None,
) -> Outcome:
    """Run one attempt of `action` (replaying its recorded sub-steps) and report how it ended.

    `variables`: the extra roots its refs see inside a loop's body (``item``, ``index``, ...); `budget`:
    the steps its scope may still record (default: the run's). The action's own ``policy`` sets its
    retries (instead of its kind's) and a timeout per attempt."""
    if run.stopped():
        raise Interrupted(run.run_id)
    started = run.clock.now_ms()
    policy = action_policy(run.policy, action, definition)
    variables = variables or _NO_VARIABLES
    try:
        inputs = refs.interpolate(action.inputs, {**variables, "event": run.event, "state": state})
        credentials = await _credentials(run, definition, inputs)
        typed_inputs = definition.prepare_inputs(inputs, credentials) if definition.takes_inputs else None
    except (RefError, NonRetriableError) as exc:
        error = NonRetriableError(f"action {action.id!r}: {exc}")
        return _failed(record, error, started, run.clock.now_ms())
    except Exception as exc:  # a provider that could not be reached to renew a token: retried
        return _retry_or_fail(record, exc, started, policy, run.clock.now_ms())
    if record.inputs is None:  # a connection is recorded as its id and name, never its secret
        record.inputs = {**inputs, **{name: credential.public() for name, credential in credentials.items()}}
    timeout_s = attempt_timeout(action)
    expired = False

    def stopped() -> bool:  # a handler past its timeout records no further step
        return expired or run.stopped()

    core = StepCore(
        record.id,
        record,
        run.clock,
        policy,
        budget or run.budget,
        run_id=run.run_id,
        stopped=run.stopped if timeout_s is None else stopped,
    )
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
        "item": variables.get("item"),
        "index": variables.get("index"),
        "loop": MappingProxyType(dict(variables)) if variables else _NO_VARIABLES,
        "trigger": dict(run.trigger) if run.trigger is not None else None,  # a copy: an action may change it
    }
    args: tuple[Any, ...] = (typed_inputs,) if definition.takes_inputs else ()
    try:
        if definition.is_async:
            call_async = definition.handler(ActionContext(**fields, step=Step(core, run.journal, run.ai)), *args)
            expired, value = (False, await call_async) if timeout_s is None else await _within(call_async, timeout_s)
        else:
            step_sync = StepSync(core, run.journal, asyncio.get_running_loop(), run.ai)
            call = functools.partial(definition.handler, ActionContextSync(**fields, step=step_sync), *args)
            running = asyncio.get_running_loop().run_in_executor(
                run.executor, functools.partial(contextvars.copy_context().run, call)
            )
            # A thread cannot be stopped: past the timeout its result is not waited for, and dropped.
            expired, value = (False, await running) if timeout_s is None else await _within(running, timeout_s)
        if expired:
            await core.drain()
            assert timeout_s is not None
            late = AttemptTimeoutError(f"the step took longer than its timeout of {_shown(timeout_s)}")
            return _retry_or_fail(record, late, started, policy, run.clock.now_ms())
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


async def _credentials(run: RunContext, definition: ActionDefinition, inputs: Any) -> dict[str, Credential]:
    """The live credentials of the action's connection inputs that hold a connection id."""
    if not definition.connections or not definition.takes_inputs or not isinstance(inputs, dict):
        return {}
    wanted = {
        name: (type_id, inputs[name])
        for name, type_id in definition.connections.items()
        if isinstance(inputs.get(name), str) and inputs[name]
    }
    if not wanted:
        return {}
    if run.connections is None:
        raise NonRetriableError("this step uses a connection, which only runs of a kit's workers can open")
    return await run.connections.credentials(run.tenant, wanted)


class AttemptTimeoutError(Exception):
    """An attempt of an action ran past the timeout of its policy (retried like any failure)."""


async def _within(awaitable: Awaitable[Any], seconds: float | None) -> tuple[bool, Any]:
    """``(False, value)`` of `awaitable`, or ``(True, None)`` if it ran past `seconds` (it is cancelled;
    a thread's work goes on, unwaited for)."""
    if seconds is None:
        return False, await awaitable
    try:
        async with asyncio.timeout(seconds) as deadline:
            return False, await awaitable
    except TimeoutError:
        if deadline.expired():
            return True, None
        raise


def action_policy(default: RetryPolicy, action: WorkflowAction, definition: ActionDefinition) -> RetryPolicy:
    """The retry policy of one action: its own ``policy.retries``, else its kind's, else the run's."""
    if action.policy is not None and action.policy.retries is not None:
        return default.with_retries(action.policy.retries)
    return default.with_retries(definition.retries)


def attempt_timeout(action: WorkflowAction) -> float | None:
    """The timeout of one attempt of `action` in seconds (its policy's ``timeout``), if it has one."""
    if action.policy is None or not action.policy.timeout:
        return None
    return parse_duration(action.policy.timeout).total_seconds()


def _shown(seconds: float) -> str:
    return f"{seconds:g} s"


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
