"""The worker's side of the database: claim due runs with a lease, load them, write their journal as
they go, and park or finish them.

Every write a worker makes for a run is fenced: it first checks, in the same transaction, that the
run is still ``running`` under the ``claim_seq`` this worker claimed. A worker whose lease expired (and
whose run another worker took over), or whose run was cancelled, gets `StaleRun` and stops; nothing
it does after that is recorded. Hence: a step's body runs at least once, its recorded output exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ErrorInfo
from ..events import normalize_event
from ..records import ActionRecord, StepRecord, StepStatus
from ..step import MAX_STEP_OUTPUT_BYTES
from . import schema, slots
from .db import Database, literals, one_of
from .direct import Direct
from .ingest import Received, create_run, receive, sent_once_key, wake
from .models import TERMINAL
from .rows import action_row, records_from_rows, step_row
from .schedules import NEXT_TICK, fire_due
from .wait_keys import wait_key
from .writer import Claim, Rollback, StaleRun, Upsert, WriteJob

__all__ = ["Claim", "ClaimBatch", "JournalUnavailable", "LoadedRun", "ReloadRun", "RunJournalStore", "StaleRun"]

R, A, S, WT, V, W = (
    schema.runs,
    schema.run_actions,
    schema.run_steps,
    schema.waits,
    schema.workflow_versions,
    schema.workflows,
)
MAX_SYSTEM_DEPTH = 10
"""How deep chains of runs started by ``workflow/run.*`` events go: a run that many links down a chain
emits no system event, so a workflow that reacts to its own failures stops instead of looping forever."""
_LOG = logging.getLogger("workflow_kit.runtime")


_RUN_FIELDS = (
    R.c.id,
    R.c.limits,
    R.c.started_at,
    R.c.start_by,
    R.c.batch,
    R.c.claim_seq,
    R.c.tenant,
    R.c.workflow_id,
    R.c.version_id,
    R.c.version_number,
    R.c.event,
    R.c.parent_run_id,
    R.c.parent_action_id,
    R.c.parent_step_position,
    R.c.system_depth,
)
_NEXT_DUE = sa.select(sa.func.min(R.c.due_at)).where(R.c.due_at.is_not(None))
_NEXT = Direct(sa.select(_NEXT_DUE.scalar_subquery(), NEXT_TICK))  # one round trip for both
_OWNED = sa.and_(R.c.id == sa.bindparam("run"), R.c.claim_seq == sa.bindparam("seq"), R.c.status == "running")
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
_RELEASE = R.update().where(_OWNED).values(due_at=sa.bindparam("due"), lease_owner=None, updated_at=sa.bindparam("now"))
_END_RUN = Direct(
    R.update()
    .where(R.c.id == sa.bindparam("run"), R.c.status.not_in(literals(TERMINAL)))
    .values(
        status=sa.bindparam("ended"),
        output=sa.bindparam("out", type_=R.c.output.type),
        error=sa.bindparam("err", type_=R.c.error.type),
        ended_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
        due_at=None,
        blocked_key=None,
        lease_owner=None,
        wake_requested=False,
        claim_seq=R.c.claim_seq + 1,
    )
)
_CLOSE_WAITS = (
    WT.update().where(WT.c.run_id == sa.bindparam("run"), WT.c.status == "waiting").values(status="cancelled")
)


FAIR_WINDOW = 4
"""A claim looks at this many times more due runs than it takes, to share them out among tenants."""


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


def fair_share(due: Sequence[Any], limit: int) -> list[Any]:
    """Up to `limit` of the due runs (in due order), taken round-robin across tenants: each tenant's
    oldest first, then each tenant's second, ..., so a tenant with a flood of runs due does not hold
    back the others'. Keeps due order within a tenant. Pure."""
    ranks: dict[str, int] = {}
    ranked = []
    for position, row in enumerate(due):
        rank = ranks.get(row.tenant, 0)
        ranks[row.tenant] = rank + 1
        ranked.append((rank, position, row))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in ranked[:limit]]


@cache
def _journals_of(dialect: str) -> tuple[Direct, Direct]:
    """The action and step rows of the runs ``:ids``."""
    return (
        Direct(A.select().where(one_of(dialect, A.c.run_id, "ids"))),
        Direct(S.select().where(one_of(dialect, S.c.run_id, "ids"))),
    )


@cache
def _renew_statement(dialect: str) -> Direct:
    """Extend the leases of the runs ``:ids``. On PostgreSQL a run whose row is locked is skipped: the
    lock is a write of its worker's (another lane of the writer) or of an event waking it, and the next
    heartbeat renews it; waiting for it could deadlock with a lane that locked the runs in another order."""
    ids = one_of(dialect, R.c.id, "ids")
    if dialect == "postgresql":
        unlocked = sa.select(R.c.id).where(ids, R.c.status == "running")
        ids = R.c.id.in_(unlocked.with_for_update(skip_locked=True, key_share=True).scalar_subquery())
    return Direct(R.update().where(ids).values(due_at=sa.bindparam("lease_until")))


