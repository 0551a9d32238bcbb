"""Flow control when an event would start a run: what each workflow setting decides, and its state.

`admit` is called inside the transaction that receives the event, once per workflow the event
triggers. In this order:

1. ``idempotency``: the first run for a key value holds it for 24 hours; later events start nothing.
2. ``rate_limit``: a GCRA per key (up to `limit` at once, then one per `period / limit`); over the limit
   the event starts nothing.
3. ``singleton``: an active run (not ended, sleeping and waiting included) for the same key makes the
   new one be dropped (``skip``), or be started after cancelling it (``cancel``).
4. ``debounce``: the run for a key waits `period` after the latest event and starts with that event
   (never later than `timeout` after the first); while it has not started, a new event replaces its
   event and pushes its start back.
5. ``batch_events``: events for a key join the queued run that collects them; it starts when it has
   `max_size` events or `timeout` after the first; ``ctx.events`` holds them.
6. ``throttle``: a GCRA per key with `burst` runs at once; a run over the limit is queued to start when
   its turn comes (FIFO), never dropped.
7. ``priority``: the expression's seconds (clamped to 12 hours) move the run's start earlier in the
   queue (positive) or later (negative); workers take due runs in order of that time.
8. ``timeouts.start``, ``concurrency`` and ``cancel_on`` are recorded with the run: the worker cancels a
   run that did not start in time, executes a run only with a free slot of each of its concurrency
   keys (see `slots`), and the run's cancellation events are waits of the run (action ``$cancel``).

Keys are CEL over ``event``; a key's value is reduced to a digest of its JSON. A key whose expression
fails on an event (a missing field) has the value null: such events share one key.

On PostgreSQL the state of a key is serialized by a transaction-level advisory lock on the key; on
SQLite the database has one writer at a time. Decisions are pure functions (`rules/admission.py`); this
module only reads and writes their state (``wk_flow_state``), and changes a run only through `runs.py`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ... import expressions
from ..rules.admission import (
    cancel_waits,
    concurrency_limits,
    debounce_due,
    gcra,
    key_digest,
    key_value,
    priority_seconds,
    start_deadline,
)
from ..rules.settings import IDEMPOTENCY_MS, WorkflowSettings, duration_ms
from ..storage import schema
from ..storage.db import literals
from ..storage.rows import NewRun
from . import runs

R = schema.runs
F = schema.flow_state


@dataclass
class Admission:
    """What an event does to a workflow: start `run` (to insert), join a queued run (`joined`), or
    nothing (`dropped`, with the reason)."""

    run: NewRun | None = None
    joined: str | None = None
    dropped: str | None = None
    cancel: list[str] = field(default_factory=list)
    """Runs to cancel (singleton ``cancel``)."""
    waits: list[dict[str, Any]] = field(default_factory=list)
    """The run's cancellation waits, inserted after it."""


def admit(
    conn: Connection,
    settings: WorkflowSettings,
    run: NewRun,
    event: dict[str, Any],
    variables: expressions.Activation,
    now: int,
) -> Admission:
    """Apply `settings` to the queued run `run` (due now) that `event` would start; updates the flow
    state in `conn`'s transaction."""
    workflow = run.workflow_id

    def key(kind: str, expression: str | None) -> str:
        return f"{kind}:{workflow}:{key_digest(key_value(expression, variables))}"

    idempotency = settings.idempotency
    if idempotency is not None and not _hold(conn, key("idempotency", idempotency), run.id, now, now + IDEMPOTENCY_MS):
        return Admission(dropped="idempotency")
    if settings.rate_limit is not None:  # up to `limit` at once: the tolerance is all but one interval
        limit = settings.rate_limit
        start = _take_turn(conn, key("rate_limit", limit.key), now, limit.limit, duration_ms(limit.period), None)
        if start > now:
            return Admission(dropped="rate_limit")
    changes: dict[str, Any] = {}
    cancel: list[str] = []
    due_at = run.due_at
    if settings.singleton is not None:
        singleton = key_digest(workflow, key_value(settings.singleton.key, variables))
        _lock(conn, "singleton:" + singleton)
        active = _active(conn, workflow, singleton)
        if active and settings.singleton.mode == "skip":
            return Admission(dropped="singleton")
        cancel = active
        changes["singleton_key"] = singleton
    if settings.debounce is not None:
        debounce = settings.debounce
        state_key = key("debounce", debounce.key)
        _lock(conn, state_key)
        period, timeout = duration_ms(debounce.period), _ms(debounce.timeout)
        pending = _pending(conn, state_key)
        if pending is not None:
            run_id, first_at = pending
            due = debounce_due(now, first_at, period, timeout)
            assert run.event_id is not None  # a run an event starts
            if runs.join_debounced(conn, run_id, event, run.event_id, due, now, run.trigger):
                return Admission(joined=run_id)
        due_at = debounce_due(now, now, period, timeout)
        _set_pending(conn, state_key, run.id, now)
    if settings.batch_events is not None:
        batch = settings.batch_events
        state_key = key("batch", batch.key)
        _lock(conn, state_key)
        pending = _pending(conn, state_key)
        if pending is not None:
            run_id = pending[0]
            held = runs.batch_of(conn, run_id)
            if held is not None and len(held) < batch.max_size:
                events = [*held, event]
                full = len(events) >= batch.max_size
                if full:
                    conn.execute(F.delete().where(F.c.key == state_key))
                runs.join_batch(conn, run_id, events, now if full else None, now)
                return Admission(joined=run_id)
        changes["batch"] = [event]
        if batch.max_size > 1:
            due_at = now + duration_ms(batch.timeout)
            _set_pending(conn, state_key, run.id, now)
    if settings.throttle is not None:
        throttle = settings.throttle
        period = duration_ms(throttle.period)
        start = _take_turn(conn, key("throttle", throttle.key), now, throttle.limit, period, throttle.burst)
        due_at = max(due_at, start)
    if settings.priority is not None:
        due_at -= priority_seconds(settings.priority.run, variables) * 1000
    admitted, waits = with_controls(settings, msgspec.structs.replace(run, due_at=due_at, **changes), variables, now)
    return Admission(run=admitted, cancel=cancel, waits=waits)


