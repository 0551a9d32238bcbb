"""Runs as users see them (``kit.runs``): list, get with the timeline, cancel, rerun, test runs, and a
summary per workflow for a list of workflows."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from functools import cache
from typing import Any

import msgspec
import sqlalchemy as sa

from ...events import normalize_event
from ...observe import Observer, RunInfo
from ...records import ActionRecord, ActionStatus, StepStatus
from ...tenancy import check_tenant
from ...timeutil import Clock
from ...twins import async_twin
from ...workflow import WorkflowAction, load_workflow
from .. import operations
from ..lifecycle import settle
from ..lifecycle.effects import Context
from ..lifecycle.remote import RemoteEngine
from ..lifecycle.start import new_run, start_run
from ..models import NotFoundError, RerunError, Run, RunBrief, RunStatus, RunSummary
from ..operations import BulkFilter, Operation, OperationKind, ReplayVersion
from ..rules.retention import Retention
from ..rules.settings import DAY_MS, SettingsCache
from ..storage import schema
from ..storage.db import Database, each_of, literals, one_of
from ..storage.rows import action_row, records_from_rows, run_from_row, step_row
from ..storage.run_filter import NEWEST_FIRST, RunFilter, before, decode_cursor, encode_cursor, statuses
from .workflows import MAX_LIST

R, A, S, V, W = schema.runs, schema.run_actions, schema.run_steps, schema.workflow_versions, schema.workflows


class StatsRange(StrEnum):
    DAY = "24h"
    WEEK = "7d"


_RANGES = {StatsRange.DAY: (DAY_MS, DAY_MS // 24), StatsRange.WEEK: (7 * DAY_MS, DAY_MS // 4)}
"""Each range's span and slice of time, in ms."""


class StatsBucket(msgspec.Struct, kw_only=True):
    """A slice of time (from `start`, epoch ms): the runs created in it, and how many of those failed."""

    start: int
    runs: int
    failed: int


class RunStats(msgspec.Struct, kw_only=True):
    """A workflow's runs over a range of time, slice by slice (`bucket_ms` each), oldest first."""

    range: StatsRange
    bucket_ms: int
    buckets: builtins.list[StatsBucket]
    runs: int
    failed: int
    failure_rate: float
    """failed / runs over the whole range (0 without runs)."""


class RunListPage(msgspec.Struct, kw_only=True):
    """A page of runs, newest first, and the cursor of the next page (None on the last)."""

    items: builtins.list[Run]
    next_cursor: str | None = None


