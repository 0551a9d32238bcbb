"""Webhooks, for the editor: make one for a workflow (its signing secret shown once), read and change how
it checks requests, a new secret (shown once), its last 20 requests, and a test request sent through the
same path a real one takes. Another tenant's hook is a 404 on every route."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import Body

from workflow_kit.runtime.stores.hooks import Hook, HookRequest, HookStore

from ..models import HookDelivery, HookOut, HookSample, HookSecretOut, HookSettings
from ..openapi import error_responses
from .common import Caller, Id

Hooks = NamedDependency[HookStore]
"""The kit's webhooks, sealing secrets with the app's key."""


def hook_store(state: State) -> HookStore:
    """The app's view of ``kit.hooks`` (made on first use: the kit's database is opened lazily)."""
    store: HookStore | None = state.get("hooks")
    if store is None:
        store = state.kit.hooks.with_secret(state.hook_secret)
        state.hooks = store
    return store


def hook_url(request: Request[Any, Any, Any], hook_id: str) -> str:
    """The hook's public URL, under the prefix the app is mounted at."""
    return f"{str(request.base_url).rstrip('/')}/hooks/{hook_id}"


def _out(request: Request[Any, Any, Any], hook: Hook) -> HookOut:
    return HookOut(**msgspec.structs.asdict(hook), url=hook_url(request, hook.id))


@post(
    "/workflows/{workflow_id:str}/hooks",
    summary="Make a webhook",
    tags=["webhooks"],
    status_code=201,
    responses=error_responses(422),
)
async def create_hook(
    request: Request[Any, Any, Any],
    hooks: Hooks,
    principal: Caller,
    workflow_id: Id,
    data: Annotated[HookSettings | None, Body()] = None,
) -> HookSecretOut:
    """A new webhook for the workflow and its signing secret, shown this once. It answers once a webhook
    trigger of the workflow names it (``{"type": "webhook", "hook": <id>}``, saved with the triggers)."""
    principal.require("workflows:write")
    settings = data or HookSettings()
    made = await hooks.create(
        principal.tenant,
        workflow_id,
        verification=settings.verification,
        transform=settings.transform,
        rate_limit=settings.rate_limit,
    )
    return HookSecretOut(hook=_out(request, made.hook), secret=made.secret)


@get("/hooks/{hook_id:str}", summary="A webhook", tags=["webhooks"])
async def get_hook(request: Request[Any, Any, Any], hooks: Hooks, principal: Caller, hook_id: Id) -> HookOut:
    """The webhook's URL and settings (never its secret)."""
    principal.require("workflows:read")
    return _out(request, await hooks.get(principal.tenant, hook_id))


@put("/hooks/{hook_id:str}", summary="Change a webhook's settings", tags=["webhooks"], responses=error_responses(422))
async def configure_hook(
    request: Request[Any, Any, Any], hooks: Hooks, principal: Caller, hook_id: Id, data: Annotated[HookSettings, Body()]
) -> HookOut:
    """How the webhook checks requests, its transform and its rate limit (problems have paths such as
    ``verification.header`` and ``transform``)."""
    principal.require("workflows:write")
    hook = await hooks.configure(
        principal.tenant,
        hook_id,
        verification=data.verification,
        transform=data.transform,
        rate_limit=data.rate_limit,
    )
    return _out(request, hook)


@post("/hooks/{hook_id:str}/secret", summary="A new signing secret", tags=["webhooks"], status_code=200)
async def rotate_hook_secret(
    request: Request[Any, Any, Any], hooks: Hooks, principal: Caller, hook_id: Id
) -> HookSecretOut:
    """A new signing secret, shown this once; the old one stops working at once."""
    principal.require("workflows:write")
    made = await hooks.rotate_secret(principal.tenant, hook_id)
    return HookSecretOut(hook=_out(request, made.hook), secret=made.secret)


@get("/hooks/{hook_id:str}/requests", summary="A webhook's last requests", tags=["webhooks"])
async def list_hook_requests(hooks: Hooks, principal: Caller, hook_id: Id) -> list[HookRequest]:
    """The last 20 requests, newest first: accepted (with the event made) or refused, and why.
    Requests over the rate limit are not listed."""
    principal.require("workflows:read")
    return await hooks.requests(principal.tenant, hook_id)


@post("/hooks/{hook_id:str}/test", summary="Send a test request", tags=["webhooks"], status_code=200)
async def test_hook(
    hooks: Hooks, principal: Caller, hook_id: Id, data: Annotated[HookSample | None, Body()] = None
) -> HookDelivery:
    """Post `body` to the webhook signed as its sender would (with its secret), through the same checks
    and transform as any request; what it got (202 and the event, or the status and why)."""
    principal.require("workflows:write")
    principal.require("events:write")
    got = await hooks.send_sample(principal.tenant, hook_id, data.body if data else None)
    return HookDelivery(status=got.status, event_id=got.event_id, why=got.why)
