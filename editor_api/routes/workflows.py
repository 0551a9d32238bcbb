"""Workflows: list, get, create, update the draft (optimistic concurrency), delete, validate, publish,
versions, enable/disable, export/import in the TypeScript kit's format, and test runs of the draft."""

from __future__ import annotations

import copy
import re
from typing import Annotated, Any

import msgspec
from litestar import Response, delete, get, patch, post, put
from litestar.params import Body, HeaderParameter, PathParameter, QueryParameter

from workflow_kit import Problem, WorkflowKit
from workflow_kit.events import normalize_event
from workflow_kit.runtime.models import WorkflowRecord
from workflow_kit.runtime.rules.cron import timer_event

from ..errors import BodyError
from ..exchange import export_record, import_document
from ..models import (
    PublishRequest,
    RunId,
    TestRequest,
    Trigger,
    ValidateResult,
    VersionList,
    VersionOut,
    WorkflowCreate,
    WorkflowOut,
    WorkflowPage,
    WorkflowUpdate,
)
from ..openapi import error_responses
from .common import Caller, Id, Kit, Limit, Offset

IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", description="the version the change is based on (409 if stale)")
]


async def _outs(kit: Kit, tenant: str, records: list[WorkflowRecord]) -> list[WorkflowOut]:
    """The records as the API shows them: each with its draft's problems, whether the draft has
    unpublished changes, and its runs at a glance (a fixed number of queries for a whole page)."""
    changed = await kit.workflows.draft_changes(tenant, records)
    runs = await kit.runs.summaries(tenant, [r.id for r in records])
    return [WorkflowOut.of(r, kit.validate(r.draft), draft_changed=changed[r.id], runs=runs[r.id]) for r in records]


async def _out(kit: Kit, tenant: str, record: WorkflowRecord, status_code: int = 200) -> Response[WorkflowOut]:
    [out] = await _outs(kit, tenant, [record])
    return Response(out, headers={"ETag": f'"{record.version}"'}, status_code=status_code)


def _expected(body_version: int | None, if_match: str | None) -> int | None:
    if body_version is not None:
        return body_version
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ValueError(f"If-Match must be a version number, got {if_match!r}")
    return int(value)


@get("/workflows", summary="List workflows", tags=["workflows"])
async def list_workflows(kit: Kit, principal: Caller, limit: Limit = 50, offset: Offset = 0) -> WorkflowPage:
    principal.require("workflows:read")
    records = await kit.workflows.list(principal.tenant, limit=limit, offset=offset)
    return WorkflowPage(items=await _outs(kit, principal.tenant, records), limit=limit, offset=offset)


@post("/workflows", summary="Create a workflow", tags=["workflows"], status_code=201, responses=error_responses(422))
async def create_workflow(
    kit: Kit, principal: Caller, data: Annotated[WorkflowCreate, Body()]
) -> Response[WorkflowOut]:
    """Store a new workflow as a draft (set `publish` and `enabled` to also publish and enable it)."""
    principal.require("workflows:write")
    record = await kit.workflows.create(
        principal.tenant,
        name=data.name,
        triggers=_triggers(data.triggers),
        trigger=_trigger(data.trigger),
        workflow=data.workflow,
        description=data.description,
        settings=data.settings,
        publish=data.publish,
        enabled=data.enabled,
        author=principal.user if data.publish else None,
    )
    return await _out(kit, principal.tenant, record, 201)


def _trigger(trigger: Trigger | None) -> dict[str, Any] | None:
    return msgspec.to_builtins(trigger) if trigger is not None else None


def _triggers(triggers: list[Trigger] | None) -> list[dict[str, Any]] | None:
    return [msgspec.to_builtins(trigger) for trigger in triggers] if triggers is not None else None


VALIDATE_DESCRIPTION = (
    "Every problem of a workflow instance, each with a code and a path; nothing is saved. The body is the"
    " instance, or `{workflow, triggers?, trigger?, settings?}` to also check the triggers (their CEL"
    " filters, their cron schedules, how many, none twice) or one trigger, and settings as saving them"
    " would: their problems have paths `triggers[1]...`, `trigger...` and `settings...`."
)


