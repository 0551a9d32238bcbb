"""Runs: list, get (the timeline), cancel, rerun, and a live stream of a run's updates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import Body, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from workflow_kit.errors import ErrorInfo
from workflow_kit.runtime.models import Run, RunStatus
from workflow_kit.runtime.operations import Operation
from workflow_kit.runtime.storage.run_filter import RunFilter
from workflow_kit.runtime.stores.runs import RunStats, StatsRange

from ..auth import Authenticator
from ..models import BulkCancelRequest, BulkReplayRequest, RerunRequest, RunId, RunPage, StreamTicket, VersionOut
from ..openapi import error_responses
from .common import MAX_MILLIS, Caller, Id, Kit, Limit, Millis, Offset

STREAM_INTERVAL = 0.25
STREAM_HEARTBEAT = 15.0


def for_end_users(run: Run) -> Run:
    """The run without Python tracebacks: end users of the host product see what failed and why, not the
    server's files and code (they stay in the database and in `kit.runs.get` for the developers)."""
    for record in run.actions:
        _strip(record.error)
        for attempt in record.attempts:
            _strip(attempt.error)
        for step in record.steps:
            _strip(step.error)
            for attempt in step.attempts:
                _strip(attempt.error)
    return run


def _strip(error: ErrorInfo | None) -> None:
    if error is not None:
        error.stack = None


@get("/runs", summary="List runs", tags=["runs"], responses=error_responses(422))
async def list_runs(
    kit: Kit,
    principal: Caller,
    workflow_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    status: Annotated[list[RunStatus] | None, QueryParameter(description="one or more (repeat it)")] = None,
    event_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    test: Annotated[bool | None, QueryParameter(description="test runs only (true) or none (false)")] = None,
    since: Millis = 0,
    until: Millis = MAX_MILLIS,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Annotated[
        str | None, QueryParameter(max_length=200, description="`next_cursor` of the page before")
    ] = None,
) -> RunPage:
    """The tenant's runs, newest first, filtered by workflow, status (any of several), triggering event,
    test or not, and creation time. Page on with `cursor` (the previous page's `next_cursor`): it stays
    fast however many runs there are, where `offset` reads every run it skips."""
    principal.require("runs:read")
    where = RunFilter(
        workflow_id=workflow_id, status=tuple(status or ()), event_id=event_id, since=since, until=until, test=test
    )
    page = await kit.runs.page(principal.tenant, where, limit=limit, offset=offset, cursor=cursor)
    return RunPage(items=page.items, limit=limit, offset=offset, next_cursor=page.next_cursor)


@post(
    "/runs/bulk-cancel",
    summary="Cancel many runs",
    tags=["runs"],
    status_code=202,
    responses=error_responses(422),
)
async def bulk_cancel(kit: Kit, principal: Caller, data: Annotated[BulkCancelRequest, Body()]) -> Operation:
    """Cancel every run the filter matches, in the background, in small batches: answers at once with
    the operation (`GET /operations/{id}` reports its progress). Runs that have not ended stop; failed
    runs (only if `status` names `failed`) are dismissed: they become cancelled, keeping their error;
    completed and cancelled runs stay as they are. A filter the API cannot use (an expression that does
    not compile, only completed or cancelled statuses) is a 422 whose `path` names the field."""
    principal.require("runs:write")
    return await kit.runs.bulk_cancel(principal.tenant, **_which(data))


@post(
    "/runs/bulk-replay",
    summary="Replay many runs",
    tags=["runs"],
    status_code=202,
    responses=error_responses(422),
)
async def bulk_replay(kit: Kit, principal: Caller, data: Annotated[BulkReplayRequest, Body()]) -> Operation:
    """Start a new run for the event of every run the filter matches, on the run's own version or the
    workflow's latest published one, in the background: answers at once with the operation."""
    principal.require("runs:write")
    return await kit.runs.bulk_replay(principal.tenant, **_which(data), version=data.version)


def _which(data: BulkCancelRequest) -> dict[str, Any]:
    """A bulk request's filter, as `kit.runs.bulk_cancel` and `bulk_replay` take it."""
    return {
        "workflow_id": data.workflow_id,
        "status": data.status,
        "since": data.since,
        "until": data.until,
        "test": data.test,
        "if_": data.if_,
    }


@get("/workflows/{workflow_id:str}/stats", summary="A workflow's runs at a glance", tags=["runs"])
async def workflow_stats(
    kit: Kit,
    principal: Caller,
    workflow_id: Id,
    window: Annotated[StatsRange, QueryParameter(name="range", description="24h (per hour) or 7d (per 6 h)")] = (
        StatsRange.DAY
    ),
) -> RunStats:
    """The workflow's runs per hour over the last 24 hours (or per 6 hours over 7 days), each slice
    with how many of them failed, and the failure rate over the whole range."""
    principal.require("runs:read")
    await kit.workflows.get(principal.tenant, workflow_id)  # 404 for a workflow that is not the tenant's
    return await kit.runs.stats(principal.tenant, workflow_id, window)


