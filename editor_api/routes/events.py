"""Events: send one or many for the caller's tenant; list and read received ones."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get, post
from litestar.params import Body, QueryParameter

from workflow_kit.runtime.stores.events import StoredEvent

from ..models import Event, EventIds, EventPage
from .common import Caller, Id, Kit, Limit, Offset


@post("/events", summary="Send events", tags=["events"], status_code=202)
async def send_events(kit: Kit, principal: Caller, data: Annotated[Event | list[Event], Body()]) -> EventIds:
    """Send one event or a list: each starts the tenant's matching workflows. Returns their ids."""
    principal.require("events:write")
    events = [msgspec.to_builtins(e) for e in (data if isinstance(data, list) else [data])]
    return EventIds(ids=await kit.send(principal.tenant, events))


@get("/events", summary="Recent events", tags=["events"])
async def list_events(
    kit: Kit,
    principal: Caller,
    name: Annotated[str | None, QueryParameter(max_length=256)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> EventPage:
    principal.require("events:read")
    items = await kit.events.list(principal.tenant, name=name, limit=limit, offset=offset)
    return EventPage(items=items, limit=limit, offset=offset)


@get("/events/{event_id:str}", summary="One event", tags=["events"])
async def get_event(kit: Kit, principal: Caller, event_id: Id) -> StoredEvent:
    principal.require("events:read")
    return await kit.events.get(principal.tenant, event_id)
