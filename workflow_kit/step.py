"""The Step API handlers use (``ctx.step``), mirroring Inngest's Python SDK: `Step` for async handlers,
`StepSync` for sync ones.

Every call is a durable sub-step of the action, keyed by its id (a repeated id becomes ``id:1``,
``id:2``, ... within the action) and by its position in the action's journal. On replay, one lookup
returns the recorded result *and* checks the handler still calls the same step there; a different
id or kind at a recorded position is a `NonDeterminismError`.

A step that cannot finish now (a sleep, a wait, a retry after backoff) raises `Suspend`, a
`BaseException` so a user's ``except Exception`` cannot swallow it; the action is invoked again later
and replays its recorded steps.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import msgspec

from . import expressions
from .ai import AIProvider
from .errors import (
    ErrorInfo,
    ExpressionError,
    LimitExceededError,
    NonDeterminismError,
    NonRetriableError,
    RetryAfterError,
    StepError,
)
from .events import CROCKFORD, MAX_EVENT_NAME_LENGTH, NUL_MESSAGE, EventError, has_nul, normalize_events
from .records import ActionRecord, Attempt, InvokeSpec, StepRecord, StepStatus, WaitSpec
from .retry import RetryPolicy
from .signals import Interrupted, Suspend
from .timeutil import Clock, parse_duration, parse_instant, to_ms

T = TypeVar("T")

MAX_STEP_OUTPUT_BYTES = 4 * 1024 * 1024
MAX_STEPS_PER_RUN = 1000
"""Sub-steps a run may record in one scope: the run's own actions, or one iteration of a loop's body."""
MAX_STEPS_TOTAL = 100_000
"""Sub-steps a run may record in all, loops included."""
MAX_STEP_ID_LENGTH = 256
MAX_SLEEP_MS = 366 * 86_400_000
WAIT_VARIABLES = ("event", "async")

_current_step: contextvars.ContextVar[str | None] = contextvars.ContextVar("workflow_kit_step", default=None)


class InvalidStepError(NonRetriableError):
    """A step was called with arguments that can never work (bad duration, bad CEL, nested steps)."""

    code = "invalid_step"


class StepJournal(Protocol):
    """Where steps are persisted and events sent: memory in tests, the database in the runtime."""

    async def save_step(self, action_id: str, record: StepRecord) -> None: ...

    async def send_events(self, action_id: str, step_key: str, events: list[dict[str, Any]]) -> list[str]:
        """Send the events of one ``send_event`` step, at most once even if the step is executed again
        (its worker died after sending, before the step was recorded); returns their ids."""
        ...


@dataclass
class StepBudget:
    """How many more steps a scope may record: 1,000 for the run's own actions and 1,000 for each
    iteration of a loop (`MAX_STEPS_PER_RUN`), all within the run's `total` (`MAX_STEPS_TOTAL`)."""

    remaining: int = MAX_STEPS_PER_RUN
    total: StepBudget | None = field(default_factory=lambda: StepBudget(MAX_STEPS_TOTAL, None))

    def take(self) -> None:
        """Count one new step, or raise `LimitExceededError` if the scope or the run is out of steps."""
        if self.remaining <= 0:
            if self.total is None:
                raise LimitExceededError(f"the run reached its limit of {MAX_STEPS_TOTAL} steps in all")
            raise LimitExceededError(f"the run reached the limit of {MAX_STEPS_PER_RUN} steps")
        if self.total is not None:
            self.total.take()
        self.remaining -= 1

    def scope(self, used: int = 0) -> StepBudget:
        """The budget of a loop iteration that recorded `used` steps already, within the same total."""
        return StepBudget(MAX_STEPS_PER_RUN - used, self.total)


@dataclass
class _Next:
    """What a step call does next: save a record, then return a value, raise, or execute its body."""

    record: StepRecord | None = None
    save: bool = False
    value: Any = None
    error: BaseException | None = None
    execute: bool = False


