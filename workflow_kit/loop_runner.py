"""Running a loop action's body: a driver per iteration of "for each" and per round of "repeat until".

Each iteration runs in a `Scope` of its own: its records are actions of the run whose ids name the
iteration (``each[2]/reserve``; nested loops: ``outer[0]/inner[3]/x``), saved by the run's journal like
any other, so a crash mid-loop resumes without running a finished iteration again: invoked again, the
loop walks its iterations from the first, and a finished one settles at once from its records.

- For each: up to ``concurrency`` iterations are unfinished at once (running, or parked on a sleep, a
  wait or a backoff); with 1 (the default) they go in item order. An iteration that fails stops the loop
  (``on_failure: "stop"``: the loop fails, naming the item) or becomes ``{"error": {name, message}}`` in
  the output (``"continue"``). The output is the list of the iterations' results, in item order.
- Repeat until: one round after another; after each, the condition (CEL over ``event``, ``state``,
  ``round``, ``last``) is checked; ``wait_between`` is a durable sleep of the loop action between rounds.
  The output is ``{"rounds", "met", "result"}``; reaching ``max_rounds`` is not a failure.

An iteration's result is the output of the body's ``result`` action (null if it was skipped), or the
body's state object (every settled body action's output, by id) when the body names none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import refs
from .actions import ActionDefinition
from .engine.loops import FOR_EACH, ForEachInputs, RepeatUntilInputs
from .errors import ErrorInfo, ExpressionError, NonRetriableError, RefError
from .executor import Completed, Failed, Outcome, Suspended
from .expressions import evaluate_bool
from .progress import Progress, Scope
from .records import ActionRecord, Attempt, StepStatus
from .signals import Suspend
from .step import Step, StepCore

if TYPE_CHECKING:
    from .runner import RunDriver

Iteration = Callable[[int], Awaitable[tuple[Progress, Any]]]


async def run_loop(driver: RunDriver, action_id: str, definition: ActionDefinition) -> Outcome:
    """Run (or resume) the loop action `action_id` of `driver`'s scope; how it ended."""
    action = driver.graph.actions[action_id]
    record = driver.own[action_id]
    run = driver.run
    started = run.clock.now_ms()
    try:
        inputs = refs.interpolate(action.inputs, {**driver.scope.variables, "event": run.event, "state": driver.state})
        typed = definition.prepare_inputs(inputs)
    except (RefError, NonRetriableError) as exc:
        return _failed(
            record, ErrorInfo.from_exception(NonRetriableError(f"action {action.id!r}: {exc}")), started, run
        )
    if record.inputs is None:
        record.inputs = inputs
    body = driver.graph.body(action_id)
    outer = dict(driver.state)
    result_id = action.body.result if action.body is not None else None
    prefix = record.id

    async def iteration(number: int, variables: dict[str, Any]) -> tuple[Progress, Any]:
        scope_prefix = f"{prefix}[{number}]/"
        used = sum(len(r.steps) for a in body.order if (r := driver.records.get(scope_prefix + a)) is not None)
        budget = (driver.scope.budget or run.budget).scope(used)
        child = driver.child(body, Scope(scope_prefix, variables, outer, budget))
        progress = await child.advance()
        if progress.status != "completed":
            return progress, None
        result = child.outputs if result_id is None else child.outputs.get(result_id)
        child.forget()
        return progress, result

    if action.kind == FOR_EACH:
        assert isinstance(typed, ForEachInputs)
        outcome = await _for_each(typed, iteration)
    else:
        assert isinstance(typed, RepeatUntilInputs)
        outcome = await _repeat_until(typed, iteration, driver, record, outer)
    if isinstance(outcome, Failed):
        return _failed(record, outcome.error, started, run)
    if isinstance(outcome, Completed):
        record.attempts.append(Attempt(started_at=started, ended_at=run.clock.now_ms()))
    return outcome


