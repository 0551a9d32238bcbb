"""Starting a run that no event started: a test run, a rerun, an invoked workflow, a cron tick.

Its version's concurrency, start timeout and cancellation events apply (`flow.with_controls`); the
settings about events (idempotency, rate limit, debounce, ...) do not: there is no event to apply
them to.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import expressions
from ...events import new_id
from ..rules.admission import has_start_controls
from ..storage import schema
from ..storage.rows import NewRun
from . import flow, runs
from .effects import Context

V, WT = schema.workflow_versions, schema.waits


def new_run(
    *,
    tenant: str,
    workflow_id: str,
    version_id: str,
    version_number: int | None,
    event: dict[str, Any],
    event_id: str | None,
    now: int,
    run_id: str | None = None,
    **extra: Any,
) -> NewRun:
    """A run to start now (`extra`: the other fields of `NewRun`, such as ``parent_run_id``)."""
    return NewRun(
        id=run_id or new_id(now),
        tenant=tenant,
        workflow_id=workflow_id,
        version_id=version_id,
        version_number=version_number,
        event_id=event_id,
        event=event,
        created_at=now,
        due_at=now,
        **extra,
    )


def start_run(ctx: Context, conn: Connection, run: NewRun) -> str:
    """Create `run`, queued and due now, with its version's run controls; returns its id. A run another
    engine executes (``runs_on``: a rerun of one of its runs) is created for it, never due: its
    controls are that engine's (the caller asks the engine for it, see remote.py)."""
    if run.runs_on is not None:
        runs.create_remote(conn, [run])
        return run.id
    raw = conn.execute(sa.select(V.c.settings).where(V.c.id == run.version_id)).scalar()
    settings = ctx.settings.get(run.version_id, raw)
    waits: list[dict[str, Any]] = []
    if has_start_controls(settings):
        variables = expressions.Activation({"event": run.event})
        run, waits = flow.with_controls(settings, run, variables, run.created_at)
    runs.create(conn, [run])
    if waits:
        conn.execute(WT.insert(), waits)
    return run.id
