"""Cron schedules in the database: each tick of a cron workflow starts exactly one run, however many
workers there are, across restarts.

A workflow whose trigger is a cron schedule, and which is published and enabled, has ``next_tick_at``
(schema.py): the time of its next tick. `schedule` sets it from now when the workflow becomes scheduled
or its schedule changes, and clears it when the workflow is disabled or its trigger is no longer a cron.

Every worker fires the ticks that are due in its claim transaction (`fire_due`). For each workflow
whose ``next_tick_at`` has passed, a conditional update moves it on::

    UPDATE wk_workflows SET next_tick_at = :following WHERE id = :id AND next_tick_at = :tick

and only the transaction whose update changed the row records the timer event and creates the run, in
that same transaction. When two workers see the same due tick, on PostgreSQL the due rows are read
``FOR UPDATE SKIP LOCKED`` (the second worker skips a row the first is firing; had it read the row
anyway, its update would wait for the first's commit and then match nothing); on SQLite write
transactions are serialized (``BEGIN IMMEDIATE``), so the second one sees the tick already moved. A
worker that dies before its commit leaves the tick as it was, for the next worker to fire.

**Missed ticks** are not backfilled (as in Inngest). A tick found overdue (every worker was down, or
busy past it) starts one run, for the latest tick that has passed: its event says when it was
scheduled (``scheduled_at``) and when it fired (``fire_at``). The schedule then continues with the
first tick after now. Ticks that pass while a workflow is disabled never fire: enabling it schedules
its next tick from then.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...events import new_id
from ..rules.cron import TIMER_EVENT, CronSchedule, timer_event
from ..storage import schema
from ..storage.announce import announce_due
from .effects import Context
from .start import new_run, start_run

W, V, E = schema.workflows, schema.workflow_versions, schema.events
FIRE_BATCH = 100
"""Ticks fired in one claim at most; more due are fired by the next claim, at once."""
_LOG = logging.getLogger("workflow_kit.runtime")
_STATE = sa.select(W.c.enabled, W.c.published_version, W.c.trigger_cron, W.c.next_tick_at).where(
    W.c.id == sa.bindparam("workflow")
)
_SET = W.update().where(W.c.id == sa.bindparam("workflow")).values(next_tick_at=sa.bindparam("next_tick"))
_MOVE = (
    W.update()
    .where(W.c.id == sa.bindparam("workflow"), W.c.next_tick_at == sa.bindparam("tick"))
    .values(next_tick_at=sa.bindparam("following"))
)
_PUBLISHED = sa.select(V.c.id, V.c.number).where(
    V.c.workflow_id == sa.bindparam("workflow"), V.c.number == sa.bindparam("number")
)
NEXT_TICK = sa.select(sa.func.min(W.c.next_tick_at)).scalar_subquery()
"""The earliest tick of any workflow (an index lookup)."""


def schedule(conn: Connection, workflow_id: str, now: int, *, changed: bool = False) -> int | None:
    """Bring the workflow's ``next_tick_at`` in line with its state, inside `conn`'s transaction: the
    first tick after `now` if it is a published, enabled cron workflow without one (or whose schedule
    `changed`), else none. Returns it."""
    row = conn.execute(_STATE, {"workflow": workflow_id}).one()
    if not (row.enabled and row.published_version is not None and row.trigger_cron):
        target = None
    elif changed or row.next_tick_at is None:
        target = CronSchedule.parse(row.trigger_cron, allow_seconds=True).next_after(now)
    else:
        return int(row.next_tick_at)
    if target != row.next_tick_at:
        conn.execute(_SET, {"workflow": workflow_id, "next_tick": target})
        if target is not None:
            announce_due(conn)  # PostgreSQL workers of other processes look again, and see the new tick
    return target


def fire_due(ctx: Context, conn: Connection, now: int) -> list[str]:
    """Fire every tick due at `now` (up to `FIRE_BATCH`), each at most once (see the module docstring);
    returns the ids of the runs started."""
    started: list[str] = []
    for row in conn.execute(_due_statement(conn.dialect.name), {"now": now}).all():
        plan = _plan(row, now)
        following = plan[1] if plan is not None else None
        moved = conn.execute(_MOVE, {"workflow": row.id, "tick": row.next_tick_at, "following": following})
        if moved.rowcount != 1 or plan is None:
            continue  # another worker fired it; or the workflow is not to be scheduled any more
        version = conn.execute(_PUBLISHED, {"workflow": row.id, "number": row.published_version}).first()
        if version is None:  # pragma: no cover (published_version always names a version)
            continue
        event = timer_event(row.trigger_cron, plan[0], now)
        event_id = new_id(now)
        conn.execute(
            E.insert().values(
                id=event_id,
                tenant=row.tenant,
                name=TIMER_EVENT,
                payload=event,
                key=event["id"],
                duplicate=False,
                received_at=now,
            )
        )
        run = new_run(
            tenant=row.tenant,
            workflow_id=row.id,
            version_id=version.id,
            version_number=version.number,
            event=event,
            event_id=event_id,
            now=now,
        )
        run_id = start_run(ctx, conn, run)
        started.append(run_id)
    return started


def _plan(row: Any, now: int) -> tuple[int, int] | None:
    """The tick to fire (the latest one due) and the one after it; None: unschedule the workflow."""
    if not (row.enabled and row.published_version is not None and row.trigger_cron):
        return None  # the store never leaves such a row scheduled; if one is, stop its ticks
    try:
        parsed = CronSchedule.parse(row.trigger_cron, allow_seconds=True)
        following = parsed.next_after(now)
    except (ValueError, OverflowError) as exc:  # CronError, e.g. its time zone left the system's database
        # Unscheduled rather than retried: a schedule that fails every claim would stop this worker's claims.
        _LOG.error("workflow %s: its schedule %r no longer works (%s); it stops ticking", row.id, row.trigger_cron, exc)
        return None
    try:
        latest = max(int(row.next_tick_at), parsed.latest_until(now))
    except (ValueError, OverflowError):
        latest = int(row.next_tick_at)
    return latest, following


@cache
def _due_statement(dialect: str) -> sa.Select[Any]:
    due = (
        sa.select(W.c.id, W.c.tenant, W.c.trigger_cron, W.c.next_tick_at, W.c.enabled, W.c.published_version)
        .where(W.c.next_tick_at <= sa.bindparam("now"))
        .order_by(W.c.next_tick_at)
        .limit(FIRE_BATCH)
    )
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return due