@cache
def _claim_statement(dialect: str) -> Direct:
    """Claim the runs ``:ids``: running, under a new lease, claim_seq + 1."""
    return Direct(
        R.update()
        .where(one_of(dialect, R.c.id, "ids"))
        .values(
            status="running",
            lease_owner=sa.bindparam("owner"),
            due_at=sa.bindparam("lease_until"),
            claim_seq=R.c.claim_seq + 1,
            wake_requested=False,
            started_at=sa.func.coalesce(R.c.started_at, sa.bindparam("now")),
            # a start timeout is over once the run starts; returned only if the run is too late
            start_by=sa.case((R.c.start_by <= sa.bindparam("now"), R.c.start_by), else_=None),
            updated_at=sa.bindparam("now"),
        )
        .returning(
            *_RUN_FIELDS,
            # whether the run may have a journal: claimed before, or a rerun that kept its original's
            sa.or_(R.c.claim_seq > 1, R.c.rerun_of.is_not(None)).label("resumed"),
        )
    )


T = TypeVar("T")


class ReloadRun(BaseException):
    """The run's state changed under this worker (an event won a race with a timeout): load it again."""


class JournalUnavailable(BaseException):
    """The database failed while recording the run; the run is retried later, not failed."""


@dataclass
class LoadedRun:
    """A claimed run, as a worker needs it: the run's row and what its journal holds."""

    claim: Claim
    row: dict[str, Any]
    records: dict[str, ActionRecord]
    step_count: int

    @property
    def run_id(self) -> str:
        return self.claim.run_id

    @property
    def tenant(self) -> str:
        return str(self.row["tenant"])

    @property
    def version_id(self) -> str:
        return str(self.row["version_id"])

    @property
    def event(self) -> dict[str, Any]:
        return dict(self.row["event"])


@dataclass(frozen=True)
class ClaimBatch:
    runs: list[LoadedRun]
    next_due: int | None
    """After this claim, the earliest time any other run is due."""
    next_tick: int | None = None
    """After this claim, the earliest tick of any cron workflow."""


_ACTION_KEYS = ("run_id", "action_id")
_STEP_KEYS = ("run_id", "action_id", "position")


