"""runs and events views, bulk operations: indexes for filtering a tenant's runs (by status, with or
without a workflow; by triggering event; test runs) newest first along (created_at, id), an index of the
waits an event resolved, and ``wk_operations`` (bulk cancel and replay, worked off by the workers).

Only indexes and a new table: existing rows are untouched, and downgrading drops them again.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from workflow_kit.runtime.storage.schema import JSONType

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TESTS = {"sqlite_where": sa.text("version_number IS NULL"), "postgresql_where": sa.text("version_number IS NULL")}
_RUN_INDEXES: list[tuple[str, list[str], dict[str, sa.TextClause]]] = [
    ("ix_wk_runs_tenant_status", ["tenant", "status", "created_at", "id"], {}),
    ("ix_wk_runs_tenant_workflow_status", ["tenant", "workflow_id", "status", "created_at", "id"], {}),
    ("ix_wk_runs_tenant_event", ["tenant", "event_id"], {}),
    ("ix_wk_runs_tests", ["tenant", "created_at", "id"], _TESTS),
]


def upgrade() -> None:
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        for name, columns, where in _RUN_INDEXES:
            batch_op.create_index(name, columns, unique=False, **where)
    with op.batch_alter_table("wk_waits", schema=None) as batch_op:
        batch_op.create_index("ix_wk_waits_event", ["event_id"], unique=False)
    op.create_table(
        "wk_operations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filter", JSONType, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("cursor_created_at", sa.BigInteger(), nullable=True),
        sa.Column("cursor_id", sa.String(length=64), nullable=True),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wk_operations", schema=None) as batch_op:
        batch_op.create_index("ix_wk_operations_open", ["state", "updated_at"], unique=False)
        batch_op.create_index("ix_wk_operations_tenant", ["tenant", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wk_operations", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_operations_tenant")
        batch_op.drop_index("ix_wk_operations_open")
    op.drop_table("wk_operations")
    with op.batch_alter_table("wk_waits", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_waits_event")
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        for name, _, where in reversed(_RUN_INDEXES):
            batch_op.drop_index(name, **where)
