"""connections: ``wk_connections`` (a tenant's connections to outside accounts, their credentials
sealed with AES-GCM) and ``wk_oauth_states`` (OAuth flows under way, their PKCE verifier sealed).

Only new tables: existing rows are untouched, and downgrading drops them again.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wk_connections",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("refresh_until", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wk_connections", schema=None) as batch_op:
        batch_op.create_index("ix_wk_connections_tenant_type", ["tenant", "type", "name"], unique=False)
    op.create_table(
        "wk_oauth_states",
        sa.Column("state", sa.String(length=128), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("connection_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("verifier", sa.Text(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2048), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("state"),
    )


def downgrade() -> None:
    op.drop_table("wk_oauth_states")
    with op.batch_alter_table("wk_connections", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_connections_tenant_type")
    op.drop_table("wk_connections")
