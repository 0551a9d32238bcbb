"""Deleting expired history: ended runs whose time is up (``expires_at``, set when they ended, see
rules/retention.py), with their actions, steps, waits and slots, and received events whose time is up.

Every worker calls `sweep` in a loop of its own (see worker/loop.py): one small batch per transaction,
oldest first through the partial indexes of what expires, with a pause between two batches, so claims
and the writer's transactions go in between and never wait long. A run still referenced is kept until
it no longer is, whatever its time:

- a run whose parent has not ended (the parent may still read it: an ``invoke`` step's result);
- a run with a child that has not ended (the child resolves the parent's step when it ends);
- a run with an open wait.

On PostgreSQL a batch locks the runs it deletes (``FOR UPDATE SKIP LOCKED``), so the workers take
different runs side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..storage import schema
from ..storage.db import literals
from . import runs

R, A, S, WT, SL, E = schema.runs, schema.run_actions, schema.run_steps, schema.waits, schema.slots, schema.events
BATCH = 100
"""Runs (and events) deleted in one transaction: small, so deleting never holds the database for long."""


@dataclass
class Swept:
    """What one batch deleted."""

    runs: int = 0
    events: int = 0


@cache
def _expired_runs(dialect: str) -> Any:
    open_statuses = literals([status.value for status in runs.OPEN])
    child, parent = R.alias("child"), R.alias("parent")
    query = (
        sa.select(R.c.id)
        .where(
            R.c.expires_at <= sa.bindparam("now"),
            ~sa.exists().where(child.c.parent_run_id == R.c.id, child.c.status.in_(open_statuses)),
            ~sa.exists().where(parent.c.id == R.c.parent_run_id, parent.c.status.in_(open_statuses)),
            ~sa.exists().where(WT.c.run_id == R.c.id, WT.c.status == "waiting"),
        )
        .order_by(R.c.expires_at)
        .limit(sa.bindparam("batch"))
    )
    return query.with_for_update(of=R, skip_locked=True) if dialect == "postgresql" else query


@cache
def _expired_events(dialect: str) -> Any:
    query = sa.select(E.c.id).where(E.c.expires_at <= sa.bindparam("now")).order_by(E.c.expires_at)
    query = query.limit(sa.bindparam("batch"))
    return query.with_for_update(skip_locked=True) if dialect == "postgresql" else query


def sweep(conn: Connection, now: int, batch: int = BATCH) -> Swept:
    """Delete up to `batch` expired runs (and their rows) and `batch` expired events, in `conn`'s
    transaction."""
    dialect = conn.dialect.name
    params = {"now": now, "batch": batch}
    run_ids = list(conn.execute(_expired_runs(dialect), params).scalars())
    if run_ids:
        for table in (S, A, WT, SL):
            conn.execute(table.delete().where(table.c.run_id.in_(run_ids)))
        runs.purge(conn, run_ids)
    event_ids = list(conn.execute(_expired_events(dialect), params).scalars())
    if event_ids:
        conn.execute(E.delete().where(E.c.id.in_(event_ids)))
    return Swept(runs=len(run_ids), events=len(event_ids))
