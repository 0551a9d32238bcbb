"""Deciding what received events do before their write transaction: every expression a tenant
controls (its triggers' ``if``, its waits' ``if``, its flow-control keys and priority) is evaluated
here, on a read of the triggers and open waits the events may reach, outside the process's shared write
transaction. `events_in.receive` then writes what was decided in a short transaction, and re-checks
cheaply what may have changed in between:

- a trigger counts only if the transaction finds it as it was decided: the same workflow, published
  version, position and condition (a workflow disabled, republished or edited meanwhile starts nothing
  for these events; one enabled meanwhile starts nothing either: it was not listening when they came);
- a wait counts only if it was open when decided and still is (a wait opened since is left for the next
  event, as if this one had come just before it);
- flow-control keys are the decided values (a version's settings never change).

Each event's `Decided.variables` remembers every result (`expressions.Activation`), so the transaction
replays them and evaluates nothing new. Evaluation time is charged to the request's `Meter`, which
refuses the request past its budget (`rules/budgets.py`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from ... import expressions
from ...errors import ExpressionError
from ..rules.admission import key_expressions
from ..rules.triggers import condition_holds, patterns_for
from . import events_in, waits
from .effects import Context, Decided, trigger_key


def decide(
    ctx: Context,
    conn: Connection,
    tenant: str,
    events: Sequence[dict[str, Any]],
    now: int,
    charge: Callable[[float], None] | None = None,
    hook: events_in.HookTarget | None = None,
) -> list[Decided]:
    """Decide each of `events` (normalized) on the read connection `conn`. `charge` is told the time of
    each evaluation and may raise to stop (a `Meter` over budget). `hook`: the events a webhook made
    (they start its workflow only)."""
    triggered: dict[str, list[Any]] = {}
    decided: list[Decided] = []
    for event in events:
        variables = expressions.Activation({"event": event})
        found = waits.lookup(ctx.dialect, tenant, event, now)
        name = event["name"]
        any_wait = True
        if name not in triggered:
            params = {"tenant": tenant, "patterns": patterns_for(name)}
            ((any_trigger, any_wait),) = events_in.probe(ctx.dialect, found[0]).rows(conn, {**params, **found[1]})
            triggered[name] = events_in.find_triggers(ctx, conn, params, any_trigger, hook)
        one = Decided(variables)
        started: set[str] = set()
        for row in triggered[name]:
            if row.id in started:
                continue
            holds = _timed(charge, condition_holds, row.if_exp, event, variables)
            one.triggers[trigger_key(row)] = holds
            if holds:
                started.add(row.id)
                for expression in key_expressions(ctx.settings.get(row.version_id, row.settings)):
                    _timed(charge, _evaluate, expression, variables)
        if any_wait:
            one.waits = waits.decide(conn, event, found, charge)
        decided.append(one)
    return decided


def _evaluate(expression: str, variables: expressions.Activation) -> None:
    """Evaluate for its remembered result (a key's failure is a value too: null)."""
    with contextlib.suppress(ExpressionError):
        expressions.evaluate(expression, variables)


def _timed(charge: Callable[[float], None] | None, function: Callable[..., Any], *args: Any) -> Any:
    started = time.thread_time()
    result = function(*args)
    if charge is not None:
        charge(time.thread_time() - started)
    return result
