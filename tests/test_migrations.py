"""The Alembic migrations build exactly the tables `schema.py` declares, and upgrade a database that
holds data from an earlier revision."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from workflow_kit import ActionContextSync, Trigger, WorkflowKit
from workflow_kit.runtime import operations
from workflow_kit.runtime.lifecycle.effects import Context
from workflow_kit.runtime.models import RunStatus
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.storage.db import MIGRATIONS, VERSION_TABLE, Database, _head_revision
from workflow_kit.runtime.storage.run_filter import RunFilter
from workflow_kit.runtime.storage.schema import JSONType
from workflow_kit.timeutil import VirtualClock, to_ms


def _config(conn: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def _drop_everything(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in reversed(schema.TABLES):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert _head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_current_schema_is_checked_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'current.db'}"
    Database(url).migrate()
    code = (
        "import sys; from workflow_kit.runtime.storage.db import Database; "
        f"print(Database({url!r}).migrate(), 'alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [_head_revision(), "False"]


def test_the_migrated_schema_is_the_declared_schema(database_url: str) -> None:
    db = Database(database_url)
    try:
        _drop_everything(db)
        assert db.migrate() == _head_revision()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            diff = [d for d in compare_metadata(context, schema.metadata) if not _ignorable(d)]
        assert diff == []
    finally:
        db.dispose()


def _ignorable(diff: Any) -> bool:
    # Alembic's own version table is not part of the declared metadata.
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == VERSION_TABLE


def test_an_open_wait_from_revision_0001_is_still_resolved_after_upgrading(database_url: str) -> None:
    db = Database(database_url)
    try:
        _drop_everything(db)
        with db.engine.begin() as conn:
            command.upgrade(_config(conn), "0001")
            conn.execute(
                sa.text(
                    "INSERT INTO wk_waits (id, tenant, run_id, action_id, position, event_name, if_exp,"
                    " registered_at, expires_at, status) VALUES ('r/a/0', 't', 'r', 'a', 0, 'go',"
                    " 'async.data.id == 1', 1, 99999999999999, 'waiting')"
                )
            )
        db.migrate()
        with db.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT match_key, status FROM wk_waits")).one()
        assert tuple(row) == (None, "waiting")  # unkeyed: found by the scan of keyless waits
        from workflow_kit.runtime.lifecycle.waits import candidate_waits

        with db.engine.connect() as conn:
            found = candidate_waits(conn, "t", {"name": "go", "data": {"id": 1}}, 0)
        assert [w.id for w in found] == ["r/a/0"]
    finally:
        _drop_everything(db)
        db.dispose()


def test_a_workflow_from_revision_0002_keeps_its_event_trigger_after_upgrading(database_url: str) -> None:
    db = Database(database_url)
    try:
        _drop_everything(db)
        with db.engine.begin() as conn:
            command.upgrade(_config(conn), "0002")
            conn.execute(
                sa.text(
                    "INSERT INTO wk_workflows (id, tenant, name, description, trigger_event, trigger_if, enabled,"
                    " draft, revision, published_version, settings, created_at, updated_at) VALUES ('w', 't', 'n',"
                    " '', 'app/x', NULL, true, '{}', 1, NULL, '{}', 1, 1)"
                )
            )
        db.migrate()
        with db.engine.connect() as conn:
            assert conn.execute(sa.select(schema.workflows.c.triggers)).scalar_one() == [{"event": "app/x"}]
            row = conn.execute(sa.select(schema.triggers)).mappings().one()
        assert dict(row) == {
            "workflow_id": "w",
            "position": 0,
            "tenant": "t",
            "event": "app/x",
            "if_exp": None,
            "cron": None,
            "next_tick_at": None,
            "hook_id": None,  # no webhook (revision 0009)
        }
    finally:
        _drop_everything(db)
        db.dispose()


def test_downgrading_below_0004_leaves_cron_workflows_inert(database_url: str) -> None:
    db = Database(database_url)
    try:
        _drop_everything(db)
        with db.engine.begin() as conn:
            command.upgrade(_config(conn), "0005")
            conn.execute(
                sa.text(
                    "INSERT INTO wk_workflows (id, tenant, name, description, trigger_cron, enabled, draft, revision,"
                    " published_version, settings, created_at, updated_at, next_tick_at) VALUES ('w', 't', 'n', '',"
                    " '0 12 * * 5', true, '{}', 1, 1, '{}', 1, 1, 2)"
                )
            )
            command.downgrade(_config(conn), "0002")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT trigger_event FROM wk_workflows")).scalar_one() == ""
    finally:
        _drop_everything(db)
        db.dispose()


def test_a_version_from_revision_0004_has_no_notes_after_upgrading_and_downgrading_drops_them(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        _drop_everything(db)
        with db.engine.begin() as conn:
            command.upgrade(_config(conn), "0004")
            conn.execute(
                sa.text(
                    "INSERT INTO wk_workflow_versions (id, workflow_id, tenant, number, definition, trigger_event,"
                    " settings, created_at) VALUES ('v', 'w', 't', 1, '{}', 'app/x', '{}', 1)"
                )
            )
        db.migrate()
        with db.engine.begin() as conn:
            assert tuple(conn.execute(sa.text("SELECT author, message FROM wk_workflow_versions")).one()) == (
                None,
                None,
            )
            conn.execute(sa.text("UPDATE wk_workflow_versions SET author = 'ann', message = 'first'"))
            command.downgrade(_config(conn), "0004")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("wk_workflow_versions")}
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("wk_runs")}
        assert not {"author", "message"} & columns
        assert "ix_wk_runs_failed" not in indexes
        assert db.migrate() == _head_revision()  # and up again
    finally:
        _drop_everything(db)
        db.dispose()


# -- 0006: several triggers -------------------------------------------------------------------------------

FRIDAY_NOON = to_ms(datetime(2026, 3, 6, 12, tzinfo=UTC))
ONE_STEP = {"actions": [{"id": "a", "kind": "which", "inputs": {}}], "edges": [{"from": "$source", "to": "a"}]}


def _kit(database_url: str, clock: VirtualClock) -> WorkflowKit:
    kit = WorkflowKit(database_url=database_url, clock=clock)

    @kit.action(kind="which")
    def which(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return ctx.trigger

    return kit


def _old_tables() -> tuple[sa.TableClause, sa.TableClause]:
    """``wk_workflows`` and ``wk_workflow_versions`` as revision 0005 has them."""
    workflows = sa.table(
        "wk_workflows",
        *(sa.column(name) for name in ("id", "tenant", "name", "description", "trigger_event", "trigger_if")),
        *(sa.column(name) for name in ("trigger_cron", "enabled", "revision", "published_version")),
        *(sa.column(name) for name in ("created_at", "updated_at", "next_tick_at")),
        sa.column("draft", JSONType),
        sa.column("settings", JSONType),
    )
    versions = sa.table(
        "wk_workflow_versions",
        *(sa.column(name) for name in ("id", "workflow_id", "tenant", "number", "trigger_event", "trigger_if")),
        *(sa.column(name) for name in ("trigger_cron", "created_at")),
        sa.column("definition", JSONType),
        sa.column("settings", JSONType),
    )
    return workflows, versions


async def test_workflows_from_revision_0005_have_a_list_of_their_one_trigger_and_run_on_after_upgrading(
    database_url: str, clock: VirtualClock
) -> None:
    db = Database(database_url)
    try:
        _drop_everything(db)
        workflows, versions = _old_tables()
        common = {"tenant": "t", "description": "", "enabled": True, "revision": 1, "published_version": 1}
        common |= {"draft": ONE_STEP, "settings": {}, "created_at": 1, "updated_at": 1}
        with db.engine.begin() as conn:
            command.upgrade(_config(conn), "0005")
            conn.execute(
                workflows.insert(),
                [
                    {**common, "id": "w1", "name": "On orders", "trigger_event": "app/order.*"}
                    | {"trigger_if": "event.data.total > 10", "trigger_cron": None, "next_tick_at": None},
                    {**common, "id": "w2", "name": "Weekly", "trigger_event": None, "trigger_if": None}
                    | {"trigger_cron": "0 12 * * 5", "next_tick_at": FRIDAY_NOON},
                    {**common, "id": "w3", "name": "Draft", "trigger_event": "app/draft", "trigger_if": None}
                    | {"trigger_cron": None, "next_tick_at": None, "enabled": False, "published_version": None},
                ],
            )
            version = {"tenant": "t", "number": 1, "definition": ONE_STEP, "settings": {}, "created_at": 1}
            conn.execute(
                versions.insert(),
                [
                    {**version, "id": "v1", "workflow_id": "w1", "trigger_event": "app/order.*"}
                    | {"trigger_if": "event.data.total > 10", "trigger_cron": None},
                    {**version, "id": "v2", "workflow_id": "w2", "trigger_event": None, "trigger_if": None}
                    | {"trigger_cron": "0 12 * * 5"},
                ],
            )
        assert db.migrate() == _head_revision()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(schema.triggers).order_by(schema.triggers.c.workflow_id)).all()
        assert [tuple(row) for row in rows] == [
            ("w1", 0, "t", "app/order.*", "event.data.total > 10", None, None, None),
            ("w2", 0, "t", None, None, "0 12 * * 5", FRIDAY_NOON, None),  # it ticks on as it would have
            ("w3", 0, "t", "app/draft", None, None, None, None),
        ]
    finally:
        db.dispose()

    kit = _kit(database_url, clock)
    try:
        on_orders, weekly, draft = (kit.workflows.get_sync("t", w) for w in ("w1", "w2", "w3"))
        assert on_orders.triggers == (Trigger(event="app/order.*", if_="event.data.total > 10"),)
        assert (weekly.triggers, weekly.next_tick_at) == ((Trigger(cron="0 12 * * 5"),), FRIDAY_NOON)
        assert draft.triggers == (Trigger(event="app/draft"),)
        assert kit.workflows.version_sync("t", "w2", 1).triggers == (Trigger(cron="0 12 * * 5"),)
        assert kit.workflows.draft_changes_sync("t", [on_orders, weekly]) == {"w1": False, "w2": False}

        async with kit.worker(poll_ms=50) as worker:
            await kit.send("t", [{"name": "app/order.paid", "data": {"total": 5}}])
            await kit.send("t", [{"name": "app/order.paid", "data": {"total": 50}}])
            clock.advance_to(FRIDAY_NOON)
            kit.notify()
            await worker.idle()
        [by_event] = await kit.runs.list("t", workflow_id="w1")
        [by_tick] = await kit.runs.list("t", workflow_id="w2")
        fired = {"index": 0, "event": "app/order.*", "if": "event.data.total > 10"}
        assert (by_event.status, by_event.event["data"], by_event.output) == (
            RunStatus.COMPLETED,
            {"total": 50},
            {"a": fired},
        )
        assert (by_tick.status, by_tick.trigger) == (RunStatus.COMPLETED, {"index": 0, "cron": "0 12 * * 5"})
    finally:
        kit.close()


async def test_downgrading_below_0006_keeps_each_workflows_first_trigger(
    database_url: str, clock: VirtualClock
) -> None:
    db = Database(database_url)
    _drop_everything(db)
    kit = _kit(database_url, clock)
    try:
        two = kit.workflows.create_sync(
            "t", name="Two", triggers=[{"event": "app/a", "if": "event.data.x == 1"}, {"cron": "0 12 * * 5"}],
            workflow=ONE_STEP,
        )  # fmt: skip
        cron_first = kit.workflows.create_sync(
            "t", name="Cron first", triggers=[{"cron": "0 12 * * 5"}, "app/b"], workflow=ONE_STEP
        )
        await kit.send("t", [{"name": "app/b", "data": {}}])
    finally:
        kit.close()
    try:
        with db.engine.begin() as conn:
            command.downgrade(_config(conn), "0005")
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT id, trigger_event, trigger_if, trigger_cron, next_tick_at FROM wk_workflows ORDER BY name"
                )
            ).all()
            kept = conn.execute(
                sa.text("SELECT workflow_id, trigger_event, trigger_if, trigger_cron FROM wk_workflow_versions")
            ).all()
            tables = set(sa.inspect(conn).get_table_names())
            run_columns = {c["name"] for c in sa.inspect(conn).get_columns("wk_runs")}
        assert [tuple(row) for row in rows] == [
            (cron_first.id, None, None, "0 12 * * 5", FRIDAY_NOON),  # the first trigger's tick
            (two.id, "app/a", "event.data.x == 1", None, None),  # the schedule, second, is gone
        ]
        assert sorted(tuple(row) for row in kept) == sorted(
            [(cron_first.id, None, None, "0 12 * * 5"), (two.id, "app/a", "event.data.x == 1", None)]
        )
        assert "wk_triggers" not in tables and "trigger" not in run_columns
        assert db.migrate() == _head_revision()  # and up again: a list of the one trigger kept
    finally:
        _drop_everything(db)
        db.dispose()


# -- 0007: runs and events views, bulk operations -----------------------------------------------------------

RUN_INDEXES_0007 = {"ix_wk_runs_tenant_status", "ix_wk_runs_tenant_workflow_status", "ix_wk_runs_tenant_event"}


def _indexes(conn: sa.Connection, table: str) -> set[str]:
    return {str(index["name"]) for index in sa.inspect(conn).get_indexes(table)}


async def test_runs_from_revision_0006_are_listed_by_the_new_indexes_and_cancelled_in_bulk_after_upgrading(
    database_url: str, clock: VirtualClock
) -> None:
    db = Database(database_url)
    _drop_everything(db)
    kit = _kit(database_url, clock)
    try:
        workflow = kit.workflows.create_sync("t", name="Orders", trigger="app/order", workflow=ONE_STEP)
        ids = await kit.send("t", [{"name": "app/order", "data": {"n": n}} for n in range(5)])
    finally:
        kit.close()
    try:
        with db.engine.begin() as conn:
            command.downgrade(_config(conn), "0006")
        with db.engine.connect() as conn:
            assert "wk_operations" not in set(sa.inspect(conn).get_table_names())
            assert not RUN_INDEXES_0007 & _indexes(conn, "wk_runs")
            assert "ix_wk_waits_event" not in _indexes(conn, "wk_waits")
            assert conn.execute(sa.text("SELECT count(*) FROM wk_runs")).scalar_one() == 5  # the runs stay
        assert db.migrate() == _head_revision()
        with db.engine.connect() as conn:
            assert RUN_INDEXES_0007 | {"ix_wk_runs_tests"} <= _indexes(conn, "wk_runs")
            assert "ix_wk_waits_event" in _indexes(conn, "wk_waits")
    finally:
        db.dispose()

    kit = _kit(database_url, clock)
    try:
        first = await kit.runs.page("t", RunFilter(status=(RunStatus.QUEUED,)), limit=3)
        rest = await kit.runs.page("t", RunFilter(status=(RunStatus.QUEUED,)), limit=3, cursor=first.next_cursor)
        assert len(first.items) == 3 and len(rest.items) == 2 and rest.next_cursor is None
        assert [r.event_id for r in [*first.items, *rest.items]] == ids[::-1]
        links = await kit.events.links("t", ids[:1])
        assert [link.workflow_id for link in links[ids[0]].started] == [workflow.id]
        operation = await kit.runs.bulk_cancel("t", workflow_id=workflow.id)
        ctx = Context(kit.db.dialect, kit._settings)
        while operations.step(ctx, kit.db, clock.now_ms(), batch=2).worked:
            pass
        assert (await kit.runs.operation("t", operation.id)).done == 5
        assert {r.status for r in await kit.runs.list("t")} == {RunStatus.CANCELLED}
    finally:
        kit.close()
        _drop_everything(db)
        db.dispose()


# -- 0008: connections -------------------------------------------------------------------------------------


def test_0008_adds_the_connections_tables_and_downgrading_drops_them(database_url: str) -> None:
    db = Database(database_url)
    try:
        _drop_everything(db)
        db.migrate()
        with db.engine.begin() as conn:
            command.downgrade(_config(conn), "0007")
        with db.engine.connect() as conn:
            assert not {"wk_connections", "wk_oauth_states"} & set(sa.inspect(conn).get_table_names())
        assert db.migrate() == _head_revision()
        with db.engine.connect() as conn:
            assert {"wk_connections", "wk_oauth_states"} <= set(sa.inspect(conn).get_table_names())
            assert "ix_wk_connections_tenant_type" in _indexes(conn, "wk_connections")
    finally:
        db.dispose()


def test_runs_from_revision_0010_run_on_the_embedded_runtime_after_upgrading(database_url: str) -> None:
    db = Database(database_url)
    try:
        _drop_everything(db)
        with db.engine.begin() as conn:
            command.upgrade(_config(conn), "0010")
            conn.execute(
                sa.text(
                    "INSERT INTO wk_runs (id, tenant, workflow_id, version_id, event, status, created_at,"
                    " updated_at, claim_seq, wake_requested, system_depth)"
                    " VALUES ('r', 't', 'w', 'v', '{}', 'queued', 1, 1, 0, false, 0)"
                )
            )
        assert db.migrate() == _head_revision()
        with db.engine.begin() as conn:
            row = conn.execute(sa.text("SELECT runs_on, remote_id, remote_event_id FROM wk_runs")).one()
            assert tuple(row) == (None, None, None)
            command.downgrade(_config(conn), "0010")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("wk_runs")}
        assert not {"runs_on", "remote_id", "remote_event_id"} & columns
        assert db.migrate() == _head_revision()  # and up again
    finally:
        _drop_everything(db)
        db.dispose()
