"""``POST /api/workflows/{id}/test-step``: try one step of a workflow's draft on its own ("Test this
step"), against a sample event and the outputs of the steps before it. Nothing is stored as a run."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import post
from litestar.params import Body

from workflow_kit.errors import WorkflowValidationError
from workflow_kit.events import normalize_event
from workflow_kit.records import ActionStatus
from workflow_kit.step_trial import TrialError, try_action
from workflow_kit.workflow import Workflow, load_workflow

from ..errors import BodyError
from ..models import StepTestRequest, StepTestResult
from .common import Caller, Id, Kit
from .workflows import default_test_event

SAMPLE_OUTPUTS = "sample_outputs"
"""Where the editor keeps the outputs a user chose as sample data: ``metadata.sample_outputs`` of the
instance, by step id (the engine ignores metadata)."""


@post(
    "/workflows/{workflow_id:str}/test-step",
    summary="Test one step of the draft",
    tags=["workflows"],
    status_code=200,
)
async def test_step(
    kit: Kit, principal: Caller, workflow_id: Id, data: Annotated[StepTestRequest, Body()]
) -> StepTestResult:
    """Run one step's action once, its inputs resolved as a run resolves them, against the sample
    `event` (default: the test run's) and the upstream outputs: those given in `state`, else the
    draft's kept sample outputs (``metadata.sample_outputs``), else the workflow's latest run's. Inside
    a "for each" loop, the step sees the first item of the loop's list. The answer says its output, or
    an error in words, and how long it took; a failing step is a 200 with its `error`. A step the kit
    cannot try (unknown, a loop) is a 400 with the path ``action_id``."""
    principal.require("runs:write")
    record = await kit.workflows.get(principal.tenant, workflow_id)
    instance = _instance(data.workflow if data.workflow is not None else record.draft)
    raw = msgspec.to_builtins(data.event) if data.event is not None else default_test_event(kit, record)
    event = normalize_event(raw, kit.clock.now_ms())
    state = await upstream_outputs(kit, principal.tenant, workflow_id, instance, data.state)
    try:
        result = await try_action(kit, instance, data.action_id, event, state, tenant=principal.tenant)
    except TrialError as exc:
        raise BodyError(exc.path, exc.message) from None
    return StepTestResult(
        output=result.output,
        error=result.error,
        duration_ms=result.duration_ms,
        inputs=result.inputs,
        sent_events=result.sent_events,
        item=result.item,
        unsampled=result.unsampled,
    )


def _instance(raw: dict[str, Any]) -> Workflow:
    try:
        return load_workflow(raw)
    except WorkflowValidationError as exc:
        first = exc.problems[0]
        raise BodyError(f"workflow.{first.path}".rstrip("."), first.message) from None


async def upstream_outputs(
    kit: Kit, tenant: str, workflow_id: str, instance: Workflow, given: dict[str, Any] | None
) -> dict[str, Any]:
    """The outputs a tried step may read, by step id: the latest run's completed steps, under the kept
    sample outputs, under the ones given."""
    state: dict[str, Any] = {}
    latest = await kit.runs.list(tenant, workflow_id, limit=1)
    if latest:
        run = await kit.runs.get(tenant, latest[0].id)
        for action in run.actions:
            if action.status == ActionStatus.COMPLETED and "/" not in action.id:  # not a loop's iteration
                state[action.id] = action.output
    kept = instance.metadata.get(SAMPLE_OUTPUTS)
    if isinstance(kept, dict):
        state.update(kept)
    state.update(given or {})
    return state
