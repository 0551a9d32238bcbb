"""Receiving events: store each one, deduplicate by its ``id`` for 24 hours, start a run of every enabled
workflow whose trigger matches, and resolve the waits that were open for it. One transaction: an event
is either fully received or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from .. import expressions
from ..errors import ExpressionError
from ..events import new_id
from . import schema
from .db import Database
from .triggers import condition_holds, patterns_for

DEDUPE_WINDOW_MS = 24 * 3_600_000
R, A, S, WT = schema.runs, schema.run_actions, schema.run_steps, schema.waits
W, V, E, K = schema.workflows, schema.workflow_versions, schema.events, schema.event_keys
OPEN_STATUSES = ("queued", "sleeping", "waiting")


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
    db: Database, conn: Connection, tenant: str, events: list[dict[str, Any]], now: int, *, system_depth: int = 0
) -> Received:
    """Store already-normalized events and act on them (see the module docstring)."""
    result = Received()
    for event in events:
        event_id = new_id(now)
        duplicate = _is_duplicate(db, conn, tenant, event.get("id"), event_id, now)
        conn.execute(
            E.insert().values(
                id=event_id,
                tenant=tenant,
                name=event["name"],
                payload=event,
                key=event.get("id"),
                duplicate=duplicate,
                received_at=now,
            )
        )
        result.event_ids.append(event_id)
        if duplicate:
            continue
        result.run_ids += _start_runs(conn, tenant, event, event_id, now, system_depth)
        result.woke = _resolve_waits(conn, tenant, event, event_id, now) or result.woke
    result.woke = result.woke or bool(result.run_ids)
    return result


def create_run(
    conn: Connection,
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
) -> str:
    """Insert a queued run, due now."""
    run_id = run_id or new_id(now)
    conn.execute(
        R.insert().values(
            id=run_id,
            tenant=tenant,
            workflow_id=workflow_id,
            version_id=version_id,
            version_number=version_number,
            event_id=event_id,
            event=event,
            status="queued",
            created_at=now,
            updated_at=now,
            due_at=now,
            system_depth=system_depth,
            **extra,
        )
    )
    return run_id


def wake(conn: Connection, run_id: str, now: int) -> None:
    """Make a parked run due now; a running one re-checks when it parks (``wake_requested``)."""
    conn.execute(
        R.update()
        .where(R.c.id == run_id, R.c.status.not_in(("completed", "failed", "cancelled")))
        .values(
            due_at=sa.case((R.c.status.in_(OPEN_STATUSES), now), else_=R.c.due_at),
            wake_requested=True,
        )
    )


def _is_duplicate(db: Database, conn: Connection, tenant: str, key: str | None, event_id: str, now: int) -> bool:
    """Claim the key for 24 hours, atomically: two concurrent sends of one id cannot both start runs."""
    if key is None:
        return False
    dialect = postgresql if db.dialect == "postgresql" else sqlite
    insert = dialect.insert(K).values(tenant=tenant, key=key, event_id=event_id, expires_at=now + DEDUPE_WINDOW_MS)
    claim = insert.on_conflict_do_update(
        index_elements=["tenant", "key"],
        set_={"event_id": insert.excluded.event_id, "expires_at": insert.excluded.expires_at},
        where=K.c.expires_at <= now,  # an expired key is taken over; a live one is left alone
    ).returning(K.c.event_id)
    return conn.execute(claim).first() is None


def _start_runs(
    conn: Connection, tenant: str, event: dict[str, Any], event_id: str, now: int, system_depth: int
) -> list[str]:
    query = (
        sa.select(W.c.id, W.c.trigger_if, V.c.id.label("version_id"), V.c.number)
        .join(V, sa.and_(V.c.workflow_id == W.c.id, V.c.number == W.c.published_version))
        .where(W.c.tenant == tenant, W.c.enabled.is_(True), W.c.trigger_event.in_(patterns_for(event["name"])))
        .order_by(W.c.created_at)
    )
    started = []
    variables = expressions.Activation({"event": event})  # converted once for every trigger's condition
    for row in conn.execute(query).all():
        if condition_holds(row.trigger_if, event, variables):
            started.append(
                create_run(
                    conn,
                    tenant=tenant,
                    workflow_id=row.id,
                    version_id=row.version_id,
                    version_number=row.number,
                    event=event,
                    event_id=event_id,
                    now=now,
                    system_depth=system_depth,
                )
            )
    return started


def _resolve_waits(conn: Connection, tenant: str, event: dict[str, Any], event_id: str, now: int) -> bool:
    query = (
        sa.select(WT.c.id, WT.c.run_id, WT.c.action_id, WT.c.position, WT.c.if_exp, R.c.event.label("trigger"))
        .join(R, R.c.id == WT.c.run_id)
        .where(WT.c.tenant == tenant, WT.c.event_name == event["name"], WT.c.status == "waiting", WT.c.expires_at > now)
        .order_by(WT.c.registered_at)
    )
    woke = False
    incoming = expressions.Activation({"async": event})  # converted once for every open wait
    triggers: dict[str, expressions.Activation] = {}  # each run's trigger, once for all its waits
    for wait in conn.execute(query).all():
        if wait.if_exp is not None:
            variables = triggers.get(wait.run_id)
            if variables is None:
                variables = triggers[wait.run_id] = incoming.bind({"event": wait.trigger})
            if not _matches(wait.if_exp, variables):
                continue
        claimed = conn.execute(
            WT.update().where(WT.c.id == wait.id, WT.c.status == "waiting").values(status="resolved", event_id=event_id)
        )
        if not claimed.rowcount:
            continue
        step = sa.and_(S.c.run_id == wait.run_id, S.c.action_id == wait.action_id, S.c.position == wait.position)
        conn.execute(S.update().where(step).values(status="completed", output=event, wake_at=None))
        conn.execute(A.update().where(A.c.run_id == wait.run_id, A.c.action_id == wait.action_id).values(wake_at=now))
        wake(conn, wait.run_id, now)
        woke = True
    return woke


def _matches(if_exp: str, variables: expressions.Activation) -> bool:
    try:
        return expressions.evaluate_bool(if_exp, variables)
    except ExpressionError:
        return False
