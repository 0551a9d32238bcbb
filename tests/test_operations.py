"""Bulk operations (operations.py) on both databases: the filter is checked before anything is stored, the
work goes in batches from a cursor, a crash in the middle of a batch resumes it and no run is handled twice,
an expression over the event narrows it, replays start new runs of the sources, and a worker works it off."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from helpers import chain

from workflow_kit import ActionContext, NonRetriableError, WorkflowKit, expressions
from workflow_kit.runtime import operations
from workflow_kit.runtime.lifecycle.effects import Context
from workflow_kit.runtime.models import FilterError, RunStatus
from workflow_kit.runtime.operations import Operation, OperationState
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.worker.loop import Worker
from workflow_kit.timeutil import VirtualClock

TENANT, OTHER = "acme", "globex"


class Crash(Exception):
    """A worker dying in the middle of a batch."""


def _setup(kit: WorkflowKit) -> tuple[str, str]:
    @kit.action(kind="noop")
    async def noop(ctx: ActionContext) -> str:
        return "done"

    first = kit.workflows.create_sync(TENANT, name="Orders", trigger="app/order", workflow=chain("a")).id
    second = kit.workflows.create_sync(TENANT, name="Mail", trigger="app/mail", workflow=chain("a")).id
    kit.workflows.create_sync(OTHER, name="Orders", trigger="app/order", workflow=chain("a"))
    return first, second


async def _orders(kit: WorkflowKit, clock: VirtualClock, count: int, tenant: str = TENANT) -> None:
    """`count` queued runs of the tenant's Orders workflow, a second apart, plans alternating free and pro."""
    for n in range(count):
        await kit.send(tenant, {"name": "app/order", "data": {"n": n, "plan": "pro" if n % 2 else "free"}})
        clock.advance(timedelta(seconds=1))


def _step(kit: WorkflowKit, batch: int = 3, crash: bool = False) -> operations.Stepped:
    def boom() -> None:
        raise Crash

    ctx = Context(kit.db.dialect, kit._settings)
    return operations.step(ctx, kit.db, kit.clock.now_ms(), batch=batch, crash=boom if crash else None)


def _cancelled_events(kit: WorkflowKit) -> int:
    with kit.db.read() as conn:
        query = sa.select(sa.func.count()).where(schema.events.c.name == "workflow/run.cancelled")
        return int(conn.execute(query.select_from(schema.events)).scalar_one())


async def test_a_bulk_cancel_works_in_batches_and_touches_only_what_matches(
    kit: WorkflowKit, clock: VirtualClock
) -> None:
    orders, mail = _setup(kit)
    await _orders(kit, clock, 7)
    await _orders(kit, clock, 2, tenant=OTHER)
    await kit.send(TENANT, {"name": "app/mail", "data": {}})
    operation = await kit.runs.bulk_cancel(TENANT, workflow_id=orders)
    assert (operation.state, operation.matched, operation.done) == (OperationState.RUNNING, 7, 0)
    progress = [_step(kit).worked for _ in range(4)]
    assert progress == [True, True, True, False]  # 3 + 3 + 1, then nothing left to do
    done = await kit.runs.operation(TENANT, operation.id)
    assert (done.state, done.matched, done.done, done.failed) == (OperationState.COMPLETED, 7, 7, 0)
    assert {r.status for r in await kit.runs.list(TENANT, orders)} == {RunStatus.CANCELLED}
    assert {r.status for r in await kit.runs.list(TENANT, mail)} == {RunStatus.QUEUED}
    assert {r.status for r in await kit.runs.list(OTHER)} == {RunStatus.QUEUED}
    assert _cancelled_events(kit) == 7
    with pytest.raises(Exception, match="no operation"):
        await kit.runs.operation(OTHER, operation.id)  # another tenant's operation is not found


async def test_a_crash_in_the_middle_of_a_batch_resumes_and_cancels_each_run_once(
    kit: WorkflowKit, clock: VirtualClock
) -> None:
    orders, _ = _setup(kit)
    await _orders(kit, clock, 5)
    operation = await kit.runs.bulk_cancel(TENANT, workflow_id=orders)
    assert _step(kit).worked
    with pytest.raises(Crash):
        _step(kit, crash=True)  # the second batch dies before its commit: nothing of it stays
    halfway = await kit.runs.operation(TENANT, operation.id)
    assert (halfway.state, halfway.done) == (OperationState.RUNNING, 3)
    assert sum(r.status == RunStatus.CANCELLED for r in await kit.runs.list(TENANT)) == 3
    while _step(kit).worked:
        pass
    done = await kit.runs.operation(TENANT, operation.id)
    assert (done.state, done.matched, done.done) == (OperationState.COMPLETED, 5, 5)
    assert _cancelled_events(kit) == 5  # each run ended (and announced it) once