def with_controls(
    settings: WorkflowSettings, run: NewRun, variables: expressions.Activation, now: int
) -> tuple[NewRun, list[dict[str, Any]]]:
    """The settings that hold for any run, however it starts (an event, a test run, a rerun, an
    invoke): `run` with its start deadline and concurrency keys, and its cancellation waits."""
    start_by = start_deadline(settings, now)
    limits = concurrency_limits(settings, run.tenant, run.workflow_id, variables)
    if start_by is not None or limits is not None:
        run = msgspec.structs.replace(
            run,
            start_by=start_by if start_by is not None else run.start_by,
            limits=limits if limits is not None else run.limits,
        )
    return run, cancel_waits(settings, run.tenant, run.id, run.event, now)


def _active(conn: Connection, workflow: str, singleton: str) -> list[str]:
    """The runs of `workflow` with the singleton key that have not ended."""
    statuses = [status.value for status in runs.OPEN]
    query = sa.select(R.c.id).where(
        R.c.workflow_id == workflow, R.c.singleton_key == singleton, R.c.status.in_(literals(statuses))
    )
    return list(conn.execute(query).scalars())


def _ms(value: str | int | None) -> int | None:
    return None if value is None else duration_ms(value)


def _lock(conn: Connection, key: str) -> None:
    """Serialize the transactions that use `key` (PostgreSQL; SQLite has one writer already)."""
    if conn.dialect.name == "postgresql":
        number = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(number)))


def _insert(conn: Connection) -> Any:
    return postgresql.insert(F) if conn.dialect.name == "postgresql" else sqlite.insert(F)


def _take_turn(conn: Connection, key: str, now: int, limit: int, period: int, burst: int | None) -> int:
    """A GCRA turn for `key` (`limit` per `period`): when a unit arriving now may pass. `burst` units may
    pass at once (None: `limit` units, the whole period's worth, as a rate limit allows). The key's
    state moves on only if the unit passes now or is scheduled (a throttle): a rate limit's caller drops
    a unit that would have to wait, so its turn is not taken."""
    interval = max(1, period // limit)
    tolerance = period - interval if burst is None else interval * (burst - 1)
    _lock(conn, key)
    start, tat = gcra(_tat(conn, key), now, interval, tolerance)
    if burst is not None or start <= now:
        _set_tat(conn, key, tat, tat + period)
    return start


def _hold(conn: Connection, key: str, run_id: str, now: int, until: int) -> bool:
    """Take `key` until `until` unless it is held (an expired hold is taken over). True if taken."""
    insert = _insert(conn).values(key=key, run_id=run_id, first_at=now, expires_at=until)
    taken = conn.execute(
        insert.on_conflict_do_update(
            index_elements=["key"],
            set_={"run_id": run_id, "first_at": now, "expires_at": until},
            where=F.c.expires_at <= now,
        ).returning(F.c.key)
    ).first()
    return taken is not None


def _tat(conn: Connection, key: str) -> int | None:
    value = conn.execute(sa.select(F.c.tat).where(F.c.key == key)).scalar()
    return None if value is None else int(value)


def _set_tat(conn: Connection, key: str, tat: int, expires_at: int) -> None:
    insert = _insert(conn).values(key=key, tat=tat, expires_at=expires_at)
    conn.execute(insert.on_conflict_do_update(index_elements=["key"], set_={"tat": tat, "expires_at": expires_at}))


def _pending(conn: Connection, key: str) -> tuple[str, int] | None:
    row = conn.execute(sa.select(F.c.run_id, F.c.first_at).where(F.c.key == key)).first()
    if row is None or row.run_id is None:
        return None
    return str(row.run_id), int(row.first_at or 0)


def _set_pending(conn: Connection, key: str, run_id: str, now: int) -> None:
    insert = _insert(conn).values(key=key, run_id=run_id, first_at=now, expires_at=None)
    conn.execute(insert.on_conflict_do_update(index_elements=["key"], set_={"run_id": run_id, "first_at": now}))
