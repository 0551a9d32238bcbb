"""The durable runtime end to end, on both databases: an event starts a run that completes; and the
database a kit uses when given none."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
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


def test_without_a_database_url_the_kit_keeps_a_sqlite_file_in_wal_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default database: workflow-kit.db in the working folder, made with its tables on first use,
    in WAL mode (readers do not block the worker's writes)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORKFLOW_KIT_DATABASE_URL", raising=False)
    kit = WorkflowKit()
    try:
        assert kit.database_url == "sqlite:///workflow-kit.db"
        nap = workflow([action("n", "builtin:sleep", duration="1s")], [edge("$source", "n")])
        record = kit.workflows.create_sync("acme", name="w", trigger="app/x", workflow=nap)
        assert kit.workflows.get_sync("acme", record.id).name == "w"
    finally:
        kit.close()
    with sqlite3.connect(tmp_path / "workflow-kit.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
