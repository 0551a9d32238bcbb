"""`create_app(kit)`: the editor API as a Litestar app, mountable in a host's ASGI app."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from litestar import Litestar, MediaType, Request, Router, get, post
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import ClientException, SerializationException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import Body
from litestar.static_files import create_static_files_router

from workflow_kit import WorkflowKit, jsonlimits
from workflow_kit.jsonlimits import JSONShapeError
from workflow_kit.secret_strength import HOW_TO_MAKE_ONE
from workflow_kit.tokens import Principal, check_secret

from . import errors
from .auth import Authenticator
from .frontend import find_frontend
from .models import TokenOut, TokenRequest
from .openapi import StrictStructSchemaPlugin, document_errors, render_plugins
from .ratelimit import RateLimit
from .routes import (
    actions,
    connections,
    drafts,
    events,
    hooks,
    incoming,
    operations,
    runs,
    step_tests,
    templates,
    tenant,
    workflows,
)
from .worker_notice import WorkerNotice

MAX_BODY_BYTES = 8 * 1024 * 1024


class ConfigurationError(RuntimeError):
    """The API cannot start as configured (e.g. no signing secret outside demo mode)."""


def create_app(
    kit: WorkflowKit,
    *,
    secret: str | None = None,
    server_keys: Sequence[str] | None = None,
    demo: bool = False,
    run_worker: bool = False,
    frontend_dir: str | Path | None = None,
    cors_origins: Sequence[str] = (),
    worker_options: dict[str, Any] | None = None,
    api_routes: Sequence[Any] = (),
    routes: Sequence[Any] = (),
    drafts_per_minute: int = drafts.DRAFTS_PER_MINUTE,
    keep_drafts: drafts.KeepDrafts | None = None,
) -> Litestar:
    """The editor API for `kit`: routes under ``/api``, OpenAPI at ``/schema/openapi.json``, the built
    frontend (when there is one) at ``/``. Mount it in an ASGI host under any path (e.g. ``/automations``
    with Starlette's or FastAPI's ``Mount``); the kit is left as it was.

    - `secret` checks editor tokens (default: the kit's, i.e. ``$WORKFLOW_KIT_SECRET``); it is this
      app's own, the kit's `secret` is not changed. Without one the app refuses to start, unless `demo`
      (then a random one is made, and ``POST /api/demo/token`` hands out tokens signed with it: never
      expose a demo server).
    - `server_keys` (default ``$WORKFLOW_KIT_SERVER_KEYS``, comma-separated) let the host's backend act
      for any tenant, named in the ``X-Workflow-Kit-Tenant`` header.
    - `run_worker` runs an in-process worker for the app's lifetime (``workflow-kit serve`` does). Without
      one, nothing runs unless a worker runs elsewhere (``async with kit.worker()`` in the host's
      lifespan, or ``workflow-kit worker`` processes); the app logs a warning saying so once, at startup
      or at its first request, unless a worker of the kit runs in the process by then.
    - `frontend_dir` is the built editor to serve (default ``$WORKFLOW_KIT_FRONTEND_DIR``, else the copy
      in the installed package, else a development checkout's ``frontend/dist``; see `find_frontend`).
    - ``POST /hooks/{id}`` takes the requests of the kit's webhooks (no token: each webhook checks its
      own); their signing secrets are sealed with a key from `secret` (see ``kit.hooks``).
    - `api_routes` are more Litestar handlers under ``/api`` with the same auth (they may take
      ``kit`` and ``principal``); `routes` are more handlers at the top level.
    - Drafting workflows from words (with the kit's AI provider, ``kit.ai``): `drafts_per_minute` is how
      often one tenant may ask (a 429 past it); the words and the model's answers are not kept unless
      `keep_drafts` is given, a function called with each answered request (`routes.drafts.KeptDraft`).
    """
    secret = secret or kit.secret
    if not secret:
        if not demo:
            raise ConfigurationError(
                "set WORKFLOW_KIT_SECRET (at least 32 random characters): it signs the editor's tokens; "
                + HOW_TO_MAKE_ONE
            )
        secret = secrets.token_urlsafe(32)
    check_secret(secret)
    keys = list(server_keys) if server_keys is not None else _env_list("WORKFLOW_KIT_SERVER_KEYS")
    authenticator = Authenticator(kit, secret, keys)

    handlers: list[Any] = [
        actions.list_actions,
        actions.settings_schema,
        events.send_events,
        events.list_events,
        events.get_event,
        events.get_event_runs,
        operations.get_operation,
        events.list_event_types,
        templates.list_templates,
        runs.list_runs,
        runs.bulk_cancel,
        runs.bulk_replay,
        runs.workflow_stats,
        runs.get_run,
        runs.get_run_workflow,
        runs.cancel_run,
        runs.rerun_run,
        runs.stream_ticket,
        runs.stream_run,
        workflows.list_workflows,
        workflows.create_workflow,
        workflows.validate_instance,
        drafts.assistant,
        drafts.draft_from_text,
        drafts.draft_change,
        workflows.import_workflow,
        workflows.get_workflow,
        workflows.update_workflow,
        workflows.patch_workflow,
        workflows.delete_workflow,
        workflows.validate_draft,
        workflows.publish_workflow,
        workflows.list_versions,
        workflows.get_version,
        workflows.enable_workflow,
        workflows.disable_workflow,
        workflows.export_workflow,
        workflows.test_workflow,
        step_tests.test_step,
        connections.list_connection_types,
        connections.list_connections,
        connections.create_connection,
        connections.get_connection,
        connections.rename_connection,
        connections.test_connection,
        connections.delete_connection,
        connections.start_oauth,
        connections.reconnect,
        hooks.create_hook,
        hooks.get_hook,
        hooks.configure_hook,
        hooks.rotate_hook_secret,
        hooks.list_hook_requests,
        hooks.test_hook,
        tenant.get_tenant_settings,
        tenant.put_tenant_settings,
    ]
    if demo:
        handlers.append(demo_token)
    handlers += list(api_routes)
    document_errors(handlers)
    api = Router(
        path="/api",
        route_handlers=handlers,
        dependencies={"principal": Provide(_principal, sync_to_thread=False)},
        security=[{"bearer": []}],
    )
    public = Router(path="/api", route_handlers=[health, connections.oauth_callback], include_in_schema=True)

    notice = WorkerNotice(kit)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        if run_worker:
            async with kit.worker(**(worker_options or {})):
                yield
        else:
            notice.check()
            yield

    async def before_request(request: Request[Any, Any, Any]) -> None:
        if not run_worker:
            notice.check()
        await _reject_nul(request)

    return Litestar(
        route_handlers=[api, public, incoming.receive_hook, *routes, *_frontend(frontend_dir)],
        dependencies={
            "kit": Provide(_kit, sync_to_thread=False),
            "hooks": Provide(hooks.hook_store, sync_to_thread=False),
        },
        exception_handlers=errors.HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=MAX_BODY_BYTES,
        request_class=_Request,
        before_request=before_request,
        plugins=[StrictStructSchemaPlugin()],
        cors_config=CORSConfig(
            allow_origins=list(cors_origins), allow_headers=["Authorization", "Content-Type", "If-Match"]
        )
        if cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="workflow-kit editor API",
            version="0.1.0",
            path="/schema",
            render_plugins=render_plugins(),
            description="Build, publish and watch user-defined workflows. Authenticate with "
            "`Authorization: Bearer <token>` (a token from `kit.editor_token(tenant, user)`).",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                    "ticket": SecurityScheme(
                        type="apiKey",
                        name="ticket",
                        security_scheme_in="query",
                        description="a run stream's single-use ticket (POST /api/runs/{run_id}/stream-ticket)",
                    ),
                }
            ),
        ),
        lifespan=[lifespan],
        state=State(
            {
                "demo": demo,
                "kit": kit,
                "authenticator": authenticator,
                "draft_limit": RateLimit(drafts_per_minute),
                "keep_drafts": keep_drafts,
                "hook_secret": secret,
            }
        ),
        debug=False,
    )


class _Request(Request[Any, Any, Any]):
    async def json(self) -> Any:
        """The decoded JSON body. JSON nested so deeply that the decoder runs out of stack is a 400 like
        any other malformed body (not a 500); shallower nesting is checked where the data is used. Text
        that is not valid Unicode (an escaped lone surrogate, ``"\\ud800"``) is a 400 naming where."""
        try:
            return await super().json()
        except RecursionError:
            raise ClientException("the JSON body is nested too deeply") from None
        except SerializationException:
            found = _invalid_unicode(await self.body())
            if found is None:
                raise
            raise errors.BodyError(found.path, found.reason) from None


def _invalid_unicode(body: bytes) -> JSONShapeError | None:
    """Where JSON text that msgspec refuses holds a lone surrogate (the standard library's reader accepts
    them, and msgspec's message for one is only "Input data was truncated"), if that is the cause."""
    if b"\\ud" not in body.lower():
        return None
    try:
        jsonlimits.encode(json.loads(body))
    except JSONShapeError as exc:
        return exc if exc.code == "not_json" else None
    except (ValueError, RecursionError):
        return None
    return None


async def _reject_nul(request: Request[Any, Any, Any]) -> None:
    """NUL characters cannot be stored (PostgreSQL refuses them): a clear 400 instead of a failure deep down."""
    raw_query: bytes = request.scope.get("query_string", b"")
    if "\x00" in request.scope["path"] or b"%00" in raw_query.lower():
        raise ValidationException("the URL contains a NUL character (%00)")


def _kit(state: State) -> WorkflowKit:
    kit: WorkflowKit = state.kit
    return kit


def _principal(request: Request[Any, Any, Any]) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator.principal(request)


@get("/health", summary="Health check", tags=["meta"], security=[])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@post("/demo/token", summary="A token for the demo (demo mode only)", tags=["meta"], status_code=201)
async def demo_token(request: Request[Any, Any, Any], data: Annotated[TokenRequest | None, Body()] = None) -> TokenOut:
    """A token for any tenant and user, signed with this app's secret (the random one of demo mode)."""
    asked = data or TokenRequest()
    authenticator: Authenticator = request.app.state.authenticator
    return TokenOut(token=authenticator.mint(asked.tenant, asked.user), tenant=asked.tenant, user=asked.user)


def _frontend(frontend_dir: str | Path | None) -> list[Any]:
    folder = find_frontend(frontend_dir)
    if folder is not None:
        return [create_static_files_router(path="/", directories=[folder], html_mode=True, include_in_schema=False)]
    return [placeholder]


@get("/", media_type=MediaType.HTML, include_in_schema=False)
async def placeholder() -> str:
    return (
        "<!doctype html><title>workflow-kit</title><h1>workflow-kit</h1>"
        "<p>The editor API runs here (<a href='schema/openapi.json'>OpenAPI</a>). "
        "The browser editor is not built: run <code>make demo</code> or build <code>frontend/</code>.</p>"
    )


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]
