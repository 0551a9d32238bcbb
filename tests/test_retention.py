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
from workflow_kit.runtime.lifecycle.events_in import DEDUPE_WINDOW_MS
from workflow_kit.runtime.lifecycle.retention import RECHECK_MS, sweep
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.stores.tenant_settings import TenantSettings, TenantSettingsStore
from workflow_kit.timeutil import VirtualClock

DAY = timedelta(days=1)
DAY_MS = 86_400_000
R, A, S, WT, E, K = schema.runs, schema.run_actions, schema.run_steps, schema.waits, schema.events, schema.event_keys


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


def run_row(run_id: str, status: str, *, parent: str | None = None, expires: int | None) -> dict[str, Any]:
    return {
        "id": run_id,
        "tenant": "acme",
        "workflow_id": "w",
        "version_id": "v",
        "version_number": 1,
        "event": {},
        "status": status,
        "created_at": 0,
        "updated_at": 0,
        "ended_at": 0 if status in ("completed", "failed", "cancelled") else None,
        "parent_run_id": parent,
        "expires_at": expires,
        "claim_seq": 0,
        "wake_requested": False,
        "system_depth": 0,
    }


def insert_run(kit: WorkflowKit, run_id: str, status: str, *, parent: str | None = None, expires: int | None) -> None:
    with kit.db.write() as conn:
        conn.execute(R.insert(), [run_row(run_id, status, parent=parent, expires=expires)])


def open_wait(kit: WorkflowKit, run_id: str) -> None:
    with kit.db.write() as conn:
        conn.execute(
            WT.insert().values(
                id=f"{run_id}:w:0",
                tenant="acme",
                run_id=run_id,
                action_id="w",
                position=0,
                event_name="app/x",
                registered_at=0,
                expires_at=10**12,
                status="waiting",
            )
        )


def expiry(kit: WorkflowKit) -> dict[str, int | None]:
    with kit.db.read() as conn:
        return {row.id: row.expires_at for row in conn.execute(sa.select(R.c.id, R.c.expires_at))}


def test_a_run_still_referenced_is_kept(kit: WorkflowKit) -> None:
    """Expired, yet kept: a child whose parent has not ended, a parent whose child has not ended, a run
    with an open wait; each is looked at again an hour later. The rest of the batch goes."""
    insert_run(kit, "parent-open", "sleeping", expires=None)
    insert_run(kit, "child-of-open", "completed", parent="parent-open", expires=10)
    insert_run(kit, "parent-ended", "completed", expires=10)
    insert_run(kit, "child-running", "running", parent="parent-ended", expires=None)
    insert_run(kit, "waiting", "completed", expires=10)
    insert_run(kit, "plain", "failed", expires=10)
    insert_run(kit, "later", "completed", expires=10_000)
    open_wait(kit, "waiting")
    with kit.db.write() as conn:
        swept = sweep(conn, now=1_000)
    assert (swept.runs, swept.kept) == (1, 3)
    later = 1_000 + RECHECK_MS
    assert expiry(kit) == {
        "parent-open": None,
        "child-of-open": later,
        "parent-ended": later,
        "child-running": None,
        "waiting": later,
        "later": 10_000,
    }


def test_runs_kept_at_the_head_do_not_stop_the_deletion_behind_them(kit: WorkflowKit) -> None:
    """The oldest expired runs all referenced (a batch's worth): the next batch takes the runs after
    them, instead of finding the same kept runs again and again."""
    for n in range(3):
        insert_run(kit, f"waiting-{n}", "completed", expires=10 + n)
        open_wait(kit, f"waiting-{n}")
    insert_run(kit, "plain-1", "completed", expires=20)
    insert_run(kit, "plain-2", "completed", expires=21)
    with kit.db.write() as conn:
        first = sweep(conn, now=1_000, batch=3)
    assert (first.runs, first.kept, first.full(3)) == (0, 3, True)  # full: the worker goes on at once
    with kit.db.write() as conn:
        second = sweep(conn, now=1_000, batch=3)
    assert (second.runs, second.kept) == (2, 0)
    assert set(expiry(kit)) == {"waiting-0", "waiting-1", "waiting-2"}


ROWS = 2_000
"""Enough for SQLite's planner to prefer a scan of the runs to the full index of parents (300 are not)."""


