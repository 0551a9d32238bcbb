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
SQLite the database has one writer at a time. Decisions are pure functions (`gcra`, `debounce_due`);
this module only reads and writes their state.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from .. import expressions
from ..errors import ExpressionError
from . import schema
from .db import literals
from .models import TERMINAL
from .settings import IDEMPOTENCY_MS, MAX_PRIORITY_S, WorkflowSettings, duration_ms
from .wait_keys import wait_key

R = schema.runs
F = schema.flow_state
WT = schema.waits
CANCEL_ACTION = "$cancel"
NO_EXPIRY = 2**62
_LOG = logging.getLogger("workflow_kit.flow")


def gcra(tat: int | None, now: int, interval: int, tolerance: int) -> tuple[int, int]:
    """The generic cell rate algorithm: a unit arriving at `now`, with the key's theoretical arrival time
    `tat`, may pass at the returned time (`now` if it conforms, later if not); the second value is the
    key's new `tat` if it passes then. `interval` = period / limit; `tolerance` = how far ahead of the
    steady rate a burst may run (0: evenly spaced)."""
    tat = now if tat is None or tat < now else tat
    start = max(now, tat - tolerance)
    return start, max(tat, start) + interval


def debounce_due(now: int, first_at: int, period: int, timeout: int | None) -> int:
    """When a debounced run starts: `period` after the latest event, at most `timeout` after the first."""
    due = now + period
    return due if timeout is None else min(due, first_at + timeout)


def key_digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def key_value(expression: str | None, variables: expressions.Activation) -> str:
    """The JSON text of a key expression's value (``null`` if it has none or fails on this event)."""
    if expression is None:
        return "null"
    try:
        value = expressions.evaluate(expression, variables)
    except ExpressionError:
        return "null"
    return msgspec.json.encode(value).decode()


_SETTINGS: OrderedDict[str, WorkflowSettings] = OrderedDict()


def version_settings(version_id: str, raw: dict[str, Any] | None) -> WorkflowSettings:
    """A version's settings, parsed once per process (versions are immutable)."""
    settings = _SETTINGS.get(version_id)
    if settings is None:
        settings = WorkflowSettings.parse(raw or {})
        _SETTINGS[version_id] = settings
        if len(_SETTINGS) > 4096:
            _SETTINGS.popitem(last=False)
    return settings


def has_start_controls(settings: WorkflowSettings) -> bool:
    """Whether any setting but ``retries`` (which only the worker reads) is set."""
    return any(getattr(settings, name) is not None for name in settings.__struct_fields__ if name != "retries")


@dataclass
class Admission:
    """What an event does to a workflow: start `run` (a row to insert), join a queued run (`joined`), or
    nothing (`dropped`, with the reason)."""

    run: dict[str, Any] | None = None
    joined: str | None = None
    dropped: str | None = None
    cancel: list[str] = field(default_factory=list)
    """Runs to cancel first (singleton ``cancel``)."""
    waits: list[dict[str, Any]] = field(default_factory=list)
    """The run's cancellation waits, inserted after it."""


