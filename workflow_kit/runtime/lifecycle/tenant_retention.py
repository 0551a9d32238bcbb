"""A tenant's time for its history in a transaction: its stored choice (``wk_tenant_settings``, see
stores/tenant_settings.py), read at most once per `rules.retention.STORED_FRESH_S` per process, else
the kit's (`Retention`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..rules.retention import Retention
from ..storage import schema

T = schema.tenant_settings
_STORED = sa.select(T.c.retention_ms).where(T.c.tenant == sa.bindparam("tenant"))


def stored_ms(retention: Retention, conn: Connection, tenant: str) -> int | None:
    """`tenant`'s stored choice (None if it made none), from this process's memory while fresh."""
    known, stored = retention.recalled(tenant)
    if not known:
        stored = conn.execute(_STORED, {"tenant": tenant}).scalar()
        retention.remember(tenant, stored)
    return stored


def tenant_ms(retention: Retention, conn: Connection, tenant: str) -> int:
    """How long `tenant`'s events, and the runs of its workflows with no setting of their own, are kept."""
    return retention.tenant_ms(tenant, stored_ms(retention, conn, tenant))
