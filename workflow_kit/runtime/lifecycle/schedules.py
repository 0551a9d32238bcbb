"""Cron schedules in the database: each tick of a cron trigger starts exactly one run, however many
workers there are, across restarts.

A workflow may have several cron triggers (and event triggers besides); each ticks on its own schedule.
Each cron trigger of a published, enabled workflow has ``next_tick_at`` in its ``wk_triggers`` row
(schema.py): the time of its next tick. `schedule` sets it from now when the workflow becomes scheduled
or the trigger is new, and clears it when the workflow is disabled (the store deletes the row of a
trigger that is removed; one kept, even moved in the list, keeps its next tick).

Every worker fires the ticks that are due in its claim transaction (`fire_due`); it polls the earliest
tick of all (`NEXT_TICK`, an index lookup). For each trigger whose ``next_tick_at`` has passed, a
conditional update moves it on::

    UPDATE wk_triggers SET next_tick_at = :following
    WHERE workflow_id = :id AND position = :position AND next_tick_at = :tick

and only the transaction whose update changed the row records the timer event and creates the run, in
that same transaction: one run per tick per trigger (two schedules of one workflow that tick at the
same time start two runs, each knowing its trigger: ``ctx.trigger``). When two workers see the same due
tick, on PostgreSQL the due rows are read ``FOR UPDATE SKIP LOCKED`` (the second worker skips a row the
first is firing; had it read the row anyway, its update would wait for the first's commit and then
match nothing); on SQLite write transactions are serialized (``BEGIN IMMEDIATE``), so the second one
sees the tick already moved. A worker that dies before its commit leaves the tick as it was, for the
next worker to fire.

**Missed ticks** are not backfilled (as in Inngest). A tick found overdue (every worker was down, or
busy past it) starts one run, for the latest tick that has passed: its event says when it was
scheduled (``scheduled_at``) and when it fired (``fire_at``). The schedule then continues with the
first tick after now. Ticks that pass while a workflow is disabled never fire: enabling it schedules
its next ticks from then.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...events import new_id
from ..rules.cron import TIMER_EVENT, CronSchedule, timer_event
from ..rules.triggers import Trigger, fired
from ..storage import schema
from ..storage.announce import announce_due
from . import tenant_retention
from .effects import Context
from .start import new_run, start_run

W, V, E, T = schema.workflows, schema.workflow_versions, schema.events, schema.triggers
FIRE_BATCH = 100
"""Ticks fired in one claim at most; more due are fired by the next claim, at once."""
_LOG = logging.getLogger("workflow_kit.runtime")
_STATE = sa.select(W.c.enabled, W.c.published_version).where(W.c.id == sa.bindparam("workflow"))
_CRONS = sa.select(T.c.position, T.c.cron, T.c.next_tick_at).where(
    T.c.workflow_id == sa.bindparam("workflow"), T.c.cron.is_not(None)
)
_THIS = sa.and_(T.c.workflow_id == sa.bindparam("workflow"), T.c.position == sa.bindparam("at"))
_SET = T.update().where(_THIS).values(next_tick_at=sa.bindparam("next_tick"))
_MOVE = T.update().where(_THIS, T.c.next_tick_at == sa.bindparam("tick")).values(next_tick_at=sa.bindparam("following"))
_PUBLISHED = sa.select(V.c.id, V.c.number).where(
    V.c.workflow_id == sa.bindparam("workflow"), V.c.number == sa.bindparam("number")
)
NEXT_TICK = sa.select(sa.func.min(T.c.next_tick_at)).scalar_subquery()
"""The earliest tick of any cron trigger (an index lookup)."""


def schedule(conn: Connection, workflow_id: str, now: int) -> int | None:
    """Bring the next ticks of the workflow's cron triggers in line with its state, inside `conn`'s
    transaction: a published, enabled workflow's schedules each have one (a schedule without one gets
    the first tick after `now`), any other's have none. Returns the earliest, None if none."""
    state = conn.execute(_STATE, {"workflow": workflow_id}).one()
    active = state.enabled and state.published_version is not None
    earliest: int | None = None
    announce = False
    for row in conn.execute(_CRONS, {"workflow": workflow_id}).all():
        if not active:
            target = None
        elif row.next_tick_at is None:
            target = CronSchedule.parse(row.cron, allow_seconds=True).next_after(now)
        else:
            target = int(row.next_tick_at)
        if target != row.next_tick_at:
            conn.execute(_SET, {"workflow": workflow_id, "at": row.position, "next_tick": target})
            announce = announce or target is not None
        if target is not None:
            earliest = target if earliest is None else min(earliest, target)
    if announce:
        announce_due(conn)  # PostgreSQL workers of other processes look again, and see the new tick
    return earliest


