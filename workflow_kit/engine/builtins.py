"""Builtin actions, registered by default. They implement the same handler contract as user actions."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from json_logic import jsonLogic

from ..actions import ActionDefinition, PredefinedEdge
from ..context import ActionContext
from ..errors import ExpressionError, NonRetriableError
from ..expressions import CEL_FORMAT, CelExpression, evaluate_bool
from ..step import WAIT_VARIABLES
from .conditions import truthy

IF_KIND = "builtin:if"


class IfInputs(msgspec.Struct, forbid_unknown_fields=True):
    condition: Annotated[
        CelExpression | dict[str, Any],
        msgspec.Meta(
            title="Condition",
            description="A CEL expression over `event` and `state`, e.g. event.data.plan == 'pro'. "
            "A json-logic object (as the TypeScript Workflow Kit uses) is accepted too.",
            examples=["event.data.amount > 100", {"==": ["!ref($.event.data.plan)", "pro"]}],
        ),
    ]


class IfResult(msgspec.Struct):
    result: bool


async def if_handler(ctx: ActionContext, inputs: IfInputs) -> IfResult:
    """Evaluate a condition; the True and False edges follow `result`."""
    variables = {**ctx.loop, "event": ctx.event, "state": dict(ctx.state)}
    if isinstance(inputs.condition, str):
        try:
            return IfResult(result=evaluate_bool(inputs.condition, variables))
        except ExpressionError as exc:
            raise NonRetriableError(str(exc)) from None
    try:
        return IfResult(result=truthy(jsonLogic(inputs.condition, variables)))
    except Exception as exc:  # json-logic raises plain errors on malformed logic
        raise NonRetriableError(f"json-logic condition failed: {exc}") from None


DURATION_PATTERN = r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d|w)\s*)+$"
DURATION_MESSAGE = "Write a duration such as 15m or 2h"
Duration = Annotated[
    str,
    msgspec.Meta(
        pattern=DURATION_PATTERN,
        description="A number and a unit (ms, s, m, h, d, w), e.g. 30m, 2h, 1d, 1h30m",
        examples=["1h", "1d"],
        # What a value that misses the pattern is told (the ajv-errors convention; see schemas.iter_errors).
        extra_json_schema={"errorMessage": DURATION_MESSAGE},
    ),
]


class SleepInputs(msgspec.Struct, forbid_unknown_fields=True):
    duration: Annotated[Duration, msgspec.Meta(title="Duration")]


class SleepUntilInputs(msgspec.Struct, forbid_unknown_fields=True):
    # ``format: date-time`` lets the editor offer a date-time picker. It is not enforced: the kit's
    # schema validator has no date-time check (that needs an optional package), so the ISO 8601 text
    # the step accepts is never turned away here; a text that is no time fails when the step runs.
    until: Annotated[
        Annotated[str, msgspec.Meta(extra_json_schema={"format": "date-time"})] | int,
        msgspec.Meta(
            title="Until",
            description="An ISO 8601 time (e.g. 2026-01-31T09:00:00Z) or epoch milliseconds; often a ref",
        ),
    ]


class WaitInputs(msgspec.Struct, forbid_unknown_fields=True):
    event: Annotated[str, msgspec.Meta(title="Event name", min_length=1)]
    timeout: Annotated[Duration, msgspec.Meta(title="Timeout")] = "1d"
    if_: Annotated[
        str | None,
        msgspec.Meta(
            title="Match",
            description="A CEL expression over `event` (the trigger) and `async` (the awaited event), "
            "e.g. async.data.id == event.data.id",
            extra_json_schema={"format": CEL_FORMAT, "x-cel-variables": list(WAIT_VARIABLES)},
        ),
    ] = msgspec.field(default=None, name="if")


class SendEventInputs(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(title="Event name", min_length=1)]
    data: Annotated[dict[str, Any], msgspec.Meta(title="Data")] = msgspec.field(default_factory=dict)


class SentEvents(msgspec.Struct):
    ids: list[str]


class InvokeInputs(msgspec.Struct, forbid_unknown_fields=True):
    workflow_id: Annotated[
        str,
        # The editor shows a picker of the tenant's workflows, by name, for this input.
        msgspec.Meta(title="Workflow", min_length=1, extra_json_schema={"x-widget": "workflow"}),
    ]
    data: Annotated[dict[str, Any], msgspec.Meta(title="Data")] = msgspec.field(default_factory=dict)
    timeout: Annotated[Duration | None, msgspec.Meta(title="Timeout")] = None


async def sleep_handler(ctx: ActionContext, inputs: SleepInputs) -> None:
    """Pause the run for a while."""
    await ctx.step.sleep("sleep", inputs.duration)


async def sleep_until_handler(ctx: ActionContext, inputs: SleepUntilInputs) -> None:
    """Pause the run until a time."""
    await ctx.step.sleep_until("sleep-until", inputs.until)


async def wait_handler(ctx: ActionContext, inputs: WaitInputs) -> dict[str, Any] | None:
    """Wait for an event; the output is the event, or null after the timeout."""
    return await ctx.step.wait_for_event("wait", event=inputs.event, if_exp=inputs.if_, timeout=inputs.timeout)


async def send_event_handler(ctx: ActionContext, inputs: SendEventInputs) -> SentEvents:
    """Send an event (it can start workflows and satisfy waits)."""
    return SentEvents(ids=await ctx.step.send_event("send", {"name": inputs.name, "data": inputs.data}))


async def invoke_handler(ctx: ActionContext, inputs: InvokeInputs) -> Any:
    """Run another workflow and wait for its result."""
    return await ctx.step.invoke("invoke", workflow_id=inputs.workflow_id, data=inputs.data, timeout=inputs.timeout)


def builtin_actions() -> list[ActionDefinition]:
    """The builtins a kit registers unless told not to (besides the loops, see loops.py)."""
    return [
        ActionDefinition.from_handler(
            if_handler,
            kind=IF_KIND,
            name="If",
            description="Branch on a condition: follow the True or the False edge",
            icon="split",
            allow_add=False,
            side_effects=False,
            edges=[
                PredefinedEdge("True", {"type": "if", "ref": "!ref($.output.result)"}),
                PredefinedEdge("False", {"type": "else", "ref": "!ref($.output.result)"}),
            ],
        ),
        ActionDefinition.from_handler(
            sleep_handler,
            kind="builtin:sleep",
            name="Sleep",
            description="Pause for a while",
            icon="clock",
            side_effects=False,
        ),
        ActionDefinition.from_handler(
            sleep_until_handler,
            kind="builtin:sleep_until",
            name="Sleep until",
            description="Pause until a time",
            icon="calendar",
            side_effects=False,
        ),
        ActionDefinition.from_handler(
            wait_handler,
            kind="builtin:wait_for_event",
            name="Wait for an event",
            description="Wait for a matching event, up to a timeout",
            icon="hourglass",
            side_effects=False,
            edges=[
                PredefinedEdge("Received", {"type": "if", "ref": "!ref($.output)"}),
                PredefinedEdge("Timed out", {"type": "else", "ref": "!ref($.output)"}),
            ],
        ),
        ActionDefinition.from_handler(
            send_event_handler,
            kind="builtin:send_event",
            name="Send an event",
            description="Send an event",
            icon="send",
        ),
        ActionDefinition.from_handler(
            invoke_handler,
            kind="builtin:invoke",
            name="Run a workflow",
            description="Run another workflow and wait for its result",
            icon="workflow",
        ),
    ]
