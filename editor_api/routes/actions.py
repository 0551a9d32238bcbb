"""``GET /api/actions``: the action catalog the editor shows (never handler code)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get

from .common import Caller, Kit


class ActionEdge(msgspec.Struct, omit_defaults=True):
    name: str
    conditional: dict[str, Any] | None = None


class ActionEdges(msgspec.Struct):
    allow_add: bool
    edges: list[ActionEdge]


class ActionOut(msgspec.Struct):
    """An action kind: its name, description, icon, input and output JSON Schemas, predefined edges."""

    kind: str
    name: str
    description: str
    icon: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    edges: ActionEdges


@get("/actions", summary="The action catalog", tags=["actions"])
async def list_actions(kit: Kit, principal: Caller) -> list[ActionOut]:
    principal.require("actions:read")
    return [msgspec.convert(entry, ActionOut) for entry in kit.public_actions()]
