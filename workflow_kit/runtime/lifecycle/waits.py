"""What parked runs wait for, and the events and results that end their waiting.

A ``wait_for_event`` step is a row of ``wk_waits`` (opened by the worker); so is each ``cancel_on`` event
of a run (action ``$cancel``, opened when the run is created). An event received looks up the open
waits it may resolve through the index of wait keys (`rules/wait_keys.py`), oldest first, and
evaluates each one's ``if``: a step's wait completes the step with the event and wakes its run; a
cancellation wait puts the run's cancellation on the worklist. An invoked run that ends resolves the
step of its parent the same way (`resolve_parent`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import expressions
from ...errors import ExpressionError
from ..rules.admission import CANCEL_ACTION
from ..rules.wait_keys import event_keys
from ..storage import schema
from ..storage.db import one_of
from ..storage.direct import Direct
from ..storage.rows import RunRow
from . import runs
from .effects import CancelRuns, Worklist

R, A, S, WT = schema.runs, schema.run_actions, schema.run_steps, schema.waits
_FIELDS = (WT.c.id, WT.c.run_id, WT.c.action_id, WT.c.position, WT.c.if_exp, WT.c.registered_at)
_OPEN = (
    WT.c.tenant == sa.bindparam("tenant"),
    WT.c.event_name == sa.bindparam("name"),
    WT.c.status == "waiting",
    WT.c.expires_at > sa.bindparam("now"),
)
_UNKEYED = sa.select(*_FIELDS).where(*_OPEN, WT.c.match_key.is_(None))
_ALL = Direct(sa.select(*_FIELDS).where(*_OPEN))
_CLOSE = WT.update().where(WT.c.run_id == sa.bindparam("run"), WT.c.status == "waiting").values(status="cancelled")

Lookup = tuple[Direct, dict[str, Any]]
"""A statement that finds open waits, and its parameters."""


@dataclass(frozen=True)
class _Statements:
    """Statements with a list parameter, built once per dialect (see `one_of`)."""

    waits: Direct
    unkeyed: Direct
    triggers_of: Any


@cache
def statements(dialect: str) -> _Statements:
    return _Statements(
        waits=Direct(
            sa.union_all(  # each half through the index: the keys given, and the waits without a key
                sa.select(*_FIELDS).where(*_OPEN, one_of(dialect, WT.c.match_key, "keys")),
                _UNKEYED,
            )
        ),
        unkeyed=Direct(_UNKEYED),
        triggers_of=sa.select(R.c.id, R.c.event).where(one_of(dialect, R.c.id, "ids")),
    )


def lookup(dialect: str, tenant: str, event: dict[str, Any], now: int) -> Lookup:
    """The statement and parameters that find the open waits `event` may resolve: through the
    match-key index, plus those whose expression pins no field (see wait_keys.py)."""
    params: dict[str, Any] = {"tenant": tenant, "name": event["name"], "now": now}
    keys = event_keys(event)
    if keys is None:
        return _ALL, params
    found = statements(dialect)
    return (found.waits, {**params, "keys": keys}) if keys else (found.unkeyed, params)


def candidates(conn: Connection, found: Lookup) -> list[Any]:
    """The open waits of a lookup, oldest first."""
    statement, params = found
    return sorted(statement.rows(conn, params), key=lambda w: (w.registered_at, w.id))


def candidate_waits(conn: Connection, tenant: str, event: dict[str, Any], now: int) -> list[Any]:
    """The open waits `event` may resolve, oldest first."""
    return candidates(conn, lookup(conn.dialect.name, tenant, event, now))


def decide(
    conn: Connection, event: dict[str, Any], found: Lookup, charge: Callable[[float], None] | None = None
) -> dict[str, bool]:
    """Which of the open waits (of `found`) `event` satisfies, by id: each one's ``if`` evaluated, with
    `charge` told the evaluation time of each (it may raise to stop). Read-only: `resolve` takes the
    answer in the write transaction."""
    return _decide(conn, event, candidates(conn, found), charge)


def _decide(
    conn: Connection, event: dict[str, Any], waiting: list[Any], charge: Callable[[float], None] | None
) -> dict[str, bool]:
    conditional = [wait for wait in waiting if wait.if_exp is not None]
    holds = {wait.id: True for wait in waiting if wait.if_exp is None}
    if not conditional:
        return holds
    ids = sorted({w.run_id for w in conditional})
    triggers = dict(conn.execute(statements(conn.dialect.name).triggers_of, {"ids": ids}).all())
    incoming = expressions.Activation({"async": event})  # converted once for every candidate wait
    bound: dict[str, expressions.Activation] = {}  # each run's trigger, once for all its waits
    for wait in conditional:
        variables = bound.get(wait.run_id)
        if variables is None:
            variables = bound[wait.run_id] = incoming.bind({"event": triggers.get(wait.run_id) or {}})
        started = time.thread_time()
        holds[wait.id] = _matches(wait.if_exp, variables)
        if charge is not None:
            charge(time.thread_time() - started)
    return holds


def resolve(
    conn: Connection,
    work: Worklist,
    event: dict[str, Any],
    event_id: str,
    now: int,
    found: Lookup,
    decided: Mapping[str, bool] | None = None,
    waiting: list[Any] | None = None,
) -> bool:
    """Resolve the open waits (of `found`) that `event` satisfies; True if a run became due. `decided`:
    what `decide` found before the transaction (a wait it did not see opened after the event was
    decided, and is left for later events); without it, the conditions are evaluated here. `waiting`:
    the open waits if already read in this transaction (one may have been resolved since: it is skipped)."""
    if waiting is None:
        waiting = candidates(conn, found)
    if not waiting:
        return False
    holds = _decide(conn, event, waiting, None) if decided is None else decided
    woke = False
    for wait in waiting:
        if not holds.get(wait.id, False):
            continue
        claimed = conn.execute(
            WT.update().where(WT.c.id == wait.id, WT.c.status == "waiting").values(status="resolved", event_id=event_id)
        )
        if not claimed.rowcount:
            continue
        if wait.action_id == CANCEL_ACTION:  # a cancel_on event: the run runs no further step
            work.push(CancelRuns((wait.run_id,), f"event {event['name']!r} ({event_id})"))
            continue
        # the wait was open, so its step is the event's (a step whose wait timed out closed the wait first)
        values = {"status": "completed", "output": event}
        _complete(conn, wait.run_id, wait.action_id, wait.position, values, now, only_waiting=False)
        woke = True
    return woke


def close(conn: Connection, run_id: str) -> None:
    """Cancel the open waits of an ended run."""
    conn.execute(_CLOSE, {"run": run_id})


def resolve_parent(
    conn: Connection, run: RunRow, status: str, output: Any, error: dict[str, Any] | None, now: int
) -> None:
    """The ``invoke`` step of `run`'s parent takes `run`'s result (a failure unless it completed), and
    the parent wakes."""
    assert run.parent_run_id is not None and run.parent_action_id is not None
    if status == "completed":
        values: dict[str, Any] = {"status": "completed", "output": output}
    else:
        failure = error or {"name": "Cancelled", "message": "the invoked run was cancelled"}
        info = {"name": "InvokeError", "message": f"the invoked run {run.id} {status}: {failure.get('message', '')}"}
        values = {"status": "failed", "error": info}
    assert run.parent_step_position is not None
    position = run.parent_step_position
    _complete(conn, run.parent_run_id, run.parent_action_id, position, values, now, only_waiting=True)


def _complete(
    conn: Connection,
    run_id: str,
    action_id: str,
    position: int,
    values: dict[str, Any],
    now: int,
    *,
    only_waiting: bool,
) -> None:
    """A step takes its result (`only_waiting`: if it is still waiting); its action is due now and its
    run wakes."""
    step = sa.and_(S.c.run_id == run_id, S.c.action_id == action_id, S.c.position == position)
    if only_waiting:
        step = sa.and_(step, S.c.status == "waiting")
    if conn.execute(S.update().where(step).values(**values, wake_at=None)).rowcount or not only_waiting:
        conn.execute(A.update().where(A.c.run_id == run_id, A.c.action_id == action_id).values(wake_at=now))
        runs.wake(conn, run_id, now)


def _matches(if_exp: str, variables: expressions.Activation) -> bool:
    try:
        return expressions.evaluate_bool(if_exp, variables)
    except ExpressionError:
        return False