@get("/runs/{run_id:str}", summary="Get a run with its timeline", tags=["runs"])
async def get_run(kit: Kit, principal: Caller, run_id: Id) -> Run:
    """The run and its timeline: each action with its status, inputs, output or error, attempts (with
    timings and errors) and sub-steps."""
    principal.require("runs:read")
    return for_end_users(await kit.runs.get(principal.tenant, run_id))


@get("/runs/{run_id:str}/workflow", summary="The workflow a run follows", tags=["runs"])
async def get_run_workflow(kit: Kit, principal: Caller, run_id: Id) -> VersionOut:
    """The version the run pinned (published, or the draft snapshot of a test run): what its timeline
    is drawn on."""
    principal.require("runs:read")
    run = await kit.runs.get(principal.tenant, run_id)
    return VersionOut.of(await kit.workflows.version_by_id(principal.tenant, run.version_id))


@post("/runs/{run_id:str}/cancel", summary="Cancel a run", tags=["runs"], status_code=200)
async def cancel_run(kit: Kit, principal: Caller, run_id: Id) -> Run:
    """Cancel a run that has not ended: it runs no further step. A failed run is dismissed: it becomes
    cancelled, no longer counts as failed, keeps its failure (its error's `cause`) and can be rerun. A
    completed or cancelled run is returned unchanged."""
    principal.require("runs:write")
    return for_end_users(await kit.runs.cancel(principal.tenant, run_id))


@post("/runs/{run_id:str}/rerun", summary="Rerun a run", tags=["runs"], status_code=201, responses=error_responses(409))
async def rerun_run(
    kit: Kit,
    principal: Caller,
    run_id: Id,
    data: Annotated[RerunRequest | None, Body()] = None,
) -> RunId:
    """From the failed step (default; same version, completed steps kept), or from scratch on the latest
    published version (``{"from_failed_step": false}``)."""
    principal.require("runs:write")
    from_failed = data.from_failed_step if data is not None else True
    return RunId(run_id=await kit.runs.rerun(principal.tenant, run_id, from_failed_step=from_failed))


@post(
    "/runs/{run_id:str}/stream-ticket",
    summary="A ticket to open a run's live stream",
    tags=["runs"],
    status_code=201,
)
async def stream_ticket(request: Request[Any, Any, Any], kit: Kit, principal: Caller, run_id: Id) -> StreamTicket:
    """A ticket for ``GET /api/runs/{run_id}/stream?ticket=...``: valid for a minute, for this run and
    this caller only, and only once. A browser's EventSource cannot send the ``Authorization`` header,
    and a URL ends up in access logs and browser history: the ticket is what it carries instead."""
    principal.require("runs:read")
    await kit.runs.get(principal.tenant, run_id)  # 404 for a run that is not the tenant's
    ticket, expires_at = _authenticator(request).ticket(principal, run_id)
    return StreamTicket(ticket=ticket, expires_at=expires_at)


@get(
    "/runs/{run_id:str}/stream",
    summary="Live updates of a run (server-sent events)",
    tags=["runs"],
    media_type="text/event-stream",
    security=[{"ticket": []}],
)
async def stream_run(
    request: Request[Any, Any, Any],
    kit: Kit,
    run_id: Id,
    ticket: Annotated[
        str | None,
        QueryParameter(max_length=2000, description="from `POST /api/runs/{run_id}/stream-ticket` (used once)"),
    ] = None,
) -> ServerSentEvent:
    """Server-sent events: a ``run`` event with the whole run (timeline included) whenever it changes,
    until it ends. Authenticate with ``Authorization: Bearer <token>``, or (an EventSource, which cannot
    send headers) with ``?ticket=`` from ``POST /api/runs/{run_id}/stream-ticket``: never the token."""
    authenticator = _authenticator(request)
    if ticket is not None and "authorization" not in request.headers:
        principal = authenticator.redeem(ticket, run_id)
    else:  # the header, when there is one (a ticket beside it is left unused)
        principal = authenticator.principal(request)
    principal.require("runs:read")
    first = for_end_users(await kit.runs.get(principal.tenant, run_id))  # 404 before the stream starts

    async def updates() -> AsyncIterator[ServerSentEventMessage]:
        run, last, quiet = first, b"", 0.0
        while True:
            body = msgspec.json.encode(run)
            if body != last:
                last, quiet = body, 0.0
                yield ServerSentEventMessage(data=body.decode(), event="run", id=str(run.status))
            elif quiet >= STREAM_HEARTBEAT:
                quiet = 0.0
                yield ServerSentEventMessage(comment="keep-alive")
            if run.status.terminal:
                yield ServerSentEventMessage(data=run.status.value, event="end")
                return
            await asyncio.sleep(STREAM_INTERVAL)
            quiet += STREAM_INTERVAL
            run = for_end_users(await kit.runs.get(principal.tenant, run_id))

    return ServerSentEvent(updates())


def _authenticator(request: Request[Any, Any, Any]) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator
