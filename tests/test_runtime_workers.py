"""Several workers on one database: each run is executed once; a worker whose lease expired is fenced off."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import sqlalchemy as sa
from conftest import Worker  # (as conftest imports it: the worker's module is moving)
from helpers import action, edge, workflow

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.runtime.models import RunStatus
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.worker.journal import RunJournalStore
from workflow_kit.timeutil import VirtualClock


async def test_two_workers_share_runs_and_run_each_step_once(kit: WorkflowKit) -> None:
    executions: Counter[str] = Counter()

    @kit.action(kind="count")
    async def count(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        async def body() -> str:
            executions[f"{ctx.event['data']['n']}:{ctx.action.id}"] += 1
            await asyncio.sleep(0.001)  # real time, a little: the two workers' runs interleave
            return ctx.action.id

        return str(await ctx.step.run("count", body))

    wf = workflow(
        [action("a", "count"), action("b", "count"), action("c", "count")],
        [edge("$source", "a"), edge("a", "b"), edge("a", "c")],
    )
    kit.workflows.create_sync("acme", name="Counting", trigger="count/go", workflow=wf)
    await kit.send("acme", [{"name": "count/go", "data": {"n": n}} for n in range(30)])
    async with (
        kit.worker(concurrency=4, poll_ms=20, name="one") as one,
        kit.worker(concurrency=4, poll_ms=20, name="two") as two,
    ):
        await asyncio.gather(one.idle(timeout=60), two.idle(timeout=60))
        await one.idle(timeout=60)
    runs = await kit.runs.list("acme", limit=100)
    assert len(runs) == 30
    assert all(run.status == RunStatus.COMPLETED for run in runs)
    assert len(executions) == 90
    assert set(executions.values()) == {1}, [k for k, v in executions.items() if v > 1]


async def test_a_worker_whose_lease_expired_cannot_record_anything(kit: WorkflowKit, clock: VirtualClock) -> None:
    release = asyncio.Event()
    bodies: list[str] = []

    @kit.action(kind="slow")
    async def slow(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        async def body() -> str:
            bodies.append("started")
            if len(bodies) == 1:
                await release.wait()  # the first worker hangs here past its lease
            return "done"

        return str(await ctx.step.run("slow", body))

    wf = workflow([action("s", "slow")], [edge("$source", "s")])
    kit.workflows.create_sync("acme", name="Slow", trigger="slow/go", workflow=wf)
    await kit.send("acme", {"name": "slow/go", "data": {}})
    async with kit.worker(lease_ms=60_000, poll_ms=20, name="stuck") as stuck:
        for _ in range(3000):
            if bodies:
                break
            await asyncio.sleep(0.01)
        assert bodies, "the stuck worker never started the step"
        clock.advance_to(clock.now_ms() + 120_000)  # the stuck worker's lease has expired
        async with kit.worker(lease_ms=60_000, poll_ms=20, name="rescuer") as rescuer:
            [run] = await kit.runs.list("acme")
            finished = await kit.runs.wait("acme", run.id, timeout=30)
            assert finished.status == RunStatus.COMPLETED
            release.set()  # the stuck worker finishes its step body, but may not record it
            await stuck.idle(timeout=30)
            await rescuer.idle(timeout=30)
    assert bodies == ["started", "started"]  # at least once for the body...
    run = await kit.runs.get("acme", run.id)
    assert run.status == RunStatus.COMPLETED
    [step] = run.actions[0].steps
    assert len(step.attempts) == 1  # ...exactly once for the recorded output
    assert run.output == {"s": "done"}


async def test_postgres_workers_of_other_processes_are_woken_by_notify() -> None:
    """A worker that polls once a minute still starts a run within moments of an event sent by another
    process (here: another kit on the same database, sharing nothing in memory): LISTEN/NOTIFY."""
    import time

    from conftest import postgres_url

    from workflow_kit.runtime.storage.db import Database

    url = postgres_url()
    db = Database(url)
    db.truncate_all()
    db.dispose()
    started: list[float] = []
    worker_kit = WorkflowKit(database_url=url)
    sender_kit = WorkflowKit(database_url=url)

    @worker_kit.action(kind="mark")
    async def mark(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        started.append(time.perf_counter())

    try:
        worker_kit.workflows.create_sync(
            "acme", name="Mark", trigger="mark/go", workflow=workflow([action("m", "mark")], [edge("$source", "m")])
        )
        async with worker_kit.worker(poll_ms=60_000) as worker:
            await listening(worker_kit)
            for _ in range(5):
                await asleep(worker)  # until an event wakes it, the worker sleeps for a minute
                sent = time.perf_counter()
                await sender_kit.send("acme", {"name": "mark/go", "data": {}})
                for _ in range(400):
                    if started and started[-1] >= sent:
                        break
                    await asyncio.sleep(0.005)
                assert started and started[-1] >= sent, "the worker was not woken by the other process's event"
                assert started[-1] - sent < 1.0
            await worker.idle(timeout=10)
    finally:
        worker_kit.close()
        sender_kit.close()


async def listening(kit: WorkflowKit) -> None:
    """Until a connection of the kit's worker listens for due runs (it has run its LISTEN)."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND state = 'idle' AND query LIKE 'LISTEN%'"
    )
    for _ in range(1000):
        with kit.db.read() as conn:
            if conn.execute(query).scalar_one():
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the worker never listened for due runs")


