"""Connections: the tenant's accounts at outside services. List them (by type), create one from an
API-key form, rename, test ("does it still work?"), delete (refused while a published workflow uses
it), and connect or reconnect an OAuth account through the provider's pop-up: `start` returns the
authorize URL (the state and the PKCE verifier stay server-side), the provider redirects the pop-up
to `callback`, which stores the tokens, tells the editor that opened it, and closes.

Reading needs ``connections:read``; creating, renaming, reconnecting and deleting ``connections:write``.
Another tenant's connection is a 404, as one that does not exist. No answer carries a secret.
"""

from __future__ import annotations

import html
import json
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response, delete, get, patch, post
from litestar.params import Body, QueryParameter

from workflow_kit.connections.oauth import OAuthFailed
from workflow_kit.runtime.models import ConnectionRecord, NotFoundError

from ..openapi import error_responses
from .common import Caller, Id, Kit

CALLBACK = "connections-oauth-callback"
MESSAGE_TYPE = "workflow-kit:connection"


class ConnectionTypeOut(msgspec.Struct, omit_defaults=True):
    """A kind of account the tenant may connect: `api_key` (a form from `schema`, whose secret fields
    say ``"x-secret": true``) or `oauth2` (connected through the provider's pop-up)."""

    type: str
    name: str
    kind: str
    description: str = ""
    schema: dict[str, Any] | None = None


class ConnectionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new API-key connection: its type, a name, and the type's form."""

    type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    fields: dict[str, Any]


