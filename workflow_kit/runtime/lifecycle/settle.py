"""Settling what transitions cause, in the same transaction, by a loop over a worklist.

The entry points a caller outside the lifecycle uses to receive events or end a run (`receive`,
`finish`, `cancel`, `cancel_or_dismiss`, `park`) each make their change, which puts its consequences on a `Worklist`
(`effects.py`), then work the list off here, first in first out, until it is empty:

- `CancelRuns`: each of the runs that has not ended is cancelled (its own consequences join the list);
- `CloseWaits`: the ended run's open waits are cancelled;
- `FreeSlots`: its concurrency slots are given back, and the runs blocked on them become due;
- `ResolveParent`: the invoking run's step takes the result and that run wakes;
- `AnnounceEnd`: the ``workflow/run.<status>`` event is received for the run's tenant, one link further
  down the chain of system events: it may start runs, and cancel others (singletons, ``cancel_on``).

Chains end: a run `MAX_SYSTEM_DEPTH` links down a chain of ``workflow/run.*`` events emits none, so a
workflow that reacts to its own failures stops instead of looping forever (a run ends once, and every
run an announced event starts is one link further down).

A failed run a user cancels is dismissed (`cancel_or_dismiss`): it becomes cancelled, keeping its
failure, and causes nothing, as what its failure caused was settled when it failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...events import RUN_EVENT_PREFIX, normalize_event
from ..models import RunStatus
from ..storage import schema
from ..storage.rows import RunRow
from ..storage.writer import Claim
from . import events_in, runs, slots, tenant_retention, waits
from .effects import (
    AnnounceEnd,
    CancelRuns,
    CloseWaits,
    Context,
    Decided,
    FreeSlots,
    NeedsDecision,
    Received,
    ResolveParent,
    Worklist,
)

_VERSION_SETTINGS = sa.select(schema.workflow_versions.c.settings).where(
    schema.workflow_versions.c.id == sa.bindparam("version")
)
MAX_SYSTEM_DEPTH = 10
"""How deep chains of runs started by ``workflow/run.*`` events go: a run that many links down a chain
emits no system event."""


def receive(
    ctx: Context,
    conn: Connection,
    tenant: str,
    events: list[dict[str, Any]],
    now: int,
    *,
    once: Sequence[str] | None = None,
    hook: events_in.HookTarget | None = None,
    decided: Sequence[Decided] | None = None,
) -> Received:
    """Receive events for `tenant` (see events_in.py; `hook`: a webhook's, for its workflow only;
    `decided` by decide.py before the transaction) and settle what they cause."""
    work = Worklist()
    received = events_in.receive(ctx, conn, work, tenant, events, now, once=once, hook=hook, decided=decided)
    received.woke = settle(ctx, conn, work, now) or received.woke
    return received


def receive_at_once(
    ctx: Context,
    conn: Connection,
    tenant: str,
    events: list[dict[str, Any]],
    now: int,
    *,
    once: Sequence[str] | None = None,
    hook: events_in.HookTarget | None = None,
) -> Received | None:
    """`receive` without deciding first, evaluating nothing of the tenant's: None, with nothing written,
    if the events reach an expression (then decide them first)."""
    work = Worklist()
    try:
        received = events_in.receive(ctx, conn, work, tenant, events, now, once=once, hook=hook, plain=True)
    except NeedsDecision:  # raised before anything is written
        return None
    received.woke = settle(ctx, conn, work, now) or received.woke
    return received


def finish(
    ctx: Context,
    conn: Connection,
    run: RunRow,
    status: RunStatus,
    output: Any,
    error: dict[str, Any] | None,
    now: int,
    *,
    waited: bool = True,
) -> Received:
    """End a run (completed, failed or cancelled) and settle what that causes (see `runs.end`)."""
    work = Worklist()
    received = Received()
    if runs.end(conn, work, run, status, output, error, now, keep_ms=keep_ms(ctx, conn, run), waited=waited):
        received.woke = settle(ctx, conn, work, now) or received.woke
    return received


def finish_remote(
    ctx: Context, conn: Connection, run: RunRow, status: RunStatus, output: Any, error: dict[str, Any] | None, now: int
) -> bool:
    """End a run another engine executed (Inngest), as it reported; False if it had ended already. What
    an end causes is that engine's business and is not settled here: it holds no slot or wait of the
    kit's, its parent (an invoke) is resumed by the engine, and its ``workflow/run.*`` event is not
    received by the embedded runtime (it would start embedded runs)."""
    return runs.end(conn, Worklist(), run, status, output, error, now, keep_ms=keep_ms(ctx, conn, run), waited=False)


def cancel(ctx: Context, conn: Connection, run_ids: Sequence[str], why: str | None, now: int) -> Received:
    """Cancel the runs of `run_ids` that have not ended, and settle what that causes."""
    work = Worklist()
    work.push(CancelRuns(tuple(run_ids), why))
    return Received(woke=settle(ctx, conn, work, now))


@dataclass
class Cancelled:
    """What a user's cancel did (`cancel_or_dismiss`): the runs it ended, those it dismissed, and whether
    a run became due meanwhile."""

    ended: list[RunRow] = field(default_factory=list)
    dismissed: list[RunRow] = field(default_factory=list)
    woke: bool = False


def cancel_or_dismiss(ctx: Context, conn: Connection, run_ids: Sequence[str], why: str | None, now: int) -> Cancelled:
    """A user's cancel (``kit.runs.cancel``, a bulk cancel), one rule for one run or many: the runs of
    `run_ids` that have not ended are cancelled, and what that causes is settled; the failed ones are
    dismissed (`runs.dismiss`: cancelled, keeping their failure, nothing follows); completed and
    cancelled runs stay as they are."""
    work = Worklist()
    done = Cancelled(dismissed=runs.dismiss(conn, run_ids, why, now))
    done.ended = _cancel_open(ctx, conn, work, run_ids, why, now)
    settled = settle(ctx, conn, work, now)
    done.woke = settled or bool(done.ended)
    return done


def _cancel_open(
    ctx: Context, conn: Connection, work: Worklist, run_ids: Sequence[str], why: str | None, now: int
) -> list[RunRow]:
    """Cancel the runs of `run_ids` that have not ended; their consequences join `work`. The runs ended."""
    ended = []
    for run in runs.open_runs(conn, run_ids):
        # a remote run's consequences are its engine's (see `finish_remote`)
        own = work if run.runs_on is None else Worklist()
        keep = keep_ms(ctx, conn, run)
        if runs.end(conn, own, run, RunStatus.CANCELLED, None, cancelled_error(why), now, keep_ms=keep):
            ended.append(run)
    return ended


def park(
    ctx: Context,
    conn: Connection,
    run: RunRow,
    claim: Claim,
    status: RunStatus,
    wake_at: int | None,
    now: int,
) -> None:
    """Park a running run until `wake_at` (see `runs.park`) and settle what that causes."""
    work = Worklist()
    if runs.park(conn, work, run, claim, status, wake_at, now):
        settle(ctx, conn, work, now)


def keep_ms(ctx: Context, conn: Connection, run: RunRow) -> int:
    """How long `run` is kept once it ends: its version's ``retention`` setting, else its tenant's."""
    settings = ctx.settings.cached(run.version_id)
    if settings is None:
        raw = conn.execute(_VERSION_SETTINGS, {"version": run.version_id}).scalar()
        settings = ctx.settings.get(run.version_id, raw)
    if settings.retention is not None:
        return ctx.retention.run_ms(run.tenant, settings)
    return tenant_retention.tenant_ms(ctx.retention, conn, run.tenant)


def cancelled_error(why: str | None) -> dict[str, Any]:
    """The error a cancelled run records."""
    return {"name": "Cancelled", "message": f"the run was cancelled: {why}" if why else "the run was cancelled"}


def settle(ctx: Context, conn: Connection, work: Worklist, now: int) -> bool:
    """Work the list off (see the module docstring); True if a run became due meanwhile."""
    woke = False
    while (effect := work.pop()) is not None:
        if isinstance(effect, CancelRuns):
            if _cancel_open(ctx, conn, work, effect.run_ids, effect.why, now):
                woke = True
        elif isinstance(effect, CloseWaits):
            waits.close(conn, effect.run_id)
        elif isinstance(effect, FreeSlots):
            slots.release(conn, effect.run_id, now)
        elif isinstance(effect, ResolveParent):
            waits.resolve_parent(conn, effect.run, effect.status, effect.output, effect.error, now)
            woke = True
        elif isinstance(effect, AnnounceEnd):
            run = effect.run
            if run.system_depth >= MAX_SYSTEM_DEPTH:  # the end of a chain: no further link
                continue
            data: dict[str, Any] = {
                "run_id": run.id,
                "workflow_id": run.workflow_id,
                "workflow_version": run.version_number,
                "status": effect.status,
                "trigger": run.event.get("name"),
            }
            if effect.error is not None:
                data["error"] = effect.error
            event = normalize_event({"name": RUN_EVENT_PREFIX + effect.status, "data": data}, now)
            received = events_in.receive(ctx, conn, work, run.tenant, [event], now, system_depth=run.system_depth + 1)
            woke = woke or received.woke
    return woke
