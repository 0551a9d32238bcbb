"""``ctx.step`` for handlers that run on Inngest: each call is an Inngest step of its own, with an id
made of the action's and the handler's (``reserve/charge``), so ids are stable and unique per action.

- ``run``, ``send_event`` and ``ai.infer`` are ``step.run``; ``sleep`` and ``sleep_until`` are Inngest
  sleeps; ``wait_for_event`` is Inngest's, its CEL ``if`` rewritten for the run request (and kept to the
  run's tenant); ``invoke`` invokes the run function for the other workflow.
- A step body's failure is retried by Inngest (each retry is an Inngest attempt) as many times as the
  kit's policy for the action says; then, or at once for a `NonRetriableError`, the step records the
  failure and `StepError` is raised where the handler called it, as in the embedded runtime. A
  `RetryAfterError` becomes the SDK's, so Inngest retries at that time.

`ProbeSteps` is the ``ctx.step`` of a handler's first attempt, which runs inside one ``step.run`` (most
handlers call no step: then that step is the whole action): a step call stops it with `UsesSteps`, and
the action is run again outside, with `InngestSteps`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, NoReturn, Protocol, TypeVar

import inngest
import msgspec

from ..ai import AIProvider
from ..errors import ErrorInfo, NonRetriableError, RetryAfterError, StepError
from ..records import StepStatus
from ..retry import RetryPolicy
from ..runtime.lifecycle.remote import StepNote
from ..step import (
    MAX_STEP_ID_LENGTH,
    InvalidStepError,
    _ai_call,
    _checked_events,
    _converted,
    _duration_ms,
    _invoke_args,
    _until_ms,
    _wait_args,
)
from ..timeutil import from_ms
from .protocol import tenant_clause, without_tenant

T = TypeVar("T")
Marker = dict[str, Any]
"""What a kit step records in Inngest: ``{"output": value}`` or ``{"error": {"name", "message"}}``."""


class UsesSteps(BaseException):
    """A handler called ``ctx.step`` during its first attempt (inside one ``step.run``): it is run again
    outside, where its steps can be Inngest steps. A `BaseException`, so ``except Exception`` in a
    handler does not swallow it."""


class StepHost(Protocol):
    """What the steps of one action need from the run that drives them."""

    @property
    def step(self) -> inngest.Step: ...

    @property
    def attempt(self) -> int: ...

    @property
    def ai(self) -> AIProvider | None: ...

    def now_ms(self) -> int: ...

    def note_step(self, note: StepNote) -> None:
        """Tell the run's recorder what a sub-step did."""
        ...

    async def send(self, events: list[dict[str, Any]], once: str) -> list[str]:
        """Send events as the kit's `send` does, at most once per `once` (Inngest's event ids)."""
        ...

    def invoke_target(self, workflow_id: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The function that runs the tenant's `workflow_id`, and the run request invoking it with `data`."""
        ...


def failure(exc: BaseException) -> Marker:
    info = ErrorInfo.from_exception(exc)
    return {"error": {"name": info.name, "message": info.message}}


def failed_or_raise(exc: Exception, attempt: int, policy: RetryPolicy, now_ms: int) -> Marker:
    """The marker of a failure that is final (non-retriable, or out of retries); otherwise raise for
    Inngest to retry: a `RetryAfterError` as the SDK's, with its time."""
    if isinstance(exc, NonRetriableError | StepError) or attempt >= policy.retries:
        return failure(exc)
    if isinstance(exc, RetryAfterError):
        at = from_ms(policy.retry_at_ms(exc, now_ms))
        raise inngest.RetryAfterError(exc.message, retry_after=at) from exc
    raise exc


def jsonable(value: Any) -> Any:
    """`value` as JSON reads it back (what a replay returns); `NonRetriableError` if it is no JSON."""
    try:
        return msgspec.json.decode(msgspec.json.encode(msgspec.to_builtins(value)))
    except (TypeError, ValueError) as exc:
        raise NonRetriableError(f"the output is not JSON: {exc}") from None


async def guarded(body: Callable[[], Awaitable[Any]], attempt: int, policy: RetryPolicy, now_ms: int) -> Marker:
    """Run a step body: its marker, or raise for Inngest to retry it."""
    try:
        return {"output": jsonable(await body())}
    except Exception as exc:
        return failed_or_raise(exc, attempt, policy, now_ms)


def info_of(error: dict[str, Any]) -> ErrorInfo:
    """A recorded ``{"name", "message"}`` as an `ErrorInfo`."""
    return ErrorInfo(str(error.get("name") or "Error"), str(error.get("message") or "the step failed"))


def raise_step_error(error: dict[str, Any], key: str) -> NoReturn:
    name, message = str(error.get("name") or "Error"), str(error.get("message") or "the step failed")
    raise StepError(message, name=name, step_id=key)


def _checked_id(step_id: str) -> str:
    if not isinstance(step_id, str) or not step_id:
        raise InvalidStepError(f"a step id must be a non-empty string, got {step_id!r}")
    if len(step_id) > MAX_STEP_ID_LENGTH or "\x00" in step_id:
        raise InvalidStepError(f"a step id is at most {MAX_STEP_ID_LENGTH} characters, without NUL characters")
    return step_id


class _Noted:
    """One sub-step's call, as the recorder hears of it (its position and key, as the embedded runtime
    records them: the N-th repeat of an id is ``id:N``)."""

    def __init__(self, host: StepHost, record_id: str, position: int, key: str, kind: str) -> None:
        self.host, self.record_id, self.position, self.key, self.kind = host, record_id, position, key, kind

    def __call__(self, status: StepStatus, **detail: Any) -> None:
        note = StepNote(
            record_id=self.record_id,
            position=self.position,
            key=self.key,
            kind=self.kind,
            status=status,
            at=self.host.now_ms(),
            **detail,
        )
        self.host.note_step(note)


class InngestSteps:
    """The async Step API of one action on Inngest (``ctx.step`` in an async handler)."""

    def __init__(self, host: StepHost, prefix: str, policy: RetryPolicy) -> None:
        self._host = host
        self._prefix = prefix
        self._policy = policy
        self._sent: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        self._position = 0
        self.ai = InngestAI(self)

    def _id(self, step_id: str) -> str:
        return f"{self._prefix}/{_checked_id(step_id)}"

    def _enter(self, step_id: str, kind: str) -> _Noted:
        """The call's position and key (the same on every replay: a handler calls its steps in order)."""
        seen = self._counts.get(step_id, 0)
        self._counts[step_id] = seen + 1
        self._position += 1
        return _Noted(self._host, self._prefix, self._position - 1, step_id if seen == 0 else f"{step_id}:{seen}", kind)

    async def _memo(self, step_id: str, body: Callable[[], Awaitable[Any]], kind: str = "run") -> Any:
        host = self._host
        noted = self._enter(step_id, kind)
        noted(StepStatus.RUNNING)

        async def attempt() -> Marker:
            began = host.now_ms()
            try:
                marker = await guarded(body, host.attempt, self._policy, began)
            except Exception as exc:  # Inngest retries it
                failed = ErrorInfo.from_exception(exc)
                noted(StepStatus.RETRYING, attempt=host.attempt, attempt_started_at=began, error=failed)
                raise
            error = info_of(marker["error"]) if "error" in marker else None
            noted(StepStatus.RUNNING, attempt=host.attempt, attempt_started_at=began, error=error)
            return marker

        try:
            marker = await host.step.run(self._id(step_id), attempt)
        except inngest.StepError as exc:  # Inngest ran out of attempts before the kit's policy did
            noted(StepStatus.FAILED, error=ErrorInfo(exc.name, exc.message))
            raise StepError(exc.message, name=exc.name, step_id=step_id) from None
        if "error" in marker:
            noted(StepStatus.FAILED, error=info_of(marker["error"]))
            raise_step_error(marker["error"], step_id)
        noted(StepStatus.COMPLETED, output=marker.get("output"))
        return marker.get("output")

    async def run(self, step_id: str, handler: Callable[..., Any], *args: Any, output_type: Any = None) -> Any:
        """Run `handler(*args)` once, as an Inngest ``step.run``; see `workflow_kit.step.Step.run`."""

        async def body() -> Any:
            value = handler(*args)
            return await value if inspect.isawaitable(value) else value

        return _converted(await self._memo(step_id, body), output_type)

    async def sleep(self, step_id: str, duration: int | timedelta | str) -> None:
        """An Inngest sleep."""
        ms = _duration_ms(duration, "sleep duration")
        noted = self._enter(step_id, "sleep")
        noted(StepStatus.SLEEPING)
        await self._host.step.sleep(self._id(step_id), timedelta(milliseconds=ms))
        noted(StepStatus.COMPLETED)

    async def sleep_until(self, step_id: str, until: datetime | str | int) -> None:
        """An Inngest sleep until a time."""
        at = from_ms(_until_ms(until))
        noted = self._enter(step_id, "sleep_until")
        noted(StepStatus.SLEEPING)
        await self._host.step.sleep_until(self._id(step_id), at)
        noted(StepStatus.COMPLETED)

    async def wait_for_event(
        self, step_id: str, *, event: str, timeout: int | timedelta | str, if_exp: str | None = None
    ) -> dict[str, Any] | None:
        """Inngest's wait for an event: the event of the run's tenant, or None after `timeout`."""
        ms = _wait_args(event, if_exp, timeout)
        noted = self._enter(step_id, "wait_for_event")
        noted(StepStatus.WAITING)
        found = await self._host.step.wait_for_event(
            self._id(step_id), event=event, if_exp=tenant_clause(if_exp), timeout=timedelta(milliseconds=ms)
        )
        output = None if found is None else without_tenant(found.model_dump(mode="json"))
        noted(StepStatus.COMPLETED, output=output)
        return output

    async def invoke(
        self,
        step_id: str,
        *,
        workflow_id: str,
        data: dict[str, Any] | None = None,
        timeout: int | timedelta | str | None = None,
    ) -> Any:
        """Inngest's invoke of the run function for the tenant's `workflow_id`: its output (the run's
        state); its failure raises `StepError`."""
        ms = _invoke_args(workflow_id, data, timeout)
        function_id, request = self._host.invoke_target(workflow_id, dict(data or {}))
        noted = self._enter(step_id, "invoke")
        noted(StepStatus.WAITING)
        try:
            output = await self._host.step.invoke_by_id(
                self._id(step_id), function_id=function_id, data=request, timeout=timedelta(milliseconds=ms)
            )
        except inngest.StepError as exc:  # as the embedded runtime says it (Inngest names no child run)
            message = f"the invoked run of {workflow_id!r} failed: {exc.message}"
            noted(StepStatus.FAILED, error=ErrorInfo("InvokeError", message))
            raise StepError(message, name="InvokeError", step_id=step_id) from None
        noted(StepStatus.COMPLETED, output=output)
        return output

    async def send_event(self, step_id: str, events: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
        """Send events as the kit's ``send`` does (they start workflows and reach waits), once."""
        checked = _checked_events(events, self._host.now_ms())
        seen = self._sent[step_id] = self._sent.get(step_id, -1) + 1  # a repeated id sends anew, as the SDK's id
        once = self._id(step_id) + (f":{seen}" if seen else "")
        ids: list[str] = await self._memo(step_id, lambda: self._host.send(checked, once), "send_event")
        return ids

    async def infer(self, step_id: str, messages: list[dict[str, Any]], model: str | None, params: Any) -> Any:
        provider, chosen = _ai_call(self._host.ai, model, messages)
        return await self._memo(step_id, lambda: provider.chat(model=chosen, messages=messages, **params), "ai.infer")


class InngestAI:
    """``ctx.step.ai`` on Inngest: the kit's chat model called in a ``step.run``."""

    def __init__(self, steps: InngestSteps) -> None:
        self._steps = steps

    async def infer(
        self, step_id: str, *, messages: list[dict[str, Any]], model: str | None = None, **params: Any
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._steps.infer(step_id, messages, model, params)
        return result


class InngestStepsSync:
    """The blocking Step API of one action on Inngest (``ctx.step`` in a sync handler, which runs in a
    thread): each call runs on the event loop, in the handler's context, and waits for it."""

    def __init__(self, steps: InngestSteps, loop: asyncio.AbstractEventLoop, context: contextvars.Context) -> None:
        self._steps = steps
        self._loop = loop
        self._context = context
        self.ai = InngestAISync(self)

    def run(self, step_id: str, handler: Callable[..., Any], *args: Any, output_type: Any = None) -> Any:
        async def in_thread(*given: Any) -> Any:  # the body blocks: not on the event loop
            return await asyncio.to_thread(handler, *given)

        return self.block(self._steps.run(step_id, in_thread, *args, output_type=output_type))

    def sleep(self, step_id: str, duration: int | timedelta | str) -> None:
        self.block(self._steps.sleep(step_id, duration))

    def sleep_until(self, step_id: str, until: datetime | str | int) -> None:
        self.block(self._steps.sleep_until(step_id, until))

    def wait_for_event(
        self, step_id: str, *, event: str, timeout: int | timedelta | str, if_exp: str | None = None
    ) -> dict[str, Any] | None:
        return self.block(self._steps.wait_for_event(step_id, event=event, timeout=timeout, if_exp=if_exp))

    def invoke(
        self,
        step_id: str,
        *,
        workflow_id: str,
        data: dict[str, Any] | None = None,
        timeout: int | timedelta | str | None = None,
    ) -> Any:
        return self.block(self._steps.invoke(step_id, workflow_id=workflow_id, data=data, timeout=timeout))

    def send_event(self, step_id: str, events: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
        return self.block(self._steps.send_event(step_id, events))

    def block(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the loop in the handler's context (the SDK keeps its state in context
        variables) and return its result, or raise what it raised (the SDK's interrupts included)."""
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            task = self._loop.create_task(coroutine, context=self._context.copy())

            def landed(finished: asyncio.Task[T]) -> None:
                if finished.cancelled():
                    done.cancel()
                elif (error := finished.exception()) is not None:
                    done.set_exception(error)
                else:
                    done.set_result(finished.result())

            task.add_done_callback(landed)

        self._loop.call_soon_threadsafe(start)
        return done.result()


class InngestAISync:
    def __init__(self, steps: InngestStepsSync) -> None:
        self._steps = steps

    def infer(
        self, step_id: str, *, messages: list[dict[str, Any]], model: str | None = None, **params: Any
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._steps.block(self._steps._steps.infer(step_id, messages, model, params))
        return result


class ProbeSteps:
    """``ctx.step`` during a handler's first attempt: any call means the handler has steps."""

    def __init__(self) -> None:
        self.ai = self

    def _stop(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise UsesSteps()

    run = sleep = sleep_until = wait_for_event = invoke = send_event = infer = _stop
