"""The demo: the blog CMS from Inngest's user-defined workflows guide, on workflow-kit.

    workflow-kit seed  --app seeds.app:kit        # posts and the two workflows, for tenant "demo"
    workflow-kit serve --app seeds.app:kit --demo # the editor at /, the blog at /demo

`make demo` runs both. Without OPENAI_API_KEY the AI steps use a labelled local stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Annotated, Any

from litestar import MediaType, Request, Response, get, post, route
from litestar.di import NamedDependency
from litestar.params import PathParameter

from workflow_kit import NonRetriableError, WorkflowKit
from workflow_kit.ai import LocalProvider, OpenAIProvider, provider_from_environment
from workflow_kit.runtime.models import NotFoundError
from workflow_kit.tokens import Principal

from .blog import (
    PUBLISH_TRIGGER,
    REVIEW_TRIGGER,
    SEED_POSTS,
    BlogLocalAI,
    BlogStore,
    PostOut,
    publish_workflow,
    register,
    review_workflow,
)
from .connections import register_connections
from .oauth_provider import Incoming, Provider, authorization_server, respond

DEMO_TENANT = "demo"
REVIEW_WORKFLOW_NAME = review_workflow()["name"]
PUBLISH_WORKFLOW_NAME = publish_workflow()["name"]
PAGE = Path(__file__).parent / "demo.html"


def _ai() -> LocalProvider | OpenAIProvider:
    chosen = provider_from_environment()
    return chosen if isinstance(chosen, OpenAIProvider) else BlogLocalAI()


kit = WorkflowKit(ai=_ai())
blog = register(kit)
DEMO_URL = os.environ.get("WORKFLOW_KIT_DEMO_URL", "http://127.0.0.1:8000")
"""Where the demo is served (`make demo` sets it): the stand-in OAuth provider lives under it."""
chat_provider = Provider(base_url=f"{DEMO_URL}/demo/oauth")
register_connections(kit, chat_provider)
_chat_server = authorization_server(chat_provider)


def seed(target: WorkflowKit = kit, tenant: str = DEMO_TENANT) -> dict[str, int]:
    """Three posts and the two workflows, published and enabled. Running it again changes nothing."""
    store = blog if target is kit else BlogStore(target)
    added = store.insert_missing(tenant, SEED_POSTS)
    existing = {record.name for record in target.workflows.list_sync(tenant, limit=500)}
    created = 0
    for trigger, workflow in ((REVIEW_TRIGGER, review_workflow()), (PUBLISH_TRIGGER, publish_workflow())):
        if workflow["name"] not in existing:
            target.workflows.create_sync(
                tenant, name=workflow["name"], description=workflow["description"], trigger=trigger, workflow=workflow
            )
            created += 1
    if created:
        _drop_twins(target, tenant)
    return {"posts": added, "workflows": created}


def _drop_twins(target: WorkflowKit, tenant: str) -> None:
    """Two seeds at once may each create a seed workflow: keep the oldest of each name, as every racing
    seed decides the same."""
    names = {REVIEW_WORKFLOW_NAME, PUBLISH_WORKFLOW_NAME}
    records = sorted(
        (r for r in target.workflows.list_sync(tenant, limit=500) if r.name in names),
        key=lambda r: (r.created_at, r.id),
    )
    kept: set[str] = set()
    for record in records:
        if record.name in kept:
            with contextlib.suppress(NotFoundError):  # the other seed dropped it first
                target.workflows.delete_sync(tenant, record.id)
        kept.add(record.name)


# -- the demo page and its small API (mounted by `serve`, next to the editor API) ------------------

Kit = NamedDependency[WorkflowKit]
Caller = NamedDependency[Principal]
PostId = Annotated[int, PathParameter(ge=1, le=2**31)]


@get("/demo", media_type=MediaType.HTML, include_in_schema=False)
async def demo_page() -> str:
    return PAGE.read_text()


@get("/demo/info", tags=["demo"])
async def demo_info(kit: Kit, principal: Caller) -> dict[str, Any]:
    """Which AI the demo uses (the page says so when it is the local stand-in)."""
    return {"ai_provider": kit.ai.name, "ai_model": kit.ai.model, "tenant": principal.tenant}


@get("/demo/posts", tags=["demo"])
async def list_posts(principal: Caller) -> list[PostOut]:
    principal.require("events:read")
    return blog.all(principal.tenant)


def _existing(tenant: str, post_id: int) -> None:
    """A 404 (the API's not_found) for a post the tenant does not have."""
    try:
        blog.get(tenant, post_id)
    except NonRetriableError as exc:  # what the actions raise for a missing post
        raise NotFoundError(str(exc)) from None


@post("/demo/posts/{post_id:int}/review", tags=["demo"], status_code=202)
async def move_to_review(kit: Kit, principal: Caller, post_id: PostId) -> dict[str, Any]:
    """What the CMS does when an editor moves a post to review: update it, send blog-post.updated."""
    principal.require("events:write")
    _existing(principal.tenant, post_id)
    blog.update(principal.tenant, post_id, status="under review")
    ids = await kit.send(
        principal.tenant, {"name": "blog-post.updated", "data": {"id": post_id, "status": "under review"}}
    )
    return {"event_id": ids[0]}


@post("/demo/posts/{post_id:int}/publish", tags=["demo"], status_code=202)
async def publish_post(kit: Kit, principal: Caller, post_id: PostId) -> dict[str, Any]:
    principal.require("events:write")
    _existing(principal.tenant, post_id)
    blog.update(principal.tenant, post_id, status="published")
    ids = await kit.send(
        principal.tenant, {"name": "blog-post.published", "data": {"id": post_id, "status": "published"}}
    )
    return {"event_id": ids[0]}


@post("/demo/posts/{post_id:int}/approve", tags=["demo"], status_code=202)
async def approve_suggestions(kit: Kit, principal: Caller, post_id: PostId) -> dict[str, Any]:
    principal.require("events:write")
    _existing(principal.tenant, post_id)
    ids = await kit.send(principal.tenant, {"name": "blog-post.approve-ai-suggestions", "data": {"id": post_id}})
    return {"event_id": ids[0]}


@route("/demo/oauth/{endpoint:str}", http_method=["GET", "POST"], include_in_schema=False)
async def demo_oauth(request: Request[Any, Any, Any], endpoint: str) -> Response[bytes]:
    """The stand-in OAuth provider of "Team Chat (demo)": its consent page, token endpoint and profile."""
    form: dict[str, str] = {}
    if request.method == "POST" and "form-urlencoded" in request.headers.get("content-type", ""):
        form = {key: str(value) for key, value in (await request.form()).items()}
    query = request.url.query
    incoming = Incoming(
        method=request.method,
        uri=f"{chat_provider.base_url}/{endpoint}" + (f"?{query}" if query else ""),
        headers=request.headers,
        args=dict(request.query_params.items()),
        form=form,
    )
    status, payload, headers = await asyncio.to_thread(respond, chat_provider, _chat_server, incoming)
    listed = dict(headers)
    media_type = listed.pop("Content-Type", "application/json")
    return Response(payload, status_code=status, headers=listed, media_type=media_type)


api_routes = [demo_info, list_posts, move_to_review, publish_post, approve_suggestions]
"""Served under /api with the editor API's auth (``workflow-kit serve`` picks these up)."""
routes = [demo_page, demo_oauth]
"""Served at the top level: the demo page at /demo."""
