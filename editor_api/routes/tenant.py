"""The caller's tenant's own settings, for every workflow of it: ``GET`` and ``PUT /api/tenant/settings``
(so far how long its history is kept; a workflow's own setting still wins for its runs)."""

from __future__ import annotations

from typing import Annotated

from litestar import get, put
from litestar.params import Body

from workflow_kit.runtime.stores.tenant_settings import TenantSettings

from ..models import TenantSettingsIn
from ..openapi import error_responses
from .common import Caller, Kit


@get("/tenant/settings", summary="The tenant's settings", tags=["tenant"])
async def get_tenant_settings(kit: Kit, principal: Caller) -> TenantSettings:
    """How long the tenant's history is kept (`retention`, null: the kit's time, `default_retention`)."""
    principal.require("workflows:read")
    return await kit.tenant_settings.get(principal.tenant)


@put("/tenant/settings", summary="Change the tenant's settings", tags=["tenant"], responses=error_responses(422))
async def put_tenant_settings(kit: Kit, principal: Caller, data: Annotated[TenantSettingsIn, Body()]) -> TenantSettings:
    """Keep the tenant's ended runs and events for `retention` (``"90d"``: 1 hour to 10 years; null:
    the kit's time again), from the runs that end and the events received from now on. 422 with the
    path ``retention`` for a time out of bounds or unreadable."""
    principal.require("workflows:write")
    return await kit.tenant_settings.set_retention(principal.tenant, data.retention)
