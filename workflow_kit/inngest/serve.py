"""Serving the backend's functions to Inngest: the SDK's FastAPI integration as it is
(`serve_fastapi`), and for Litestar hosts (the SDK has no Litestar integration) a thin adapter over the
SDK's framework-agnostic request handler (`inngest_router`), built as the SDK builds its own
integrations: the request's body, headers and query go in, the handler's answer comes out unchanged
(signature checks, syncing, step protocol: all the SDK's).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from inngest._internal import comm_lib, config_lib, const, server_lib, transforms
from litestar import Request, Response, Router, route

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .backend import InngestBackend

# The SDK knows a fixed list of frameworks (sent to Inngest as a label); Litestar is ASGI like FastAPI.
FRAMEWORK = server_lib.Framework.FAST_API


def serve_fastapi(app: FastAPI, backend: InngestBackend, **options: Any) -> None:
    """Serve the backend's functions in a FastAPI app at ``/api/inngest`` (``serve_path=`` to move it;
    the other `options` are the SDK's ``inngest.fast_api.serve`` options)."""
    import inngest.fast_api

    inngest.fast_api.serve(app, backend.client, backend.functions(), **options)


def inngest_router(
    backend: InngestBackend,
    *,
    serve_path: str | None = None,
    serve_origin: str | None = None,
    public_path: str | None = None,
) -> Router:
    """A Litestar router serving the backend's functions at ``/api/inngest`` (or `serve_path`, or
    ``$INNGEST_SERVE_PATH``): add it to the host's ``route_handlers``."""
    handler = comm_lib.CommHandler(
        client=backend.client,
        enable_unauthed_sync=None,
        framework=FRAMEWORK,
        functions=backend.functions(),
        streaming=const.Streaming.DISABLE,
    )
    path = config_lib.get_serve_path(serve_path) or const.DEFAULT_SERVE_PATH

    async def comm_request(request: Request[Any, Any, Any]) -> comm_lib.CommRequest:
        return comm_lib.CommRequest(
            body=await request.body(),
            headers=dict(request.headers.items()),
            public_path=public_path,
            query_params=dict(request.query_params.items()),
            raw_request=request,
            request_url=str(request.url),
            serve_origin=serve_origin,
            serve_path=serve_path,
        )

    @route(path, http_method=["GET", "POST", "PUT"], include_in_schema=False)
    async def inngest_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
        incoming = await comm_request(request)
        if request.method == "GET":
            answer = handler.get_sync(incoming)
        elif request.method == "POST":
            answer = await handler.post(incoming)
        else:
            answer = await handler.put(incoming)
        return _response(backend, answer)

    return Router(path="/", route_handlers=[inngest_endpoint])


def _response(backend: InngestBackend, answer: comm_lib.CommResponse) -> Response[bytes]:
    body = transforms.dump_json(answer.body)
    if isinstance(body, Exception):
        answer = comm_lib.CommResponse.from_error(backend.client.logger, body)
        body = json.dumps(answer.body)
    headers = {k: v for k, v in answer.headers.items() if k.lower() != "content-type"}
    return Response(
        content=body.encode("utf-8"), headers=headers, status_code=answer.status_code, media_type="application/json"
    )
