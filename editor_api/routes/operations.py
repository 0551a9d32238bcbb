"""Bulk operations (cancel or replay many runs, started by ``POST /runs/bulk-cancel`` and
``/runs/bulk-replay``): their progress."""

from __future__ import annotations

from litestar import get

from workflow_kit.runtime.operations import Operation

from .common import Caller, Id, Kit


@get("/operations/{operation_id:str}", summary="A bulk operation's progress", tags=["runs"])
async def get_operation(kit: Kit, principal: Caller, operation_id: Id) -> Operation:
    """How far a bulk cancel or replay got: `matched` runs to handle, `done`, `failed` (a replay on the
    latest version of a workflow that has none published), and its `state`: ``running`` until every run
    is handled, then ``completed``."""
    principal.require("runs:read")
    return await kit.runs.operation(principal.tenant, operation_id)
