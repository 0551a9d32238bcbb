"""version notes and failed runs: a published version records its author and a message; an index of
failed runs serves the workflow list's count of recent failures

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_FAILED = {"sqlite_where": sa.text("status = 'failed'"), "postgresql_where": sa.text("status = 'failed'")}


def upgrade() -> None:
    with op.batch_alter_table("wk_workflow_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("message", sa.String(length=500), nullable=True))
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.create_index("ix_wk_runs_failed", ["tenant", "workflow_id", "ended_at"], unique=False, **_FAILED)


def downgrade() -> None:
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_runs_failed", **_FAILED)
    with op.batch_alter_table("wk_workflow_versions", schema=None) as batch_op:
        batch_op.drop_column("message")
        batch_op.drop_column("author")
