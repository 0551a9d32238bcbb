"""retention at scale: ``ix_wk_runs_parent`` holds only the runs that have a parent, and
``ix_wk_event_keys_expires`` lets the workers delete deduplication keys past their window.

Most runs have no parent: indexed, their nulls made the index look useless to SQLite's planner once
``ANALYZE`` had counted them (one "value" shared by every row), so the workers' check for a run's open
children scanned the whole runs table for each expired run, and deleting history stalled at a hundred
thousand runs. The partial index holds only the rows a parent lookup can find. Downgrading restores
the full index and drops the new one.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_HAS_PARENT = {
    "sqlite_where": sa.text("parent_run_id IS NOT NULL"),
    "postgresql_where": sa.text("parent_run_id IS NOT NULL"),
}


def upgrade() -> None:
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_runs_parent")
        batch_op.create_index("ix_wk_runs_parent", ["parent_run_id"], unique=False, **_HAS_PARENT)
    with op.batch_alter_table("wk_event_keys", schema=None) as batch_op:
        batch_op.create_index("ix_wk_event_keys_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wk_event_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_event_keys_expires")
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_runs_parent", **_HAS_PARENT)
        batch_op.create_index("ix_wk_runs_parent", ["parent_run_id"], unique=False)