@dataclass
class StepCore:
    """The decisions shared by `Step` and `StepSync`; they only add the I/O (await or block)."""

    action_id: str
    record: ActionRecord
    clock: Clock
    policy: RetryPolicy
    budget: StepBudget = field(default_factory=StepBudget)
    run_id: str = ""
    stopped: Callable[[], bool] = lambda: False
    position: int = 0
    _counts: dict[str, int] = field(default_factory=dict)
    _memoized: int = 0
    _in_flight: int = 0
    _landed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        done = (StepStatus.COMPLETED, StepStatus.FAILED)
        self._memoized = sum(1 for s in self.record.steps if s.status in done)
        self._landed.set()

    def take_off(self) -> None:
        """A step body starts (async handlers may run several at once, e.g. with asyncio.gather)."""
        self._in_flight += 1
        self._landed.clear()

    def land(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._landed.set()

    async def drain(self) -> None:
        """Wait until every step body that started has recorded its result, so that a sibling's
        suspension or failure never leaves a step half-recorded."""
        await self._landed.wait()

    @property
    def replaying(self) -> bool:
        """True while the handler is re-running steps whose results are already recorded."""
        return self.position < self._memoized

    def enter(self, step_id: str, kind: str) -> tuple[str, StepRecord | None]:
        """Assign the call its key and position; return the recorded step there, if any."""
        if not isinstance(step_id, str) or not step_id:
            raise InvalidStepError(f"a step id must be a non-empty string, got {step_id!r}")
        if len(step_id) > MAX_STEP_ID_LENGTH or "\x00" in step_id:
            raise InvalidStepError(f"a step id is at most {MAX_STEP_ID_LENGTH} characters, without NUL characters")
        if self.stopped():
            raise Interrupted(self.run_id)
        outer = _current_step.get()
        if outer is not None:
            raise InvalidStepError(f"steps cannot be nested: step {step_id!r} was called inside step {outer!r}")
        seen = self._counts.get(step_id, 0)
        self._counts[step_id] = seen + 1
        key = step_id if seen == 0 else f"{step_id}:{seen}"
        position = self.position
        self.position += 1
        if position < len(self.record.steps):
            recorded = self.record.steps[position]
            if recorded.key != key or recorded.kind != kind:
                raise NonDeterminismError(
                    f"action {self.action_id!r} called {kind} step {key!r} at position {position}, but the run "
                    f"recorded {recorded.kind} step {recorded.key!r} there: the handler changed while the run was "
                    "in flight, or it picks its steps non-deterministically"
                )
            return key, recorded
        self.budget.take()
        return key, None

    def new(self, key: str, kind: str, status: StepStatus, **fields: Any) -> StepRecord:
        record = StepRecord(key=key, kind=kind, status=status, **fields)
        self.record.steps.append(record)
        return record

    # -- run-like steps (run, send_event) ------------------------------------------------------

    def start_run(self, step_id: str, kind: str) -> _Next:
        key, record = self.enter(step_id, kind)
        if record is None:
            return _Next(record=self.new(key, kind, StepStatus.RUNNING), execute=True)
        replay = self._replay(record)
        if replay is not None:
            return replay
        if record.status == StepStatus.RETRYING and record.wake_at is not None and record.wake_at > self.now():
            return _Next(error=Suspend())
        record.status = StepStatus.RUNNING  # due for a retry, or was running when its worker died
        return _Next(record=record, execute=True)

    def succeeded(self, record: StepRecord, value: Any, started_at: int) -> _Next:
        try:
            encoded = msgspec.json.encode(msgspec.to_builtins(value))
            output = msgspec.json.decode(encoded)  # what a replay reads back: tuples and sets become lists
            size = len(encoded)
        except (TypeError, ValueError) as exc:
            failure = NonRetriableError(f"the output of step {record.key!r} is not JSON: {exc}")
            return self.failed(record, failure, started_at)
        if has_nul(encoded):
            return self.failed(
                record, NonRetriableError(f"the output of step {record.key!r}: {NUL_MESSAGE}"), started_at
            )
        if size > MAX_STEP_OUTPUT_BYTES:
            failure = LimitExceededError(
                f"the output of step {record.key!r} is {size} bytes; the limit is {MAX_STEP_OUTPUT_BYTES} (4 MB)"
            )
            return self.failed(record, failure, started_at)
        record.attempts.append(Attempt(started_at=started_at, ended_at=self.now()))
        record.status, record.output, record.error, record.wake_at = StepStatus.COMPLETED, output, None, None
        return _Next(record=record, save=True, value=output)

    def failed(self, record: StepRecord, exc: Exception, started_at: int) -> _Next:
        now = self.now()
        info = ErrorInfo.from_exception(exc)
        record.attempts.append(Attempt(started_at=started_at, ended_at=now, error=info))
        retriable = not isinstance(exc, NonRetriableError | StepError)
        if retriable and record.failures <= self.policy.retries:
            if isinstance(exc, RetryAfterError):
                record.wake_at = self.policy.retry_at_ms(exc, now)
            else:
                record.wake_at = now + self.policy.delay_ms(record.failures)
            record.status, record.error = StepStatus.RETRYING, info
            return _Next(record=record, save=True, error=Suspend())
        record.status, record.error, record.wake_at = StepStatus.FAILED, info, None
        return _Next(record=record, save=True, error=self._step_error(record))

    # -- timers and waits ----------------------------------------------------------------------

    def start_sleep(self, step_id: str, kind: str, until_ms: int) -> _Next:
        key, record = self.enter(step_id, kind)
        if record is None:
            if until_ms <= self.now():
                done = self.new(key, kind, StepStatus.COMPLETED)
                return _Next(record=done, save=True)
            return _Next(record=self.new(key, kind, StepStatus.SLEEPING, wake_at=until_ms), save=True, error=Suspend())
        return self._resume_timer(record)

    def start_wait(self, step_id: str, event: str, if_exp: str | None, timeout_ms: int) -> _Next:
        key, record = self.enter(step_id, "wait_for_event")
        if record is None:
            now = self.now()
            wait = WaitSpec(event=event, if_exp=if_exp, registered_at=now)
            record = self.new(key, "wait_for_event", StepStatus.WAITING, wake_at=now + timeout_ms, wait=wait)
            return _Next(record=record, save=True, error=Suspend())
        return self._resume_timer(record)

    def start_invoke(self, step_id: str, workflow_id: str, data: dict[str, Any], timeout_ms: int) -> _Next:
        key, record = self.enter(step_id, "invoke")
        if record is None:
            child = InvokeSpec(
                workflow_id=workflow_id, run_id=child_run_id(self.run_id, self.action_id, key), data=data
            )
            record = self.new(key, "invoke", StepStatus.WAITING, wake_at=self.now() + timeout_ms, invoke=child)
            return _Next(record=record, save=True, error=Suspend())
        replay = self._replay(record)
        if replay is not None:
            return replay
        if record.wake_at is not None and record.wake_at <= self.now():
            error = ErrorInfo(name="InvokeTimeoutError", message="timed out waiting for the invoked workflow to finish")
            record.status, record.error, record.wake_at = StepStatus.FAILED, error, None
            return _Next(record=record, save=True, error=self._step_error(record))
        return _Next(error=Suspend())

    def _resume_timer(self, record: StepRecord) -> _Next:
        replay = self._replay(record)
        if replay is not None:
            return replay
        if record.wake_at is not None and record.wake_at <= self.now():
            record.status, record.output, record.wake_at = (
                StepStatus.COMPLETED,
                None,
                None,
            )  # slept / timed out
            return _Next(record=record, save=True, value=None)
        return _Next(error=Suspend())

    # -- helpers -------------------------------------------------------------------------------

    def now(self) -> int:
        return self.clock.now_ms()

    def _replay(self, record: StepRecord) -> _Next | None:
        if record.status == StepStatus.COMPLETED:
            return _Next(value=record.output)
        if record.status == StepStatus.FAILED:
            return _Next(error=self._step_error(record))
        return None

    def _step_error(self, record: StepRecord) -> StepError:
        error = record.error or ErrorInfo(name="Error", message="step failed")
        return StepError(error.message, name=error.name, stack=error.stack, step_id=record.key)


def child_run_id(run_id: str, action_id: str, key: str) -> str:
    """The id of the run an invoke step starts: derived from the step, so a replay finds the same run."""
    digest = int.from_bytes(hashlib.sha256(f"{run_id}/{action_id}/{key}".encode()).digest()[:16], "big")
    return "".join(CROCKFORD[(digest >> shift) & 31] for shift in range(125, -1, -5))


def _invoke_args(workflow_id: str, data: dict[str, Any] | None, timeout: int | timedelta | str | None) -> int:
    if not isinstance(workflow_id, str) or not workflow_id:
        raise InvalidStepError(f"invoke needs a workflow id, got {workflow_id!r}")
    if data is not None and not isinstance(data, dict):
        raise InvalidStepError(f"invoke data must be an object, got {type(data).__name__}")
    return MAX_SLEEP_MS if timeout is None else _duration_ms(timeout, "invoke timeout")


def _wait_args(event: str, if_exp: str | None, timeout: int | timedelta | str) -> int:
    if not isinstance(event, str) or not event or len(event) > MAX_EVENT_NAME_LENGTH:
        raise InvalidStepError(f"wait_for_event needs an event name of at most {MAX_EVENT_NAME_LENGTH} characters")
    if if_exp is not None:
        try:
            expressions.check(if_exp, WAIT_VARIABLES)
        except ExpressionError as exc:
            raise InvalidStepError(str(exc)) from None
    return _duration_ms(timeout, "timeout")


def _duration_ms(value: int | timedelta | str, what: str) -> int:
    try:
        ms = int(parse_duration(value).total_seconds() * 1000)
    except (ValueError, TypeError) as exc:
        raise InvalidStepError(f"invalid {what}: {exc}") from None
    if ms > MAX_SLEEP_MS:
        raise InvalidStepError(f"the {what} is longer than the limit of 366 days")
    return ms


def _until_ms(value: datetime | str | int) -> int:
    try:
        return to_ms(parse_instant(value))
    except (ValueError, TypeError) as exc:
        raise InvalidStepError(f"invalid time: {exc}") from None


def _converted(value: Any, output_type: Any) -> Any:
    return value if output_type is None else msgspec.convert(value, output_type, strict=False)


def _checked_events(events: dict[str, Any] | list[dict[str, Any]], now_ms: int) -> list[dict[str, Any]]:
    try:
        return normalize_events(events, now_ms)
    except EventError as exc:
        raise InvalidStepError(str(exc)) from None


class Step:
    """The async Step API (``ctx.step`` in an async handler)."""

    def __init__(self, core: StepCore, journal: StepJournal, ai: AIProvider | None = None) -> None:
        self._core = core
        self._journal = journal
        self.ai = AISteps(self, ai)
        """AI steps: ``await ctx.step.ai.infer(id, messages=[...])``."""

    async def run(self, step_id: str, handler: Callable[..., Any], *args: Any, output_type: Any = None) -> Any:
        """Run `handler(*args)` once, durably: its result is recorded and returned on every replay.

        A failure is retried with backoff (its own retry counter); when retries are exhausted or the
        error is a `NonRetriableError`, `StepError` is raised here. `output_type` converts the recorded
        JSON back to a type (e.g. a Struct).
        """
        nxt = self._core.start_run(step_id, "run")
        if nxt.execute:
            nxt = await self._execute(nxt, lambda: handler(*args))
        return _converted(await self._settle(nxt), output_type)

    async def sleep(self, step_id: str, duration: int | timedelta | str) -> None:
        """Pause for `duration` (milliseconds, a timedelta, or text like ``"1h30m"``); holds no worker."""
        until = self._core.now() + _duration_ms(duration, "sleep duration")
        await self._settle(self._core.start_sleep(step_id, "sleep", until))

    async def sleep_until(self, step_id: str, until: datetime | str | int) -> None:
        """Pause until a time (datetime, ISO 8601 text, or epoch milliseconds)."""
        await self._settle(self._core.start_sleep(step_id, "sleep_until", _until_ms(until)))

    async def wait_for_event(
        self, step_id: str, *, event: str, timeout: int | timedelta | str, if_exp: str | None = None
    ) -> dict[str, Any] | None:
        """Wait for an event named `event` (received after this call) matching the CEL `if_exp`
        (``event`` is the trigger, ``async`` the candidate); returns it, or None after `timeout`."""
        timeout_ms = _wait_args(event, if_exp, timeout)
        result: dict[str, Any] | None = await self._settle(self._core.start_wait(step_id, event, if_exp, timeout_ms))
        return result

    async def invoke(
        self,
        step_id: str,
        *,
        workflow_id: str,
        data: dict[str, Any] | None = None,
        timeout: int | timedelta | str | None = None,
    ) -> Any:
        """Start a run of another workflow of the tenant (its latest published version, with the event
        ``workflow/invoked`` carrying `data`) and wait for it; returns its output. Its failure, or no
        result within `timeout` (default: the maximum, 366 days), raises `StepError`."""
        timeout_ms = _invoke_args(workflow_id, data, timeout)
        return await self._settle(self._core.start_invoke(step_id, workflow_id, dict(data or {}), timeout_ms))

    async def send_event(self, step_id: str, events: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
        """Send one or more events, once (a replay does not send again); returns their ids."""
        checked = _checked_events(events, self._core.now())
        nxt = self._core.start_run(step_id, "send_event")
        if nxt.execute:
            key = nxt.record.key if nxt.record is not None else step_id
            nxt = await self._execute(nxt, lambda: self._journal.send_events(self._core.action_id, key, checked))
        ids: list[str] = await self._settle(nxt)
        return ids

    async def _execute(self, nxt: _Next, body: Callable[[], Any]) -> _Next:
        """Run a step body and record its result; the record is saved before this returns, so a
        sibling step's suspension (with asyncio.gather) never leaves it half-recorded."""
        record = nxt.record
        assert record is not None
        started = self._core.now()
        token = _current_step.set(record.key)
        self._core.take_off()
        try:
            try:
                value = body()
                if inspect.isawaitable(value):
                    value = await value
            except Exception as exc:
                done = self._core.failed(record, exc, started)
            else:
                done = self._core.succeeded(record, value, started)
            finally:
                _current_step.reset(token)
            await self._journal.save_step(self._core.action_id, record)
            done.save = False
            return done
        finally:
            self._core.land()

    async def _settle(self, nxt: _Next) -> Any:
        if nxt.save and nxt.record is not None:
            await self._journal.save_step(self._core.action_id, nxt.record)
        if nxt.error is not None:
            raise nxt.error
        return nxt.value


class StepSync:
    """The sync Step API (``ctx.step`` in a sync handler, which runs in a worker thread)."""

    def __init__(
        self, core: StepCore, journal: StepJournal, loop: asyncio.AbstractEventLoop, ai: AIProvider | None = None
    ) -> None:
        self._core = core
        self._journal = journal
        self._loop = loop
        self.ai = AIStepsSync(self, ai)
        """AI steps: ``ctx.step.ai.infer(id, messages=[...])``."""

    def run(self, step_id: str, handler: Callable[..., Any], *args: Any, output_type: Any = None) -> Any:
        """Run `handler(*args)` once, durably; see `Step.run`."""
        nxt = self._core.start_run(step_id, "run")
        if nxt.execute:
            nxt = self._execute(nxt, lambda: handler(*args))
        return _converted(self._settle(nxt), output_type)

    def sleep(self, step_id: str, duration: int | timedelta | str) -> None:
        """Pause for `duration`; see `Step.sleep`."""
        until = self._core.now() + _duration_ms(duration, "sleep duration")
        self._settle(self._core.start_sleep(step_id, "sleep", until))

    def sleep_until(self, step_id: str, until: datetime | str | int) -> None:
        """Pause until a time; see `Step.sleep_until`."""
        self._settle(self._core.start_sleep(step_id, "sleep_until", _until_ms(until)))

    def wait_for_event(
        self, step_id: str, *, event: str, timeout: int | timedelta | str, if_exp: str | None = None
    ) -> dict[str, Any] | None:
        """Wait for an event; see `Step.wait_for_event`."""
        timeout_ms = _wait_args(event, if_exp, timeout)
        result: dict[str, Any] | None = self._settle(self._core.start_wait(step_id, event, if_exp, timeout_ms))
        return result

    def invoke(
        self,
        step_id: str,
        *,
        workflow_id: str,
        data: dict[str, Any] | None = None,
        timeout: int | timedelta | str | None = None,
    ) -> Any:
        """Run another workflow and wait for its output; see `Step.invoke`."""
        timeout_ms = _invoke_args(workflow_id, data, timeout)
        return self._settle(self._core.start_invoke(step_id, workflow_id, dict(data or {}), timeout_ms))

    def send_event(self, step_id: str, events: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
        """Send events once; see `Step.send_event`."""
        checked = _checked_events(events, self._core.now())
        nxt = self._core.start_run(step_id, "send_event")
        if nxt.execute:
            key = nxt.record.key if nxt.record is not None else step_id
            nxt = self._execute(nxt, lambda: self._block(self._journal.send_events(self._core.action_id, key, checked)))
        ids: list[str] = self._settle(nxt)
        return ids

    def _execute(self, nxt: _Next, body: Callable[[], Any]) -> _Next:
        assert nxt.record is not None
        started = self._core.now()
        token = _current_step.set(nxt.record.key)
        try:
            value = body()
            if inspect.isawaitable(value):
                if inspect.iscoroutine(value):
                    value.close()
                raise InvalidStepError(f"step {nxt.record.key!r} got an async function in a sync handler")
        except Exception as exc:
            return self._core.failed(nxt.record, exc, started)
        finally:
            _current_step.reset(token)
        return self._core.succeeded(nxt.record, value, started)

    def _settle(self, nxt: _Next) -> Any:
        if nxt.save and nxt.record is not None:
            self._block(self._journal.save_step(self._core.action_id, nxt.record))
        if nxt.error is not None:
            raise nxt.error
        return nxt.value

    def _block(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()


def _ai_call(provider: AIProvider | None, model: str | None, messages: list[dict[str, Any]]) -> tuple[AIProvider, str]:
    if provider is None:
        raise InvalidStepError("no AI provider: pass WorkflowKit(ai=...) or set OPENAI_API_KEY")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise InvalidStepError("messages must be a non-empty list of {role, content} objects")
    return provider, model or provider.model


class AISteps:
    """``ctx.step.ai`` for async handlers."""

    def __init__(self, step: Step, provider: AIProvider | None) -> None:
        self._step = step
        self._provider = provider

    async def infer(
        self, step_id: str, *, messages: list[dict[str, Any]], model: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """Ask the chat model, durably: ``{content, model, provider, finish_reason, usage}``, recorded once.
        Rate limits and server errors retry (at the provider's Retry-After when it gives one)."""
        provider, chosen = _ai_call(self._provider, model, messages)
        step = self._step
        nxt = step._core.start_run(step_id, "ai.infer")
        if nxt.execute:
            nxt = await step._execute(nxt, lambda: provider.chat(model=chosen, messages=messages, **params))
        result: dict[str, Any] = await step._settle(nxt)
        return result


class AIStepsSync:
    """``ctx.step.ai`` for sync handlers."""

    def __init__(self, step: StepSync, provider: AIProvider | None) -> None:
        self._step = step
        self._provider = provider

    def infer(
        self, step_id: str, *, messages: list[dict[str, Any]], model: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """Ask the chat model, durably; see `AISteps.infer`."""
        provider, chosen = _ai_call(self._provider, model, messages)
        step = self._step
        nxt = step._core.start_run(step_id, "ai.infer")
        if nxt.execute:
            nxt = step._execute(nxt, lambda: step._block(provider.chat(model=chosen, messages=messages, **params)))
        result: dict[str, Any] = step._settle(nxt)
        return result
