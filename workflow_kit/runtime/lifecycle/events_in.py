"""Receiving events: store each one, deduplicate by its ``id`` for 24 hours, start a run of every enabled
workflow one of whose triggers matches (through flow control), and resolve the waits that were open for
it. One transaction: an event is either fully received or not at all.

A workflow's triggers are found in ``wk_triggers`` by (tenant, event name or wildcard). An event that
several triggers of one workflow match starts one run, for the first of them in the workflow's list
whose ``if`` holds; the run records which (``ctx.trigger``). Webhook triggers are not found by name:
an event a hook made (`HookTarget`) starts its workflow only, through the trigger that names the hook.

What receiving causes beyond that (a singleton's older run cancelled, a ``cancel_on`` event's run
cancelled) goes onto the worklist; `settle.py` is the entry point that works it off.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ... import expressions
from ...events import new_id
from ..rules.admission import has_start_controls, key_expressions
from ..rules.triggers import WEBHOOK, Trigger, condition_holds, fired, patterns_for
from ..storage import schema
from ..storage.db import one_of
from ..storage.direct import Direct
from ..storage.rows import NewRun
from . import flow, runs, tenant_retention, waits
from .effects import CancelRuns, Context, Decided, NeedsDecision, Received, Worklist, trigger_key

DEDUPE_WINDOW_MS = 24 * 3_600_000
W, V, E, K, WT = schema.workflows, schema.workflow_versions, schema.events, schema.event_keys, schema.waits
T = schema.triggers
_EVENT_COLUMNS = ("id", "tenant", "name", "payload", "key", "duplicate", "received_at", "expires_at")
_INSERT_EVENT = Direct(E.insert(), columns=_EVENT_COLUMNS)
_KEY_HOLDER = sa.select(K.c.event_id).where(K.c.tenant == sa.bindparam("tenant"), K.c.key == sa.bindparam("key"))


class HookTarget(NamedTuple):
    """Where a hook's events go: its workflow, through the trigger naming the hook."""

    workflow_id: str
    hook_id: str


