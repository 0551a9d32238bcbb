"""flow control: concurrency slots, rate limit / throttle / debounce / batch state, start timeouts

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from workflow_kit.runtime.storage.schema import JSONType

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("limits", JSONType, nullable=True))
        batch_op.add_column(sa.Column("blocked_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("singleton_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("start_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("batch", JSONType, nullable=True))
        batch_op.create_index("ix_wk_runs_singleton", ["workflow_id", "singleton_key"], unique=False)
        batch_op.create_index("ix_wk_runs_blocked", ["blocked_key", "created_at"], unique=False)
    op.create_table(
        "wk_flow_state",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tat", sa.BigInteger(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("first_at", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "wk_slots",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key", "run_id"),
    )
    op.create_index("ix_wk_slots_run", "wk_slots", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_wk_slots_run", table_name="wk_slots")
    op.drop_table("wk_slots")
    op.drop_table("wk_flow_state")
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_runs_blocked")
        batch_op.drop_index("ix_wk_runs_singleton")
        for column in ("batch", "start_by", "singleton_key", "blocked_key", "limits"):
            batch_op.drop_column(column)