class ConnectionRename(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class OAuthStart(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Connect an OAuth account of `type`; `name` defaults to the type's name."""

    type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None


class AuthorizeOut(msgspec.Struct):
    """Open `authorize_url` in a pop-up: the provider asks the user, then the pop-up reports back to its
    opener with a ``postMessage`` of type ``workflow-kit:connection`` and closes."""

    authorize_url: str


class TestOut(msgspec.Struct, omit_defaults=True):
    """Whether the connection works, and if not, why (in words for the end user)."""

    ok: bool
    connection: ConnectionRecord
    message: str | None = None


@get("/connection-types", summary="The kinds of accounts that can be connected", tags=["connections"])
async def list_connection_types(kit: Kit, principal: Caller) -> list[ConnectionTypeOut]:
    principal.require("connections:read")
    return [msgspec.convert(entry, ConnectionTypeOut) for entry in kit.connection_types.public()]


@get("/connections", summary="The tenant's connections", tags=["connections"])
async def list_connections(
    kit: Kit,
    principal: Caller,
    type: Annotated[str | None, QueryParameter(max_length=64, description="only connections of this type")] = None,
) -> list[ConnectionRecord]:
    """The tenant's connections (of one `type`, if given), by name; `status` is `broken` when the tenant
    must reconnect one."""
    principal.require("connections:read")
    return await kit.connections.list(principal.tenant, type=type)


@post(
    "/connections",
    summary="Create an API-key connection",
    tags=["connections"],
    status_code=201,
    responses=error_responses(404),
)
async def create_connection(kit: Kit, principal: Caller, data: Annotated[ConnectionCreate, Body()]) -> ConnectionRecord:
    """Store the form of an API-key type, encrypted (400 with the path of a field that does not fit)."""
    principal.require("connections:write")
    return await kit.connections.create(principal.tenant, data.type, name=data.name, fields=data.fields)


@get("/connections/{connection_id:str}", summary="One connection", tags=["connections"])
async def get_connection(kit: Kit, principal: Caller, connection_id: Id) -> ConnectionRecord:
    principal.require("connections:read")
    return await kit.connections.get(principal.tenant, connection_id)


@patch("/connections/{connection_id:str}", summary="Rename a connection", tags=["connections"])
async def rename_connection(
    kit: Kit, principal: Caller, connection_id: Id, data: Annotated[ConnectionRename, Body()]
) -> ConnectionRecord:
    principal.require("connections:write")
    return await kit.connections.rename(principal.tenant, connection_id, data.name)


@post(
    "/connections/{connection_id:str}/test",
    summary="Check that a connection works",
    tags=["connections"],
    status_code=200,
)
async def test_connection(kit: Kit, principal: Caller, connection_id: Id) -> TestOut:
    """Runs the type's check (its `test` hook) with the connection; `ok` false says why."""
    principal.require("connections:read")
    try:
        record = await kit.connections.test(principal.tenant, connection_id)
    except NotFoundError:
        raise
    except Exception as exc:  # the hook's failure, or a token that could not be renewed: said, not raised
        record = await kit.connections.get(principal.tenant, connection_id)
        return TestOut(ok=False, connection=record, message=str(exc))
    return TestOut(ok=True, connection=record)


@delete(
    "/connections/{connection_id:str}",
    summary="Delete a connection",
    tags=["connections"],
    status_code=204,
    responses=error_responses(409),
)
async def delete_connection(kit: Kit, principal: Caller, connection_id: Id) -> None:
    """Refused (409 `connection_in_use`, naming the workflows) while a published workflow uses it."""
    principal.require("connections:write")
    await kit.connections.delete(principal.tenant, connection_id)


@post(
    "/connections/oauth/start",
    summary="Connect an OAuth account",
    tags=["connections"],
    status_code=200,
    responses=error_responses(404),
)
async def start_oauth(
    kit: Kit, principal: Caller, request: Request[Any, Any, Any], data: Annotated[OAuthStart, Body()]
) -> AuthorizeOut:
    """The provider's authorize URL, for a pop-up."""
    principal.require("connections:write")
    url = await kit.connections.start_oauth(
        principal.tenant, data.type, name=data.name, redirect_uri=str(request.url_for(CALLBACK))
    )
    return AuthorizeOut(authorize_url=url)


@post(
    "/connections/{connection_id:str}/reconnect",
    summary="Reconnect an OAuth account",
    tags=["connections"],
    status_code=200,
)
async def reconnect(kit: Kit, principal: Caller, request: Request[Any, Any, Any], connection_id: Id) -> AuthorizeOut:
    """The authorize URL that renews this connection (the same id, so workflows keep using it)."""
    principal.require("connections:write")
    record = await kit.connections.get(principal.tenant, connection_id)
    url = await kit.connections.start_oauth(
        principal.tenant, record.type, connection_id=connection_id, redirect_uri=str(request.url_for(CALLBACK))
    )
    return AuthorizeOut(authorize_url=url)


@get(
    "/connections/oauth/callback",
    name=CALLBACK,
    summary="Where the OAuth provider sends the pop-up back",
    tags=["connections"],
    security=[],
    media_type=MediaType.HTML,
    include_in_schema=False,
)
async def oauth_callback(
    kit: Kit,
    oauth_state: Annotated[str, QueryParameter(name="state", max_length=128)] = "",
    code: Annotated[str | None, QueryParameter(max_length=4096)] = None,
    error: Annotated[str | None, QueryParameter(max_length=256)] = None,
) -> Response[str]:
    """Not called by the editor: the provider redirects the pop-up here. The page tells its opener how
    it went (``postMessage``: the connection's id and name, never a token) and closes."""
    if error is not None or code is None:
        if oauth_state:
            await kit.connections.forget_oauth(oauth_state)
        reason = "access was not allowed" if error == "access_denied" else "the provider did not connect the account"
        return _page(400, {"status": "error", "message": f"Not connected: {reason}."})
    try:
        _, record = await kit.connections.finish_oauth(oauth_state, code)
    except NotFoundError:
        return _page(404, {"status": "error", "message": "This sign-in has expired or was already used: start again."})
    except OAuthFailed as exc:
        return _page(400, {"status": "error", "message": f"Not connected: {exc}."})
    connection = {"id": record.id, "name": record.name, "type": record.type}
    return _page(200, {"status": "ok", "connection": connection, "message": f"Connected {record.name}."})


def _page(status: int, message: dict[str, Any]) -> Response[str]:
    payload = {"type": MESSAGE_TYPE, **message}
    script_data = json.dumps(payload).replace("<", "\\u003c")
    text = html.escape(str(message.get("message", "")))
    body = (
        "<!doctype html><meta charset=utf-8><title>Connect an account</title>"
        f"<p style='font: 15px system-ui, sans-serif; margin: 2rem'>{text} You can close this window.</p>"
        f"<script>(function () {{ var message = {script_data};"
        " if (window.opener) { window.opener.postMessage(message, '*'); window.close(); } })();</script>"
    )
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return Response(body, status_code=status, media_type=MediaType.HTML, headers=headers)
