"""Builtin actions, registered by default. They implement the same handler contract as user actions."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from json_logic import jsonLogic

from ..actions import ActionDefinition, PredefinedEdge
from ..context import ActionContext
from ..errors import ExpressionError, NonRetriableError
from ..expressions import CelExpression, evaluate_bool
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
    variables = {"event": ctx.event, "state": dict(ctx.state)}
    if isinstance(inputs.condition, str):
        try:
            return IfResult(result=evaluate_bool(inputs.condition, variables))
        except ExpressionError as exc:
            raise NonRetriableError(str(exc)) from None
    try:
        return IfResult(result=truthy(jsonLogic(inputs.condition, variables)))
    except Exception as exc:  # json-logic raises plain errors on malformed logic
        raise NonRetriableError(f"json-logic condition failed: {exc}") from None


def builtin_actions() -> list[ActionDefinition]:
    """The builtins a kit registers unless told not to."""
    return [
        ActionDefinition.from_handler(
            if_handler,
            kind=IF_KIND,
            name="If",
            description="Branch on a condition: follow the True or the False edge",
            icon="split",
            allow_add=False,
            edges=[
                PredefinedEdge("True", {"type": "if", "ref": "!ref($.output.result)"}),
                PredefinedEdge("False", {"type": "else", "ref": "!ref($.output.result)"}),
            ],
        ),
    ]