async def test_an_expression_over_the_event_narrows_the_runs(kit: WorkflowKit, clock: VirtualClock) -> None:
    orders, _ = _setup(kit)
    await _orders(kit, clock, 6)
    operation = await kit.runs.bulk_cancel(TENANT, workflow_id=orders, if_='event.data.plan == "pro"')
    assert operation.matched == 6  # what the database found; the expression is applied batch by batch
    while _step(kit, batch=4).worked:
        pass
    done = await kit.runs.operation(TENANT, operation.id)
    assert (done.matched, done.done) == (3, 3)
    runs = await kit.runs.list(TENANT, orders)
    assert {r.event["data"]["plan"] for r in runs if r.status == RunStatus.CANCELLED} == {"pro"}
    assert {r.event["data"]["plan"] for r in runs if r.status == RunStatus.QUEUED} == {"free"}


async def test_the_expression_is_evaluated_before_the_write_transaction(
    kit: WorkflowKit, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tenant's expression never runs while the batch holds the database's write transaction."""
    orders, _ = _setup(kit)
    await _orders(kit, clock, 5)
    await kit.runs.bulk_cancel(TENANT, workflow_id=orders, if_='event.data.plan == "pro"')
    writing: list[bool] = [False]
    seen: list[bool] = []
    write, evaluate = kit.db.write, expressions._evaluate

    @contextmanager
    def watched_write() -> Iterator[Any]:
        writing[0] = True
        try:
            with write() as conn:
                yield conn
        finally:
            writing[0] = False

    def watched_evaluate(source: Any, scope: Any) -> Any:
        seen.append(writing[0])
        return evaluate(source, scope)

    monkeypatch.setattr(kit.db, "write", watched_write)
    monkeypatch.setattr(expressions, "_evaluate", watched_evaluate)
    while _step(kit, batch=2).worked:
        pass
    assert seen and not any(seen), seen
    runs = await kit.runs.list(TENANT, orders)
    assert sorted(r.event["data"]["n"] for r in runs if r.status == RunStatus.CANCELLED) == [1, 3]


async def test_a_filter_the_kit_cannot_use_is_refused_with_its_path(kit: WorkflowKit) -> None:
    _setup(kit)
    with pytest.raises(FilterError) as syntax:
        await kit.runs.bulk_cancel(TENANT, if_="event.data.plan ==")
    assert syntax.value.path == "if"
    with pytest.raises(FilterError) as unknown:
        await kit.runs.bulk_cancel(TENANT, if_="state.x == 1")
    assert unknown.value.path == "if" and "state" in str(unknown.value)
    with pytest.raises(FilterError) as ended:
        await kit.runs.bulk_cancel(TENANT, status=["completed", "cancelled"])
    assert ended.value.path == "status"
    with pytest.raises(FilterError) as backwards:
        await kit.runs.bulk_replay(TENANT, since=2_000, until=1_000)
    assert backwards.value.path == "until"
    with kit.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.operations)).scalar_one() == 0


async def test_a_bulk_replay_starts_one_new_run_per_source_and_never_two(kit: WorkflowKit, clock: VirtualClock) -> None:
    orders, _ = _setup(kit)
    await _orders(kit, clock, 4)
    sources = {r.id for r in await kit.runs.list(TENANT)}
    operation = await kit.runs.bulk_replay(TENANT, workflow_id=orders, version="latest")
    assert _step(kit).worked
    with pytest.raises(Crash):
        _step(kit, crash=True)
    while _step(kit).worked:
        pass
    done = await kit.runs.operation(TENANT, operation.id)
    assert (done.state, done.matched, done.done, done.failed) == (OperationState.COMPLETED, 4, 4, 0)
    runs = await kit.runs.list(TENANT, orders)
    replays = [r for r in runs if r.rerun_of is not None]
    assert sorted(r.rerun_of for r in replays if r.rerun_of) == sorted(sources)
    by_id = {r.id: r for r in runs}
    assert all(r.event == by_id[r.rerun_of].event and r.version == 1 for r in replays if r.rerun_of)


async def test_a_worker_works_an_operation_off(kit: WorkflowKit, clock: VirtualClock, worker: Worker) -> None:
    @kit.action(kind="nap")
    async def nap(ctx: ActionContext) -> str:
        await ctx.step.sleep("nap", timedelta(hours=1))
        return "rested"

    naps = kit.workflows.create_sync(TENANT, name="Naps", trigger="app/nap", workflow=chain("a", kind="nap")).id
    nothing = await kit.runs.bulk_cancel(TENANT, workflow_id=naps)
    assert (nothing.state, nothing.matched) == (OperationState.COMPLETED, 0)  # nothing to do: done at once
    await kit.send(TENANT, [{"name": "app/nap", "data": {"n": n}} for n in range(5)])
    await worker.idle()
    assert {r.status for r in await kit.runs.list(TENANT)} == {RunStatus.SLEEPING}
    operation = await kit.runs.bulk_cancel(TENANT, workflow_id=naps, status=["sleeping", "waiting"])
    done = await _until_completed(kit, operation)
    assert (done.matched, done.done) == (5, 5)
    assert {r.status for r in await kit.runs.list(TENANT)} == {RunStatus.CANCELLED}


DAY = 86_400_000


def _events(kit: WorkflowKit, name: str) -> int:
    with kit.db.read() as conn:
        query = sa.select(sa.func.count()).where(schema.events.c.name == name)
        return int(conn.execute(query.select_from(schema.events)).scalar_one())


async def _deliveries(kit: WorkflowKit, clock: VirtualClock) -> tuple[str, str, int]:
    """Orders and Mail, whose runs fail (the mail server is down) or, for an event with ``nap``, sleep for
    a month: yesterday 5 failed Orders runs, 1 sleeping, and 2 failed Mail runs; today 2 failed Orders runs
    (and 2 failed of another tenant). The two workflows' ids and the start of yesterday."""

    @kit.action(kind="deliver")
    async def deliver(ctx: ActionContext) -> str:
        if ctx.event["data"].get("nap"):
            await ctx.step.sleep("nap", timedelta(days=30))
            return "rested"
        raise NonRetriableError("the mail server is down")

    orders = kit.workflows.create_sync(TENANT, name="Orders", trigger="app/order", workflow=chain("a", kind="deliver"))
    mail = kit.workflows.create_sync(TENANT, name="Mail", trigger="app/mail", workflow=chain("a", kind="deliver"))
    kit.workflows.create_sync(OTHER, name="Orders", trigger="app/order", workflow=chain("a", kind="deliver"))
    yesterday = clock.now_ms()
    async with kit.worker(poll_ms=3_600_000, lease_ms=5_000) as worker:
        for n in range(5):
            await kit.send(TENANT, {"name": "app/order", "data": {"n": n}})
            clock.advance(timedelta(minutes=1))
        await kit.send(TENANT, [{"name": "app/order", "data": {"nap": True}}, *[{"name": "app/mail"}] * 2])
        await worker.idle()
        clock.advance(timedelta(days=1))
        await kit.send(TENANT, [{"name": "app/order", "data": {"n": n}} for n in (5, 6)])
        await kit.send(OTHER, [{"name": "app/order", "data": {"n": n}} for n in (7, 8)])
        await worker.idle()
    return orders.id, mail.id, yesterday


async def test_a_bulk_cancel_dismisses_yesterdays_failed_runs_of_one_workflow_batch_by_batch(
    kit: WorkflowKit, clock: VirtualClock
) -> None:
    """An operator cancels all of yesterday's failed runs of one workflow: they become cancelled, keeping
    their failure, batch by batch (the count of failed runs goes down), each once through a crash; no run
    ends again (no event, nothing for the observer), and nothing else is touched."""
    orders, mail, yesterday = await _deliveries(kit, clock)
    window = {"since": yesterday, "until": yesterday + DAY}

    async def failed_yesterday() -> int:
        return len(await kit.runs.list(TENANT, orders, "failed", **window))

    assert await failed_yesterday() == 5
    before = {r.id: r for r in await kit.runs.list(TENANT) + await kit.runs.list(OTHER)}
    failed_events = _events(kit, "workflow/run.failed")
    operation = await kit.runs.bulk_cancel(TENANT, workflow_id=orders, status="failed", **window)
    assert (operation.state, operation.matched, operation.done) == (OperationState.RUNNING, 5, 0)
    seen = []
    for crash in (False, True, False, False):
        if crash:  # the second batch dies before its commit: nothing of it stays
            with pytest.raises(Crash):
                _step(kit, batch=2, crash=True)
        else:
            stepped = _step(kit, batch=2)
            assert stepped.worked and stepped.cancelled == []  # nothing ended now: they ended when they failed
        current = await kit.runs.operation(TENANT, operation.id)
        seen.append((await failed_yesterday(), current.done, current.state))
    assert seen == [
        (3, 2, OperationState.RUNNING),
        (3, 2, OperationState.RUNNING),  # the crash
        (1, 4, OperationState.RUNNING),
        (0, 5, OperationState.COMPLETED),
    ]
    assert not _step(kit, batch=2).worked  # nothing left to do
    assert (current.matched, current.failed) == (5, 0)
    after = {r.id: r for r in await kit.runs.list(TENANT) + await kit.runs.list(OTHER)}
    dismissed = {run_id for run_id, run in after.items() if run != before[run_id]}
    assert dismissed == {r.id for r in before.values() if r.workflow_id == orders and r.status == RunStatus.FAILED
                         and r.created_at < yesterday + DAY and r.tenant == TENANT}  # fmt: skip
    for run_id in dismissed:
        run, was = await kit.runs.get(TENANT, run_id), before[run_id]
        assert run.status == RunStatus.CANCELLED and run.ended_at == was.ended_at
        assert run.error == {
            "name": "Cancelled",
            "message": f"the run was cancelled after it failed ({operations.CANCEL_REASON}): the mail server is down",
            "cause": was.error,
        }
        assert [a.status for a in run.actions] == ["failed"]  # its steps stay as they were
    assert _events(kit, "workflow/run.failed") == failed_events and _cancelled_events(kit) == 0
    assert len(await kit.runs.list(TENANT, mail, "failed")) == 2
    assert len(await kit.runs.list(TENANT, orders, "failed")) == 2  # today's
    assert len(await kit.runs.list(TENANT, orders, "sleeping")) == 1
    assert len(await kit.runs.list(OTHER, status="failed")) == 2
    # a dismissed run can still be rerun
    rerun = await kit.runs.rerun(TENANT, next(iter(dismissed)))
    assert (await kit.runs.get(TENANT, rerun)).status == RunStatus.QUEUED


async def test_a_bulk_cancel_without_a_status_leaves_failed_runs_and_reports_only_runs_it_ended(
    kit: WorkflowKit, clock: VirtualClock
) -> None:
    orders, mail, _ = await _deliveries(kit, clock)
    plain = await kit.runs.bulk_cancel(TENANT, workflow_id=mail)  # only the runs that have not ended: none
    assert (plain.state, plain.matched) == (OperationState.COMPLETED, 0)
    both = await kit.runs.bulk_cancel(TENANT, workflow_id=orders, status=["failed", "sleeping"])
    assert both.matched == 8
    ended = []
    while (stepped := _step(kit, batch=5)).worked:
        ended += [run.run_id for run in stepped.cancelled]
    [sleeper] = [r.id for r in await kit.runs.list(TENANT, orders) if r.event["data"].get("nap")]
    assert ended == [sleeper]  # the observer hears of the run that ended, not of the failures dismissed
    assert _cancelled_events(kit) == 1
    assert {r.status for r in await kit.runs.list(TENANT, orders)} == {RunStatus.CANCELLED}
    assert {r.status for r in await kit.runs.list(TENANT, mail)} == {RunStatus.FAILED}
    done = await kit.runs.operation(TENANT, both.id)
    assert (done.state, done.matched, done.done) == (OperationState.COMPLETED, 8, 8)


async def _until_completed(kit: WorkflowKit, operation: Operation, timeout: float = 20.0) -> Operation:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        current = await kit.runs.operation(TENANT, operation.id)
        if current.state == OperationState.COMPLETED:
            return current
        assert loop.time() < deadline, f"the operation stayed {current}"
        await asyncio.sleep(0.02)
