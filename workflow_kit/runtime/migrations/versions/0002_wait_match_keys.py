"""wait match keys: an incoming event finds the waits it can resolve through an index

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_OPEN = {"sqlite_where": sa.text("status = 'waiting'"), "postgresql_where": sa.text("status = 'waiting'")}


def upgrade() -> None:
    with op.batch_alter_table("wk_waits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("match_key", sa.String(length=32), nullable=True))
        batch_op.drop_index("ix_wk_waits_open")
        batch_op.create_index("ix_wk_waits_open", ["tenant", "event_name", "match_key"], unique=False, **_OPEN)


def downgrade() -> None:
    with op.batch_alter_table("wk_waits", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_waits_open")
        batch_op.create_index("ix_wk_waits_open", ["tenant", "event_name"], unique=False, **_OPEN)
        batch_op.drop_column("match_key")
