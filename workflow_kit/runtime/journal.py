"""The worker's side of the database: claim due runs with a lease, load them, write their journal as
they go, and park or finish them.

Every write a worker makes for a run is fenced: it first checks, in the same transaction, that the
run is still ``running`` under the ``claim_seq`` this worker claimed. A worker whose lease expired (and
whose run another worker took over), or whose run was cancelled, gets `StaleRun` and stops; nothing
it does after that is recorded. Hence: a step's body runs at least once, its recorded output exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ErrorInfo
from ..events import normalize_event
from ..records import ActionRecord, StepRecord, StepStatus
from ..step import MAX_STEP_OUTPUT_BYTES
from . import schema
from .db import Database
from .ingest import Received, create_run, receive, wake
from .models import TERMINAL
from .rows import action_row, records_from_rows, step_row

R, A, S, WT, V, W = (
    schema.runs,
    schema.run_actions,
    schema.run_steps,
    schema.waits,
    schema.workflow_versions,
    schema.workflows,
)
MAX_SYSTEM_DEPTH = 3
_LOG = logging.getLogger("workflow_kit.runtime")


_FENCE = (
    R.update()
    .where(R.c.id == sa.bindparam("fence_run"), R.c.claim_seq == sa.bindparam("fence_seq"), R.c.status == "running")
    .values(updated_at=sa.bindparam("fence_now"))
)


class StaleRun(BaseException):
    """This worker no longer owns the run: its lease passed to another worker, or the run was cancelled."""


class ReloadRun(BaseException):
    """The run's state changed under this worker (an event won a race with a timeout): load it again."""


class JournalUnavailable(BaseException):
    """The database failed while recording the run; the run is retried later, not failed."""


@dataclass(frozen=True, slots=True)
class Claim:
    run_id: str
    seq: int


@dataclass
class LoadedRun:
    run_id: str
    tenant: str
    workflow_id: str
    version_id: str
    event: dict[str, Any]
    definition: dict[str, Any]
    settings: dict[str, Any]
    records: dict[str, ActionRecord]
    step_count: int