async def _for_each(inputs: ForEachInputs, iteration: Callable[..., Awaitable[tuple[Progress, Any]]]) -> Outcome:
    items = inputs.items
    results: list[Any] = [None] * len(items)
    parked: list[Progress] = []
    failure: Failed | None = None
    running: dict[asyncio.Task[tuple[Progress, Any]], int] = {}
    unfinished = 0  # running or parked
    following = 0
    try:
        while True:
            while failure is None and following < len(items) and unfinished < inputs.concurrency:
                index = following
                following += 1
                unfinished += 1
                running[asyncio.ensure_future(iteration(index, {"item": items[index], "index": index}))] = index
            if not running:
                break
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=lambda t: running[t]):
                index = running.pop(task)
                progress, result = task.result()
                if progress.status == "suspended":
                    parked.append(progress)
                    continue
                unfinished -= 1
                if progress.status == "completed":
                    results[index] = result
                    continue
                error = _iteration_error(progress)
                if inputs.on_failure == "continue":
                    results[index] = {"error": {"name": error.name, "message": error.message}}
                elif failure is None:
                    message = f"item {index + 1} of {len(items)}: {error.message}"
                    failure = Failed(ErrorInfo(error.name, message))
    except BaseException:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
    if failure is not None:
        return failure
    if parked:
        return _parked(parked)
    return Completed(results)


async def _repeat_until(
    inputs: RepeatUntilInputs,
    iteration: Callable[..., Awaitable[tuple[Progress, Any]]],
    driver: RunDriver,
    record: ActionRecord,
    outer: dict[str, Any],
) -> Outcome:
    run = driver.run
    core = StepCore(
        record.id,
        record,
        run.clock,
        run.policy,
        driver.scope.budget or run.budget,
        run_id=run.run_id,
        stopped=run.stopped,
    )
    pause = Step(core, run.journal, run.ai)
    last: Any = None
    for number in range(inputs.max_rounds):
        if number and inputs.wait_between:
            try:
                await pause.sleep("between-rounds", inputs.wait_between)
            except Suspend:
                await core.drain()
                waits = [s.wake_at for s in record.steps if s.status == StepStatus.SLEEPING and s.wake_at is not None]
                return Suspended(wake_at_ms=min(waits) if waits else None, waiting=False, sleeping=True)
        progress, result = await iteration(number, {"round": number, "last": last})
        if progress.status == "suspended":
            return _parked([progress])
        ended = after_round(
            inputs, number, progress.error if progress.status == "failed" else None, result, run.event, outer
        )
        if ended is not None:
            return ended
        last = result
    return Completed({"rounds": inputs.max_rounds, "met": False, "result": last})


def after_round(
    inputs: RepeatUntilInputs,
    number: int,
    error: dict[str, Any] | None,
    result: Any,
    event: dict[str, Any],
    state: Mapping[str, Any],
) -> Completed | Failed | None:
    """How a "repeat until" ends after round `number` (0-based) failed with `error` or gave `result`:
    failed (the round failed, or the condition cannot be evaluated), completed (the condition holds),
    or None: on to the next round. Shared with the Inngest backend's driver."""
    if error is not None:
        return Failed(ErrorInfo(str(error.get("name") or "Error"), f"round {number + 1}: {_message(error)}"))
    variables = {"event": event, "state": state, "round": number, "last": result}
    try:
        met = evaluate_bool(inputs.condition, variables)
    except ExpressionError as exc:
        return Failed(ErrorInfo("ConditionError", f"the condition of round {number + 1} failed: {exc}"))
    return Completed({"rounds": number + 1, "met": True, "result": result}) if met else None


def _message(error: Mapping[str, Any]) -> str:
    return str(error.get("message") or "the step failed")


def _iteration_error(progress: Progress) -> ErrorInfo:
    error = progress.error or {}
    return ErrorInfo(str(error.get("name") or "Error"), str(error.get("message") or "the step failed"))


def _parked(parked: list[Progress]) -> Suspended:
    wakes = [p.wake_at_ms for p in parked if p.wake_at_ms is not None]
    return Suspended(
        wake_at_ms=min(wakes) if wakes else None,
        waiting=any(p.waiting for p in parked),
        sleeping=any(p.sleeping for p in parked) and not any(p.waiting for p in parked),
    )


def _failed(record: ActionRecord, error: ErrorInfo, started: int, run: Any) -> Failed:
    record.attempts.append(Attempt(started_at=started, ended_at=run.clock.now_ms(), error=error))
    return Failed(error)
