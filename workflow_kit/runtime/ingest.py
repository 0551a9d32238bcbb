"""Receiving events: store each one, deduplicate by its ``id`` for 24 hours, start a run of every enabled
workflow whose trigger matches, and resolve the waits that were open for it. One transaction: an event
is either fully received or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from .. import expressions
from ..errors import ExpressionError
from ..events import new_id
from . import flow, schema
from .db import Database, literals, one_of
from .direct import Direct
from .models import TERMINAL
from .triggers import condition_holds, patterns_for
from .wait_keys import event_keys

DEDUPE_WINDOW_MS = 24 * 3_600_000
R, A, S, WT = schema.runs, schema.run_actions, schema.run_steps, schema.waits
W, V, E, K = schema.workflows, schema.workflow_versions, schema.events, schema.event_keys
OPEN_STATUSES = ("queued", "sleeping", "waiting")
_EVENT_COLUMNS = ("id", "tenant", "name", "payload", "key", "duplicate", "received_at")
_INSERT_EVENT = Direct(E.insert(), columns=_EVENT_COLUMNS)
_KEY_HOLDER = sa.select(K.c.event_id).where(K.c.tenant == sa.bindparam("tenant"), K.c.key == sa.bindparam("key"))
_INSERT_RUN = R.insert()
_WAKE = (
    R.update()
    .where(R.c.id == sa.bindparam("run"), R.c.status.not_in(literals(TERMINAL)))
    .values(
        due_at=sa.case((R.c.status.in_(literals(OPEN_STATUSES)), sa.bindparam("now")), else_=R.c.due_at),
        wake_requested=True,
    )
)
_WAIT_FIELDS = (WT.c.id, WT.c.run_id, WT.c.action_id, WT.c.position, WT.c.if_exp, WT.c.registered_at)
_OPEN = (
    WT.c.tenant == sa.bindparam("tenant"),
    WT.c.event_name == sa.bindparam("name"),
    WT.c.status == "waiting",
    WT.c.expires_at > sa.bindparam("now"),
)
_WAITS_UNKEYED = sa.select(*_WAIT_FIELDS).where(*_OPEN, WT.c.match_key.is_(None))
_WAITS_ALL = Direct(sa.select(*_WAIT_FIELDS).where(*_OPEN))


@dataclass(frozen=True)
class _Lookups:
    """Statements with a list parameter, built once per dialect (see `one_of`)."""

    triggered: Direct
    waits: Direct
    waits_unkeyed: Direct
    triggers_of: Any


@cache
def _lookups(dialect: str) -> _Lookups:
    return _Lookups(
        triggered=Direct(
            sa.select(W.c.id, W.c.trigger_if, V.c.id.label("version_id"), V.c.number, V.c.settings)
            .join(V, sa.and_(V.c.workflow_id == W.c.id, V.c.number == W.c.published_version))
            .where(
                W.c.tenant == sa.bindparam("tenant"),
                W.c.enabled.is_(True),
                one_of(dialect, W.c.trigger_event, "patterns"),
            )
            .order_by(W.c.created_at)
        ),
        waits=Direct(
            sa.union_all(  # each half through the index: the keys given, and the waits without a key
                sa.select(*_WAIT_FIELDS).where(*_OPEN, one_of(dialect, WT.c.match_key, "keys")),
                _WAITS_UNKEYED,
            )
        ),
        waits_unkeyed=Direct(_WAITS_UNKEYED),
        triggers_of=sa.select(R.c.id, R.c.event).where(one_of(dialect, R.c.id, "ids")),
    )


@dataclass
class Received:
    """What receiving events did: their ids, the runs they started, and whether any run became due."""

    event_ids: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    woke: bool = False

    def merge(self, other: Received) -> None:
        self.event_ids += other.event_ids
        self.run_ids += other.run_ids
        self.woke = self.woke or other.woke


def receive(
    db: Database,
    conn: Connection,
    tenant: str,
    events: list[dict[str, Any]],
    now: int,
    *,
    system_depth: int = 0,
    once: Sequence[str] | None = None,
) -> Received:
    """Store already-normalized events and act on them (see the module docstring).

    `once` gives each event a key (see `sent_once_key`): an event whose key was already received is
    not received again; its first id is returned instead."""
    result = Received()
    stored: list[dict[str, Any]] = []
    started: list[dict[str, Any]] = []
    cancel_waits: list[dict[str, Any]] = []
    triggered: dict[str, list[Any]] = {}
    for index, event in enumerate(events):
        event_id = new_id(now)
        if once is not None:
            first = _receive_once(db, conn, tenant, once[index], event_id, now)
            if first is not None:
                result.event_ids.append(first)
                continue
        variables = expressions.Activation({"event": event})  # converted once for every trigger's condition
        duplicate = _is_duplicate(db, conn, tenant, event.get("id"), event_id, now)
        stored.append(
            {
                "id": event_id,
                "tenant": tenant,
                "name": event["name"],
                "payload": event,
                "key": event.get("id"),
                "duplicate": duplicate,
                "received_at": now,
            }
        )
        result.event_ids.append(event_id)
        if duplicate:
            continue
        name = event["name"]
        waits = _wait_lookup(conn, tenant, event, now)
        any_wait = True
        if name not in triggered:  # first, one round trip: is anything listening? (mostly not, for run ends)
            params = {"tenant": tenant, "patterns": patterns_for(name)}
            ((any_trigger, any_wait),) = _probe(db.dialect, waits[0]).rows(conn, {**params, **waits[1]})
            triggered[name] = _lookups(db.dialect).triggered.rows(conn, params) if any_trigger else []
        for workflow in triggered[name]:
            if condition_holds(workflow.trigger_if, event, variables):
                row = run_row(
                    tenant=tenant,
                    workflow_id=workflow.id,
                    version_id=workflow.version_id,
                    version_number=workflow.number,
                    event=event,
                    event_id=event_id,
                    now=now,
                    system_depth=system_depth,
                )
                settings = flow.version_settings(workflow.version_id, workflow.settings)
                if flow.has_start_controls(settings):
                    admission = flow.admit(conn, settings, row, event, variables, now)
                    if admission.cancel:
                        result.merge(_cancel(db, conn, admission.cancel, "a newer run of this singleton", now))
                    cancel_waits += admission.waits
                    if admission.run is None:
                        continue
                    conn.execute(_INSERT_RUN, row)  # now: the next event of this send may join it
                    result.run_ids.append(row["id"])
                    continue
                started.append(row)
                result.run_ids.append(row["id"])
        if any_wait:
            result.woke = _resolve_waits(db, conn, tenant, event, event_id, now, waits) or result.woke
    if stored:
        _INSERT_EVENT.many(conn, stored)
    if started:
        conn.execute(_INSERT_RUN, started)
    if result.run_ids:
        announce_due(conn)
    if cancel_waits:
        conn.execute(WT.insert(), cancel_waits)
    result.woke = result.woke or bool(result.run_ids)
    return result


def _cancel(db: Database, conn: Connection, run_ids: list[str], why: str, now: int) -> Received:
    """Cancel runs that have not ended (see `journal.finish_run`)."""
    from .journal import finish_run  # journal receives the events runs emit: imported here, not at the top

    received = Received()
    for row in conn.execute(R.select().where(R.c.id.in_(run_ids))).mappings():
        if row["status"] not in TERMINAL:
            error = {"name": "Cancelled", "message": f"the run was cancelled: {why}"}
            received.merge(finish_run(db, conn, row, "cancelled", None, error, now))
            received.woke = True
    return received


def run_row(
    *,
    tenant: str,
    workflow_id: str,
    version_id: str,
    version_number: int | None,
    event: dict[str, Any],
    event_id: str | None,
    now: int,
    run_id: str | None = None,
    system_depth: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    """A queued run, due now."""
    return {
        "id": run_id or new_id(now),
        "tenant": tenant,
        "workflow_id": workflow_id,
        "version_id": version_id,
        "version_number": version_number,
        "event_id": event_id,
        "event": event,
        "status": "queued",
        "created_at": now,
        "updated_at": now,
        "due_at": now,
        "system_depth": system_depth,
        "limits": None,
        "blocked_key": None,
        "singleton_key": None,
        "start_by": None,
        "batch": None,
        **extra,
    }


def create_run(conn: Connection, **fields: Any) -> str:
    """Insert a queued run, due now (the fields of `run_row`), that no event started (a test run, a
    rerun, an invoked workflow): its version's concurrency, start timeout and cancellation events
    apply (`flow.run_controls`), the settings about events do not. Returns its id."""
    row = run_row(**fields)
    raw = conn.execute(sa.select(V.c.settings).where(V.c.id == row["version_id"])).scalar()
    settings = flow.version_settings(row["version_id"], raw)
    waits = []
    if flow.has_start_controls(settings):
        variables = expressions.Activation({"event": row["event"]})
        waits = flow.run_controls(settings, row, row["event"], variables, row["created_at"])
    conn.execute(_INSERT_RUN, row)
    if waits:
        conn.execute(WT.insert(), waits)
    announce_due(conn)
    return str(row["id"])


def wake(conn: Connection, run_id: str, now: int) -> None:
    """Make a parked run due now; a running one re-checks when it parks (``wake_requested``)."""
    conn.execute(_WAKE, {"run": run_id, "now": now})
    announce_due(conn)


DUE_CHANNEL = "workflow_kit_due"


def announce_due(conn: Connection) -> None:
    """Tell the workers of every process that runs became due, once per transaction: on PostgreSQL a
    ``NOTIFY`` (delivered when the transaction commits, never if it rolls back). Workers of this
    process are woken by the caller (``kit.notify``); SQLite workers of other processes poll."""
    if conn.dialect.name != "postgresql":
        return
    transaction = conn.get_transaction()
    if transaction is None or conn.info.get("wk_announced") is transaction:
        return
    conn.execute(sa.select(sa.func.pg_notify(DUE_CHANNEL, "")))
    conn.info["wk_announced"] = transaction


def sent_once_key(run_id: str, action_id: str, step_key: str, index: int) -> str:
    """The dedupe key of the `index`-th event sent by a step (kept apart from events' own ids)."""
    digest = hashlib.blake2b(f"{run_id}\x1f{action_id}\x1f{step_key}\x1f{index}".encode(), digest_size=16)
    return "wk:step:" + digest.hexdigest()


def _receive_once(db: Database, conn: Connection, tenant: str, key: str, event_id: str, now: int) -> str | None:
    """The id of the event already received under `key`; None if there is none (`key` is now held for
    `event_id`)."""
    if not _is_duplicate(db, conn, tenant, key, event_id, now):
        return None
    return str(conn.execute(_KEY_HOLDER, {"tenant": tenant, "key": key}).scalar_one())


def _is_duplicate(db: Database, conn: Connection, tenant: str, key: str | None, event_id: str, now: int) -> bool:
    """Claim the key for 24 hours, atomically: two concurrent sends of one id cannot both start runs."""
    if key is None:
        return False
    params = {"tenant": tenant, "key": key, "event_id": event_id, "expires_at": now + DEDUPE_WINDOW_MS, "now": now}
    return conn.execute(_claim_key_statement(db.dialect), params).first() is None


@cache
def _claim_key_statement(dialect_name: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    insert = dialect.insert(K)
    return insert.on_conflict_do_update(
        index_elements=["tenant", "key"],
        set_={"event_id": insert.excluded.event_id, "expires_at": insert.excluded.expires_at},
        where=K.c.expires_at <= sa.bindparam("now"),  # an expired key is taken over; a live one is left alone
    ).returning(K.c.event_id)


def _resolve_waits(
    db: Database,
    conn: Connection,
    tenant: str,
    event: dict[str, Any],
    event_id: str,
    now: int,
    lookup: tuple[Direct, dict[str, Any]],
) -> bool:
    candidates = _oldest_first(conn, lookup)
    if not candidates:
        return False
    triggers = dict(
        conn.execute(_lookups(conn.dialect.name).triggers_of, {"ids": sorted({w.run_id for w in candidates})}).all()
    )
    incoming = expressions.Activation({"async": event})  # converted once for every candidate wait
    bound: dict[str, expressions.Activation] = {}  # each run's trigger, once for all its waits
    woke = False
    for wait in candidates:
        if wait.if_exp is not None:
            variables = bound.get(wait.run_id)
            if variables is None:
                variables = bound[wait.run_id] = incoming.bind({"event": triggers.get(wait.run_id) or {}})
            if not _matches(wait.if_exp, variables):
                continue
        claimed = conn.execute(
            WT.update().where(WT.c.id == wait.id, WT.c.status == "waiting").values(status="resolved", event_id=event_id)
        )
        if not claimed.rowcount:
            continue
        if wait.action_id == flow.CANCEL_ACTION:  # a cancel_on event: the run runs no further step
            woke = _cancel(db, conn, [wait.run_id], f"event {event['name']!r} ({event_id})", now).woke or woke
            continue
        step = sa.and_(S.c.run_id == wait.run_id, S.c.action_id == wait.action_id, S.c.position == wait.position)
        conn.execute(S.update().where(step).values(status="completed", output=event, wake_at=None))
        conn.execute(A.update().where(A.c.run_id == wait.run_id, A.c.action_id == wait.action_id).values(wake_at=now))
        wake(conn, wait.run_id, now)
        woke = True
    return woke


def _candidate_waits(conn: Connection, tenant: str, event: dict[str, Any], now: int) -> list[Any]:
    """The open waits this event may resolve, oldest first (see `_wait_lookup`)."""
    return _oldest_first(conn, _wait_lookup(conn, tenant, event, now))


def _oldest_first(conn: Connection, lookup: tuple[Direct, dict[str, Any]]) -> list[Any]:
    statement, params = lookup
    return sorted(statement.rows(conn, params), key=lambda w: (w.registered_at, w.id))


_PROBES: dict[tuple[str, Direct], Direct] = {}


def _probe(dialect: str, waits: Direct) -> Direct:
    """One row: whether any enabled workflow is triggered by the event's name, and whether any open
    wait may take the event (the statement of `waits`, the event's lookup). An event nothing listens
    to (most ``workflow/run.*`` system events) costs one statement instead of two."""
    probe = _PROBES.get((dialect, waits))
    if probe is None:
        triggered = _lookups(dialect).triggered.statement
        probe = _PROBES[(dialect, waits)] = Direct(
            sa.select(_exists(triggered).label("triggers"), _exists(waits.statement).label("waits"))
        )
    return probe


def _exists(statement: Any) -> sa.Exists:
    return sa.select(sa.literal(1)).select_from(statement.subquery()).exists()


def _wait_lookup(conn: Connection, tenant: str, event: dict[str, Any], now: int) -> tuple[Direct, dict[str, Any]]:
    """The statement and parameters that find the open waits `event` may resolve: through the
    match-key index, plus those whose expression pins no field (see wait_keys.py)."""
    params: dict[str, Any] = {"tenant": tenant, "name": event["name"], "now": now}
    keys = event_keys(event)
    if keys is None:
        return _WAITS_ALL, params
    lookups = _lookups(conn.dialect.name)
    return (lookups.waits, {**params, "keys": keys}) if keys else (lookups.waits_unkeyed, params)


def wait_lookup_plan(conn: Connection, tenant: str, event: dict[str, Any], now: int) -> str:
    """The database's plan for finding the open waits `event` may resolve: the very statement and
    parameters `receive` uses, explained (for diagnostics, the tests and the benchmarks)."""
    return explain(conn, *_wait_lookup(conn, tenant, event, now))


def listener_probe_plan(conn: Connection, tenant: str, event: dict[str, Any], now: int) -> str:
    """The plan of `receive`'s first look at an event: is any workflow triggered, may any wait take it."""
    waits, params = _wait_lookup(conn, tenant, event, now)
    return explain(conn, _probe(conn.dialect.name, waits), {**params, "patterns": patterns_for(event["name"])})


def explain(conn: Connection, statement: Direct, params: dict[str, Any]) -> str:
    """The database's plan of `statement` run with `params`, on one line."""
    sql, parameters = statement.bound(conn, params)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, parameters)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + sql, parameters)
        return " ".join(str(row[0]).strip() for row in cursor.fetchall())
    finally:
        cursor.close()


def _matches(if_exp: str, variables: expressions.Activation) -> bool:
    try:
        return expressions.evaluate_bool(if_exp, variables)
    except ExpressionError:
        return False
