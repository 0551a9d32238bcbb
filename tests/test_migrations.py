"""The Alembic migrations build exactly the tables `schema.py` declares, and upgrade a database that
holds data from an earlier revision."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.storage.db import MIGRATIONS, VERSION_TABLE, Database, _head_revision


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
            row = conn.execute(sa.text("SELECT trigger_event, trigger_cron, next_tick_at FROM wk_workflows")).one()
        assert tuple(row) == ("app/x", None, None)
    finally:
        _drop_everything(db)
        db.dispose()


def test_downgrading_below_0004_leaves_cron_workflows_inert(database_url: str) -> None:
    db = Database(database_url)
    try:
        _drop_everything(db)
        db.migrate()
        with db.engine.begin() as conn:
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
