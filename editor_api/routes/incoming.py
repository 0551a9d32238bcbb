"""``POST /hooks/{id}``: where other services post (no token: the hook's own check decides; see
``workflow_kit/runtime/stores/hooks.py``). The body is read up to 512 KB and no further: a larger one is
a 413 as soon as its ``Content-Length`` says so, or as soon as it passes the limit."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter

from workflow_kit.runtime.rules.webhooks import MAX_BODY_BYTES, flatten
from workflow_kit.runtime.stores.hooks import Delivery

from ..models import ErrorBody
from .hooks import Hooks

_CODES = {401: "bad_signature", 404: "not_found", 413: "too_large", 422: "invalid_request", 429: "too_many_requests"}
MAX_HOOK_ID = 64
HookId = Annotated[str, PathParameter(min_length=1, max_length=MAX_HOOK_ID)]


_DESCRIBED = {
    400: "A URL holding a NUL character",
    401: "The signature (or shared secret) is missing or does not match; or, Stripe-style, it is too old",
    404: "No such webhook, or no trigger of its workflow names it",
    413: "The body is over 512 KB",
    422: "The body or the transform makes no event: the message says why",
    429: "Over the webhook's rate limit: `Retry-After` says in how many seconds to try again",
}
RESPONSES = {
    status: ResponseSpec(data_container=ErrorBody, description=text, generate_examples=False)
    for status, text in _DESCRIBED.items()
}


class Accepted(msgspec.Struct):
    """The request became an event (its id); the run it starts happens afterwards."""

    event_id: str
    status: str = "accepted"


async def _read(request: Request[Any, Any, Any]) -> bytes | None:
    """The body, or None when it is over the limit (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@post(
    "/hooks/{hook_id:str}",
    summary="A webhook request",
    tags=["webhooks"],
    status_code=202,
    security=[],
    responses=RESPONSES,
)
async def receive_hook(
    request: Request[Any, Any, Any],
    hooks: Hooks,
    hook_id: Annotated[str, PathParameter(min_length=1, max_length=MAX_HOOK_ID)],
) -> Response[Accepted]:
    """Any service posts here (JSON, a form, or text), checked as the webhook's settings say. 202 with
    the event's id; 404 unknown webhook, 401 bad signature, 413 over 512 KB, 429 over its rate limit
    (``Retry-After`` says when to try again), 422 a body or transform that makes no event (the message
    says why). Nothing is stored of a refused request but a line in the webhook's last requests."""
    body = await _read(request)
    delivery = await hooks.deliver(
        hook_id,
        method=request.method,
        headers=dict(request.headers),
        query=flatten(request.query_params.dict()),
        body=body or b"",
        too_large=body is None,
    )
    if delivery.status == 202 and delivery.event_id is not None:
        return Response(Accepted(event_id=delivery.event_id), status_code=202, media_type=MediaType.JSON)
    return _refused(delivery)  # an error body, as the responses above say


def _refused(delivery: Delivery) -> Response[Any]:
    headers = {"Retry-After": str(delivery.retry_after)} if delivery.retry_after is not None else None
    body = ErrorBody(code=_CODES.get(delivery.status, "error"), message=delivery.why)
    return Response(body, status_code=delivery.status, media_type=MediaType.JSON, headers=headers)
