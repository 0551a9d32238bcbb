"""runs on Inngest: ``runs_on`` on runs (null: the embedded runtime's; ``inngest``: a run Inngest
executes, which the kit only records, so no worker claims it), with Inngest's ids of the run
(``remote_id``) and of the run request event (``remote_event_id``).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runs_on", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("remote_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("remote_event_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.drop_column("remote_event_id")
        batch_op.drop_column("remote_id")
        batch_op.drop_column("runs_on")
