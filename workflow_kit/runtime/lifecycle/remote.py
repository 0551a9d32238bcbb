"""Runs another engine executes (Inngest, see workflow_kit/inngest/recorder.py), kept in the kit's own
tables as that engine reports them, so the runs list, the run view and the events list show them as
they show the embedded runtime's runs.

Such a run is created queued and never due (``runs_on`` set, `runs.create_remote`): no worker claims it.
The engine re-executes a run's code from the top on every request, so everything here is idempotent:
a run goes queued -> running once (`started`), an action's record only moves forward (an ended action
is never touched again; a replay's older facts change nothing), an attempt is kept once by its number,
and a run's end is a transition that happens once (`settle.finish_remote`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ...errors import ErrorInfo
from ...events import new_id
from ...records import ActionStatus, Attempt, StepStatus
from ..models import RunStatus
from ..storage import schema
from ..storage.rows import NewRun, RunRow
from . import events_in, runs, settle
from .effects import Context

R, A, S, V = schema.runs, schema.run_actions, schema.run_steps, schema.workflow_versions
ENDED = frozenset({ActionStatus.COMPLETED, ActionStatus.FAILED, ActionStatus.SKIPPED})
STEPS_ENDED = frozenset({StepStatus.COMPLETED, StepStatus.FAILED})


class RemoteEngine(Protocol):
    """The engine that executes remote runs, as the kit tells it what happened in its store (the
    Inngest backend is one: ``kit.remote``)."""

    async def cancelled(self, tenant: str, run_ids: list[str]) -> None:
        """These runs were cancelled in the kit (those that are not the engine's are ignored)."""
        ...

    async def requested(self, tenant: str, run_ids: list[str]) -> None:
        """These runs of the engine's were created in the kit (a rerun, a replay): ask the engine for them."""
        ...


class ActionNote(msgspec.Struct, frozen=True, kw_only=True):
    """What the engine reported of one action (``reserve``, ``each[2]/reserve``) at `at` (epoch ms)."""

    record_id: str
    status: ActionStatus
    at: int
    inputs: dict[str, Any] | None = None
    output: Any = None
    error: ErrorInfo | None = None
    attempt: int | None = None
    """The number (from 0) of the attempt this note ends, if it ends one."""
    attempt_started_at: int | None = None
    wake_at: int | None = None


class StepNote(msgspec.Struct, frozen=True, kw_only=True):
    """What the engine reported of one sub-step (``ctx.step.*``) of an action, at `position` in its calls."""

    record_id: str
    position: int
    key: str
    """The step id, with ``:N`` for the N-th repeat of the same id within the action."""
    kind: str
    status: StepStatus
    at: int
    output: Any = None
    error: ErrorInfo | None = None
    attempt: int | None = None
    attempt_started_at: int | None = None


class Requested(msgspec.Struct, frozen=True, kw_only=True):
    """A run asked of the engine: a workflow's version for an event (and the trigger that matched)."""

    workflow_id: str
    version: int
    event: dict[str, Any]
    trigger: dict[str, Any] | None = None
    event_id: str | None = None
    """The stored event that asked for it (for a run recorded once it starts)."""


def _version_id(conn: Connection, tenant: str, workflow_id: str, number: int) -> str:
    found = conn.execute(
        sa.select(V.c.id).where(V.c.tenant == tenant, V.c.workflow_id == workflow_id, V.c.number == number)
    ).scalar()
    if found is None:
        raise LookupError(f"workflow {workflow_id!r} has no version {number} in the kit's store")
    return str(found)


def _new(
    conn: Connection,
    tenant: str,
    asked: Requested,
    event_id: str | None,
    runs_on: str,
    now: int,
    run_id: str | None = None,
    remote_id: str | None = None,
) -> NewRun:
    return NewRun(
        id=run_id or new_id(now),
        tenant=tenant,
        workflow_id=asked.workflow_id,
        version_id=_version_id(conn, tenant, asked.workflow_id, asked.version),
        version_number=asked.version,
        event_id=event_id,
        event=asked.event,
        created_at=now,
        due_at=now,
        trigger=asked.trigger,
        runs_on=runs_on,
        remote_id=remote_id,
    )


def receive(
    ctx: Context,
    conn: Connection,
    tenant: str,
    events: list[dict[str, Any]],
    asked: Sequence[Sequence[Requested]],
    runs_on: str,
    now: int,
) -> list[tuple[str, list[str] | None]]:
    """Store events as received (`events_in.store`) and create the runs each asks of the engine
    (`asked`, one list per event): per event, its id here and its runs' ids (None: a duplicate, which
    starts nothing, as the engine drops it too). A run the engine may drop or merge with others is
    not asked here: it is created when it starts (`started`)."""
    found: list[tuple[str, list[str] | None]] = []
    created: list[NewRun] = []
    for (event_id, duplicate), wanted in zip(events_in.store(ctx, conn, tenant, events, now), asked, strict=True):
        if duplicate:
            found.append((event_id, None))
            continue
        new = [_new(conn, tenant, one, event_id, runs_on, now) for one in wanted]
        created += new
        found.append((event_id, [run.id for run in new]))
    runs.create_remote(conn, created)
    return found


def request(conn: Connection, tenant: str, asked: Requested, runs_on: str, now: int) -> str:
    """Create one run asked of the engine for no stored event (started by hand); its id."""
    run = _new(conn, tenant, asked, None, runs_on, now)
    runs.create_remote(conn, [run])
    return run.id


def sent(conn: Connection, pairs: Sequence[tuple[str, str]]) -> None:
    """The engine's ids of the requests sent for these runs: (run id, event id there)."""
    runs.remote_sent(conn, pairs)


def started(
    conn: Connection,
    tenant: str,
    run_id: str,
    remote_id: str,
    asked: Requested,
    runs_on: str,
    now: int,
) -> RunRow:
    """The engine executes the run (again: on every request): created now if nobody asked for it here
    (the engine's own schedule, an invoke), then queued -> running once. The run as it is now: a
    cancelled one stays cancelled (the caller stops it)."""
    row = runs.start_remote(conn, run_id, remote_id, now)
    if row is None:
        new = _new(conn, tenant, asked, asked.event_id, runs_on, now, run_id=run_id, remote_id=remote_id)
        runs.create_remote(conn, [new], if_absent=True)
        row = runs.start_remote(conn, run_id, remote_id, now)
        assert row is not None
    if row.tenant != tenant:
        raise LookupError(f"run {run_id!r} is another tenant's")
    return row


def record(conn: Connection, run_id: str, notes: Sequence[ActionNote | StepNote]) -> None:
    """Merge what the engine reported of the run's actions and their sub-steps into their records (see
    the module docstring), writing only the records that changed."""
    _record_steps(conn, run_id, [note for note in notes if isinstance(note, StepNote)])
    _record_actions(conn, run_id, [note for note in notes if isinstance(note, ActionNote)])


def _record_actions(conn: Connection, run_id: str, notes: Sequence[ActionNote]) -> None:
    if not notes:
        return
    ids = list(dict.fromkeys(note.record_id for note in notes))
    rows = conn.execute(A.select().where(A.c.run_id == run_id, A.c.action_id.in_(ids))).mappings().all()
    before = {row["action_id"]: dict(row) for row in rows}
    after = {key: dict(value) for key, value in before.items()}
    for note in notes:
        current = after.get(note.record_id)
        if current is None:
            current = after[note.record_id] = _pending(run_id, note.record_id)
        _apply(current, note)
    for action_id, row in after.items():
        if row == before.get(action_id):
            continue
        if action_id not in before:
            conn.execute(_insert_new(conn.dialect.name), [_pending(run_id, action_id)])
        values = {k: v for k, v in row.items() if k not in ("run_id", "action_id")}
        conn.execute(
            A.update()
            .where(A.c.run_id == run_id, A.c.action_id == action_id, A.c.status.not_in([s.value for s in ENDED]))
            .values(**values)
        )


def park(conn: Connection, run_id: str, status: RunStatus, now: int) -> None:
    """The engine holds the run until a time (sleeping) or an event (waiting) after this request."""
    runs.park_remote(conn, run_id, status, now)


def _record_steps(conn: Connection, run_id: str, notes: Sequence[StepNote]) -> None:
    if not notes:
        return
    actions = list(dict.fromkeys(note.record_id for note in notes))
    rows = conn.execute(S.select().where(S.c.run_id == run_id, S.c.action_id.in_(actions))).mappings().all()
    before = {(row["action_id"], row["position"]): dict(row) for row in rows}
    after = {key: dict(value) for key, value in before.items()}
    for note in notes:
        where = (note.record_id, note.position)
        current = after.get(where)
        if current is None:
            current = after[where] = {
                "run_id": run_id,
                "action_id": note.record_id,
                "position": note.position,
                "key": note.key,
                "kind": note.kind,
                "status": StepStatus.RUNNING.value,
                "output": None,
                "error": None,
                "attempts": [],
                "wake_at": None,
                "wait": None,
                "invoke": None,
            }
        _apply_step(current, note)
    ended = [s.value for s in STEPS_ENDED]
    for (action_id, position), row in after.items():
        if row == before.get((action_id, position)):
            continue
        if (action_id, position) not in before:
            conn.execute(_insert_step(conn.dialect.name), [{**row, "status": StepStatus.RUNNING.value}])
        values = {k: v for k, v in row.items() if k not in ("run_id", "action_id", "position")}
        conn.execute(
            S.update()
            .where(S.c.run_id == run_id, S.c.action_id == action_id, S.c.position == position, S.c.status.not_in(ended))
            .values(**values)
        )


def _apply_step(row: dict[str, Any], note: StepNote) -> None:
    """One note on one sub-step's row, forward only."""
    if StepStatus(row["status"]) in STEPS_ENDED:
        return
    if note.attempt is not None and note.attempt >= len(row["attempts"]):
        attempt = Attempt(note.attempt_started_at or note.at, note.at, note.error)
        row["attempts"] = [*row["attempts"], msgspec.to_builtins(attempt)]
    row["status"] = note.status.value
    if note.status in STEPS_ENDED:
        row["output"] = note.output
        row["error"] = msgspec.to_builtins(note.error) if note.error is not None else None


@cache
def _insert_step(dialect: str) -> Any:
    """Insert a sub-step's first record unless a concurrent request of the run did."""
    return (
        (postgresql if dialect == "postgresql" else sqlite)
        .insert(S)
        .on_conflict_do_nothing(index_elements=["run_id", "action_id", "position"])
    )


def finish(
    ctx: Context,
    conn: Connection,
    run_id: str,
    status: RunStatus,
    output: Any,
    error: dict[str, Any] | None,
    now: int,
) -> bool:
    """The engine ended the run (completed or failed); False if it had ended already (cancelled here).
    A run that failed before it started (its first request) starts now, to end."""
    run = runs.start_remote(conn, run_id, None, now)
    if run is None or run.status.terminal:
        return False
    return settle.finish_remote(ctx, conn, run, status, output, error, now)


def cancel(ctx: Context, conn: Connection, run_id: str, why: str, now: int) -> None:
    """The engine cancelled the run (a ``cancel`` option of its own): it shows cancelled."""
    settle.cancel(ctx, conn, [run_id], why, now)


def remote_runs(conn: Connection, tenant: str, run_ids: Sequence[str]) -> list[tuple[str, str | None]]:
    """Those of `run_ids` the engine executes: (run id, the engine's run id if it started)."""
    if not run_ids:
        return []
    rows = conn.execute(
        sa.select(R.c.id, R.c.remote_id).where(
            R.c.tenant == tenant, R.c.id.in_(list(run_ids)), R.c.runs_on.is_not(None)
        )
    ).all()
    return [(row.id, row.remote_id) for row in rows]


def unsent(conn: Connection, tenant: str, run_ids: Sequence[str]) -> list[tuple[str, Requested]]:
    """Those of `run_ids` that are the engine's, queued and not yet asked of it: each with what to ask."""
    if not run_ids:
        return []
    rows = conn.execute(
        sa.select(R.c.id, R.c.workflow_id, R.c.version_number, R.c.event, R.c.trigger).where(
            R.c.tenant == tenant,
            R.c.id.in_(list(run_ids)),
            R.c.runs_on.is_not(None),
            R.c.status == RunStatus.QUEUED.value,
            R.c.remote_event_id.is_(None),
        )
    ).all()
    return [
        (
            row.id,
            Requested(workflow_id=row.workflow_id, version=row.version_number, event=row.event, trigger=row.trigger),
        )
        for row in rows
        if row.version_number is not None
    ]


def _pending(run_id: str, action_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "action_id": action_id,
        "status": ActionStatus.PENDING.value,
        "inputs": None,
        "output": None,
        "error": None,
        "attempts": [],
        "started_at": None,
        "ended_at": None,
        "wake_at": None,
    }


def _apply(row: dict[str, Any], note: ActionNote) -> None:
    """One note on one action's row, forward only."""
    if ActionStatus(row["status"]) in ENDED:
        return
    if note.inputs is not None and row["inputs"] is None:
        row["inputs"] = note.inputs
    if note.attempt is not None and note.attempt >= len(row["attempts"]):
        attempt = Attempt(note.attempt_started_at or note.at, note.at, note.error)
        row["attempts"] = [*row["attempts"], msgspec.to_builtins(attempt)]
    if note.status is ActionStatus.SKIPPED:
        row.update(status=note.status.value)
        return
    if row["started_at"] is None:
        row["started_at"] = note.attempt_started_at or note.at
    row["status"] = note.status.value
    row["wake_at"] = note.wake_at
    if note.status in ENDED:
        row.update(output=note.output, ended_at=note.at)
        row["error"] = msgspec.to_builtins(note.error) if note.error is not None else None
        row["wake_at"] = None


@cache
def _insert_new(dialect: str) -> Any:
    """Insert an action's first record unless a concurrent request of the run did (parallel steps)."""
    return (
        (postgresql if dialect == "postgresql" else sqlite)
        .insert(A)
        .on_conflict_do_nothing(index_elements=["run_id", "action_id"])
    )
