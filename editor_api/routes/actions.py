"""``GET /api/actions``: the action catalog the editor shows (never handler code); ``GET /api/settings-schema``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get

from workflow_kit.runtime.rules import settings as runtime_settings

from .common import Caller, Kit


class ActionEdge(msgspec.Struct, omit_defaults=True):
    name: str
    conditional: dict[str, Any] | None = None


class ActionEdges(msgspec.Struct):
    allow_add: bool
    edges: list[ActionEdge]


class ActionOut(msgspec.Struct):
    """An action kind: its name, description, icon, input and output JSON Schemas, predefined edges,
    and whether running it changes something outside the run (`side_effects`: the editor asks before
    testing it)."""

    kind: str
    name: str
    description: str
    icon: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    edges: ActionEdges
    side_effects: bool


@get("/actions", summary="The action catalog", tags=["actions"])
async def list_actions(kit: Kit, principal: Caller) -> list[ActionOut]:
    principal.require("actions:read")
    return [msgspec.convert(entry, ActionOut) for entry in kit.public_actions()]


@get("/settings-schema", summary="The JSON Schema of a workflow's flow-control settings", tags=["workflows"])
async def settings_schema(principal: Caller) -> dict[str, Any]:
    """For the editor's settings form: every option, its limits and descriptions."""
    principal.require("workflows:read")
    return runtime_settings.settings_schema()
