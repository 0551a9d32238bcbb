"""Events: send one or many for the caller's tenant; list and read received ones; the declared event
types (their data's schema and examples)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import Body, QueryParameter

from workflow_kit import traces
from workflow_kit.runtime.stores.events import StoredEvent

from ..models import Event, EventIds, EventItem, EventPage, EventRuns
from ..openapi import error_responses
from .common import Caller, Id, Kit, Limit, Offset


@post("/events", summary="Send events", tags=["events"], status_code=202, responses=error_responses(429))
async def send_events(
    request: Request[Any, Any, Any], kit: Kit, principal: Caller, data: Annotated[Event | list[Event], Body()]
) -> EventIds:
    """Send one event or a list: each starts the tenant's matching workflows. Returns their ids. With
    a ``traceparent`` header (W3C trace context), the runs they start continue that trace. Checking
    the events against the workflows' conditions has a budget of time per request and per second (429
    with `Retry-After` past it: nothing was received)."""
    principal.require("events:write")
    events = [msgspec.to_builtins(e) for e in (data if isinstance(data, list) else [data])]
    with traces.incoming(request.headers):
        return EventIds(ids=await kit.send(principal.tenant, events))


@get("/events", summary="Recent events", tags=["events"], responses=error_responses(422))
async def list_events(
    kit: Kit,
    principal: Caller,
    name: Annotated[str | None, QueryParameter(max_length=256)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Annotated[
        str | None, QueryParameter(max_length=200, description="`next_cursor` of the page before")
    ] = None,
    system: Annotated[
        bool | None,
        QueryParameter(
            description="false: leave out the kit's own run updates (`workflow/run.*`); true: only those; "
            "absent: every event"
        ),
    ] = None,
) -> EventPage:
    """The tenant's received events, newest first, each with the runs it started. Page on with `cursor`
    (the previous page's `next_cursor`)."""
    principal.require("events:read")
    page = await kit.events.page(principal.tenant, name=name, limit=limit, offset=offset, cursor=cursor, system=system)
    links = await kit.events.links(principal.tenant, [event.id for event in page.items])
    sees_runs = principal.server or "runs:read" in principal.scopes
    items = [
        EventItem(**msgspec.structs.asdict(event), runs=links[event.id].started if sees_runs else [])
        for event in page.items
    ]
    return EventPage(items=items, limit=limit, offset=offset, next_cursor=page.next_cursor)


@get("/events/{event_id:str}", summary="One event", tags=["events"])
async def get_event(kit: Kit, principal: Caller, event_id: Id) -> StoredEvent:
    principal.require("events:read")
    return await kit.events.get(principal.tenant, event_id)


@get("/events/{event_id:str}/runs", summary="The runs an event started or resumed", tags=["events"])
async def get_event_runs(kit: Kit, principal: Caller, event_id: Id) -> EventRuns:
    """The runs the event started (`started`) and the runs waiting for an event that it resumed
    (`resumed`), newest first."""
    principal.require("events:read")
    principal.require("runs:read")
    await kit.events.get(principal.tenant, event_id)  # 404 for an event that is not the tenant's
    links = (await kit.events.links(principal.tenant, [event_id]))[event_id]
    return EventRuns(started=links.started, resumed=links.resumed)


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
