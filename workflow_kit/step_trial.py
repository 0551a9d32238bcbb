"""Trying one action of a workflow on its own ("Test this step" in the editor): nothing is stored.

The action's inputs are resolved as a run resolves them (the same refs, against a sample event, the
outputs of upstream steps given as `state`, and inside a loop a sample item: the first of the loop's
list, or round 0), then its handler runs once, through the same executor and Step API as in a run: its
sub-steps run for real (a test of a step with side effects has them: the editor asks first), sleeps
and waits pass on a virtual clock (a wait times out: nothing arrives during a test), events it sends
are collected, not sent. It is tried once: no retries, and for at most `TRIAL_TIMEOUT` (or the shorter
timeout of the step's own policy). The result says the output, or an error in words (no traceback),
and how long it took.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from . import refs
from .actions import ActionDefinition
from .engine.loops import FOR_EACH, LOOP_KINDS
from .errors import NonRetriableError, RefError
from .events import new_id
from .executor import Completed, Failed, Retry, RunContext, invoke_action
from .records import ActionRecord, StepStatus
from .testing import RunResult, _MemoryJournal
from .timeutil import VirtualClock, parse_duration
from .workflow import ActionPolicy, Workflow, WorkflowAction

if TYPE_CHECKING:
    from .kit import WorkflowKit

TRIAL_TIMEOUT = "60s"
MAX_RESUMES = 100
"""How many times a tried step may park (a sleep, a wait) and go on before the test gives up."""


class TrialError(ValueError):
    """The step cannot be tried (not in the workflow, a loop, an action the kit does not know); `path`
    says which part of the request."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class TrialResult:
    """How a tried step ended: its `output`, or an `error` in words; `inputs` as resolved; the time it
    took (`duration_ms`, the handler's own: virtual sleeps and waits take none); the events it would
    have sent."""

    output: Any
    error: str | None
    duration_ms: int
    inputs: dict[str, Any] | None
    sent_events: list[dict[str, Any]] = field(default_factory=list)
    item: Any = None
    """The sample item a step inside a "for each" loop saw (None elsewhere)."""
    unsampled: list[str] = field(default_factory=list)
    """The earlier steps its inputs read whose outputs were not given (read as null): test them first."""


def find_action(workflow: Workflow, action_id: str) -> tuple[WorkflowAction, list[WorkflowAction]] | None:
    """The action with this id anywhere in the workflow, with the loops around it (outermost first)."""

    def search(
        actions: Sequence[WorkflowAction], around: list[WorkflowAction]
    ) -> tuple[WorkflowAction, list[WorkflowAction]] | None:
        for action in actions:
            if action.id == action_id:
                return action, around
            if action.body is not None:
                found = search(action.body.actions, [*around, action])
                if found is not None:
                    return found
        return None

    return search(workflow.actions, [])


def unsampled_steps(action: WorkflowAction, state: Mapping[str, Any]) -> list[str]:
    """The ids of the steps whose outputs the action's inputs read (``$.state.<id>``) but `state` lacks."""
    found: list[str] = []
    for _, text in refs.strings(action.inputs, "inputs"):
        try:
            spans = refs.scan(text)
            compiled = [refs.compile_ref(span.path) for span in spans]
        except RefError:
            continue
        for ref in compiled:
            step = ref.prefix[1] if ref.root == "state" and len(ref.prefix) > 1 else None
            if isinstance(step, str) and step not in state:
                found.append(step)
    return list(dict.fromkeys(found))


