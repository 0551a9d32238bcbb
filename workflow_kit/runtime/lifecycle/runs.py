"""A run's life: the one module that writes ``wk_runs``, and the state machine of its ``status``.

Every change of a run's status is a transition named here (create, claim, block, park, end, dismiss), made by a
conditional update whose ``WHERE status IN (...)`` is derived from `TRANSITIONS` (and checked against
it when the statement is built: a transition the table does not allow raises `IllegalTransition`).
The other writes to a run (its lease, a wake-up, the event of a debounced run) change no status and
live here too, so that what a run can become is read in one place. tests/test_lifecycle_runs.py checks
that no other module of the package writes ``wk_runs.status``.

A transition's consequences (its slots freed, its waits closed, its parent woken, its
``workflow/run.*`` event) are not acted on here: they go onto the caller's `Worklist`, which
`settle.py` works through in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ...step import MAX_STEP_OUTPUT_BYTES
from ..models import RunStatus
from ..storage import schema
from ..storage.announce import announce_due
from ..storage.db import literals, one_of
from ..storage.direct import Direct
from ..storage.rows import RUN_ROW_COLUMNS, NewRun, RunRow
from ..storage.writer import Claim
from .effects import AnnounceEnd, CloseWaits, FreeSlots, ResolveParent, Worklist

QUEUED, RUNNING, SLEEPING, WAITING = RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.SLEEPING, RunStatus.WAITING
COMPLETED, FAILED, CANCELLED = RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED

TRANSITIONS: dict[RunStatus | None, frozenset[RunStatus]] = {
    None: frozenset({QUEUED}),  # created: every run starts queued
    QUEUED: frozenset({RUNNING, QUEUED, CANCELLED}),  # claimed; blocked on a full slot; cancelled
    # parked; ended; claimed again by another worker after its lease expired (and, in principle,
    # blocked then: it keeps the slots it holds, so it never is)
    RUNNING: frozenset({SLEEPING, WAITING, COMPLETED, FAILED, CANCELLED, RUNNING, QUEUED}),
    SLEEPING: frozenset({RUNNING, QUEUED, CANCELLED}),  # due again: claimed, or blocked; cancelled
    WAITING: frozenset({RUNNING, QUEUED, CANCELLED}),
    COMPLETED: frozenset(),
    FAILED: frozenset({CANCELLED}),  # dismissed: an operator gives up on a failed run (see `dismiss`)
    CANCELLED: frozenset(),
}
"""Each status and the statuses a run in it may go to (None: a run not created yet)."""

OPEN = tuple(status for status in RunStatus if not status.terminal)
"""The statuses of a run that has not ended."""

R = schema.runs
_LOG = logging.getLogger("workflow_kit.runtime")


class IllegalTransition(RuntimeError):
    """A change of status that `TRANSITIONS` does not allow."""


def check(source: RunStatus | None, target: RunStatus) -> None:
    """Refuse a transition `TRANSITIONS` does not allow."""
    if target not in TRANSITIONS[source]:
        raise IllegalTransition(f"a run cannot go from {source or 'nothing'} to {target}")


def _from(sources: Iterable[RunStatus], target: RunStatus) -> sa.ColumnElement[bool]:
    """``status IN (sources)``: the condition of an update to `target`, each source checked."""
    names = []
    for source in sources:
        check(source, target)
        names.append(source.value)
    return R.c.status == literals(names)[0] if len(names) == 1 else R.c.status.in_(literals(names))


# -- create -------------------------------------------------------------------------------------------

_INSERT = R.insert()


def create(conn: Connection, runs: Sequence[NewRun]) -> None:
    """Insert new runs, queued; the workers of every process hear that runs are due."""
    if not runs:
        return
    check(None, QUEUED)
    conn.execute(_INSERT, [run.values(QUEUED) for run in runs])
    announce_due(conn)


def create_remote(conn: Connection, runs: Sequence[NewRun], *, if_absent: bool = False) -> None:
    """Insert runs another engine executes (Inngest: ``runs_on``), queued and never due: no worker claims
    them; `start_remote` and `end` record what that engine reports. `if_absent`: a run whose id exists
    is left as it is (two requests of the engine's may create it at once)."""
    if not runs:
        return
    check(None, QUEUED)
    rows = []
    for run in runs:
        assert run.runs_on is not None, "a remote run says where it runs"
        rows.append({**run.values(QUEUED), "due_at": None})
    if if_absent:
        conn.execute(_insert_absent(conn.dialect.name), rows)
    else:
        conn.execute(_INSERT, rows)


@cache
def _insert_absent(dialect: str) -> Any:
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(R)
    return insert.on_conflict_do_nothing(index_elements=["id"])


_START_REMOTE = (
    R.update()
    .where(R.c.id == sa.bindparam("run"), R.c.runs_on.is_not(None), _from((QUEUED, SLEEPING, WAITING), RUNNING))
    .values(
        status=RUNNING.value,
        started_at=sa.func.coalesce(R.c.started_at, sa.bindparam("now")),
        remote_id=sa.func.coalesce(R.c.remote_id, sa.bindparam("remote")),
        updated_at=sa.bindparam("now"),
    )
)


def start_remote(conn: Connection, run_id: str, remote_id: str | None, now: int) -> RunRow | None:
    """A remote run's engine executes it: queued (or parked) -> running (a replay changes nothing, and
    a cancelled run stays cancelled); the run as it is now (None if there is none)."""
    conn.execute(_START_REMOTE, {"run": run_id, "remote": remote_id, "now": now})
    row = conn.execute(R.select().where(R.c.id == run_id, R.c.runs_on.is_not(None))).mappings().first()
    return None if row is None else RunRow.of(row)


_PARK_REMOTE = R.update().where(R.c.id == sa.bindparam("run"), R.c.runs_on.is_not(None))


def park_remote(conn: Connection, run_id: str, status: RunStatus, now: int) -> None:
    """A remote run's engine holds it until a time or an event (sleeping, waiting): running -> `status`.
    It stays never due (the engine wakes it)."""
    statement = _PARK_REMOTE.where(_from((RUNNING,), status))
    conn.execute(statement.values(status=status.value, updated_at=now), {"run": run_id})


def remote_sent(conn: Connection, sent: Sequence[tuple[str, str]]) -> None:
    """Record the id the remote engine gave each run's request: (run id, its event id there)."""
    for run_id, event_id in sent:
        conn.execute(R.update().where(R.c.id == run_id, R.c.runs_on.is_not(None)).values(remote_event_id=event_id))


# -- claim, block, lease ------------------------------------------------------------------------------


@cache
def _claim_statement(dialect: str) -> Direct:
    """Claim the runs ``:ids``: running, under a new lease, claim_seq + 1."""
    return Direct(
        R.update()
        .where(one_of(dialect, R.c.id, "ids"), _from(OPEN, RUNNING), R.c.runs_on.is_(None))
        .values(
            status=RUNNING.value,
            lease_owner=sa.bindparam("owner"),
            due_at=sa.bindparam("lease_until"),
            claim_seq=R.c.claim_seq + 1,
            wake_requested=False,
            started_at=sa.func.coalesce(R.c.started_at, sa.bindparam("now")),
            # a start timeout is over once the run starts; kept only if the run is too late
            start_by=sa.case((R.c.start_by <= sa.bindparam("now"), R.c.start_by), else_=None),
            updated_at=sa.bindparam("now"),
        )
        # start_by and rerun_of themselves, tested here rather than in SQL: SQLite 3.40 reports
        # ``column IS NOT NULL`` in a RETURNING clause as true for a NULL column
        .returning(*(R.c[name] for name in RUN_ROW_COLUMNS), R.c.start_by, R.c.rerun_of)
    )


def claim(
    conn: Connection, dialect: str, ids: list[str], owner: str, lease_until: int, now: int
) -> list[tuple[RunRow, bool]]:
    """Claim the due runs `ids` for `owner` until `lease_until`: each run, and whether it may have a
    journal already (it was claimed before)."""
    params = {"now": now, "ids": ids, "owner": owner, "lease_until": lease_until}
    claimed = []
    for row in _claim_statement(dialect).rows(conn, params):
        run = msgspec.structs.replace(RunRow.of(row), late=row.start_by is not None)
        # it may have a journal if it was claimed before, or is a rerun that kept its original's
        claimed.append((run, row.claim_seq > 1 or row.rerun_of is not None))
    return claimed


_BLOCK = R.update().where(R.c.id == sa.bindparam("run"), _from(OPEN, QUEUED))


def block(conn: Connection, run_id: str, key: str, due_at: int | None, now: int) -> None:
    """Queue a due run until a slot of `key` frees up (`due_at`: its start deadline, so a start timeout
    still fires)."""
    conn.execute(
        _BLOCK.values(status=QUEUED.value, due_at=due_at, blocked_key=key, lease_owner=None, updated_at=now),
        {"run": run_id},
    )


def unblock_oldest(conn: Connection, key: str, now: int) -> None:
    """The run blocked longest on `key` becomes due now (a slot of `key` was freed)."""
    oldest = (
        sa.select(R.c.id)
        .where(R.c.blocked_key == key, R.c.status.not_in(literals([s.value for s in RunStatus if s.terminal])))
        .order_by(R.c.created_at, R.c.id)
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(R.update().where(R.c.id == oldest).values(due_at=now, blocked_key=None))


_OWNED = sa.and_(R.c.id == sa.bindparam("run"), R.c.claim_seq == sa.bindparam("seq"), R.c.status == RUNNING.value)
_RELEASE = R.update().where(_OWNED).values(due_at=sa.bindparam("due"), lease_owner=None, updated_at=sa.bindparam("now"))


def release(conn: Connection, claim: Claim, due_at: int, now: int) -> None:
    """Give a claimed run back unchanged (a worker error or shutdown): it is claimed again at `due_at`."""
    conn.execute(_RELEASE, {"run": claim.run_id, "seq": claim.seq, "due": due_at, "now": now})


@cache
def _renew_statement(dialect: str) -> Direct:
    """Extend the leases of the runs ``:ids``. On PostgreSQL a run whose row is locked is skipped: the
    lock is a write of its worker's (another lane of the writer) or of an event waking it, and the next
    heartbeat renews it; waiting for it could deadlock with a lane that locked the runs in another order."""
    ids = one_of(dialect, R.c.id, "ids")
    if dialect == "postgresql":
        unlocked = sa.select(R.c.id).where(ids, R.c.status == RUNNING.value)
        ids = R.c.id.in_(unlocked.with_for_update(skip_locked=True, key_share=True).scalar_subquery())
    return Direct(R.update().where(ids).values(due_at=sa.bindparam("lease_until")))


def renew(conn: Connection, dialect: str, run_ids: list[str], lease_until: int) -> None:
    """Extend the leases of runs their workers still hold."""
    _renew_statement(dialect).run(conn, {"ids": run_ids, "lease_until": lease_until})


# -- park and wake ------------------------------------------------------------------------------------

_PARK = (
    R.update()
    .where(_OWNED)
    .values(
        status=sa.bindparam("parked"),
        due_at=sa.case((R.c.wake_requested.is_(True), sa.bindparam("now")), else_=sa.bindparam("wake_at")),
        wake_requested=False,
        lease_owner=None,
        updated_at=sa.bindparam("now"),
    )
)


def park(
    conn: Connection, work: Worklist, run: RunRow, claim: Claim, status: RunStatus, wake_at: int | None, now: int
) -> bool:
    """Hand a running run back until `wake_at` (at once if a wake-up came meanwhile), sleeping or
    waiting; it gives its concurrency slots back. False if the claim no longer holds it."""
    check(RUNNING, status)
    params = {"run": claim.run_id, "seq": claim.seq, "parked": status.value, "wake_at": wake_at, "now": now}
    parked = bool(conn.execute(_PARK, params).rowcount)
    if parked and run.limits:
        work.push(FreeSlots(run.id))
    return parked


_WAKE = (
    R.update()
    .where(R.c.id == sa.bindparam("run"), R.c.status.in_(literals([s.value for s in OPEN])))
    .values(
        due_at=sa.case(
            (R.c.status.in_(literals([QUEUED.value, SLEEPING.value, WAITING.value])), sa.bindparam("now")),
            else_=R.c.due_at,
        ),
        wake_requested=True,
    )
)


def wake(conn: Connection, run_id: str, now: int) -> None:
    """Make a parked run due now; a running one looks again when it parks (``wake_requested``)."""
    conn.execute(_WAKE, {"run": run_id, "now": now})
    announce_due(conn)


def request_wake(conn: Connection, run_id: str) -> None:
    """The running run looks again when it parks (a step of its own resolved while it ran)."""
    conn.execute(R.update().where(R.c.id == run_id).values(wake_requested=True))


# -- before a run starts: flow control ----------------------------------------------------------------

_NOT_STARTED = sa.and_(R.c.status == QUEUED.value, R.c.started_at.is_(None))


def join_debounced(
    conn: Connection,
    run_id: str,
    event: dict[str, Any],
    event_id: str,
    due_at: int,
    now: int,
    trigger: dict[str, Any] | None = None,
) -> bool:
    """A debounced run that has not started takes a newer event (and the trigger it matched) and a later
    start. False if it started."""
    moved = conn.execute(
        R.update()
        .where(R.c.id == run_id, _NOT_STARTED)
        .values(event=event, event_id=event_id, trigger=trigger, due_at=due_at, updated_at=now)
    )
    return bool(moved.rowcount)


def batch_of(conn: Connection, run_id: str) -> list[Any] | None:
    """The events a batch run that has not started holds (None if it started)."""
    row = conn.execute(sa.select(R.c.batch).where(R.c.id == run_id, _NOT_STARTED)).first()
    return None if row is None else list(row.batch or [])


def join_batch(conn: Connection, run_id: str, events: list[Any], due_at: int | None, now: int) -> None:
    """A batch run takes its events so far (and is due at `due_at` once it is full)."""
    values: dict[str, Any] = {"batch": events, "updated_at": now}
    if due_at is not None:
        values["due_at"] = due_at
    conn.execute(R.update().where(R.c.id == run_id).values(**values))


# -- end ----------------------------------------------------------------------------------------------


def keep_until(conn: Connection, run_ids: Sequence[str], expires_at: int) -> None:
    """Postpone the deletion of expired runs still referenced (an open child, parent or wait), to be
    looked at again at `expires_at`."""
    if run_ids:
        conn.execute(R.update().where(R.c.id.in_(list(run_ids))).values(expires_at=expires_at))


def purge(conn: Connection, run_ids: Sequence[str]) -> None:
    """Delete ended runs whose time is up (their actions, steps and waits are `retention.py`'s)."""
    if run_ids:
        conn.execute(R.delete().where(R.c.id.in_(list(run_ids)), R.c.ended_at.is_not(None)))


@cache
def _end_statement(target: RunStatus) -> Direct:
    """End a run as `target`: completed and failed from running (a worker's, fenced by its claim),
    cancelled from any status that is not an end."""
    sources = OPEN if target is CANCELLED else (RUNNING,)
    return Direct(
        R.update()
        .where(R.c.id == sa.bindparam("run"), _from(sources, target))
        .values(
            status=target.value,
            output=sa.bindparam("out", type_=R.c.output.type),
            error=sa.bindparam("err", type_=R.c.error.type),
            ended_at=sa.bindparam("now"),
            updated_at=sa.bindparam("now"),
            expires_at=sa.bindparam("expires"),
            due_at=None,
            blocked_key=None,
            lease_owner=None,
            wake_requested=False,
            claim_seq=R.c.claim_seq + 1,
        )
    )


def end(
    conn: Connection,
    work: Worklist,
    run: RunRow,
    status: RunStatus,
    output: Any,
    error: dict[str, Any] | None,
    now: int,
    *,
    keep_ms: int,
    waited: bool = True,
) -> bool:
    """End a run (completed, failed or cancelled); False if it had ended already (a worker finished it
    as it was being cancelled). `waited`: whether it may have opened a wait for an event (closed now).
    `keep_ms`: how long it is kept from now (see rules/retention.py)."""
    if output is not None and len(msgspec.json.encode(output)) > MAX_STEP_OUTPUT_BYTES:
        _LOG.warning("run %s: its output is larger than 4 MB and is not stored", run.id)
        output = None
    params = {"run": run.id, "out": output, "err": error, "now": now, "expires": now + keep_ms}
    if not _end_statement(status).run(conn, params):
        return False
    if waited:
        work.push(CloseWaits(run.id))
    if run.limits:
        work.push(FreeSlots(run.id))
    if run.parent_run_id:
        work.push(ResolveParent(run, status.value, output, error))
    work.push(AnnounceEnd(run, status.value, error))
    return True


def dismissed_error(error: dict[str, Any] | None, why: str | None) -> dict[str, Any]:
    """The error of a failed run once it is dismissed: it says so, and keeps the failure as its ``cause``."""
    head = f"the run was cancelled after it failed ({why})" if why else "the run was cancelled after it failed"
    message = (error or {}).get("message")
    return {"name": "Cancelled", "message": f"{head}: {message}" if message else head, "cause": error}


def dismiss(conn: Connection, run_ids: Sequence[str], why: str | None, now: int) -> list[RunRow]:
    """Dismiss the failed runs of `run_ids`: an operator gives up on them (after an outage, say), so they
    become cancelled and no longer count as failed; they can still be rerun. Each keeps its end, its
    expiry, its output and its steps; its error says it was cancelled and keeps the failure as its
    ``cause`` (`dismissed_error`). Nothing follows: its slots, waits and parent were settled, and its
    ``workflow/run.failed`` event sent, when it failed. Completed, cancelled and open runs stay as they
    are. The runs dismissed now (one conditional update: a run dismissed meanwhile is not among them)."""
    if not run_ids:
        return []
    failed = conn.execute(sa.select(R.c.id, R.c.error).where(R.c.id.in_(list(run_ids)), R.c.status == FAILED.value))
    errors = {row.id: dismissed_error(row.error, why) for row in failed}
    if not errors:
        return []
    error = sa.case(
        {run_id: sa.bindparam(None, value, type_=R.c.error.type) for run_id, value in errors.items()}, value=R.c.id
    )
    statement = (
        R.update()
        .where(R.c.id.in_(list(errors)), _from((FAILED,), CANCELLED))
        .values(status=CANCELLED.value, error=error, updated_at=now)
        .returning(*(R.c[name] for name in RUN_ROW_COLUMNS))
    )
    return [RunRow.of(row) for row in conn.execute(statement).mappings()]


_OPEN_ROWS = R.select().where(R.c.status.in_(literals([s.value for s in OPEN])))


def open_runs(conn: Connection, run_ids: Sequence[str]) -> list[RunRow]:
    """Those of `run_ids` that have not ended."""
    return [RunRow.of(row) for row in conn.execute(_OPEN_ROWS.where(R.c.id.in_(list(run_ids)))).mappings()]
