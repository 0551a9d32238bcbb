"""How long history is kept: ended runs (with their actions, steps and waits) and received events.
Pure.

A run's time is its workflow's ``retention`` setting (the version it ran: ``settings.retention``, the
editor's Settings tab) if it has one, else its tenant's; a tenant's is its own choice if it made one
(stored: the editor's workspace settings, ``kit.tenant_settings``), else the kit's `Retention.tenants`
entry for it, else `Retention.default` (30 days). An event's time is its tenant's. The time counts from
the run's end, or the event's receipt: the row's ``expires_at`` (see `lifecycle/retention.py`, which
deletes what expired).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import timedelta

from ...timeutil import parse_duration
from .settings import MAX_RETENTION_MS, WorkflowSettings, duration_ms

MIN_RETENTION_MS = 3_600_000
"""An hour: history kept for less is gone before anyone looks at a failure (ten years at most)."""

DurationLike = str | int | timedelta
"""``"30d"``, ``"12h"``, milliseconds, or a `timedelta`."""
STORED_FRESH_S = 10.0
"""How long a process trusts the tenant's stored choice it read (another process may change it)."""


def retention_ms(value: DurationLike, what: str) -> int:
    """Milliseconds of a retention time, checked (`ValueError` naming `what` otherwise)."""
    try:
        ms = int(parse_duration(value).total_seconds() * 1000)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    if not MIN_RETENTION_MS <= ms <= MAX_RETENTION_MS:
        raise ValueError(f"{what}: history is kept from 1 hour to 10 years, got {value!r}")
    return ms


class Retention:
    """How long each tenant's history is kept (``WorkflowKit(retention=Retention(...))``): `default`
    for every tenant (30 days), `tenants` for some of them (``{"acme": "90d"}``). A workflow's own
    ``retention`` setting wins for its runs. Each time is ``"30d"``, ``"12h"``, milliseconds or a
    `timedelta`, from 1 hour to 10 years (`ValueError` otherwise)."""

    def __init__(self, default: DurationLike = "30d", tenants: Mapping[str, DurationLike] | None = None) -> None:
        self.default_ms = retention_ms(default, "retention")
        self.tenants_ms = {
            tenant: retention_ms(value, f"retention of {tenant!r}") for tenant, value in (tenants or {}).items()
        }

        self._stored: dict[str, tuple[float, int | None]] = {}
        self._lock = threading.Lock()

    def tenant_ms(self, tenant: str, stored: int | None = None) -> int:
        """How long `tenant`'s events, and the runs of its workflows with no setting, are kept: its
        `stored` choice if it made one, else the kit's."""
        return stored if stored is not None else self.kit_ms(tenant)

    def kit_ms(self, tenant: str) -> int:
        """The kit's time for `tenant` (its `tenants` entry, else the default)."""
        return self.tenants_ms.get(tenant, self.default_ms)

    def run_ms(self, tenant: str, settings: WorkflowSettings | None, stored: int | None = None) -> int:
        """How long an ended run is kept: its workflow's setting, else its tenant's time."""
        if settings is not None and settings.retention is not None:
            return duration_ms(settings.retention)
        return self.tenant_ms(tenant, stored)

    # -- the tenants' stored choices, as this process last read them ---------------------------------

    def recalled(self, tenant: str) -> tuple[bool, int | None]:
        """Whether this process read `tenant`'s stored choice lately, and the choice (None: none)."""
        entry = self._stored.get(tenant)
        if entry is None or time.monotonic() - entry[0] > STORED_FRESH_S:
            return False, None
        return True, entry[1]

    def remember(self, tenant: str, stored: int | None) -> None:
        """Note `tenant`'s stored choice (read, or just made) for `STORED_FRESH_S`."""
        with self._lock:
            self._stored[tenant] = (time.monotonic(), stored)