class RunStore:
    """``kit.runs``: a tenant's runs. Every method takes the tenant first; another tenant's run is not found.

    Every method is async (``await kit.runs.get(tenant, run_id)``) and has a synchronous twin of the same
    name with ``_sync`` (``kit.runs.get_sync(tenant, run_id)``), for synchronous code."""

    def __init__(
        self,
        db: Database,
        settings: SettingsCache,
        clock: Clock,
        notify: Callable[[], None],
        on_cancel: Callable[[str], None],
        observer: Callable[[], Observer | None] = lambda: None,
        retention: Retention | None = None,
        remote: Callable[[], RemoteEngine | None] = lambda: None,
    ) -> None:
        self._db = db
        self._remote = remote
        """The kit's `remote` engine (None if none): told of its runs cancelled or rerun here."""
        self._ctx = Context(db.dialect, settings, retention or Retention())
        self._clock = clock
        self._notify = notify
        self._on_cancel = on_cancel
        self._observer = observer
        """The kit's observers as one (None if none): told of runs cancelled here."""

    def list_sync(
        self,
        tenant: str,
        workflow_id: str | None = None,
        status: RunStatus | str | Sequence[RunStatus | str] | None = None,
        *,
        event_id: str | None = None,
        since: int | None = None,
        until: int | None = None,
        test: bool | None = None,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
    ) -> builtins.list[Run]:
        """The tenant's runs, newest first, optionally of one workflow, with one status (or any of
        several), started by one event (an id `send` returned), created in ``[since, until)`` (epoch
        milliseconds), test runs only (`test` true) or none of them (false). Page on with `cursor`
        (`page` gives the next one) rather than `offset`, which reads every run it skips."""
        return self.page_sync(
            tenant,
            RunFilter(
                workflow_id=workflow_id,
                status=statuses(status),
                event_id=event_id,
                since=since,
                until=until,
                test=test,
            ),
            limit=limit,
            offset=offset,
            cursor=cursor,
        ).items

    def page_sync(
        self, tenant: str, where: RunFilter, *, limit: int = 50, offset: int = 0, cursor: str | None = None
    ) -> RunListPage:
        """One page of the tenant's runs that `where` matches, newest first, and the cursor of the next
        page (None on the last). `FilterError` for a cursor this method did not give."""
        check_tenant(tenant)
        limit = max(1, min(limit, MAX_LIST))
        query = R.select().where(*where.conditions(tenant))
        if cursor is not None:
            query = query.where(before(*decode_cursor(cursor)))
        query = query.order_by(*NEWEST_FIRST).limit(limit + 1).offset(max(0, offset))
        with self._db.read() as conn:
            rows = conn.execute(query).mappings().all()
        items = [run_from_row(row) for row in rows[:limit]]
        following = encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
        return RunListPage(items=items, next_cursor=following)

    page = async_twin(page_sync)

    list = async_twin(list_sync)

    def summaries_sync(self, tenant: str, workflow_ids: Sequence[str]) -> dict[str, RunSummary]:
        """A summary of the runs of each of these workflows of the tenant, by workflow id (every id
        given has one; empty for a workflow that never ran, or that is not the tenant's): its newest
        run, of any version, and how many of its runs failed in the last 24 hours of the kit's clock
        (ended at or after now - 24 h). Two queries for all of them, however many there are."""
        check_tenant(tenant)
        ids = builtins.list(dict.fromkeys(workflow_ids))
        since = self._clock.now_ms() - DAY_MS
        summaries = {workflow_id: RunSummary() for workflow_id in ids}
        if not ids:
            return summaries
        newest, failures = _summary_queries(self._db.dialect)
        with self._db.read() as conn:
            for row in conn.execute(newest, {"tenant": tenant, "ids": ids}):
                brief = RunBrief(
                    id=row.id, status=RunStatus(row.status), created_at=row.created_at, ended_at=row.ended_at
                )
                summaries[row.workflow_id].last_run = brief
            for row in conn.execute(failures, {"tenant": tenant, "ids": ids, "since": since}):
                summaries[row.workflow_id].failures_24h = row.failures
        return summaries

    summaries = async_twin(summaries_sync)

    def stats_sync(self, tenant: str, workflow_id: str, window: StatsRange | str = "24h") -> RunStats:
        """A workflow's runs at a glance, over the last 24 hours (per hour) or 7 days (per 6 hours) of the
        kit's clock: how many runs were created in each slice of time and how many of them failed. Two
        grouped counts, each from an index alone; the slices are the kit's, in UTC."""
        check_tenant(tenant)
        span, bucket = _RANGES[StatsRange(window)]
        now = self._clock.now_ms()
        end = (now // bucket + 1) * bucket  # the current slice is the last
        start = end - span
        slot = ((R.c.created_at - start) // bucket).label("slot")
        [failed] = literals(["failed"])
        window_of = (
            R.c.tenant == tenant,
            R.c.workflow_id == workflow_id,
            R.c.created_at >= start,
            R.c.created_at < end,
        )
        # Two counts, each read from an index alone: all runs along ix_wk_runs_tenant_workflow, the failed
        # ones along ix_wk_runs_tenant_workflow_status (the status is a literal, so both databases use it).
        every = sa.select(slot, sa.func.count()).where(*window_of).group_by(slot)
        failures = sa.select(slot, sa.func.count()).where(*window_of, R.c.status == failed).group_by(slot)
        with self._db.read() as conn:
            runs_in = {int(row[0]): int(row[1]) for row in conn.execute(every)}
            failed_in = {int(row[0]): int(row[1]) for row in conn.execute(failures)}
        buckets = [
            StatsBucket(start=start + i * bucket, runs=runs_in.get(i, 0), failed=failed_in.get(i, 0))
            for i in range(span // bucket)
        ]
        total = sum(b.runs for b in buckets)
        failed_total = sum(b.failed for b in buckets)
        return RunStats(
            range=StatsRange(window),
            bucket_ms=bucket,
            buckets=buckets,
            runs=total,
            failed=failed_total,
            failure_rate=failed_total / total if total else 0.0,
        )

    stats = async_twin(stats_sync)

    def get_sync(self, tenant: str, run_id: str) -> Run:
        """The run with its timeline: every action of the workflow in order, each with its status,
        inputs, output or error, attempts (with timings and errors) and sub-steps. A loop's iterations
        follow it, each iteration's actions in the body's order (ids such as ``each[2]/reserve``)."""
        check_tenant(tenant)
        with self._db.read() as conn:
            row = self._row(conn, tenant, run_id)
            version = conn.execute(V.select().where(V.c.id == row["version_id"])).mappings().one()
            actions = conn.execute(A.select().where(A.c.run_id == run_id)).mappings().all()
            steps = conn.execute(S.select().where(S.c.run_id == run_id)).mappings().all()
        definition = load_workflow(version["definition"])
        records = records_from_rows(actions, steps, [a.id for a in definition.actions])
        return run_from_row(row, _timeline(definition.actions, records, ""))

    get = async_twin(get_sync)

    async def wait(self, tenant: str, run_id: str, *, timeout: float = 60.0, interval: float = 0.05) -> Run:
        """Wait (in real time) until the run has ended, and return it; `TimeoutError` after `timeout` s.
        Polls every `interval` s without blocking the event loop (`wait_sync` sleeps instead)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            run = await self.get(tenant, run_id)
            if run.status.terminal:
                return run
            if loop.time() >= deadline:
                raise _still(run, timeout)
            await asyncio.sleep(interval)

    def wait_sync(self, tenant: str, run_id: str, *, timeout: float = 60.0, interval: float = 0.05) -> Run:
        """`wait` for synchronous code: polls every `interval` s, sleeping the calling thread meanwhile
        (a worker must run elsewhere: in another thread or process)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_sync(tenant, run_id)
            if run.status.terminal:
                return run
            if time.monotonic() >= deadline:
                raise _still(run, timeout)
            time.sleep(interval)

    def cancel_sync(self, tenant: str, run_id: str) -> Run:
        """Cancel a run that has not ended: it runs no further step (a step already executing finishes,
        but its result is not recorded). Emits ``workflow/run.cancelled``. A run another engine executes
        (Inngest) is cancelled there too. Cancelling a failed run dismisses it: it becomes cancelled, so
        it no longer counts as failed, keeps its failure (its error says it was cancelled after it failed,
        with the failure as ``cause``) and can still be rerun; nothing else follows (its end was announced
        when it failed). A completed or cancelled run stays as it is."""
        run = self._cancel(tenant, run_id)
        engine = self._remote()
        if engine is not None:
            asyncio.run(engine.cancelled(tenant, [run_id]))
        return run

    def _cancel(self, tenant: str, run_id: str) -> Run:
        check_tenant(tenant)
        now = self._clock.now_ms()
        with self._db.write() as conn:
            row = self._row(conn, tenant, run_id)
            cancelled = settle.cancel_or_dismiss(self._ctx, conn, [run_id], None, now)
        self._on_cancel(run_id)
        observer = self._observer() if cancelled.ended else None  # a dismissed run ended when it failed
        if observer is not None:
            run = RunInfo(run_id, tenant, row["workflow_id"], row["version_number"], row["parent_run_id"])
            observer.run_ended(run, "cancelled", None, now)
        if cancelled.woke:
            self._notify()
        return self.get_sync(tenant, run_id)

    async def cancel(self, tenant: str, run_id: str) -> Run:
        """`cancel_sync`, for async code."""
        run = await asyncio.to_thread(self._cancel, tenant, run_id)
        engine = self._remote()
        if engine is not None:
            await engine.cancelled(tenant, [run_id])
        return run

    def rerun_sync(self, tenant: str, run_id: str, *, from_failed_step: bool = True) -> str:
        """Start a new run for the same event and return its id.

        ``from_failed_step=True``: on the same version, keeping every completed action and sub-step of
        the original, so it resumes at the step that failed (or where it was cancelled).
        ``from_failed_step=False``: from scratch, on the workflow's latest published version.

        A run another engine executed (Inngest) is rerun there, from the start in both cases (on the
        same version with `from_failed_step`), as that engine keeps no step of another run.
        """
        check_tenant(tenant)
        new_id, remote = self._rerun(tenant, run_id, from_failed_step)
        self._notify()
        engine = self._remote() if remote else None
        if engine is not None:
            asyncio.run(engine.requested(tenant, [new_id]))
        return new_id

    async def rerun(self, tenant: str, run_id: str, *, from_failed_step: bool = True) -> str:
        """`rerun_sync`, for async code."""
        check_tenant(tenant)
        new_id, remote = await asyncio.to_thread(self._rerun, tenant, run_id, from_failed_step)
        self._notify()
        engine = self._remote() if remote else None
        if engine is not None:
            await engine.requested(tenant, [new_id])
        return new_id

    def start_sync(self, tenant: str, workflow_id: str, version_id: str, event: dict[str, Any]) -> str:
        """Start a run of a given version (e.g. a test run of a draft snapshot) for an event; returns its id."""
        check_tenant(tenant)
        now = self._clock.now_ms()
        checked = normalize_event(event, now)
        with self._db.write() as conn:
            version = (
                conn.execute(
                    V.select().where(V.c.id == version_id, V.c.tenant == tenant, V.c.workflow_id == workflow_id)
                )
                .mappings()
                .first()
            )
            if version is None:
                raise NotFoundError(f"no version {version_id!r} of workflow {workflow_id!r}")
            run = new_run(
                tenant=tenant,
                workflow_id=workflow_id,
                version_id=version_id,
                version_number=version["number"],
                event=checked,
                event_id=None,
                now=now,
            )
            run_id = start_run(self._ctx, conn, run)
        self._notify()
        return run_id

    start = async_twin(start_sync)

    def bulk_cancel_sync(
        self,
        tenant: str,
        *,
        workflow_id: str | None = None,
        status: RunStatus | str | Sequence[RunStatus | str] | None = None,
        since: int | None = None,
        until: int | None = None,
        test: bool | None = None,
        if_: str | None = None,
    ) -> Operation:
        """Cancel every run of the tenant that the filter matches (see `bulk_replay` for the filter), in the
        workers, in small batches; returns the operation at once (`operation` reports its progress). As
        `cancel` does: runs that have not ended stop, failed runs are dismissed (cancelled, keeping their
        failure), completed and cancelled runs stay. Without a `status`, only the runs that have not
        ended: failed runs are dismissed only when `status` names ``failed``. `FilterError` (with the
        field's path) for a filter it cannot use: an expression that does not compile or reads anything
        but ``event``, or only completed and cancelled statuses."""
        bulk = _bulk(workflow_id, status, since, until, test, if_, ReplayVersion.OWN)
        created = operations.create(self._db, tenant, OperationKind.CANCEL, bulk, self._clock.now_ms())
        self._notify()
        return created

    bulk_cancel = async_twin(bulk_cancel_sync)

    def bulk_replay_sync(
        self,
        tenant: str,
        *,
        workflow_id: str | None = None,
        status: RunStatus | str | Sequence[RunStatus | str] | None = None,
        since: int | None = None,
        until: int | None = None,
        test: bool | None = None,
        if_: str | None = None,
        version: ReplayVersion | str = ReplayVersion.OWN,
    ) -> Operation:
        """Start a new run for the event of every run the filter matches: runs of one workflow (or any),
        with one of these statuses (or any), created in ``[since, until)`` (epoch ms), test runs or not,
        whose event satisfies the CEL expression `if_` (it reads ``event``: ``event.data.plan ==
        "pro"``). Each new run is on its source's own version (``version="own"``) or on the workflow's
        latest published one (``"latest"``), and records its source as ``rerun_of``. Done by the workers
        in small batches, each run once; returns the operation at once."""
        bulk = _bulk(workflow_id, status, since, until, test, if_, ReplayVersion(version))
        created = operations.create(self._db, tenant, OperationKind.REPLAY, bulk, self._clock.now_ms())
        self._notify()
        return created

    bulk_replay = async_twin(bulk_replay_sync)

    def operation_sync(self, tenant: str, operation_id: str) -> Operation:
        """A bulk operation and its progress: matched, done, failed, and its state (running or completed)."""
        return operations.get(self._db, tenant, operation_id)

    operation = async_twin(operation_sync)

    # -- internals -------------------------------------------------------------------------------

    def _row(self, conn: sa.Connection, tenant: str, run_id: str) -> Any:
        row = conn.execute(R.select().where(R.c.id == run_id, R.c.tenant == tenant)).mappings().first()
        if row is None:
            raise NotFoundError(f"no run {run_id!r}")
        return row

    def _rerun(self, tenant: str, run_id: str, from_failed_step: bool) -> tuple[str, bool]:
        """The new run's id, and whether another engine executes it."""
        now = self._clock.now_ms()
        with self._db.write() as conn:
            original = self._row(conn, tenant, run_id)
            remote = original["runs_on"] is not None
            if not from_failed_step:
                latest = conn.execute(
                    sa.select(V.c.id, V.c.number)
                    .join(W, sa.and_(W.c.id == V.c.workflow_id, W.c.published_version == V.c.number))
                    .where(W.c.id == original["workflow_id"], W.c.tenant == tenant)
                ).first()
                if latest is None:
                    raise RerunError(f"workflow {original['workflow_id']!r} has no published version to rerun on")
                return self._create(conn, original, latest.id, latest.number, now), remote
            if original["status"] not in ("failed", "cancelled"):
                raise RerunError(f"run {run_id!r} is {original['status']}: only a failed or cancelled run resumes")
            if remote:
                return self._create(conn, original, original["version_id"], original["version_number"], now), remote
            actions = conn.execute(A.select().where(A.c.run_id == run_id)).mappings().all()
            steps = conn.execute(S.select().where(S.c.run_id == run_id)).mappings().all()
            new_run = self._create(conn, original, original["version_id"], original["version_number"], now)
            kept_actions, kept_steps = [], []
            for record in records_from_rows(actions, steps).values():
                if record.status in (ActionStatus.COMPLETED, ActionStatus.SKIPPED):
                    kept_actions.append(action_row(new_run, record))
                    kept_steps += [step_row(new_run, record.id, i, s) for i, s in enumerate(record.steps)]
                    continue
                done = [s for s in record.steps if s.status == StepStatus.COMPLETED]
                prefix = len(done) if all(s.status == StepStatus.COMPLETED for s in record.steps[: len(done)]) else 0
                kept_steps += [step_row(new_run, record.id, i, s) for i, s in enumerate(record.steps[:prefix])]
                if prefix:
                    fresh = msgspec.structs.replace(
                        record, status=ActionStatus.RUNNING, error=None, wake_at=None, attempts=[], steps=[]
                    )
                    kept_actions.append(action_row(new_run, fresh))
            if kept_actions:
                conn.execute(A.insert(), kept_actions)
            if kept_steps:
                conn.execute(S.insert(), kept_steps)
            return new_run, remote

    def _create(self, conn: sa.Connection, original: Any, version_id: str, number: int | None, now: int) -> str:
        run = new_run(
            tenant=original["tenant"],
            workflow_id=original["workflow_id"],
            version_id=version_id,
            version_number=number,
            event=original["event"],
            event_id=original["event_id"],
            now=now,
            rerun_of=original["id"],
            batch=original["batch"],
            trigger=original["trigger"],
            runs_on=original["runs_on"],
        )
        return start_run(self._ctx, conn, run)


@cache
def _summary_queries(dialect: str) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The two queries of `RunStore.summaries`, over the workflows ``:ids`` of ``:tenant``.

    The newest run of each: one lookup per workflow id, backwards along ``ix_wk_runs_tenant_workflow``
    (tenant, workflow, created_at), so its cost does not grow with the number of runs. The recent
    failures of each: counted in ``ix_wk_runs_failed`` (failed runs only, by tenant, workflow and end);
    the status is a literal, which is what lets both databases use that partial index."""
    ids = each_of(dialect, "ids")
    newest = R.alias("newest")
    newest_id = (
        sa.select(newest.c.id)
        .where(newest.c.tenant == sa.bindparam("tenant"), newest.c.workflow_id == ids.c.value)
        .order_by(newest.c.created_at.desc(), newest.c.id.desc())
        .limit(1)
        .correlate(ids)
        .scalar_subquery()
    )
    # Found by primary key: the lookups above already keep to the tenant's runs.
    last_runs = sa.select(R.c.workflow_id, R.c.id, R.c.status, R.c.created_at, R.c.ended_at).where(
        R.c.id.in_(sa.select(newest_id).select_from(ids))
    )
    since: sa.BindParameter[int] = sa.bindparam("since", type_=sa.BigInteger)
    [failed] = literals(["failed"])
    failures = (
        sa.select(R.c.workflow_id, sa.func.count().label("failures"))
        .where(
            R.c.tenant == sa.bindparam("tenant"),
            one_of(dialect, R.c.workflow_id, "ids"),
            R.c.status == failed,
            # A failed run has ended (its end is written with its status); its creation time stands in
            # for an end that is missing all the same.
            sa.or_(R.c.ended_at >= since, sa.and_(R.c.ended_at.is_(None), R.c.created_at >= since)),
        )
        .group_by(R.c.workflow_id)
    )
    return last_runs, failures


def _bulk(
    workflow_id: str | None,
    status: RunStatus | str | Sequence[RunStatus | str] | None,
    since: int | None,
    until: int | None,
    test: bool | None,
    if_: str | None,
    version: ReplayVersion,
) -> BulkFilter:
    return BulkFilter(
        workflow_id=workflow_id,
        status=statuses(status),
        since=since,
        until=until,
        test=test,
        if_=if_,
        version=version,
    )


def _still(run: Run, timeout: float) -> TimeoutError:
    return TimeoutError(f"run {run.id} is still {run.status.value} after {timeout} s")


def _timeline(actions: Sequence[WorkflowAction], records: dict[str, ActionRecord], prefix: str) -> list[ActionRecord]:
    """The records of `actions` (of the workflow, or of one iteration of a loop's body) in order, each
    loop followed by its iterations; an action that has no record yet is pending."""
    timeline: list[ActionRecord] = []
    for action in actions:
        record_id = prefix + action.id
        timeline.append(records.get(record_id) or ActionRecord(id=record_id))
        if action.body is not None:
            for number in _iterations(records, record_id):
                timeline += _timeline(action.body.actions, records, f"{record_id}[{number}]/")
    return timeline


def _iterations(records: dict[str, ActionRecord], loop_id: str) -> list[int]:
    """The iteration numbers of the loop `loop_id` that recorded anything."""
    opening = loop_id + "["
    found = set()
    for key in records:
        if key.startswith(opening):
            number, _, _ = key[len(opening) :].partition("]")
            if number.isdigit():
                found.add(int(number))
    return sorted(found)