def test_each_lookup_of_a_batch_goes_through_an_index(kit: WorkflowKit) -> None:
    """SQLite, once ``ANALYZE`` has counted a runs table where no run has a parent: no statement of a
    batch scans a table (the check for open children did, once per expired run: deleting stalled at a
    hundred thousand runs)."""
    if kit.db.dialect != "sqlite":
        pytest.skip("SQLite's query plans (PostgreSQL's choice of a scan depends on the table's size)")
    with kit.db.write() as conn:
        conn.execute(R.insert(), [run_row(f"run-{n:04}", "completed", expires=10 + n) for n in range(ROWS)])
    with kit.db.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "DELETE", "UPDATE")):
            statements.append((statement, parameters))

    sa.event.listen(kit.db.engine, "before_cursor_execute", record)
    try:
        with kit.db.write() as conn:
            assert sweep(conn, now=1_000).runs == 100
    finally:
        sa.event.remove(kit.db.engine, "before_cursor_execute", record)
    with kit.db.read() as conn:
        plans = [
            (statement.split()[0:4], row[-1])
            for statement, parameters in statements
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        ]
    assert len(statements) >= 7
    assert [plan for plan in plans if "SCAN" in plan[1]] == []


async def test_deduplication_keys_are_deleted_past_their_window(kit: WorkflowKit, clock: VirtualClock) -> None:
    """An event's own id is held for 24 hours (a second event with it is a duplicate); past that the key
    is deleted, and the id starts a run again."""
    kit.workflows.create_sync("acme", name="w", trigger="app/go", workflow=one_step())
    start = clock.now_ms()
    await kit.send("acme", {"name": "app/go", "id": "daily"})
    with kit.db.write() as conn:
        assert sweep(conn, now=start + DEDUPE_WINDOW_MS - 1).keys == 0
    assert count(kit, K, key="daily") == 1
    with kit.db.write() as conn:
        assert sweep(conn, now=start + DEDUPE_WINDOW_MS).keys == 1
    assert count(kit, K) == 0
    clock.advance_to(start + DEDUPE_WINDOW_MS)
    await kit.send("acme", {"name": "app/go", "id": "daily"})
    with kit.db.read() as conn:
        duplicates = list(conn.execute(sa.select(E.c.duplicate).where(E.c.key == "daily")).scalars())
    assert duplicates == [False, False]
    assert count(kit, K, key="daily") == 1


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


async def test_a_tenants_stored_choice_wins_over_the_kits_and_a_workflows_setting_over_both(
    kit: WorkflowKit, clock: VirtualClock
) -> None:
    kit.retention = Retention(tenants={"acme": "60d"})
    settings = TenantSettingsStore(kit.db, clock, kit.retention)
    assert settings.get_sync("acme") == TenantSettings(retention=None, default_retention="60d")
    assert settings.set_retention_sync("acme", "7d") == TenantSettings(retention="7d", default_retention="60d")
    plain = kit.workflows.create_sync("acme", name="plain", trigger="app/go", workflow=one_step())
    own = kit.workflows.create_sync(
        "acme", name="own", trigger="app/go", workflow=one_step(), settings={"retention": "90d"}
    )
    async with kit.worker(poll_ms=3_600_000) as worker:
        await kit.send("acme", {"name": "app/go"})
        await worker.idle()
    with kit.db.read() as conn:
        kept = dict(conn.execute(sa.select(R.c.workflow_id, R.c.expires_at - R.c.ended_at)).all())
        event_kept = conn.execute(sa.select(E.c.expires_at - E.c.received_at).where(E.c.name == "app/go")).scalar()
    assert kept == {plain.id: 7 * DAY_MS, own.id: 90 * DAY_MS}
    assert event_kept == 7 * DAY_MS
    assert settings.set_retention_sync("acme", None).retention is None  # the kit's time again
    assert settings.get_sync("acme").retention is None


def test_a_tenants_retention_is_checked_with_its_path(kit: WorkflowKit) -> None:
    for wrong, says in (("5m", "from 1 hour to 10 years"), ("soon", "invalid duration")):
        with pytest.raises(WorkflowValidationError) as caught:
            kit.tenant_settings.set_retention_sync("acme", wrong)
        [problem] = caught.value.problems
        assert problem.path == "retention" and says in problem.message
    assert kit.tenant_settings.get_sync("acme").retention is None
