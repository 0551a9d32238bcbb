"""tenant settings: ``wk_tenant_settings``, what a tenant chose for all its workflows (so far how long
its history is kept: the editor's workspace settings).

No tenant has a row before (each keeps the kit's time); downgrading drops the table, and with it the
tenants' choices.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wk_tenant_settings",
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("retention_ms", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant"),
    )


def downgrade() -> None:
    op.drop_table("wk_tenant_settings")
