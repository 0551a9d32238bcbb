"""Retention (runtime/lifecycle/retention.py, rules/retention.py): the workers delete ended runs (with their
actions, steps and waits) and events whose time is up, per tenant and per workflow, and keep a run still
referenced. On SQLite and PostgreSQL, on the virtual clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from helpers import action, edge, workflow

from workflow_kit import ActionContextSync, Retention, WorkflowKit
from workflow_kit.errors import WorkflowValidationError
from workflow_kit.runtime.lifecycle.retention import sweep
from workflow_kit.runtime.storage import schema
from workflow_kit.timeutil import VirtualClock

DAY = timedelta(days=1)
R, A, S, WT, E = schema.runs, schema.run_actions, schema.run_steps, schema.waits, schema.events


@pytest.fixture(autouse=True)
def _actions(kit: WorkflowKit) -> None:
    @kit.action(kind="step")
    def step(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        return ctx.step.run("inner", lambda: "done")


def one_step() -> dict[str, Any]:
    return workflow([action("s", "step")], [edge("$source", "s")])


def count(kit: WorkflowKit, table: sa.Table, **where: Any) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with kit.db.read() as conn:
        return int(conn.execute(query).scalar_one())


async def until(check: Any, timeout: float = 20.0) -> None:
    """Poll `check` until it holds (a worker deletes in a loop of its own), failing after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_workers_delete_expired_history_per_tenant_and_per_workflow(
    kit: WorkflowKit, clock: VirtualClock
) -> None:
    kit.retention = Retention(tenants={"keeper": "60d"})
    short = kit.workflows.create_sync("acme", name="short", trigger="app/go", workflow=one_step())
    long = kit.workflows.create_sync(
        "acme", name="long", trigger="app/go", workflow=one_step(), settings={"retention": "90d"}
    )
    kit.workflows.create_sync("keeper", name="kept", trigger="app/go", workflow=one_step())
    async with kit.worker(poll_ms=3_600_000, retention_every_ms=20) as worker:
        await kit.send("acme", [{"name": "app/go"}] * 3)
        await kit.send("keeper", {"name": "app/go"})
        await worker.idle()
        assert count(kit, R, status="completed") == 7
        assert count(kit, S) == 7
        clock.advance(31 * DAY)  # past acme's 30 days, not keeper's 60 nor the long workflow's 90
        await until(lambda: count(kit, R, workflow_id=short.id) == 0)
        await until(lambda: count(kit, E, tenant="acme") == 0)
        assert count(kit, R, workflow_id=long.id) == 3
        assert count(kit, R, tenant="keeper") == 1
        assert count(kit, E, tenant="keeper") == 2  # its event and its run's end (workflow/run.completed)
        assert count(kit, S) == 4 and count(kit, A) == 4  # the deleted runs' actions and steps went too
        clock.advance(60 * DAY)
        await until(lambda: count(kit, R) == 0 and count(kit, E) == 0)
        assert count(kit, S) == 0 and count(kit, A) == 0


def insert_run(kit: WorkflowKit, run_id: str, status: str, *, parent: str | None = None, expires: int | None) -> None:
    with kit.db.write() as conn:
        conn.execute(
            R.insert().values(
                id=run_id,
                tenant="acme",
                workflow_id="w",
                version_id="v",
                version_number=1,
                event={},
                status=status,
                created_at=0,
                updated_at=0,
                ended_at=0 if status in ("completed", "failed", "cancelled") else None,
                parent_run_id=parent,
                expires_at=expires,
                claim_seq=0,
                wake_requested=False,
                system_depth=0,
            )
        )


def test_a_run_still_referenced_is_kept(kit: WorkflowKit) -> None:
    """Expired, yet kept: a child whose parent has not ended, a parent whose child has not ended, a run
    with an open wait. The rest of the batch goes."""
    insert_run(kit, "parent-open", "sleeping", expires=None)
    insert_run(kit, "child-of-open", "completed", parent="parent-open", expires=10)
    insert_run(kit, "parent-ended", "completed", expires=10)
    insert_run(kit, "child-running", "running", parent="parent-ended", expires=None)
    insert_run(kit, "waiting", "completed", expires=10)
    insert_run(kit, "plain", "failed", expires=10)
    insert_run(kit, "later", "completed", expires=10_000)
    with kit.db.write() as conn:
        conn.execute(
            WT.insert().values(
                id="waiting:w:0",
                tenant="acme",
                run_id="waiting",
                action_id="w",
                position=0,
                event_name="app/x",
                registered_at=0,
                expires_at=10**12,
                status="waiting",
            )
        )
    with kit.db.write() as conn:
        swept = sweep(conn, now=1_000)
    assert swept.runs == 1
    with kit.db.read() as conn:
        left = set(conn.execute(sa.select(R.c.id)).scalars())
    assert left == {"parent-open", "child-of-open", "parent-ended", "child-running", "waiting", "later"}


def test_retention_times_are_checked() -> None:
    with pytest.raises(ValueError, match="from 1 hour to 10 years"):
        Retention("5m")
    with pytest.raises(ValueError, match="retention of 'acme': invalid duration"):
        Retention(tenants={"acme": "soon"})
    assert Retention(timedelta(days=7)).tenant_ms("any") == 7 * 86_400_000


def test_a_workflows_retention_setting_is_checked(kit: WorkflowKit) -> None:
    with pytest.raises(WorkflowValidationError) as caught:
        kit.workflows.create_sync("acme", name="x", trigger="app/x", workflow=one_step(), settings={"retention": "1m"})
    assert [problem.path for problem in caught.value.problems] == ["settings.retention"]
