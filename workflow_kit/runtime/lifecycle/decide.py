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

Most events reach no expression at all (a trigger without ``if``, no flow-control key, no wait with a
condition): deciding them first would only add a read and a hop between threads to every send. So a
tenant whose events lately reached no expression (`DecideFirst`) has them received at once, undecided
(`settle.receive_at_once`): that transaction evaluates nothing, and first reads the triggers and open
waits the events reach; if any has an expression, it writes nothing and says so (`NeedsDecision`), and
the events are decided first, and so are the tenant's next ones for a while.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from ... import expressions
from ...errors import ExpressionError
from ..rules.admission import key_expressions
from ..rules.triggers import condition_holds
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
            triggered[name], any_wait = events_in.listening(ctx, conn, tenant, name, found, hook)
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


class DecideFirst:
    """Which tenants' events are decided before their transaction: those whose events reached an
    expression within the last `hold_ms` (at most `size` tenants remembered, the least recent forgotten
    first). The others' events are received at once, undecided. One per kit; safe across threads."""

    def __init__(self, hold_ms: int = 60_000, size: int = 4096) -> None:
        self.hold_ms = hold_ms
        self.size = size
        self._until: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, tenant: str, now: int) -> bool:
        """Whether `tenant`'s events are to be decided first now."""
        with self._lock:
            until = self._until.get(tenant)
            if until is None:
                return False
            if until <= now:
                del self._until[tenant]
                return False
            return True

    def needed(self, tenant: str, now: int) -> None:
        """`tenant`'s events reached an expression now: decide theirs first for the next `hold_ms`."""
        with self._lock:
            self._until[tenant] = now + self.hold_ms
            self._until.move_to_end(tenant)
            while len(self._until) > self.size:
                self._until.popitem(last=False)
