"""OpenAPI details Litestar leaves out: request bodies that reject unknown fields say so, every route
documents the errors it answers with their real body, and the document served names the server it is
served from (under a host's prefix too)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    RapidocRenderPlugin,
    RedocRenderPlugin,
    StoplightRenderPlugin,
    SwaggerRenderPlugin,
    YamlRenderPlugin,
)

if TYPE_CHECKING:
    from litestar import Request
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """msgspec Structs with ``forbid_unknown_fields=True`` get ``additionalProperties: false``."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields:
            schema.additional_properties = False  # the registered component itself
        return schema


ERROR_DESCRIPTIONS = {
    400: "Malformed request: `{code, message, path?}` names the field",
    401: "No token, a bad or expired one, or a missing scope",
    404: "No such record for this tenant (another tenant's records are not found either)",
    409: "A stale write (`current_version` says the draft's version), a run that cannot be rerun, or drafting"
    " from words with no AI model configured (`ai_not_configured`: `message` says what the host must set)",
    413: "The body is too large",
    429: "Too many requests for this tenant, or over its budget of evaluation time for its workflows'"
    " conditions (`code` over_budget: nothing was received): `Retry-After` says when to ask again",
    502: "The AI model could not answer, or gave no usable workflow",
    422: "An invalid workflow (`problems` lists every problem with its path), or a filter the API cannot use"
    " (`path` names its field)",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for these error statuses, each with the `ErrorBody` every error has."""
    from .models import ErrorBody

    return {
        status: ResponseSpec(data_container=ErrorBody, description=ERROR_DESCRIPTIONS[status], generate_examples=False)
        for status in statuses
    }


def document_errors(handlers: Iterable[Any]) -> None:
    """Declare the errors every authenticated route can answer (400, 401; 404 with an id in the path;
    413 with a body), with `ErrorBody` instead of Litestar's default 400, keeping what a route declares
    itself (409, 422)."""
    for handler in handlers:
        if not isinstance(handler, HTTPRouteHandler):
            continue
        statuses = [400, 401]
        if any("{" in path for path in handler.paths):
            statuses.append(404)
        if "data" in inspect.signature(handler.fn).parameters:
            statuses.append(413)
        handler.responses = {**error_responses(*statuses), **(handler.responses or {})}


class _ServedHere(OpenAPIRenderPlugin):
    """Renders the document with ``servers`` naming where it is served: ``/`` for the app on its own,
    the prefix (the ASGI ``root_path``) when a host mounts it, e.g. at ``/automations``, so that the
    operations' paths resolve under the prefix, not at the host's root."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        root = str(request.scope.get("root_path") or "").rstrip("/")
        served = {**openapi_schema, "servers": [{"url": root or "/"}]}
        return super().render(request, served)  # type: ignore[safe-super]


class _Json(_ServedHere, JsonRenderPlugin):
    pass


class _Yaml(_ServedHere, YamlRenderPlugin):
    pass


class _Redoc(_ServedHere, RedocRenderPlugin):
    pass


class _Swagger(_ServedHere, SwaggerRenderPlugin):
    pass


class _Rapidoc(_ServedHere, RapidocRenderPlugin):
    pass


class _Stoplight(_ServedHere, StoplightRenderPlugin):
    pass


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Litestar's documents and pages under ``/schema`` (Redoc at ``/schema`` itself, as by default), each
    naming the server it is served from."""
    return [_Redoc(), _Json(), _Yaml(), _Swagger(), _Rapidoc(), _Stoplight()]