class RunJournalStore:
    """Claims, loads and journal writes for workers, through the database's group-commit writer."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- claiming ----------------------------------------------------------------------------------

    async def claim(self, owner: str, limit: int, lease_ms: int, now: int, *, fire: bool = False) -> ClaimBatch:
        """Take up to `limit` due runs (queued, parked and due, or running with an expired lease) and
        load them, in one transaction; first, with `fire`, fire the cron ticks that are due (their
        runs may be among those taken)."""
        return await self._submit(WriteJob(apply=lambda conn: self._claim(conn, owner, limit, lease_ms, now, fire)))

    def _claim(self, conn: Connection, owner: str, limit: int, lease_ms: int, now: int, fire: bool) -> ClaimBatch:
        runs: list[LoadedRun] = []
        if fire:
            fire_due(conn, now)
        if limit > 0:
            due = self._due(conn, limit, now)
            ids = [row.id for row in due]
            if any(row.limits for row in due):
                ids = slots.admit(conn, due, now)
            rows: list[dict[str, Any]] = []
            if ids:
                params = {"now": now, "ids": ids, "owner": owner, "lease_until": now + lease_ms}
                rows = [row._asdict() for row in _claim_statement(self.db.dialect).rows(conn, params)]
            actions: list[dict[str, Any]] = []
            steps: list[dict[str, Any]] = []
            resumed = {"ids": [row["id"] for row in rows if row["resumed"]]}
            if resumed["ids"]:  # a run that never started has no journal yet
                actions_of, steps_of = _journals_of(self.db.dialect)
                actions = [row._asdict() for row in actions_of.rows(conn, resumed)]
                steps = [row._asdict() for row in steps_of.rows(conn, resumed)]
            for row in rows:
                run_id = row["id"]
                own_steps = [s for s in steps if s["run_id"] == run_id]
                runs.append(
                    LoadedRun(
                        claim=Claim(run_id, row["claim_seq"]),
                        row=row,
                        records=records_from_rows([a for a in actions if a["run_id"] == run_id], own_steps),
                        step_count=len(own_steps),
                    )
                )
        ((next_due, next_tick),) = _NEXT.rows(conn, {})
        return ClaimBatch(runs, _int(next_due), _int(next_tick))

    def _due(self, conn: Connection, limit: int, now: int) -> list[Any]:
        """The due runs to claim, at most `limit`, shared out fairly among tenants (`fair_share`). If
        one tenant holds the whole window of earliest due runs, the earliest of the other tenants are
        looked up too (a flood would otherwise hide them until it drains)."""
        window = limit * FAIR_WINDOW
        dialect = self.db.dialect
        due = _due_statement(dialect).rows(conn, {"now": now, "claim_limit": window})
        tenants = {row.tenant for row in due}
        if len(due) == window and len(tenants) == 1:
            params = {"now": now, "claim_limit": limit, "tenant": due[0].tenant}
            due += _due_statement(dialect, others=True).rows(conn, params)
        return fair_share(due, limit) if len(tenants) > 1 or len(due) > window else due[:limit]

    async def renew(self, claims: list[Claim], lease_ms: int, now: int) -> list[Claim]:
        """Extend the leases of runs being executed; returns the claims that were lost."""

        def apply(conn: Connection) -> list[Claim]:
            owned = self.db.owners(conn, [claim.run_id for claim in claims], lock=False)
            held = [claim.run_id for claim in claims if owned.get(claim.run_id) == claim.seq]
            if held:
                _renew_statement(self.db.dialect).run(conn, {"ids": held, "lease_until": now + lease_ms})
            return [claim for claim in claims if owned.get(claim.run_id) != claim.seq]

        return await self._submit(WriteJob(apply=apply))

    def next_due(self) -> int | None:
        """The earliest time a worker has something to do: a run is due or a cron workflow ticks (two
        index lookups)."""
        with self.db.read() as conn:
            ((due, tick),) = _NEXT.rows(conn, {})
            times = [value for value in (due, tick) if value is not None]
        return int(min(times)) if times else None

    def versions(self, version_ids: Sequence[str]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        """Definitions and settings of workflow versions (immutable: workers cache them)."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(V.c.id, V.c.definition, V.c.settings).where(V.c.id.in_(list(version_ids)))
            ).all()
        return {row.id: (row.definition, row.settings) for row in rows}

    # -- journal writes ----------------------------------------------------------------------------

    async def save_actions(self, claim: Claim, records: Sequence[ActionRecord]) -> None:
        rows = [Upsert(A, _ACTION_KEYS, action_row(claim.run_id, record)) for record in records]
        parking = [r.id for r in records if r.status.suspended and r.wake_at is not None]
        if not parking:
            await self._submit(WriteJob(fence=claim, rows=rows))
            return

        def keep_earlier_wakes(conn: Connection) -> None:
            # An event or a finished child may have made an action due while it was running (ingest
            # sets wake_at); parking must not push that back.
            current = dict(
                conn.execute(
                    sa.select(A.c.action_id, A.c.wake_at).where(A.c.run_id == claim.run_id, A.c.action_id.in_(parking))
                ).all()
            )
            for upsert in rows:
                earlier = current.get(upsert.row["action_id"])
                if earlier is not None and upsert.row["wake_at"] is not None and earlier < upsert.row["wake_at"]:
                    upsert.row["wake_at"] = earlier
            self.db.upsert(conn, A, [upsert.row for upsert in rows], _ACTION_KEYS)

        await self._submit(WriteJob(fence=claim, apply=keep_earlier_wakes))

    async def save_step(self, run: LoadedRun, action_id: str, position: int, record: StepRecord, now: int) -> None:
        claim, tenant = run.claim, run.tenant
        row = step_row(claim.run_id, action_id, position, record)
        wait_id = f"{claim.run_id}/{action_id}/{position}"
        if record.kind == "wait_for_event" and record.wait is not None:
            if record.status == StepStatus.WAITING:

                def open_wait(conn: Connection) -> None:
                    self.db.upsert(conn, S, [row], _STEP_KEYS)
                    self._open_wait(conn, wait_id, run, action_id, position, record)

                await self._submit(WriteJob(fence=claim, apply=open_wait))
                return
            if record.status == StepStatus.COMPLETED and record.output is None:

                def time_out(conn: Connection) -> None:
                    timed_out = conn.execute(
                        WT.update().where(WT.c.id == wait_id, WT.c.status == "waiting").values(status="timed_out")
                    )
                    if not timed_out.rowcount:  # an event resolved it first: take the event instead
                        raise Rollback(ReloadRun(claim.run_id))
                    self.db.upsert(conn, S, [row], _STEP_KEYS)

                await self._submit(WriteJob(fence=claim, apply=time_out))
                return
        if record.kind == "invoke" and record.status == StepStatus.WAITING and record.invoke is not None:

            def start_child(conn: Connection) -> None:
                self.db.upsert(conn, S, [row], _STEP_KEYS)
                self._start_child(conn, claim, tenant, action_id, position, record, now)

            await self._submit(WriteJob(fence=claim, apply=start_child))
            return
        await self._submit(WriteJob(fence=claim, rows=[Upsert(S, _STEP_KEYS, row)]))

    async def send(
        self, claim: Claim, tenant: str, action_id: str, step_key: str, events: list[dict[str, Any]], now: int
    ) -> Received:
        """The events of a ``send_event`` step. Each is keyed by the run, the step and its position: sent
        again by a worker that took the run over, it is not stored again and gives the first one's id."""
        keys = [sent_once_key(claim.run_id, action_id, step_key, i) for i in range(len(events))]
        return await self._submit(
            WriteJob(fence=claim, apply=lambda conn: receive(self.db, conn, tenant, events, now, once=keys))
        )

    # -- ending an execution -----------------------------------------------------------------------

    async def park(self, run: LoadedRun, status: str, wake_at: int | None, now: int) -> None:
        """Hand the run back until `wake_at` (or at once if an event arrived meanwhile); a parked run
        gives its concurrency slots back."""
        claim = run.claim
        params = {"run": claim.run_id, "seq": claim.seq, "parked": status, "wake_at": wake_at, "now": now}

        def apply(conn: Connection) -> None:
            parked = conn.execute(_PARK, params)
            if parked.rowcount and run.row.get("limits"):
                slots.release(conn, claim.run_id, now)

        await self._submit(WriteJob(apply=apply))

    async def release(self, claim: Claim, due_at: int, now: int) -> None:
        """Give the run back without changing it (a worker error or shutdown); it is claimed again."""
        params = {"run": claim.run_id, "seq": claim.seq, "due": due_at, "now": now}
        await self._submit(WriteJob(apply=lambda conn: _execute(conn, _RELEASE, params)))

    async def finish(
        self, run: LoadedRun, status: str, output: Any, error: dict[str, Any] | None, now: int, *, waited: bool
    ) -> Received:
        """Complete or fail the run: record it, close its waits (`waited`: it has a wait_for_event step),
        tell an invoking parent, emit the ``workflow/run.*`` system event."""

        def apply(conn: Connection) -> Received:
            return finish_run(self.db, conn, run.row, status, output, error, now, waited=waited)

        return await self._submit(WriteJob(fence=run.claim, apply=apply))

    async def cancel(self, run: LoadedRun, why: str, now: int) -> Received:
        """Cancel a claimed run (a timeout): it runs no further step."""
        error = {"name": "Cancelled", "message": f"the run was cancelled: {why}"}

        def apply(conn: Connection) -> Received:
            return finish_run(self.db, conn, run.row, "cancelled", None, error, now)

        return await self._submit(WriteJob(fence=run.claim, apply=apply))

    # -- internals ---------------------------------------------------------------------------------

    async def _submit(self, job: WriteJob[T]) -> T:
        try:
            return await self.db.writer.submit(job)
        except SQLAlchemyError as exc:
            raise JournalUnavailable(str(exc)) from exc

    def _open_wait(
        self, conn: Connection, wait_id: str, run: LoadedRun, action_id: str, position: int, record: StepRecord
    ) -> None:
        assert record.wait is not None and record.wake_at is not None
        self.db.insert_ignore(
            conn,
            WT,
            {
                "id": wait_id,
                "tenant": run.tenant,
                "run_id": run.run_id,
                "action_id": action_id,
                "position": position,
                "event_name": record.wait.event,
                "if_exp": record.wait.if_exp,
                "match_key": wait_key(record.wait.if_exp, run.row["event"]),
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


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _execute(conn: Connection, statement: sa.Executable, params: dict[str, Any]) -> None:
    conn.execute(statement, params)


def finish_run(
    db: Database,
    conn: Connection,
    run: Any,
    status: str,
    output: Any,
    error: dict[str, Any] | None,
    now: int,
    *,
    waited: bool = True,
) -> Received:
    """End a run (completed, failed or cancelled) inside `conn`'s transaction. `waited`: whether the run
    may have opened a wait for an event (its open waits are closed); False skips that."""
    if output is not None and len(msgspec.json.encode(output)) > MAX_STEP_OUTPUT_BYTES:
        _LOG.warning("run %s: its output is larger than 4 MB and is not stored", run["id"])
        output = None
    ended = _END_RUN.run(conn, {"run": run["id"], "ended": status, "out": output, "err": error, "now": now})
    received = Received()
    if not ended:  # it ended meanwhile (a worker finished it as it was being cancelled)
        return received
    if waited:
        conn.execute(_CLOSE_WAITS, {"run": run["id"]})
    if run.get("limits"):
        slots.release(conn, run["id"], now)
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