class RunJournalStore:
    """Claims, loads and journal writes for workers (sync; workers call it from a thread)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- claiming ----------------------------------------------------------------------------------

    def claim(self, owner: str, limit: int, lease_ms: int, now: int) -> list[Claim]:
        """Take up to `limit` due runs (queued, parked and due, or running with an expired lease)."""
        due = sa.select(R.c.id).where(R.c.due_at <= now, R.c.status.not_in(TERMINAL)).order_by(R.c.due_at).limit(limit)
        if self.db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        statement = (
            R.update()
            .where(R.c.id.in_(due.scalar_subquery()))
            .values(
                status="running",
                lease_owner=owner,
                due_at=now + lease_ms,
                claim_seq=R.c.claim_seq + 1,
                wake_requested=False,
                started_at=sa.func.coalesce(R.c.started_at, now),
                updated_at=now,
            )
            .returning(R.c.id, R.c.claim_seq)
        )
        with self.db.write() as conn:
            return [Claim(row.id, row.claim_seq) for row in conn.execute(statement).all()]

    def renew(self, claims: list[Claim], lease_ms: int, now: int) -> list[Claim]:
        """Extend the leases of runs being executed; returns the claims that were lost."""
        lost = []
        with self.db.write() as conn:
            for claim in claims:
                result = conn.execute(
                    R.update()
                    .where(R.c.id == claim.run_id, R.c.claim_seq == claim.seq, R.c.status == "running")
                    .values(due_at=now + lease_ms)
                )
                if not result.rowcount:
                    lost.append(claim)
        return lost

    def next_due(self) -> int | None:
        """The earliest time any run is due (an index scan)."""
        with self.db.read() as conn:
            value = conn.execute(sa.select(sa.func.min(R.c.due_at)).where(R.c.due_at.is_not(None))).scalar()
        return int(value) if value is not None else None

    # -- loading -----------------------------------------------------------------------------------

    def load(self, claim: Claim) -> LoadedRun:
        with self.db.read() as conn:
            run = conn.execute(R.select().where(R.c.id == claim.run_id)).mappings().one()
            if run["claim_seq"] != claim.seq or run["status"] != "running":
                raise StaleRun(claim.run_id)
            version = conn.execute(V.select().where(V.c.id == run["version_id"])).mappings().one()
            actions = conn.execute(A.select().where(A.c.run_id == claim.run_id)).mappings().all()
            steps = conn.execute(S.select().where(S.c.run_id == claim.run_id)).mappings().all()
        return LoadedRun(
            run_id=claim.run_id,
            tenant=run["tenant"],
            workflow_id=run["workflow_id"],
            version_id=run["version_id"],
            event=run["event"],
            definition=version["definition"],
            settings=version["settings"],
            records=records_from_rows(actions, steps),
            step_count=len(steps),
        )

    # -- journal writes ----------------------------------------------------------------------------

    def save_actions(self, claim: Claim, records: Sequence[ActionRecord], now: int) -> None:
        with self._fenced(claim, now) as conn:
            rows = []
            for record in records:
                row = action_row(claim.run_id, record)
                if record.status.suspended and record.wake_at is not None:
                    # An event or a finished child may have made the action due while it was running
                    # (ingest sets wake_at); parking must not push that back.
                    current = conn.execute(
                        sa.select(A.c.wake_at).where(A.c.run_id == claim.run_id, A.c.action_id == record.id)
                    ).scalar()
                    if current is not None and current < record.wake_at:
                        row["wake_at"] = current
                rows.append(row)
            self.db.upsert(conn, A, rows, ["run_id", "action_id"])

    def save_step(self, claim: Claim, tenant: str, action_id: str, position: int, record: StepRecord, now: int) -> None:
        with self._fenced(claim, now) as conn:
            self.db.upsert(
                conn, S, [step_row(claim.run_id, action_id, position, record)], ["run_id", "action_id", "position"]
            )
            wait_id = f"{claim.run_id}/{action_id}/{position}"
            if record.kind == "wait_for_event" and record.wait is not None:
                if record.status == StepStatus.WAITING:
                    self._open_wait(conn, wait_id, tenant, claim.run_id, action_id, position, record)
                elif record.status == StepStatus.COMPLETED and record.output is None:
                    timed_out = conn.execute(
                        WT.update().where(WT.c.id == wait_id, WT.c.status == "waiting").values(status="timed_out")
                    )
                    if not timed_out.rowcount:  # an event resolved it first: take the event instead
                        raise _Rollback(ReloadRun(claim.run_id))
            if record.kind == "invoke" and record.status == StepStatus.WAITING and record.invoke is not None:
                self._start_child(conn, claim, tenant, action_id, position, record, now)

    def send(self, claim: Claim, tenant: str, events: list[dict[str, Any]], now: int) -> Received:
        with self._fenced(claim, now) as conn:
            return receive(self.db, conn, tenant, events, now)

    # -- ending an execution -----------------------------------------------------------------------

    def park(self, claim: Claim, status: str, wake_at: int | None, now: int) -> None:
        """Hand the run back until `wake_at` (or at once if an event arrived meanwhile)."""
        with self.db.write() as conn:
            conn.execute(
                R.update()
                .where(R.c.id == claim.run_id, R.c.claim_seq == claim.seq, R.c.status == "running")
                .values(
                    status=status,
                    due_at=sa.case((R.c.wake_requested.is_(True), now), else_=wake_at),
                    wake_requested=False,
                    lease_owner=None,
                    updated_at=now,
                )
            )

    def release(self, claim: Claim, due_at: int, now: int) -> None:
        """Give the run back without changing it (a worker error or shutdown); it is claimed again."""
        with self.db.write() as conn:
            conn.execute(
                R.update()
                .where(R.c.id == claim.run_id, R.c.claim_seq == claim.seq, R.c.status == "running")
                .values(due_at=due_at, lease_owner=None, updated_at=now)
            )

    def finish(self, claim: Claim, status: str, output: Any, error: dict[str, Any] | None, now: int) -> Received:
        """Complete or fail the run: record it, close its waits, tell an invoking parent, emit the
        ``workflow/run.*`` system event."""
        with self._fenced(claim, now) as conn:
            run = conn.execute(R.select().where(R.c.id == claim.run_id)).mappings().one()
            return finish_run(self.db, conn, run, status, output, error, now)

    # -- internals ---------------------------------------------------------------------------------

    @contextmanager
    def _fenced(self, claim: Claim, now: int) -> Iterator[Connection]:
        """A write transaction that first proves this worker still owns the run."""
        try:
            with self.db.write() as conn:
                owned = conn.execute(_FENCE, {"fence_run": claim.run_id, "fence_seq": claim.seq, "fence_now": now})
                if not owned.rowcount:
                    raise _Rollback(StaleRun(claim.run_id))
                yield conn
        except _Rollback as rollback:
            raise rollback.signal from None
        except SQLAlchemyError as exc:
            raise JournalUnavailable(str(exc)) from exc

    def _open_wait(
        self,
        conn: Connection,
        wait_id: str,
        tenant: str,
        run_id: str,
        action_id: str,
        position: int,
        record: StepRecord,
    ) -> None:
        assert record.wait is not None and record.wake_at is not None
        self.db.insert_ignore(
            conn,
            WT,
            {
                "id": wait_id,
                "tenant": tenant,
                "run_id": run_id,
                "action_id": action_id,
                "position": position,
                "event_name": record.wait.event,
                "if_exp": record.wait.if_exp,
                "registered_at": record.wait.registered_at,
                "expires_at": record.wake_at,
                "status": "waiting",
            },
        )

    def _start_child(
        self, conn: Connection, claim: Claim, tenant: str, action_id: str, position: int, record: StepRecord, now: int
    ) -> None:
        invoke = record.invoke
        assert invoke is not None
        target = conn.execute(
            sa.select(W.c.id, V.c.id.label("version_id"), V.c.number)
            .join(V, sa.and_(V.c.workflow_id == W.c.id, V.c.number == W.c.published_version))
            .where(W.c.tenant == tenant, W.c.id == invoke.workflow_id)
        ).first()
        if target is None:
            error = ErrorInfo(name="NotFoundError", message=f"no published workflow {invoke.workflow_id!r} to invoke")
            step = sa.and_(S.c.run_id == claim.run_id, S.c.action_id == action_id, S.c.position == position)
            conn.execute(S.update().where(step).values(status="failed", error=msgspec.to_builtins(error), wake_at=None))
            conn.execute(A.update().where(A.c.run_id == claim.run_id, A.c.action_id == action_id).values(wake_at=now))
            conn.execute(R.update().where(R.c.id == claim.run_id).values(wake_requested=True))
            return
        exists = conn.execute(sa.select(R.c.id).where(R.c.id == invoke.run_id)).first()
        if exists is None:
            create_run(
                conn,
                tenant=tenant,
                workflow_id=target.id,
                version_id=target.version_id,
                version_number=target.number,
                event=normalize_event({"name": "workflow/invoked", "data": invoke.data}, now),
                event_id=None,
                now=now,
                run_id=invoke.run_id,
                parent_run_id=claim.run_id,
                parent_action_id=action_id,
                parent_step_position=position,
            )


def finish_run(
    db: Database, conn: Connection, run: Any, status: str, output: Any, error: dict[str, Any] | None, now: int
) -> Received:
    """End a run (completed, failed or cancelled) inside `conn`'s transaction."""
    if output is not None and len(msgspec.json.encode(output)) > MAX_STEP_OUTPUT_BYTES:
        _LOG.warning("run %s: its output is larger than 4 MB and is not stored", run["id"])
        output = None
    ended = conn.execute(
        R.update()
        .where(R.c.id == run["id"], R.c.status.not_in(TERMINAL))
        .values(
            status=status,
            output=output,
            error=error,
            ended_at=now,
            updated_at=now,
            due_at=None,
            lease_owner=None,
            wake_requested=False,
            claim_seq=R.c.claim_seq + 1,
        )
    )
    received = Received()
    if not ended.rowcount:  # it ended meanwhile (a worker finished it as it was being cancelled)
        return received
    conn.execute(WT.update().where(WT.c.run_id == run["id"], WT.c.status == "waiting").values(status="cancelled"))
    if run["parent_run_id"]:
        _resolve_parent(conn, run, status, output, error, now)
        received.woke = True
    if run["system_depth"] < MAX_SYSTEM_DEPTH:
        data: dict[str, Any] = {
            "run_id": run["id"],
            "workflow_id": run["workflow_id"],
            "workflow_version": run["version_number"],
            "status": status,
            "trigger": run["event"].get("name"),
        }
        if error is not None:
            data["error"] = error
        event = normalize_event({"name": f"workflow/run.{status}", "data": data}, now)
        received.merge(receive(db, conn, run["tenant"], [event], now, system_depth=run["system_depth"] + 1))
    return received


def _resolve_parent(
    conn: Connection, run: Any, status: str, output: Any, error: dict[str, Any] | None, now: int
) -> None:
    step = sa.and_(
        S.c.run_id == run["parent_run_id"],
        S.c.action_id == run["parent_action_id"],
        S.c.position == run["parent_step_position"],
        S.c.status == "waiting",
    )
    if status == "completed":
        values: dict[str, Any] = {"status": "completed", "output": output, "wake_at": None}
    else:
        failure = error or {"name": "Cancelled", "message": "the invoked run was cancelled"}
        info = {"name": "InvokeError", "message": f"the invoked run {run['id']} {status}: {failure.get('message', '')}"}
        values = {"status": "failed", "error": info, "wake_at": None}
    if conn.execute(S.update().where(step).values(**values)).rowcount:
        conn.execute(
            A.update()
            .where(A.c.run_id == run["parent_run_id"], A.c.action_id == run["parent_action_id"])
            .values(wake_at=now)
        )
        wake(conn, run["parent_run_id"], now)


class _Rollback(Exception):
    def __init__(self, signal: BaseException) -> None:
        self.signal = signal
