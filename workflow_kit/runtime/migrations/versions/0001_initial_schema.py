"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from workflow_kit.runtime.storage.schema import JSONType

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wk_event_keys",
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "key"),
    )
    op.create_table(
        "wk_events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("key", sa.String(length=256), nullable=True),
        sa.Column("duplicate", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wk_events", schema=None) as batch_op:
        batch_op.create_index("ix_wk_events_tenant_received", ["tenant", "received_at"], unique=False)

    op.create_table(
        "wk_run_actions",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("action_id", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("inputs", JSONType, nullable=True),
        sa.Column("output", JSONType, nullable=True),
        sa.Column("error", JSONType, nullable=True),
        sa.Column("attempts", JSONType, nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("wake_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "action_id"),
    )
    op.create_table(
        "wk_run_steps",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("action_id", sa.String(length=256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("output", JSONType, nullable=True),
        sa.Column("error", JSONType, nullable=True),
        sa.Column("attempts", JSONType, nullable=False),
        sa.Column("wake_at", sa.BigInteger(), nullable=True),
        sa.Column("wait", JSONType, nullable=True),
        sa.Column("invoke", JSONType, nullable=True),
        sa.PrimaryKeyConstraint("run_id", "action_id", "position"),
    )
    op.create_table(
        "wk_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("event", JSONType, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("output", JSONType, nullable=True),
        sa.Column("error", JSONType, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("claim_seq", sa.Integer(), nullable=False),
        sa.Column("wake_requested", sa.Boolean(), nullable=False),
        sa.Column("parent_run_id", sa.String(length=64), nullable=True),
        sa.Column("parent_action_id", sa.String(length=256), nullable=True),
        sa.Column("parent_step_position", sa.Integer(), nullable=True),
        sa.Column("rerun_of", sa.String(length=64), nullable=True),
        sa.Column("system_depth", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.create_index("ix_wk_runs_due", ["due_at"], unique=False)
        batch_op.create_index("ix_wk_runs_parent", ["parent_run_id"], unique=False)
        batch_op.create_index("ix_wk_runs_tenant_created", ["tenant", "created_at"], unique=False)
        batch_op.create_index("ix_wk_runs_tenant_workflow", ["tenant", "workflow_id", "created_at"], unique=False)

    op.create_table(
        "wk_waits",
        sa.Column("id", sa.String(length=600), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("action_id", sa.String(length=256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("event_name", sa.String(length=256), nullable=False),
        sa.Column("if_exp", sa.String(), nullable=True),
        sa.Column("registered_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wk_waits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wk_waits_open",
            ["tenant", "event_name"],
            unique=False,
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )
        batch_op.create_index("ix_wk_waits_run", ["run_id"], unique=False)

    op.create_table(
        "wk_workflow_versions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("definition", JSONType, nullable=False),
        sa.Column("trigger_event", sa.String(length=256), nullable=False),
        sa.Column("trigger_if", sa.String(), nullable=True),
        sa.Column("settings", JSONType, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workflow_id", "number", name="uq_wk_workflow_versions_number"),
    )
    with op.batch_alter_table("wk_workflow_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wk_workflow_versions_workflow_id"), ["workflow_id"], unique=False)

    op.create_table(
        "wk_workflows",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("trigger_event", sa.String(length=256), nullable=False),
        sa.Column("trigger_if", sa.String(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("draft", JSONType, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("settings", JSONType, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wk_workflows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wk_workflows_tenant"), ["tenant"], unique=False)
        batch_op.create_index("ix_wk_workflows_trigger", ["tenant", "trigger_event", "enabled"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wk_workflows", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_workflows_trigger")
        batch_op.drop_index(batch_op.f("ix_wk_workflows_tenant"))

    op.drop_table("wk_workflows")
    with op.batch_alter_table("wk_workflow_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wk_workflow_versions_workflow_id"))

    op.drop_table("wk_workflow_versions")
    with op.batch_alter_table("wk_waits", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_waits_run")
        batch_op.drop_index(
            "ix_wk_waits_open",
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )

    op.drop_table("wk_waits")
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_runs_tenant_workflow")
        batch_op.drop_index("ix_wk_runs_tenant_created")
        batch_op.drop_index("ix_wk_runs_parent")
        batch_op.drop_index("ix_wk_runs_due")

    op.drop_table("wk_runs")
    op.drop_table("wk_run_steps")
    op.drop_table("wk_run_actions")
    with op.batch_alter_table("wk_events", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_events_tenant_received")

    op.drop_table("wk_events")
    op.drop_table("wk_event_keys")