def fire_due(ctx: Context, conn: Connection, now: int) -> list[str]:
    """Fire every tick due at `now` (up to `FIRE_BATCH`), each at most once (see the module docstring);
    returns the ids of the runs started."""
    started: list[str] = []
    for row in conn.execute(_due_statement(conn.dialect.name), {"now": now}).all():
        plan = _plan(row, now)
        following = plan[1] if plan is not None else None
        this = {"workflow": row.workflow_id, "at": row.position}
        moved = conn.execute(_MOVE, {**this, "tick": row.next_tick_at, "following": following})
        if moved.rowcount != 1 or plan is None:
            continue  # another worker fired it; or the workflow is not to be scheduled any more
        version = conn.execute(_PUBLISHED, {"workflow": row.workflow_id, "number": row.published_version}).first()
        if version is None:  # pragma: no cover (published_version always names a version)
            continue
        event = timer_event(row.cron, plan[0], now)
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
                expires_at=now + tenant_retention.tenant_ms(ctx.retention, conn, row.tenant),
            )
        )
        run = new_run(
            tenant=row.tenant,
            workflow_id=row.workflow_id,
            version_id=version.id,
            version_number=version.number,
            event=event,
            event_id=event_id,
            now=now,
            trigger=fired(Trigger(cron=row.cron), row.position),
        )
        run_id = start_run(ctx, conn, run)
        started.append(run_id)
    return started


def _plan(row: Any, now: int) -> tuple[int, int] | None:
    """The tick to fire (the latest one due) and the one after it; None: unschedule the trigger."""
    if not (row.enabled and row.published_version is not None and row.cron):
        return None  # the store never leaves such a row scheduled; if one is, stop its ticks
    try:
        parsed = CronSchedule.parse(row.cron, allow_seconds=True)
        following = parsed.next_after(now)
    except (ValueError, OverflowError) as exc:  # CronError, e.g. its time zone left the system's database
        # Unscheduled rather than retried: a schedule that fails every claim would stop this worker's claims.
        _LOG.error(
            "workflow %s: its schedule %r no longer works (%s); it stops ticking", row.workflow_id, row.cron, exc
        )
        return None
    try:
        latest = max(int(row.next_tick_at), parsed.latest_until(now))
    except (ValueError, OverflowError):
        latest = int(row.next_tick_at)
    return latest, following


@cache
def _due_statement(dialect: str) -> sa.Select[Any]:
    # An outer join: a trigger row whose workflow is gone (the store never leaves one) is unscheduled,
    # rather than found due again by every claim.
    due = (
        sa.select(
            T.c.workflow_id,
            T.c.position,
            T.c.tenant,
            T.c.cron,
            T.c.next_tick_at,
            W.c.enabled,
            W.c.published_version,
        )
        .select_from(T)
        .join(W, W.c.id == T.c.workflow_id, isouter=True)
        .where(T.c.next_tick_at <= sa.bindparam("now"))
        .order_by(T.c.next_tick_at)
        .limit(FIRE_BATCH)
    )
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True, of=T)
    return due