@post(
    "/workflows/validate",
    summary="Validate a workflow instance (and its trigger and settings)",
    description=VALIDATE_DESCRIPTION,
    tags=["workflows"],
    status_code=200,
)
async def validate_instance(kit: Kit, principal: Caller, data: Annotated[dict[str, Any], Body()]) -> ValidateResult:
    """Every problem of a workflow instance, each with a code and a path; nothing is saved. The body is
    the instance, or ``{"workflow": <instance>, "triggers"?: [<trigger>, ...], "trigger"?: <trigger>,
    "settings"?: <settings>}`` to check the triggers (their CEL filters, their cron schedules, how many,
    none twice) or one trigger, and the settings too, as saving them would: their problems have paths
    ``triggers[1]...``, ``trigger...`` and ``settings...``."""
    principal.require("workflows:read")
    if "workflow" in data and set(data) <= {"workflow", "triggers", "trigger", "settings"}:
        problems = await _problems(kit, principal.tenant, data["workflow"])
        if "triggers" in data:
            problems = [*problems, *kit.workflows.triggers_problems(data["triggers"])]
        if "trigger" in data:
            problems = [*problems, *kit.workflows.trigger_problems(data["trigger"])]
        if "settings" in data:
            problems = [*problems, *kit.workflows.settings_problems(data["settings"])]
        return ValidateResult(problems=problems)
    return ValidateResult(problems=await _problems(kit, principal.tenant, data))


async def _problems(kit: WorkflowKit, tenant: str, workflow: Any) -> list[Problem]:
    """The workflow's problems, with those of the connections it uses against the tenant's."""
    problems = kit.validate(workflow)
    return [*problems, *await kit.connections.problems(tenant, workflow)]


@post(
    "/workflows/import",
    summary="Import a workflow (TypeScript kit format)",
    tags=["workflows"],
    status_code=201,
    responses=error_responses(422),
)
async def import_workflow(
    kit: Kit,
    principal: Caller,
    data: Annotated[dict[str, Any], Body()],
    trigger: Annotated[str | None, QueryParameter(max_length=256)] = None,
    name: Annotated[str | None, QueryParameter(max_length=256)] = None,
) -> Response[WorkflowOut]:
    """Store a workflow file exported from here (``GET .../export``) or from the TypeScript Workflow Kit,
    as a disabled draft. An export restores the same record: name, description, triggers, settings and
    draft (see `editor_api.exchange`). The triggers come from `?trigger=` (one event name), else the
    file's ``metadata.triggers`` (or ``metadata.trigger``, one); a file from the TypeScript kit has
    none, so its trigger is a placeholder event (``imported/<name>``) to set before enabling it.
    `?name=` overrides the file's name."""
    principal.require("workflows:write")
    found = import_document(data)
    title = name or found.name or "Imported workflow"
    listed = None if trigger else found.triggers
    single = trigger or found.trigger
    if listed is None and single is None:
        single = {"event": _placeholder_event(title)}
    record = await kit.workflows.create(
        principal.tenant,
        name=title,
        triggers=listed,
        trigger=single,
        workflow=found.draft,
        description=found.description,
        settings=found.settings,
        publish=False,
        enabled=False,
    )
    return await _out(kit, principal.tenant, record, 201)