def loop_variables(loops: Sequence[WorkflowAction], event: dict[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    """What a step inside these loops sees of them in a test: the first item of the innermost "for
    each" list (null when the list is empty or cannot be resolved from the sample) and index 0, or
    round 0 and no previous result for "repeat until"."""
    variables: dict[str, Any] = {}
    for loop in loops:
        if loop.kind == FOR_EACH:
            try:
                items = refs.interpolate(loop.inputs.get("items"), {**variables, "event": event, "state": state})
            except RefError:
                items = None
            variables = {"item": items[0] if isinstance(items, list) and items else None, "index": 0}
        else:
            variables = {"round": 0, "last": None}
    return variables


async def try_action(
    kit: WorkflowKit,
    workflow: Workflow,
    action_id: str,
    event: dict[str, Any],
    state: Mapping[str, Any],
    *,
    tenant: str,
) -> TrialResult:
    """Run the action `action_id` of `workflow` once against `event` and the upstream outputs `state`
    (by action id); see the module docstring. Raises `TrialError` if it cannot be tried at all."""
    found = find_action(workflow, action_id)
    if found is None:
        raise TrialError("action_id", "that step is not in the workflow")
    action, loops = found
    definition = kit.registry.get(action.kind)
    if definition is None:
        raise TrialError("action_id", "this step's action is not available any more")
    if action.kind in LOOP_KINDS:
        raise TrialError("action_id", "a loop is tested by testing the steps inside it")
    variables = loop_variables(loops, event, state)
    context = {**variables, "event": event, "state": state}
    unsampled = unsampled_steps(action, state)
    try:
        inputs = refs.interpolate(action.inputs, context)
        if definition.takes_inputs:
            definition.prepare_inputs(inputs)
    except (RefError, NonRetriableError) as exc:
        problem = _input_problem(exc, definition)
        return TrialResult(
            output=None, error=problem, duration_ms=0, inputs=None, item=variables.get("item"), unsampled=unsampled
        )
    once = msgspec.structs.replace(action, policy=_once(action.policy))
    clock = VirtualClock(kit.clock.now_ms())
    journal = _MemoryJournal(clock, event, [], _no_invoke)  # keeps nothing; collects the events sent
    run = RunContext(
        run_id=new_id(clock.now_ms()),
        workflow=workflow,
        event=event,
        clock=clock,
        policy=kit.retry_policy.with_retries(0),
        journal=journal,
        ai=kit.ai,
        tenant=tenant,
        connections=kit.connections if definition.connections else None,  # the tenant's, live
    )
    record = ActionRecord(id=action.id)
    spent = 0.0
    error: str | None = None
    output: Any = None
    for _ in range(MAX_RESUMES):
        began = time.perf_counter()
        outcome = await invoke_action(run, once, definition, record, state, variables=variables)
        spent += time.perf_counter() - began
        if isinstance(outcome, Completed):
            output = outcome.output
            break
        if isinstance(outcome, Failed | Retry):
            error = outcome.error.message or "it failed without saying why"
            break
        if any(s.status == StepStatus.WAITING and s.invoke is not None for s in record.steps):
            error = "it runs another workflow, which a step test does not do: test that workflow on its own"
            break
        if outcome.wake_at_ms is None:
            error = "it waits for something that cannot happen during a test"
            break
        clock.advance_to(outcome.wake_at_ms)
    else:
        error = f"it paused more than {MAX_RESUMES} times: test it in a test run of the whole workflow"
    return TrialResult(
        output=output,
        error=error,
        duration_ms=round(spent * 1000),
        inputs=record.inputs if record.inputs is not None else inputs,  # a connection as {id, name}
        sent_events=journal.sent,
        item=variables.get("item"),
        unsampled=unsampled,
    )


def _once(policy: ActionPolicy | None) -> ActionPolicy:
    """The step's policy for a test: no retries, and its own timeout if it has a valid one shorter than
    `TRIAL_TIMEOUT` (else that)."""
    timeout = TRIAL_TIMEOUT
    if policy is not None and policy.timeout:
        try:
            if parse_duration(policy.timeout) < parse_duration(TRIAL_TIMEOUT):
                timeout = policy.timeout
        except (ValueError, OverflowError):  # a problem of the draft, said when it is checked
            pass
    return ActionPolicy(retries=0, timeout=timeout)


def _input_problem(exc: Exception, definition: ActionDefinition) -> str:
    """Why the inputs do not fit, without the action's kind or id (the editor names the step)."""
    text = str(exc).replace(f"invalid inputs for action {definition.kind!r}: ", "")
    return f"its inputs are not valid: {text}"


async def _no_invoke(workflow_id: str, data: dict[str, Any]) -> RunResult:
    raise LookupError("a step test runs no other workflow")  # never called: a test resolves no wait
