"""What a tenant chose for all its workflows (``kit.tenant_settings``): so far how long its history
is kept, which wins over the kit's `Retention` for it (a workflow's own ``retention`` setting still
wins for its runs). The editor's workspace settings read and write it."""

from __future__ import annotations

import msgspec
import sqlalchemy as sa

from ...errors import Problem, WorkflowValidationError
from ...tenancy import check_tenant
from ...timeutil import Clock
from ...twins import async_twin
from ..rules.retention import DurationLike, Retention, retention_ms
from ..storage import schema
from ..storage.db import Database

T = schema.tenant_settings
_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000))


def duration_text(ms: int) -> str:
    """``"30d"``, ``"36h"``, ``"90m"``: the largest unit that divides `ms` (milliseconds as they are if none)."""
    for unit, size in _UNITS:
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return str(ms)


class TenantSettings(msgspec.Struct, kw_only=True):
    """A tenant's settings: its `retention` (None: the kit's, `default_retention`)."""

    retention: str | None
    """How long ended runs and events are kept (``"90d"``), if the tenant chose."""
    default_retention: str
    """The kit's time for this tenant: what applies without a choice."""


class TenantSettingsStore:
    """Each tenant's own settings (async, each with a ``_sync`` twin): ``get`` and ``set_retention``."""

    def __init__(self, db: Database, clock: Clock, retention: Retention) -> None:
        self._db = db
        self._clock = clock
        self._retention = retention

    def get_sync(self, tenant: str) -> TenantSettings:
        check_tenant(tenant)
        with self._db.read() as conn:
            stored = conn.execute(sa.select(T.c.retention_ms).where(T.c.tenant == tenant)).scalar()
        return self._settings(tenant, stored)

    get = async_twin(get_sync)

    def set_retention_sync(self, tenant: str, retention: DurationLike | None) -> TenantSettings:
        """Keep `tenant`'s history for `retention` (``"90d"``, from 1 hour to 10 years), or the kit's
        time again (None). It applies to the runs that end and the events received from now on (in
        another process within `rules.retention.STORED_FRESH_S`). `WorkflowValidationError` (path
        ``retention``) for a time out of bounds or unreadable."""
        check_tenant(tenant)
        ms = None
        if retention is not None:
            try:
                ms = retention_ms(retention, "retention")
            except ValueError as exc:
                message = str(exc).removeprefix("retention: ")
                raise WorkflowValidationError([Problem("invalid_retention", "retention", message)]) from None
        now = self._clock.now_ms()
        with self._db.write() as conn:
            self._db.upsert(conn, T, [{"tenant": tenant, "retention_ms": ms, "updated_at": now}], ["tenant"])
        self._retention.remember(tenant, ms)
        return self._settings(tenant, ms)

    set_retention = async_twin(set_retention_sync)

    def _settings(self, tenant: str, stored: int | None) -> TenantSettings:
        return TenantSettings(
            retention=None if stored is None else duration_text(stored),
            default_retention=duration_text(self._retention.kit_ms(tenant)),
        )