async def asleep(worker: Worker) -> None:
    """Until the worker's claim loop sleeps with nothing to wake it: it has looked at the database at least
    once, executes nothing, nothing is due, and no wake-up is pending. (`Worker.idle` returns as soon as
    nothing is due, which also holds before the first look and while a wake-up waits to be acted on: this
    reads the worker's private state, for want of a public signal.)"""
    for _ in range(1000):
        await worker.idle(timeout=10)
        if worker._next_tick != 0 and not worker._claiming and not worker._wakeup.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the worker never went to sleep")


async def test_renewing_leases_extends_held_ones_reports_lost_ones_and_never_waits_on_a_lock(
    kit: WorkflowKit, clock: VirtualClock
) -> None:
    """The heartbeat's renewal: a claim still held gets a later lease; a claim another worker took (a
    new claim_seq) comes back as lost. On PostgreSQL a run whose row another transaction holds locked
    (a lane writing its step, an event waking it) is skipped, not waited for, and not called lost."""

    @kit.action(kind="idle")
    async def idle(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        return None

    one_action = workflow([action("a", "idle")], [edge("$source", "a")])
    kit.workflows.create_sync("acme", name="Idle", trigger="idle/go", workflow=one_action)
    await kit.send("acme", [{"name": "idle/go", "data": {"n": n}} for n in range(3)])
    store = RunJournalStore(kit.db)
    now = clock.now_ms()
    batch = await store.claim("me", 3, 1_000, now)
    first, second, third = (run.claim for run in batch.runs)
    with kit.db.write() as conn:  # another worker took the second run over
        conn.execute(schema.runs.update().where(schema.runs.c.id == second.run_id).values(claim_seq=second.seq + 1))
    lost = await store.renew([first, second, third], 60_000, now)
    assert lost == [second]
    with kit.db.read() as conn:
        due = dict(conn.execute(sa.select(schema.runs.c.id, schema.runs.c.due_at)).all())
    assert due[first.run_id] == due[third.run_id] == now + 60_000
    if kit.db.dialect != "postgresql":
        return
    with kit.db.engine.connect() as other, other.begin():  # holds the third run's row until the end
        other.execute(sa.select(schema.runs.c.id).where(schema.runs.c.id == third.run_id).with_for_update())
        lost = await asyncio.wait_for(store.renew([first, third], 90_000, now), timeout=10)
    assert lost == []
    with kit.db.read() as conn:
        due = dict(conn.execute(sa.select(schema.runs.c.id, schema.runs.c.due_at)).all())
    assert due[first.run_id] == now + 90_000 and due[third.run_id] == now + 60_000


async def test_sleeping_runs_hold_no_worker_slot(kit: WorkflowKit, clock: VirtualClock) -> None:
    """A worker that executes one run at a time: three runs asleep for an hour leave it free for a fourth."""

    @kit.action(kind="nap")
    async def nap(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        await ctx.step.sleep("nap", "1h")
        return "rested"

    @kit.action(kind="quick")
    async def quick(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return "done"

    sleepy = kit.workflows.create_sync(
        "acme", name="Sleepy", trigger="app/sleep", workflow=workflow([action("n", "nap")], [edge("$source", "n")])
    )
    fast = kit.workflows.create_sync(
        "acme", name="Quick", trigger="app/quick", workflow=workflow([action("q", "quick")], [edge("$source", "q")])
    )
    async with kit.worker(concurrency=1, poll_ms=50) as worker:
        await kit.send("acme", [{"name": "app/sleep"}] * 3)
        await worker.idle()
        sleeping = await kit.runs.list("acme", workflow_id=sleepy.id)
        assert [r.status for r in sleeping] == [RunStatus.SLEEPING] * 3
        await kit.send("acme", {"name": "app/quick"})
        await worker.idle()
        [done] = await kit.runs.list("acme", workflow_id=fast.id)
        assert done.status == RunStatus.COMPLETED and done.output == {"q": "done"}
        assert all(r.status == RunStatus.SLEEPING for r in await kit.runs.list("acme", workflow_id=sleepy.id))