def _triggers_of(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The triggers of enabled workflows `where` holds, with their workflow's version: each workflow's
    together, in the order of its list."""
    columns = (W.c.id, T.c.position, T.c.event, T.c.if_exp, T.c.hook_id, V.c.id.label("version_id"))
    return (
        sa.select(*columns, V.c.number, V.c.settings)
        .select_from(T)
        .join(W, W.c.id == T.c.workflow_id)
        .join(V, sa.and_(V.c.workflow_id == W.c.id, V.c.number == W.c.published_version))
        .where(T.c.tenant == sa.bindparam("tenant"), W.c.enabled.is_(True), *where)
        .order_by(W.c.created_at, W.c.id, T.c.position)
    )


@cache
def triggers_statement(dialect: str) -> Direct:
    """The triggers of ``:tenant``'s enabled workflows whose event is one of ``:patterns`` (webhook
    triggers aside)."""
    return Direct(_triggers_of(one_of(dialect, T.c.event, "patterns"), T.c.hook_id.is_(None)))


_HOOKED = Direct(_triggers_of(T.c.workflow_id == sa.bindparam("workflow_id"), T.c.hook_id == sa.bindparam("hook_id")))
"""The trigger of ``:workflow_id`` that names ``:hook_id``, if its workflow is enabled."""


def find_triggers(
    ctx: Context, conn: Connection, params: dict[str, Any], any_trigger: bool, hook: HookTarget | None
) -> list[Any]:
    """The triggers an event may start (`params`: its ``tenant`` and name ``patterns``): a hook's event,
    the trigger naming the hook; any other, the tenant's event triggers of its name (none when the probe
    found no `any_trigger`). `decide.py` reads them before the transaction, `receive` again inside it."""
    if hook is not None:
        return _HOOKED.rows(
            conn, {"tenant": params["tenant"], "workflow_id": hook.workflow_id, "hook_id": hook.hook_id}
        )
    return triggers_statement(ctx.dialect).rows(conn, params) if any_trigger else []


def receive(
    ctx: Context,
    conn: Connection,
    work: Worklist,
    tenant: str,
    events: list[dict[str, Any]],
    now: int,
    *,
    system_depth: int = 0,
    once: Sequence[str] | None = None,
    hook: HookTarget | None = None,
    decided: Sequence[Decided] | None = None,
    plain: bool = False,
) -> Received:
    """Store already-normalized events and act on them (see the module docstring). `system_depth`:
    how many ``workflow/run.*`` events led to these (the runs they start carry it). `hook`: the events
    a webhook made, which start its workflow only.

    `once` gives each event a key (see `sent_once_key`): an event whose key was already received is
    not received again; its first id is returned instead.

    `decided` (one per event, from `decide.py`): what the tenant's expressions gave, evaluated before
    this transaction; only what changed since is checked here, by ids and versions. Without it (the
    ``workflow/run.*`` events a run's end sends, inside its own transaction) they are evaluated here,
    unless `plain` (`settle.receive_at_once`): then, before anything is written, `NeedsDecision` is raised
    if they reach an expression (`_look_ahead`)."""
    result = Received()
    stored: list[dict[str, Any]] = []
    started: list[NewRun] = []
    cancel_waits: list[dict[str, Any]] = []
    triggered: dict[str, list[Any]] = {}
    ahead = _look_ahead(ctx, conn, tenant, events, now, hook, triggered) if plain else None
    expires_at = now + tenant_retention.tenant_ms(ctx.retention, conn, tenant)
    for index, event in enumerate(events):
        event_id = new_id(now)
        if once is not None:
            first = _receive_once(ctx, conn, tenant, once[index], event_id, now)
            if first is not None:
                result.event_ids.append(first)
                continue
        decision = decided[index] if decided is not None else None
        # converted once for every trigger's condition (and, decided, with every result already known)
        variables = decision.variables if decision is not None else expressions.Activation({"event": event})
        duplicate = _is_duplicate(ctx, conn, tenant, event.get("id"), event_id, now)
        stored.append(_event_row(tenant, event, event_id, duplicate, now, expires_at))
        result.event_ids.append(event_id)
        if duplicate:
            continue
        name = event["name"]
        found = waits.lookup(ctx.dialect, tenant, event, now)
        any_wait = True
        if name not in triggered:
            triggered[name], any_wait = listening(ctx, conn, tenant, name, found, hook)
        if ahead is not None:
            any_wait = bool(ahead[index])
        started_by: set[str] = set()  # the workflows this event starts: once each, whatever else matches
        for workflow in triggered[name]:
            if workflow.id in started_by:
                continue
            if decision is not None:
                if not decision.triggers.get(trigger_key(workflow), False):  # or changed since: not for this event
                    continue
            elif not condition_holds(workflow.if_exp, event, variables):
                continue
            started_by.add(workflow.id)
            new = NewRun(
                id=new_id(now),
                tenant=tenant,
                workflow_id=workflow.id,
                version_id=workflow.version_id,
                version_number=workflow.number,
                event_id=event_id,
                event=event,
                created_at=now,
                due_at=now,
                system_depth=system_depth,
                trigger=fired(_trigger(workflow), workflow.position),
            )
            settings = ctx.settings.get(workflow.version_id, workflow.settings)
            if not has_start_controls(settings):
                started.append(new)
                result.run_ids.append(new.id)
                continue
            admission = flow.admit(conn, settings, new, event, variables, now)
            if admission.cancel:
                work.push(CancelRuns(tuple(admission.cancel), "a newer run of this singleton"))
            cancel_waits += admission.waits
            if admission.run is not None:
                runs.create(conn, [admission.run])  # now: the next event of this send may join it
                result.run_ids.append(admission.run.id)
        if any_wait:
            holds = decision.waits if decision is not None else None
            waiting = ahead[index] if ahead is not None else None
            result.woke = waits.resolve(conn, work, event, event_id, now, found, holds, waiting) or result.woke
    if stored:
        _INSERT_EVENT.many(conn, stored)
    runs.create(conn, started)
    if cancel_waits:
        conn.execute(WT.insert(), cancel_waits)
    result.woke = result.woke or bool(result.run_ids)
    return result


def listening(
    ctx: Context, conn: Connection, tenant: str, name: str, found: waits.Lookup, hook: HookTarget | None
) -> tuple[list[Any], bool]:
    """The triggers an event of `name` may start, and whether any wait may be open for it (`found`: its
    lookup): first one round trip, is anything listening? (mostly not, for the ends of runs). `receive`,
    its look-ahead and `decide.py` read them so."""
    params = {"tenant": tenant, "patterns": patterns_for(name)}
    ((any_trigger, any_wait),) = probe(ctx.dialect, found[0]).rows(conn, {**params, **found[1]})
    return find_triggers(ctx, conn, params, any_trigger, hook), any_wait


def _look_ahead(
    ctx: Context,
    conn: Connection,
    tenant: str,
    events: list[dict[str, Any]],
    now: int,
    hook: HookTarget | None,
    triggered: dict[str, list[Any]],
) -> list[list[Any]]:
    """For events received undecided, before anything is written: the triggers of each name (into
    `triggered`) and each event's open waits, read once for `receive`; raises `NeedsDecision` if the
    events reach an expression (a trigger's condition, a flow-control key or priority, a wait's
    condition)."""
    waiting: list[list[Any]] = []
    for event in events:
        name = event["name"]
        found = waits.lookup(ctx.dialect, tenant, event, now)
        any_wait = True  # a later event of a name may have waits of its own (its keys differ)
        if name not in triggered:
            triggered[name], any_wait = listening(ctx, conn, tenant, name, found, hook)
            for row in triggered[name]:
                if row.if_exp is not None or key_expressions(ctx.settings.get(row.version_id, row.settings)):
                    raise NeedsDecision()
        open_waits = waits.candidates(conn, found) if any_wait else []
        if any(wait.if_exp is not None for wait in open_waits):
            raise NeedsDecision()
        waiting.append(open_waits)
    return waiting


def store(
    ctx: Context, conn: Connection, tenant: str, events: list[dict[str, Any]], now: int
) -> list[tuple[str, bool]]:
    """Store already-normalized events as received, deduplicated by ``id`` as `receive` does, and act on
    none of them (the Inngest backend matches them itself and runs them elsewhere): each one's id here,
    and whether it is a duplicate (then it starts nothing)."""
    expires_at = now + ctx.retention.tenant_ms(tenant)
    stored: list[dict[str, Any]] = []
    found: list[tuple[str, bool]] = []
    for event in events:
        event_id = new_id(now)
        duplicate = _is_duplicate(ctx, conn, tenant, event.get("id"), event_id, now)
        stored.append(_event_row(tenant, event, event_id, duplicate, now, expires_at))
        found.append((event_id, duplicate))
    if stored:
        _INSERT_EVENT.many(conn, stored)
    return found


def _event_row(
    tenant: str, event: dict[str, Any], event_id: str, duplicate: bool, now: int, expires_at: int
) -> dict[str, Any]:
    """The row of ``wk_events`` an event received is."""
    return {
        "id": event_id,
        "tenant": tenant,
        "name": event["name"],
        "payload": event,
        "key": event.get("id"),
        "duplicate": duplicate,
        "received_at": now,
        "expires_at": expires_at,
    }


def _trigger(row: Any) -> Trigger:
    """The trigger a row of `_triggers_of` is."""
    if row.hook_id is not None:
        return Trigger(event=row.event, if_=row.if_exp, type=WEBHOOK, hook=row.hook_id)
    return Trigger(event=row.event, if_=row.if_exp)


def sent_once_key(run_id: str, action_id: str, step_key: str, index: int) -> str:
    """The dedupe key of the `index`-th event sent by a step (kept apart from events' own ids)."""
    digest = hashlib.blake2b(f"{run_id}\x1f{action_id}\x1f{step_key}\x1f{index}".encode(), digest_size=16)
    return "wk:step:" + digest.hexdigest()


def _receive_once(ctx: Context, conn: Connection, tenant: str, key: str, event_id: str, now: int) -> str | None:
    """The id of the event already received under `key`; None if there is none (`key` is now held for
    `event_id`)."""
    if not _is_duplicate(ctx, conn, tenant, key, event_id, now):
        return None
    return str(conn.execute(_KEY_HOLDER, {"tenant": tenant, "key": key}).scalar_one())


def _is_duplicate(ctx: Context, conn: Connection, tenant: str, key: str | None, event_id: str, now: int) -> bool:
    """Claim the key for 24 hours, atomically: two concurrent sends of one id cannot both start runs."""
    if key is None:
        return False
    params = {"tenant": tenant, "key": key, "event_id": event_id, "expires_at": now + DEDUPE_WINDOW_MS, "now": now}
    return conn.execute(_claim_key_statement(ctx.dialect), params).first() is None


@cache
def _claim_key_statement(dialect_name: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    insert = dialect.insert(K)
    return insert.on_conflict_do_update(
        index_elements=["tenant", "key"],
        set_={"event_id": insert.excluded.event_id, "expires_at": insert.excluded.expires_at},
        where=K.c.expires_at <= sa.bindparam("now"),  # an expired key is taken over; a live one is left alone
    ).returning(K.c.event_id)


_PROBES: dict[tuple[str, Direct], Direct] = {}


def probe(dialect: str, found: Direct) -> Direct:
    """One row: whether any enabled workflow is triggered by the event's name, and whether any open
    wait may take the event (`found`: the statement of the event's wait lookup). An event nothing
    listens to (most ``workflow/run.*`` system events) costs one statement instead of two."""
    statement = _PROBES.get((dialect, found))
    if statement is None:
        triggered = triggers_statement(dialect).statement
        statement = _PROBES[(dialect, found)] = Direct(
            sa.select(_exists(triggered).label("triggers"), _exists(found.statement).label("waits"))
        )
    return statement


def _exists(statement: Any) -> sa.Exists:
    return sa.select(sa.literal(1)).select_from(statement.subquery()).exists()
