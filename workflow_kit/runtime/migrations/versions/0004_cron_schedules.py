"""cron schedules: a workflow's trigger may be a cron schedule; its next tick is stored with it

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wk_workflows", schema=None) as batch_op:
        batch_op.alter_column("trigger_event", existing_type=sa.String(length=256), nullable=True)
        batch_op.add_column(sa.Column("trigger_cron", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("next_tick_at", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_wk_workflows_next_tick", ["next_tick_at"], unique=False)
    with op.batch_alter_table("wk_workflow_versions", schema=None) as batch_op:
        batch_op.alter_column("trigger_event", existing_type=sa.String(length=256), nullable=True)
        batch_op.add_column(sa.Column("trigger_cron", sa.String(length=256), nullable=True))


def downgrade() -> None:
    # Cron workflows keep their rows but lose their schedule: an empty event name matches no event.
    for table in ("wk_workflows", "wk_workflow_versions"):
        op.execute(sa.text(f"UPDATE {table} SET trigger_event = '' WHERE trigger_event IS NULL"))
    with op.batch_alter_table("wk_workflow_versions", schema=None) as batch_op:
        batch_op.drop_column("trigger_cron")
        batch_op.alter_column("trigger_event", existing_type=sa.String(length=256), nullable=False)
    with op.batch_alter_table("wk_workflows", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_workflows_next_tick")
        batch_op.drop_column("next_tick_at")
        batch_op.drop_column("trigger_cron")
        batch_op.alter_column("trigger_event", existing_type=sa.String(length=256), nullable=False)
