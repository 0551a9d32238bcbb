"""``GET /api/templates``: the workflow templates the host ships (``kit.template``), for the gallery."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get

from ..models import Trigger
from .common import Caller, Kit


class TemplateBlank(msgspec.Struct):
    """An input the template leaves for the user to fill in, with the question the editor asks."""

    action_id: str
    input: str
    question: str
    path: str


class TemplateOut(msgspec.Struct):
    """A ready-made workflow: what the gallery shows (name, description, tags), what "Use this template"
    copies into a new draft (trigger, settings, workflow), and the blanks to fill before the first save."""

    id: str
    name: str
    description: str
    tags: list[str]
    trigger: Trigger
    settings: dict[str, Any]
    workflow: dict[str, Any]
    blanks: list[TemplateBlank]


@get("/templates", summary="The workflow templates", tags=["actions"])
async def list_templates(kit: Kit, principal: Caller) -> list[TemplateOut]:
    """Every template the host ships, in the order it registered them (code, not data: the same for
    every tenant). Each was checked against the action catalog when it was registered."""
    principal.require("actions:read")
    return [msgspec.convert(entry, TemplateOut) for entry in kit.public_templates()]
