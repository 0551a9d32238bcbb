"""webhooks: ``wk_hooks`` (a workflow's webhook URLs, how each checks its requests, its sealed secret,
its transform and rate limit), ``wk_hook_requests`` (each hook's last requests) and ``wk_triggers.hook_id``
(a webhook trigger's hook).

Existing rows are untouched (no trigger has a hook before); downgrading drops the tables and the column,
and with them the webhook triggers' hooks (the triggers stay in the records' lists).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from workflow_kit.runtime.storage.schema import JSONType

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wk_triggers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hook_id", sa.String(length=64), nullable=True))
    op.create_table(
        "wk_hooks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("verification", JSONType, nullable=False),
        sa.Column("secret", sa.String(), nullable=True),
        sa.Column("transform", sa.String(), nullable=True),
        sa.Column("rate_limit", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wk_hooks", schema=None) as batch_op:
        batch_op.create_index("ix_wk_hooks_workflow", ["workflow_id"], unique=False)
    op.create_table(
        "wk_hook_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("hook_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("why", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wk_hook_requests", schema=None) as batch_op:
        batch_op.create_index("ix_wk_hook_requests_hook", ["hook_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wk_hook_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_hook_requests_hook")
    op.drop_table("wk_hook_requests")
    with op.batch_alter_table("wk_hooks", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_hooks_workflow")
    op.drop_table("wk_hooks")
    with op.batch_alter_table("wk_triggers", schema=None) as batch_op:
        batch_op.drop_column("hook_id")
