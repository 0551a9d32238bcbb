"""Claiming due runs: take the earliest due runs with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
shared out fairly among tenants and admitted by their concurrency slots, and load their journals, in
one transaction; first, fire the cron ticks that are due. Leases are renewed by each worker's heartbeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...records import ActionRecord
from ..lifecycle import runs, slots
from ..lifecycle.effects import Context
from ..lifecycle.schedules import NEXT_TICK, fire_due
from ..models import TERMINAL
from ..rules.admission import fair_share
from ..storage import schema
from ..storage.db import Database, literals, one_of
from ..storage.direct import Direct
from ..storage.rows import RunRow, records_from_rows
from ..storage.writer import Claim

R, A, S = schema.runs, schema.run_actions, schema.run_steps
FAIR_WINDOW = 4
"""A claim looks at this many times more due runs than it takes, to share them out among tenants."""
_NEXT_DUE = sa.select(sa.func.min(R.c.due_at)).where(R.c.due_at.is_not(None))
_NEXT = Direct(sa.select(_NEXT_DUE.scalar_subquery(), NEXT_TICK))  # one round trip for both
_BACKLOG = sa.select(sa.func.count(), sa.func.min(R.c.due_at)).where(R.c.due_at <= sa.bindparam("now"))


@dataclass
class LoadedRun:
    """A claimed run, as a worker needs it: the run and what its journal holds."""

    claim: Claim
    row: RunRow
    records: dict[str, ActionRecord]
    step_count: int

    @property
    def run_id(self) -> str:
        return self.claim.run_id

    @property
    def tenant(self) -> str:
        return self.row.tenant

    @property
    def version_id(self) -> str:
        return self.row.version_id

    @property
    def event(self) -> dict[str, Any]:
        return dict(self.row.event)


@dataclass(frozen=True)
class ClaimBatch:
    runs: list[LoadedRun]
    next_due: int | None
    """After this claim, the earliest time any other run is due."""
    next_tick: int | None = None
    """After this claim, the earliest tick of any cron workflow."""


@cache
def _due_statement(dialect: str, *, others: bool = False) -> Direct:
    """The earliest due runs, up to ``:claim_limit``, locked on PostgreSQL (others skip them); with
    `others`, only those of tenants other than ``:tenant``."""
    due = (
        sa.select(R.c.id, R.c.tenant, R.c.limits, R.c.start_by)
        .where(R.c.due_at <= sa.bindparam("now"), R.c.status.not_in(literals(TERMINAL)))
        .order_by(R.c.due_at)
        .limit(sa.bindparam("claim_limit"))
    )
    if others:
        due = due.where(R.c.tenant != sa.bindparam("tenant"))
    return Direct(due.with_for_update(skip_locked=True) if dialect == "postgresql" else due)


@cache
def _journals_of(dialect: str) -> tuple[Direct, Direct]:
    """The action and step rows of the runs ``:ids``."""
    return (
        Direct(A.select().where(one_of(dialect, A.c.run_id, "ids"))),
        Direct(S.select().where(one_of(dialect, S.c.run_id, "ids"))),
    )


def claim(
    ctx: Context,
    conn: Connection,
    owner: str,
    limit: int,
    lease_ms: int,
    now: int,
    fire: bool,
    after: str | None = None,
) -> ClaimBatch:
    """Take up to `limit` due runs (queued, parked and due, or running with an expired lease) and load
    them; first, with `fire`, fire the cron ticks that are due (their runs may be among those taken).
    `after`: the tenant whose run the worker claimed last (the others' turn comes first)."""
    loaded: list[LoadedRun] = []
    if fire:
        fire_due(ctx, conn, now)
    if limit > 0:
        due = _due(ctx.dialect, conn, limit, now, after)
        ids = [row.id for row in due]
        if any(row.limits for row in due):
            ids = slots.admit(conn, due, now)
        claimed = runs.claim(conn, ctx.dialect, ids, owner, now + lease_ms, now) if ids else []
        actions: list[dict[str, Any]] = []
        steps: list[dict[str, Any]] = []
        resumed = {"ids": [row.id for row, was_claimed in claimed if was_claimed]}
        if resumed["ids"]:  # a run that never started has no journal yet
            actions_of, steps_of = _journals_of(ctx.dialect)
            actions = [row._asdict() for row in actions_of.rows(conn, resumed)]
            steps = [row._asdict() for row in steps_of.rows(conn, resumed)]
        for row, _ in claimed:
            own_steps = [s for s in steps if s["run_id"] == row.id]
            loaded.append(
                LoadedRun(
                    claim=Claim(row.id, row.claim_seq),
                    row=row,
                    records=records_from_rows([a for a in actions if a["run_id"] == row.id], own_steps),
                    step_count=len(own_steps),
                )
            )
    ((next_due, next_tick),) = _NEXT.rows(conn, {})
    return ClaimBatch(loaded, _int(next_due), _int(next_tick))


def _due(dialect: str, conn: Connection, limit: int, now: int, after: str | None) -> list[Any]:
    """The due runs to claim, at most `limit`, shared out fairly among tenants (`fair_share`). If one
    tenant holds the whole window of earliest due runs, the earliest of the other tenants are looked up
    too (a flood would otherwise hide them until it drains)."""
    window = limit * FAIR_WINDOW
    due = _due_statement(dialect).rows(conn, {"now": now, "claim_limit": window})
    tenants = {row.tenant for row in due}
    if len(due) == window and len(tenants) == 1:
        params = {"now": now, "claim_limit": limit, "tenant": due[0].tenant}
        due += _due_statement(dialect, others=True).rows(conn, params)
    return fair_share(due, limit, after) if len(tenants) > 1 or len(due) > window else due[:limit]


def renew(db: Database, conn: Connection, claims: Sequence[Claim], lease_ms: int, now: int) -> list[Claim]:
    """Extend the leases of runs being executed; returns the claims that were lost."""
    owned = db.owners(conn, [claim.run_id for claim in claims], lock=False)
    held = [claim.run_id for claim in claims if owned.get(claim.run_id) == claim.seq]
    if held:
        runs.renew(conn, db.dialect, held, now + lease_ms)
    return [claim for claim in claims if owned.get(claim.run_id) != claim.seq]


def next_due(db: Database) -> int | None:
    """The earliest time a worker has something to do: a run is due or a cron workflow ticks (two
    index lookups)."""
    with db.read() as conn:
        ((due, tick),) = _NEXT.rows(conn, {})
        times = [value for value in (due, tick) if value is not None]
    return int(min(times)) if times else None


def backlog(db: Database, now: int) -> tuple[int, int | None]:
    """The runs due by `now` that no worker executes (a run whose lease ran out counts), and the earliest
    time one of them was due: what the workers have yet to claim (for the metrics)."""
    with db.read() as conn:
        count, earliest = conn.execute(_BACKLOG, {"now": now}).one()
    return int(count), _int(earliest)


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None
