"""retention: ``expires_at`` on runs (set when a run ends) and on events (set when received), each
with a partial index of the rows that have one, through which the workers delete expired history.

Runs that had ended, and events received, before this migration expire 30 days after their end or
receipt (the default retention); downgrading drops the columns and the indexes again.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_EXPIRING = {
    "sqlite_where": sa.text("expires_at IS NOT NULL"),
    "postgresql_where": sa.text("expires_at IS NOT NULL"),
}
_DEFAULT_MS = 30 * 86_400_000


def upgrade() -> None:
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("wk_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.BigInteger(), nullable=True))
    op.execute(f"UPDATE wk_runs SET expires_at = ended_at + {_DEFAULT_MS} WHERE ended_at IS NOT NULL")
    op.execute(f"UPDATE wk_events SET expires_at = received_at + {_DEFAULT_MS}")
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.create_index("ix_wk_runs_expires", ["expires_at"], unique=False, **_EXPIRING)
    with op.batch_alter_table("wk_events", schema=None) as batch_op:
        batch_op.create_index("ix_wk_events_expires", ["expires_at"], unique=False, **_EXPIRING)


def downgrade() -> None:
    with op.batch_alter_table("wk_events", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_events_expires", **_EXPIRING)
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_runs_expires", **_EXPIRING)
        batch_op.drop_column("expires_at")