def _placeholder_event(title: str) -> str:
    """``imported/<title as a slug>``: a trigger no real event is likely to match by accident."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:200]
    return f"imported/{slug or 'workflow'}"


@get("/workflows/{workflow_id:str}", summary="Get a workflow", tags=["workflows"])
async def get_workflow(kit: Kit, principal: Caller, workflow_id: Id) -> Response[WorkflowOut]:
    principal.require("workflows:read")
    return await _out(kit, principal.tenant, await kit.workflows.get(principal.tenant, workflow_id))


@put(
    "/workflows/{workflow_id:str}", summary="Update a workflow", tags=["workflows"], responses=error_responses(409, 422)
)
async def update_workflow(
    kit: Kit,
    principal: Caller,
    workflow_id: Id,
    data: Annotated[WorkflowUpdate, Body()],
    if_match: IfMatch = None,
) -> Response[WorkflowOut]:
    """Change the draft and/or the record's fields; only the given fields change. A stale `version`
    (or ``If-Match``) is a 409, so two editors never silently overwrite each other."""
    principal.require("workflows:write")
    if data.workflow is not None and data.draft is not None and data.workflow != data.draft:
        raise BodyError("draft", "give the workflow instance as workflow or as draft, not both")
    record = await kit.workflows.update(
        principal.tenant,
        workflow_id,
        workflow=data.workflow if data.workflow is not None else data.draft,
        name=data.name,
        description=data.description,
        triggers=_triggers(data.triggers),
        trigger=_trigger(data.trigger),
        settings=data.settings,
        expected_version=_expected(data.version, if_match),
        publish=data.publish,
        author=principal.user if data.publish else None,
    )
    if data.enabled is not None and data.enabled != record.enabled:
        change = kit.workflows.enable if data.enabled else kit.workflows.disable
        record = await change(principal.tenant, workflow_id)
    return await _out(kit, principal.tenant, record)


@patch(
    "/workflows/{workflow_id:str}",
    summary="Update a workflow (same as PUT)",
    tags=["workflows"],
    responses=error_responses(409, 422),
)
async def patch_workflow(
    kit: Kit,
    principal: Caller,
    workflow_id: Id,
    data: Annotated[WorkflowUpdate, Body()],
    if_match: IfMatch = None,
) -> Response[WorkflowOut]:
    return await update_workflow.fn(kit, principal, workflow_id, data, if_match)  # type: ignore[no-any-return]


@delete(
    "/workflows/{workflow_id:str}",
    summary="Delete a workflow",
    tags=["workflows"],
    status_code=204,
    responses=error_responses(409),
)
async def delete_workflow(kit: Kit, principal: Caller, workflow_id: Id, if_match: IfMatch = None) -> None:
    """Delete the workflow (its runs stay readable). A stale ``If-Match`` is a 409."""
    principal.require("workflows:write")
    await kit.workflows.delete(principal.tenant, workflow_id, expected_version=_expected(None, if_match))


@post("/workflows/{workflow_id:str}/validate", summary="Validate the draft", tags=["workflows"], status_code=200)
async def validate_draft(
    kit: Kit, principal: Caller, workflow_id: Id, data: Annotated[dict[str, Any] | None, Body()] = None
) -> ValidateResult:
    """The problems of the workflow instance in the body (as an edit of this workflow would be checked),
    or without a body, of the stored draft; nothing is saved."""
    principal.require("workflows:read")
    record = await kit.workflows.get(principal.tenant, workflow_id)
    return ValidateResult(problems=await _problems(kit, principal.tenant, record.draft if data is None else data))


@post(
    "/workflows/{workflow_id:str}/publish",
    summary="Publish the draft",
    tags=["workflows"],
    status_code=201,
    responses=error_responses(409, 422),
)
async def publish_workflow(
    kit: Kit,
    principal: Caller,
    workflow_id: Id,
    data: Annotated[PublishRequest | None, Body()] = None,
    if_match: IfMatch = None,
) -> VersionOut:
    """Validate the draft and freeze it as the next immutable version (422 with every problem if invalid).
    The version keeps the caller's user as its `author` and the optional `message` (at most 500
    characters: a longer one, or one holding NUL, is a 422 with the path ``message``)."""
    principal.require("workflows:write")
    expected = _expected(data.version if data else None, if_match)
    version = await kit.workflows.publish(
        principal.tenant,
        workflow_id,
        expected_version=expected,
        message=data.message if data else None,
        author=principal.user,
    )
    return VersionOut.of(version)


@get("/workflows/{workflow_id:str}/versions", summary="Published versions", tags=["workflows"])
async def list_versions(kit: Kit, principal: Caller, workflow_id: Id) -> VersionList:
    principal.require("workflows:read")
    versions = await kit.workflows.versions(principal.tenant, workflow_id)
    return VersionList(items=[VersionOut.of(v) for v in versions])


@get("/workflows/{workflow_id:str}/versions/{number:int}", summary="One published version", tags=["workflows"])
async def get_version(
    kit: Kit,
    principal: Caller,
    workflow_id: Id,
    number: Annotated[int, PathParameter(ge=1, le=2**31)],
) -> VersionOut:
    principal.require("workflows:read")
    return VersionOut.of(await kit.workflows.version(principal.tenant, workflow_id, number))


@post(
    "/workflows/{workflow_id:str}/enable",
    summary="Enable",
    tags=["workflows"],
    status_code=200,
    responses=error_responses(422),
)
async def enable_workflow(kit: Kit, principal: Caller, workflow_id: Id) -> Response[WorkflowOut]:
    principal.require("workflows:write")
    return await _out(kit, principal.tenant, await kit.workflows.enable(principal.tenant, workflow_id))


@post("/workflows/{workflow_id:str}/disable", summary="Disable", tags=["workflows"], status_code=200)
async def disable_workflow(kit: Kit, principal: Caller, workflow_id: Id) -> Response[WorkflowOut]:
    principal.require("workflows:write")
    return await _out(kit, principal.tenant, await kit.workflows.disable(principal.tenant, workflow_id))


@get("/workflows/{workflow_id:str}/export", summary="Export (TypeScript kit format)", tags=["workflows"])
async def export_workflow(kit: Kit, principal: Caller, workflow_id: Id) -> dict[str, Any]:
    """The workflow as one file in the TypeScript kit's format: the draft's instance showing the
    record's name and description, with the triggers and the flow-control settings in its metadata
    (``metadata.trigger`` for one, ``metadata.triggers`` for several; ``metadata.settings``), so that
    importing it restores the same record."""
    principal.require("workflows:read")
    return export_record(await kit.workflows.get(principal.tenant, workflow_id))


@post(
    "/workflows/{workflow_id:str}/test",
    summary="Test-run the draft",
    tags=["workflows"],
    status_code=201,
    responses=error_responses(422),
)
async def test_workflow(
    kit: Kit,
    principal: Caller,
    workflow_id: Id,
    data: Annotated[TestRequest | None, Body()] = None,
) -> RunId:
    """Run the current draft (validated, 422 if not) against a sample event; returns the run id. Without
    one: the first trigger's event with the first example of its declared type (``kit.event_type``) or
    empty data, or for a cron trigger a timer event for now."""
    principal.require("runs:write")
    record = await kit.workflows.get(principal.tenant, workflow_id)
    if data is not None and data.event is not None:
        event = msgspec.to_builtins(data.event)
    else:
        event = default_test_event(kit, record)
    normalize_event(event, kit.clock.now_ms())  # a bad event must fail before the snapshot is stored
    snapshot = await kit.workflows.snapshot(principal.tenant, workflow_id)
    return RunId(run_id=await kit.runs.start(principal.tenant, workflow_id, snapshot.id, event))


def default_test_event(kit: Kit, record: WorkflowRecord) -> dict[str, Any]:
    """The sample event of a test without one: for a cron trigger, a timer event for now; else the first
    trigger's event, with the first example of its declared type as its data (empty data without one)."""
    if record.trigger.cron is not None:
        now = kit.clock.now_ms()
        return timer_event(record.trigger.cron, now // 1000 * 1000, now)
    name = (record.trigger.event or "").rstrip("*").rstrip("./") or "workflow/test"
    declared = kit.event_types.get(name)
    data = copy.deepcopy(declared.examples[0]) if declared is not None and declared.examples else {}
    return {"name": name, "data": data}
