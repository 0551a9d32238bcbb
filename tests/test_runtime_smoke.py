"""The durable runtime end to end, on both databases: an event starts a run that completes."""

from __future__ import annotations

from typing import Any

from helpers import action, edge, workflow

from workflow_kit import ActionContext, ActionContextSync, WorkflowKit
from workflow_kit.runtime.models import RunStatus
from workflow_kit.runtime.worker.loop import Worker
from workflow_kit.timeutil import VirtualClock


async def test_event_starts_a_run_that_completes(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    @kit.action(kind="add")
    def add(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
        return int(ctx.step.run("sum", lambda: inputs["a"] + inputs["b"]))

    @kit.action(kind="nap")
    async def nap(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        await ctx.step.sleep("z", "2d")
        return "rested"

    wf = workflow(
        [action("a", "add", a="!ref($.event.data.x)", b=2), action("n", "nap")],
        [edge("$source", "a"), edge("a", "n")],
    )
    record = kit.workflows.create_sync("acme", name="Adder", trigger="app/*", workflow=wf)
    [event_id] = await kit.send("acme", {"name": "app/go", "data": {"x": 40}})
    assert event_id
    await worker.idle()
    [run] = await kit.runs.list("acme")
    assert run.status == RunStatus.SLEEPING
    assert run.workflow_id == record.id
    clock.advance_to(clock.now_ms() + 2 * 86_400_000)
    await worker.idle()
    done = await kit.runs.get("acme", run.id)
    assert done.status == RunStatus.COMPLETED
    assert done.output == {"a": 42, "n": "rested"}
    assert [a.id for a in done.actions] == ["a", "n"]
    assert [s.key for s in done.actions[0].steps] == ["sum"]
