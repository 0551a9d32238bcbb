"""The worker's side of the database: claims (see claims.py), the run's journal written as it goes, and
the run parked or finished; every write through the group-commit writer.

Every write a worker makes for a run is fenced: it first checks, in the same transaction, that the
run is still ``running`` under the ``claim_seq`` this worker claimed. A worker whose lease expired (and
whose run another worker took over), or whose run was cancelled, gets `StaleRun` and stops; nothing
it does after that is recorded. Hence: a step's body runs at least once, its recorded output exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from ...errors import ErrorInfo
from ...events import normalize_event
from ...records import ActionRecord, StepRecord, StepStatus
from ...signals import JournalUnavailable, ReloadRun
from ..lifecycle import retention, runs, settle
from ..lifecycle.decide import DecideFirst, decide
from ..lifecycle.effects import Context, Decided, Received
from ..lifecycle.events_in import sent_once_key
from ..lifecycle.start import new_run, start_run
from ..models import RunStatus
from ..rules.retention import Retention
from ..rules.settings import SettingsCache
from ..rules.wait_keys import wait_key
from ..storage import schema
from ..storage.db import Database
from ..storage.rows import action_row, step_row
from ..storage.writer import Claim, Rollback, Upsert, WriteJob
from . import claims
from .claims import ClaimBatch, LoadedRun

__all__ = ["ClaimBatch", "LoadedRun", "RunJournalStore"]

A, S, WT, V, W = (
    schema.run_actions,
    schema.run_steps,
    schema.waits,
    schema.workflow_versions,
    schema.workflows,
)
_ACTION_KEYS = ("run_id", "action_id")
_STEP_KEYS = ("run_id", "action_id", "position")
T = TypeVar("T")


class RunJournalStore:
    """Claims, loads and journal writes for workers, through the database's group-commit writer."""

    def __init__(
        self,
        db: Database,
        settings: SettingsCache | None = None,
        retention: Retention | None = None,
        decide_first: DecideFirst | None = None,
    ) -> None:
        self.db = db
        self.ctx = Context(db.dialect, settings if settings is not None else SettingsCache(), retention or Retention())
        """The lifecycle's context (`settings`: the kit's cache; a store of its own has its own)."""
        self.decide_first = decide_first if decide_first is not None else DecideFirst()
        """Whose events are decided before their transaction (the kit's, shared with its sends)."""
        self._served_last: str | None = None
        """The tenant of the last run claimed: the other tenants' turn comes first in the next claim."""

    # -- claiming ----------------------------------------------------------------------------------

    async def claim(self, owner: str, limit: int, lease_ms: int, now: int, *, fire: bool = False) -> ClaimBatch:
        """Take up to `limit` due runs (queued, parked and due, or running with an expired lease) and
        load them, in one transaction; first, with `fire`, fire the cron ticks that are due (their
        runs may be among those taken). Tenants take turns across this store's claims (`fair_share`)."""
        after = self._served_last
        batch = await self._submit(
            WriteJob(apply=lambda conn: claims.claim(self.ctx, conn, owner, limit, lease_ms, now, fire, after))
        )
        if batch.runs:
            self._served_last = batch.runs[-1].row.tenant
        return batch

    async def renew(self, held: list[Claim], lease_ms: int, now: int) -> list[Claim]:
        """Extend the leases of runs being executed; returns the claims that were lost."""
        return await self._submit(WriteJob(apply=lambda conn: claims.renew(self.db, conn, held, lease_ms, now)))

    def next_due(self) -> int | None:
        """The earliest time a worker has something to do: a run is due or a cron workflow ticks (two
        index lookups)."""
        return claims.next_due(self.db)

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

                await self._submit(WriteJob(fence=claim, tenant=tenant, apply=open_wait))
                return
            if record.status == StepStatus.COMPLETED and record.output is None:

                def time_out(conn: Connection) -> None:
                    timed_out = conn.execute(
                        WT.update().where(WT.c.id == wait_id, WT.c.status == "waiting").values(status="timed_out")
                    )
                    if not timed_out.rowcount:  # an event resolved it first: take the event instead
                        raise Rollback(ReloadRun(claim.run_id))
                    self.db.upsert(conn, S, [row], _STEP_KEYS)

                await self._submit(WriteJob(fence=claim, tenant=tenant, apply=time_out))
                return
        if record.kind == "invoke" and record.status == StepStatus.WAITING and record.invoke is not None:

            def start_child(conn: Connection) -> None:
                self.db.upsert(conn, S, [row], _STEP_KEYS)
                self._start_child(conn, claim, tenant, action_id, position, record, now)

            await self._submit(WriteJob(fence=claim, tenant=tenant, apply=start_child))
            return
        await self._submit(WriteJob(fence=claim, tenant=tenant, rows=[Upsert(S, _STEP_KEYS, row)]))

    async def send(
        self, claim: Claim, tenant: str, action_id: str, step_key: str, events: list[dict[str, Any]], now: int
    ) -> Received:
        """The events of a ``send_event`` step. Each is keyed by the run, the step and its position: sent
        again by a worker that took the run over, it is not stored again and gives the first one's id."""
        keys = [sent_once_key(claim.run_id, action_id, step_key, i) for i in range(len(events))]
        if not self.decide_first(tenant, now):  # at once, undecided, unless they reach an expression

            def plain(conn: Connection) -> Received | None:
                return settle.receive_at_once(self.ctx, conn, tenant, events, now, once=keys)

            received = await self._submit(WriteJob(fence=claim, tenant=tenant, apply=plain))
            if received is not None:
                return received
            self.decide_first.needed(tenant, now)
        decided = await asyncio.to_thread(self._decide, tenant, events, now)  # outside the shared transaction

        def apply(conn: Connection) -> Received:
            return settle.receive(self.ctx, conn, tenant, events, now, once=keys, decided=decided)

        return await self._submit(WriteJob(fence=claim, tenant=tenant, apply=apply))

    def sweep(self, now: int, batch: int) -> retention.Swept:
        """Delete one batch of expired history (see lifecycle/retention.py), in a transaction of its own
        (blocking: call it in a thread)."""
        with self.db.write() as conn:
            swept = retention.sweep(conn, now, batch)
        if swept.runs or swept.events or swept.keys:
            self.db.give_back_pages(retention.VACUUM_PAGES, least=retention.VACUUM_LEAST)
        return swept

    def _decide(self, tenant: str, events: list[dict[str, Any]], now: int) -> list[Decided]:
        try:
            with self.db.read() as conn:
                return decide(self.ctx, conn, tenant, events, now)
        except SQLAlchemyError as exc:
            raise JournalUnavailable(str(exc)) from exc

    # -- ending an execution -----------------------------------------------------------------------

    async def park(self, run: LoadedRun, status: RunStatus, wake_at: int | None, now: int) -> None:
        """Hand the run back until `wake_at` (or at once if an event arrived meanwhile); a parked run
        gives its concurrency slots back."""

        def apply(conn: Connection) -> None:
            settle.park(self.ctx, conn, run.row, run.claim, status, wake_at, now)

        await self._submit(WriteJob(tenant=run.tenant, apply=apply))

    async def release(self, claim: Claim, due_at: int, now: int) -> None:
        """Give the run back without changing it (a worker error or shutdown); it is claimed again."""
        await self._submit(WriteJob(apply=lambda conn: runs.release(conn, claim, due_at, now)))

    async def finish(
        self, run: LoadedRun, status: RunStatus, output: Any, error: dict[str, Any] | None, now: int, *, waited: bool
    ) -> Received:
        """Complete or fail the run: record it, close its waits (`waited`: it has a wait_for_event step),
        tell an invoking parent, emit the ``workflow/run.*`` system event."""

        def apply(conn: Connection) -> Received:
            return settle.finish(self.ctx, conn, run.row, status, output, error, now, waited=waited)

        return await self._submit(WriteJob(fence=run.claim, tenant=run.tenant, apply=apply))

    async def cancel(self, run: LoadedRun, why: str, now: int) -> Received:
        """Cancel a claimed run (a timeout): it runs no further step."""
        error = settle.cancelled_error(why)

        def apply(conn: Connection) -> Received:
            return settle.finish(self.ctx, conn, run.row, RunStatus.CANCELLED, None, error, now)

        return await self._submit(WriteJob(fence=run.claim, tenant=run.tenant, apply=apply))

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
                "match_key": wait_key(record.wait.if_exp, run.row.event),
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
            runs.request_wake(conn, claim.run_id)
            return
        exists = conn.execute(sa.select(schema.runs.c.id).where(schema.runs.c.id == invoke.run_id)).first()
        if exists is None:
            child = new_run(
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
            start_run(self.ctx, conn, child)
