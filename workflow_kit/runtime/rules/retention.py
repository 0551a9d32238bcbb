"""How long history is kept: ended runs (with their actions, steps and waits) and received events.
Pure.

A run's time is its workflow's ``retention`` setting (the version it ran: ``settings.retention``, the
editor's Settings tab) if it has one, else its tenant's; a tenant's is the kit's `Retention.tenants`
entry for it, else `Retention.default` (30 days). An event's time is its tenant's. The time counts from
the run's end, or the event's receipt: the row's ``expires_at`` (see `lifecycle/retention.py`, which
deletes what expired).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from ...timeutil import parse_duration
from .settings import MAX_RETENTION_MS, WorkflowSettings, duration_ms

MIN_RETENTION_MS = 3_600_000
"""An hour: history kept for less is gone before anyone looks at a failure (ten years at most)."""

DurationLike = str | int | timedelta
"""``"30d"``, ``"12h"``, milliseconds, or a `timedelta`."""


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

    def tenant_ms(self, tenant: str) -> int:
        """How long `tenant`'s events, and the runs of its workflows with no setting, are kept."""
        return self.tenants_ms.get(tenant, self.default_ms)

    def run_ms(self, tenant: str, settings: WorkflowSettings | None) -> int:
        """How long an ended run is kept: its workflow's setting, else its tenant's time."""
        if settings is not None and settings.retention is not None:
            return duration_ms(settings.retention)
        return self.tenant_ms(tenant)
