"""The loop builtins' definitions: "Repeat for each item" (``builtin:for_each``) and "Repeat until"
(``builtin:repeat_until``). Their inputs and outputs are typed like any action's, so the editor draws
their forms and validation checks refs to them; their bodies are run by the driver (`runner.py` and
`loop_runner.py`), never by a handler: each iteration's actions are durable actions of the run.

Inside a body, refs and CEL also see ``$.item`` / ``item`` and ``$.index`` / ``index`` (for each), or
``$.round`` / ``round`` and ``$.last`` / ``last`` (repeat until: the 0-based round, and the previous
round's result, null at first).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec

from ..actions import ActionDefinition
from ..context import ActionContext
from ..errors import NonRetriableError
from ..expressions import CEL_FORMAT, CelExpression
from .builtins import Duration

FOR_EACH: Final = "builtin:for_each"
REPEAT_UNTIL: Final = "builtin:repeat_until"
LOOP_KINDS: Final = frozenset({FOR_EACH, REPEAT_UNTIL})
FOR_EACH_VARIABLES: Final = ("item", "index")
"""What a for-each body's refs and CEL see besides ``event`` and ``state``."""
REPEAT_VARIABLES: Final = ("round", "last")
"""What a repeat-until body's refs and CEL see besides ``event`` and ``state``."""
CONDITION_VARIABLES: Final = ("event", "state", "round", "last")
"""What a repeat-until's condition reads (``last``: the round that just ended's result)."""
MAX_CONCURRENCY: Final = 100
MAX_ROUNDS: Final = 1000


def body_variables(kind: str) -> tuple[str, ...]:
    """The extra ref roots inside the body of a loop of this kind."""
    return FOR_EACH_VARIABLES if kind == FOR_EACH else REPEAT_VARIABLES


class ForEachInputs(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[
        list[Any],
        msgspec.Meta(title="Items", description="The list to go through, usually picked from an earlier step"),
    ]
    concurrency: Annotated[
        int,
        msgspec.Meta(
            title="At once",
            description="How many items are worked on at the same time (1: one after the other, in order)",
            ge=1,
            le=MAX_CONCURRENCY,
        ),
    ] = 1
    on_failure: Annotated[
        Literal["stop", "continue"],
        msgspec.Meta(
            title="If an item fails",
            description="stop: the loop fails; continue: that item's result is its error, and the loop goes on",
        ),
    ] = "stop"


class RepeatUntilInputs(msgspec.Struct, forbid_unknown_fields=True):
    condition: Annotated[
        CelExpression,
        msgspec.Meta(
            title="Stop when",
            description="Checked after each round, over `event`, `state`, `round` (0 first) and `last` "
            "(the round's result), e.g. last.status == 'ready'",
            extra_json_schema={"format": CEL_FORMAT, "x-cel-variables": list(CONDITION_VARIABLES)},
        ),
    ]
    max_rounds: Annotated[
        int,
        msgspec.Meta(title="At most", description="Rounds at most (reaching it is not a failure)", ge=1, le=MAX_ROUNDS),
    ]
    wait_between: Annotated[Duration | None, msgspec.Meta(title="Wait between rounds")] = None


class RepeatResult(msgspec.Struct):
    rounds: int
    met: bool
    result: Any


async def _driven_by_the_engine(ctx: ActionContext, inputs: Any) -> Any:
    raise NonRetriableError(f"{ctx.action.kind} runs its body through the workflow engine, not as a handler")


async def for_each_handler(ctx: ActionContext, inputs: ForEachInputs) -> list[Any]:
    """Run the body once per item; the output is each iteration's result, in item order."""
    return await _driven_by_the_engine(ctx, inputs)  # type: ignore[no-any-return]


async def repeat_until_handler(ctx: ActionContext, inputs: RepeatUntilInputs) -> RepeatResult:
    """Run the body until the condition holds, at most `max_rounds` times."""
    return await _driven_by_the_engine(ctx, inputs)  # type: ignore[no-any-return]


def loop_actions() -> list[ActionDefinition]:
    return [
        ActionDefinition.from_handler(
            for_each_handler,
            kind=FOR_EACH,
            name="Repeat for each item",
            description="Do the steps inside once for every item of a list",
            icon="repeat",
            side_effects=False,  # the steps inside say whether they have any
        ),
        ActionDefinition.from_handler(
            repeat_until_handler,
            kind=REPEAT_UNTIL,
            name="Repeat until",
            description="Do the steps inside again and again until a condition holds",
            icon="rotate",
            side_effects=False,
        ),
    ]
