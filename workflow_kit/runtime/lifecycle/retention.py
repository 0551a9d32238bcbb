"""Deleting expired history: ended runs whose time is up (``expires_at``, set when they ended, see
rules/retention.py), with their actions, steps, waits and slots; received events whose time is up; and
events' deduplication keys past their window.

Every worker calls `sweep` in a loop of its own (see worker/loop.py): one small batch per transaction,
oldest first through the indexes of what expires, with a pause between two batches, so claims and the
writer's transactions go in between and never wait long. A run still referenced is kept until it no
longer is, whatever its time:

- a run whose parent has not ended (the parent may still read it: an ``invoke`` step's result);
- a run with a child that has not ended (the child resolves the parent's step when it ends);
- a run with an open wait.

Each check is one indexed lookup of the batch's ids (never a scan of the runs: the batch's cost does
not grow with the table). A run kept is looked at again `RECHECK_MS` later (its ``expires_at`` moves
on), so the oldest runs, if kept, never fill every batch and stop the deletion behind them.

On SQLite the worker then gives free pages back to the file system after the batch's transaction, up to
`VACUUM_PAGES` once there are `VACUUM_LEAST` (``PRAGMA incremental_vacuum``, `Database.give_back_pages`:
a no-op unless the file was made with ``auto_vacuum=INCREMENTAL``, as the kit makes new files), so the
file shrinks as history goes instead of only after a ``VACUUM``. PostgreSQL's autovacuum makes the space
of deleted rows reusable by itself.

On PostgreSQL a batch locks the runs it takes (``FOR UPDATE SKIP LOCKED``), so the workers take
different runs side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..storage import schema
from ..storage.db import literals
from . import runs

R, A, S, WT, SL, E, K = (
    schema.runs,
    schema.run_actions,
    schema.run_steps,
    schema.waits,
    schema.slots,
    schema.events,
    schema.event_keys,
)
BATCH = 100
"""Runs (and events, and keys) looked at in one transaction: small, so deleting never holds the database
for long."""
RECHECK_MS = 3_600_000
"""How long a run kept because it is still referenced waits before it is looked at again."""
VACUUM_PAGES = 2_000
"""SQLite: free pages given back after a batch, at most (8 MB of 4 KB pages: more than a batch frees,
so the file keeps up; a file switched to incremental mode with much free space catches up slowly)."""
VACUUM_LEAST = 256
"""SQLite: free pages (1 MB) there must be before they are given back: a give-back is a commit of its
own, so one every few batches rather than one after each (measured in bench/README.md)."""


@dataclass
class Swept:
    """What one batch did: runs deleted and kept (still referenced), events and keys deleted."""

    runs: int = 0
    events: int = 0
    kept: int = 0
    keys: int = 0

    def full(self, batch: int) -> bool:
        """Whether the batch found as much as it could take (so there may be more)."""
        return max(self.runs + self.kept, self.events, self.keys) >= batch


_OPEN = literals([status.value for status in runs.OPEN])


@cache
def _expired_runs(dialect: str) -> Any:
    query = (
        sa.select(R.c.id, R.c.parent_run_id)
        .where(R.c.expires_at <= sa.bindparam("now"))
        .order_by(R.c.expires_at)
        .limit(sa.bindparam("batch"))
    )
    return query.with_for_update(of=R, skip_locked=True) if dialect == "postgresql" else query


@cache
def _expired(dialect: str, table: sa.Table, *key: str) -> Any:
    query = sa.select(*(table.c[k] for k in key)).where(table.c.expires_at <= sa.bindparam("now"))
    query = query.order_by(table.c.expires_at).limit(sa.bindparam("batch"))
    return query.with_for_update(skip_locked=True) if dialect == "postgresql" else query


def _referenced(conn: Connection, batch: Sequence[Any]) -> set[str]:
    """The runs of `batch` (rows of id and parent) still referenced: with an open child, an open parent
    or an open wait."""
    ids = [row.id for row in batch]
    kept = set(
        conn.execute(sa.select(R.c.parent_run_id).where(R.c.parent_run_id.in_(ids), R.c.status.in_(_OPEN))).scalars()
    )
    kept |= set(conn.execute(sa.select(WT.c.run_id).where(WT.c.run_id.in_(ids), WT.c.status == "waiting")).scalars())
    parents = {row.parent_run_id for row in batch if row.parent_run_id is not None}
    if parents:
        open_parents = set(conn.execute(sa.select(R.c.id).where(R.c.id.in_(parents), R.c.status.in_(_OPEN))).scalars())
        kept |= {row.id for row in batch if row.parent_run_id in open_parents}
    return kept


def sweep(conn: Connection, now: int, batch: int = BATCH) -> Swept:
    """Delete up to `batch` expired runs (and their rows), `batch` expired events and `batch` expired
    deduplication keys, in `conn`'s transaction; a run still referenced is kept and looked at again
    `RECHECK_MS` later."""
    dialect = conn.dialect.name
    params = {"now": now, "batch": batch}
    expired = conn.execute(_expired_runs(dialect), params).all()
    kept = _referenced(conn, expired) if expired else set()
    if kept:
        runs.keep_until(conn, sorted(kept), now + RECHECK_MS)
    run_ids = [row.id for row in expired if row.id not in kept]
    if run_ids:
        for table in (S, A, WT, SL):
            conn.execute(table.delete().where(table.c.run_id.in_(run_ids)))
        runs.purge(conn, run_ids)
    event_ids = list(conn.execute(_expired(dialect, E, "id"), params).scalars())
    if event_ids:
        conn.execute(E.delete().where(E.c.id.in_(event_ids)))
    # A key past its window is as good as gone already (a new event with it takes it over, see events_in.py)
    keys = [tuple(row) for row in conn.execute(_expired(dialect, K, "tenant", "key"), params)]
    if keys:
        conn.execute(K.delete().where(sa.tuple_(K.c.tenant, K.c.key).in_(keys)))
    return Swept(runs=len(run_ids), events=len(event_ids), kept=len(kept), keys=len(keys))