def admit(
    conn: Connection,
    settings: WorkflowSettings,
    run: dict[str, Any],
    event: dict[str, Any],
    variables: expressions.Activation,
    now: int,
) -> Admission:
    """Apply `settings` to the queued run `run` (a row from `ingest.run_row`, due now) that `event` would
    start; updates the flow state in `conn`'s transaction."""
    workflow = str(run["workflow_id"])

    def key(kind: str, expression: str | None) -> str:
        return f"{kind}:{workflow}:{key_digest(key_value(expression, variables))}"

    idempotency = settings.idempotency
    if idempotency is not None and not _hold(
        conn, key("idempotency", idempotency), run["id"], now, now + IDEMPOTENCY_MS
    ):
        return Admission(dropped="idempotency")
    if settings.rate_limit is not None:  # up to `limit` at once: the tolerance is all but one interval
        limit = settings.rate_limit
        start = _take_turn(conn, key("rate_limit", limit.key), now, limit.limit, duration_ms(limit.period), None)
        if start > now:
            return Admission(dropped="rate_limit")
    admission = Admission(run=run)
    if settings.singleton is not None:
        singleton = key_digest(workflow, key_value(settings.singleton.key, variables))
        _lock(conn, "singleton:" + singleton)
        active = list(
            conn.execute(
                sa.select(R.c.id).where(
                    R.c.workflow_id == workflow, R.c.singleton_key == singleton, R.c.status.not_in(literals(TERMINAL))
                )
            ).scalars()
        )
        if active and settings.singleton.mode == "skip":
            return Admission(dropped="singleton")
        admission.cancel = active
        run["singleton_key"] = singleton
    if settings.debounce is not None:
        debounce = settings.debounce
        state_key = key("debounce", debounce.key)
        _lock(conn, state_key)
        period, timeout = duration_ms(debounce.period), _ms(debounce.timeout)
        pending = _pending(conn, state_key)
        if pending is not None:
            run_id, first_at = pending
            due = debounce_due(now, first_at, period, timeout)
            moved = conn.execute(
                R.update()
                .where(R.c.id == run_id, R.c.status == "queued", R.c.started_at.is_(None))
                .values(event=event, event_id=run["event_id"], due_at=due, updated_at=now)
            )
            if moved.rowcount:
                return Admission(joined=run_id)
        run["due_at"] = debounce_due(now, now, period, timeout)
        _set_pending(conn, state_key, run["id"], now)
    if settings.batch_events is not None:
        batch = settings.batch_events
        state_key = key("batch", batch.key)
        _lock(conn, state_key)
        pending = _pending(conn, state_key)
        if pending is not None:
            run_id = pending[0]
            row = conn.execute(
                sa.select(R.c.batch).where(R.c.id == run_id, R.c.status == "queued", R.c.started_at.is_(None))
            ).first()
            if row is not None and len(row.batch or []) < batch.max_size:
                events = [*(row.batch or []), event]
                values: dict[str, Any] = {"batch": events, "updated_at": now}
                if len(events) >= batch.max_size:
                    values["due_at"] = now
                    conn.execute(F.delete().where(F.c.key == state_key))
                conn.execute(R.update().where(R.c.id == run_id).values(**values))
                return Admission(joined=run_id)
        run["batch"] = [event]
        if batch.max_size > 1:
            run["due_at"] = now + duration_ms(batch.timeout)
            _set_pending(conn, state_key, run["id"], now)
    if settings.throttle is not None:
        throttle = settings.throttle
        period = duration_ms(throttle.period)
        start = _take_turn(conn, key("throttle", throttle.key), now, throttle.limit, period, throttle.burst)
        run["due_at"] = max(run["due_at"], start)
    if settings.priority is not None:
        seconds = _priority(settings.priority.run, variables)
        run["due_at"] = run["due_at"] - seconds * 1000
    admission.waits = run_controls(settings, run, event, variables, now)
    return admission


def run_controls(
    settings: WorkflowSettings,
    run: dict[str, Any],
    event: dict[str, Any],
    variables: expressions.Activation,
    now: int,
) -> list[dict[str, Any]]:
    """The settings that hold for any run, however it starts (an event, a test run, a rerun, an
    invoke): its concurrency keys and start deadline, set on `run`; returns its cancellation waits."""
    if settings.timeouts is not None and settings.timeouts.start is not None:
        run["start_by"] = now + duration_ms(settings.timeouts.start)
    if settings.concurrency:
        run["limits"] = [
            {"key": concurrency_key(run, limit.scope, key_value(limit.key, variables)), "limit": limit.limit}
            for limit in settings.concurrency
        ]
    return [
        cancel_wait(run, index, cancel.event, cancel.if_exp, cancel.timeout, event, now)
        for index, cancel in enumerate(settings.cancel_on or [])
    ]


def concurrency_key(run: dict[str, Any], scope: str, value: str) -> str:
    owner = f"tenant:{run['tenant']}" if scope == "tenant" else f"workflow:{run['workflow_id']}"
    return key_digest("concurrency", owner, value)


def cancel_wait(
    run: dict[str, Any],
    index: int,
    event_name: str,
    if_exp: str | None,
    timeout: str | int | None,
    trigger: dict[str, Any],
    now: int,
) -> dict[str, Any]:
    return {
        "id": f"{run['id']}:{CANCEL_ACTION}:{index}",
        "tenant": run["tenant"],
        "run_id": run["id"],
        "action_id": CANCEL_ACTION,
        "position": index,
        "event_name": event_name,
        "if_exp": if_exp,
        "match_key": wait_key(if_exp, trigger) if if_exp else None,
        "registered_at": now,
        "expires_at": now + duration_ms(timeout) if timeout is not None else NO_EXPIRY,
        "status": "waiting",
    }


def _priority(expression: str, variables: expressions.Activation) -> int:
    try:
        value = expressions.evaluate(expression, variables)
    except ExpressionError as exc:
        _LOG.info("priority expression failed, using 0: %s", exc)
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(max(-MAX_PRIORITY_S, min(MAX_PRIORITY_S, value)))


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
