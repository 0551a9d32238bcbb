"""Several workers on one database: each run is executed once; a worker whose lease expired is fenced off."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from helpers import action, edge, workflow

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.runtime.models import RunStatus
from workflow_kit.timeutil import VirtualClock


async def test_two_workers_share_runs_and_run_each_step_once(kit: WorkflowKit) -> None:
    executions: Counter[str] = Counter()

    @kit.action(kind="count")
    async def count(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        async def body() -> str:
            executions[f"{ctx.event['data']['n']}:{ctx.action.id}"] += 1
            await asyncio.sleep(0.001)
            return ctx.action.id

        return str(await ctx.step.run("count", body))

    wf = workflow(
        [action("a", "count"), action("b", "count"), action("c", "count")],
        [edge("$source", "a"), edge("a", "b"), edge("a", "c")],
    )
    kit.workflows.create("acme", name="Counting", trigger="count/go", workflow=wf)
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
    kit.workflows.create("acme", name="Slow", trigger="slow/go", workflow=wf)
    await kit.send("acme", {"name": "slow/go", "data": {}})
    async with kit.worker(lease_ms=60_000, poll_ms=20, name="stuck") as stuck:
        while not bodies:
            await asyncio.sleep(0.01)
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
