"""Events: send one or many for the caller's tenant; list and read received ones; the declared event
types (their data's schema and examples)."""

from __future__ import annotations

from typing import Annotated, Any

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


class EventTypeOut(msgspec.Struct):
    """A declared event (``kit.event_type``): its name, what it means, the JSON Schema of its ``data``
    and example ``data`` objects (a new workflow on it starts with the first as its sample)."""

    name: str
    description: str
    schema: dict[str, Any]
    examples: list[dict[str, Any]]


@get("/event-types", summary="The declared event types", tags=["events"])
async def list_event_types(kit: Kit, principal: Caller) -> list[EventTypeOut]:
    """What the events the host declares look like, for samples and the ref picker (code, not data:
    the same for every tenant)."""
    principal.require("actions:read")
    return [msgspec.convert(entry, EventTypeOut) for entry in kit.public_event_types()]
