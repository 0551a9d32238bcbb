"""Describing a workflow in words: ``POST /api/workflows/draft-from-text`` (a new workflow) and
``POST /api/workflows/{id}/draft-change`` (a change to a draft) ask the kit's AI provider for a draft,
checked by the kit's validation and repaired by the model (`workflow_kit.drafting`). The answer is a
draft with an explanation per step: nothing is saved, published or enabled here. ``GET /api/assistant``
says whether the feature is available (the editor hides it when not).

The words and the answers are not kept, unless the host opts in with ``create_app(keep_drafts=...)``.
Each tenant may ask `DRAFTS_PER_MINUTE` times a minute (``create_app(drafts_per_minute=...)``): more is
a 429 with ``Retry-After``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.datastructures import State
from litestar.params import Body

from workflow_kit.drafting import Draft, DraftingError, draft_workflow, step_ids, unavailable_reason
from workflow_kit.errors import Problem

from ..models import Trigger
from ..openapi import error_responses
from ..ratelimit import RateLimit
from .common import Caller, Id, Kit

DRAFTS_PER_MINUTE = 10
Words = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, description="What should happen, in words")]


@dataclass(frozen=True)
class KeptDraft:
    """What a host that opted in (``keep_drafts``) receives for each answered request."""

    tenant: str
    user: str
    words: str
    answers: list[str]
    draft: dict[str, Any]


KeepDrafts = Callable[[KeptDraft], Any]


class AssistantOut(msgspec.Struct):
    """Whether drafting from words is available; when not, why (for the host's developers)."""

    available: bool
    reason: str | None
    model: str | None


class DraftRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What the user said should happen."""

    words: Words


class ChangeRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The change the user asks for, and the draft to change as the editor holds it (unsaved edits
    included); without `workflow`, the stored draft (and its triggers)."""

    words: Words
    workflow: dict[str, Any] | None = None
    triggers: list[Trigger] | None = None


class StepExplanation(msgspec.Struct):
    action_id: str
    explanation: str


class DraftOut(msgspec.Struct, kw_only=True):
    """A drafted workflow, not saved: its name and one-sentence summary, the instance and its triggers,
    what each step does (in the order of the steps), the problems left after the model's repair rounds
    (empty when it could be published as it is), how many repair rounds it took, and the model."""

    name: str
    summary: str
    workflow: dict[str, Any]
    triggers: list[Trigger]
    steps: list[StepExplanation]
    problems: list[Problem]
    repair_rounds: int
    model: str

    @classmethod
    def of(cls, draft: Draft) -> DraftOut:
        ids = step_ids(draft.workflow)
        return cls(
            name=draft.name,
            summary=draft.summary,
            workflow=draft.workflow,
            triggers=[msgspec.convert(t, Trigger) for t in draft.triggers],
            steps=[StepExplanation(str(i), draft.explanations.get(str(i), "")) for i in ids],
            problems=draft.problems,
            repair_rounds=draft.repair_rounds,
            model=draft.model,
        )


@get("/assistant", summary="Whether workflows can be drafted from words", tags=["drafts"])
async def assistant(kit: Kit, principal: Caller) -> AssistantOut:
    principal.require("actions:read")
    reason = unavailable_reason(kit)
    return AssistantOut(available=reason is None, reason=reason, model=None if reason else kit.ai.model)


DRAFT_ERRORS = error_responses(409, 429, 502)


@post(
    "/workflows/draft-from-text",
    summary="Draft a new workflow from words (nothing saved)",
    tags=["drafts"],
    status_code=200,
    responses=DRAFT_ERRORS,
)
async def draft_from_text(kit: Kit, principal: Caller, state: State, data: Annotated[DraftRequest, Body()]) -> DraftOut:
    """Ask the configured AI model for a workflow doing what `words` say, over this kit's actions; its
    problems go back to the model for up to two repair rounds. 409 without a configured model, 429 past
    the tenant's rate limit, 502 when the model fails."""
    principal.require("workflows:write")
    _check(kit, state, principal.tenant)
    draft = await draft_workflow(kit, data.words)
    return await _answer(state, principal.tenant, principal.user, data.words, draft)


@post(
    "/workflows/{workflow_id:str}/draft-change",
    summary="Draft a change to a workflow from words (nothing saved)",
    tags=["drafts"],
    status_code=200,
    responses=DRAFT_ERRORS,
)
async def draft_change(
    kit: Kit, principal: Caller, state: State, workflow_id: Id, data: Annotated[ChangeRequest, Body()]
) -> DraftOut:
    """The workflow changed as `words` ask: the draft given (else the stored one) goes to the model with
    the words; the whole changed draft comes back, its unchanged steps keeping their ids (so the editor
    shows what changes). Nothing is saved: the editor applies it when the user accepts."""
    principal.require("workflows:write")
    record = await kit.workflows.get(principal.tenant, workflow_id)  # another tenant's: 404
    _check(kit, state, principal.tenant)
    triggers = (
        [msgspec.to_builtins(t) for t in data.triggers]
        if data.triggers
        else [msgspec.to_builtins(Trigger.of(t)) for t in record.triggers]
    )
    current = {"workflow": data.workflow if data.workflow is not None else record.draft, "triggers": triggers}
    draft = await draft_workflow(kit, data.words, current=current)
    return await _answer(state, principal.tenant, principal.user, data.words, draft)


def _check(kit: Kit, state: State, tenant: str) -> None:
    reason = unavailable_reason(kit)
    if reason is not None:
        raise DraftingError(reason, code="ai_not_configured", status=409)
    limit: RateLimit = state.draft_limit
    wait = limit.take(tenant)
    if wait is not None:
        raise DraftingError(
            f"too many drafts asked for in a minute (at most {limit.limit}): try again in {wait} s",
            code="too_many_requests",
            status=429,
            retry_after=wait,
        )


async def _answer(state: State, tenant: str, user: str, words: str, draft: Draft) -> DraftOut:
    out = DraftOut.of(draft)
    keep: KeepDrafts | None = state.get("keep_drafts")
    if keep is not None:
        kept = keep(KeptDraft(tenant, user, words, list(draft.answers), msgspec.to_builtins(out)))
        if inspect.isawaitable(kept):
            await kept
    return out
