"""Errors as JSON ``{code, message, path?, problems?}`` with the right status; never a traceback."""

from __future__ import annotations

import logging
import math
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from workflow_kit.drafting import DraftingError
from workflow_kit.errors import OverBudgetError, WorkflowKitError, WorkflowValidationError, split_msgspec_error
from workflow_kit.events import EventError
from workflow_kit.runtime.models import ConflictError, ConnectionInUseError, FilterError, NotFoundError, RerunError
from workflow_kit.tokens import TokenError

from .models import ErrorBody

_LOG = logging.getLogger("editor_api")
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


class BodyError(ClientException):
    """The request body is JSON the API cannot take; `path` says where in it (400)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path


def _response(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def kit_error(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """The kit's own errors, mapped to statuses."""
    if isinstance(exc, TokenError):
        return _response(401, ErrorBody(code=exc.code, message=str(exc)))
    if isinstance(exc, NotFoundError):
        return _response(404, ErrorBody(code=exc.code, message=str(exc)))
    if isinstance(exc, ConflictError):
        return _response(409, ErrorBody(code=exc.code, message=str(exc), current_version=exc.current_version))
    if isinstance(exc, ConnectionInUseError):
        return _response(409, ErrorBody(code=exc.code, message=str(exc), workflows=exc.workflows))
    if isinstance(exc, RerunError):
        return _response(409, ErrorBody(code=exc.code, message=str(exc)))
    if isinstance(exc, WorkflowValidationError):
        body = ErrorBody(code=exc.code, message=str(exc), problems=exc.problems)
        return _response(422, body)
    if isinstance(exc, FilterError):
        return _response(422, ErrorBody(code=exc.code, message=str(exc), path=exc.path))
    if isinstance(exc, OverBudgetError):  # the tenant's evaluation budget: try again later
        retry_after = str(max(1, math.ceil(exc.retry_after)))
        return _response(429, ErrorBody(code=exc.code, message=str(exc)), {"Retry-After": retry_after})
    if isinstance(exc, EventError):
        return _response(400, ErrorBody(code=exc.code, message=str(exc), path=exc.path))
    if isinstance(exc, DraftingError):
        wait = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
        return _response(exc.status, ErrorBody(code=exc.code, message=str(exc)), wait)
    if isinstance(exc, WorkflowKitError):
        return _response(400, ErrorBody(code=exc.code, message=str(exc)))
    return unexpected(_, exc)


def bad_value(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """A ValueError from the kit: a bad argument (e.g. an empty tenant)."""
    return _response(400, ErrorBody(code="bad_request", message=str(exc)))


def http_error(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Litestar's own errors: malformed bodies (400 with the field's path), unknown routes, sizes."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status >= 500:
        return unexpected(_, exc)
    path = (exc.path or None) if isinstance(exc, BodyError) else None
    message = exc.detail
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        if isinstance(first, dict):
            key, reason = first.get("key"), str(first.get("message", ""))
            source = getattr(first.get("source"), "value", first.get("source"))
            if source == "body":
                # msgspec's own error has the full path, under the handler's `data` argument.
                cause = exc.__cause__
                text = str(cause) if isinstance(cause, msgspec.ValidationError) else reason
                path, reason = split_msgspec_error(text)
                path = path.removeprefix("data").removeprefix(".") or None
            elif key:
                path = f"{source}.{key}" if source else str(key)
            message = f"{exc.detail}: {reason}".rstrip(": ")
    return _response(status, ErrorBody(code=_HTTP_CODES.get(status, "error"), message=message, path=path))


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    _LOG.error(
        "request failed: unexpected error", exc_info=exc, extra={"method": request.method, "path": request.url.path}
    )
    return _response(
        HTTP_500_INTERNAL_SERVER_ERROR, ErrorBody(code="internal_error", message="an unexpected error occurred")
    )


HANDLERS = {
    WorkflowKitError: kit_error,
    ValueError: bad_value,
    HTTPException: http_error,
    Exception: unexpected,
}
