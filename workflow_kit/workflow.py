"""The workflow instance: the JSON graph end users build, in the TypeScript Workflow Kit's format.

``{"name", "description", "metadata", "actions": [{id, kind, name?, description?, inputs?}],
"edges": [{from, to, name?, conditional?: {type, ref, value?}}]}``, with ``"$source"`` as the trigger.
Keys this model does not know survive a load/dump round trip (kept in each object's `extra`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from . import jsonlimits
from .errors import Problem, WorkflowValidationError, split_msgspec_error

SOURCE = "$source"
"""The id of the trigger node: edges from it start the workflow."""

_EXTRA = "$extra"  # encoded name of the field that keeps unknown keys; never read from input


class Conditional(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An edge condition: ``if`` (truthy), ``else`` (falsy) or ``match`` (JSON-equal to `value`).

    `ref` is a ``!ref(...)``; in it ``$.output`` is the output of the edge's `from` action.
    """

    type: str
    ref: str = ""
    value: Any = msgspec.UNSET
    extra: dict[str, Any] = msgspec.field(default_factory=dict, name=_EXTRA)


class WorkflowAction(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One action placed in a workflow: its `kind` names a registered action definition."""

    id: str
    kind: str
    name: str | None = None
    description: str | None = None
    inputs: dict[str, Any] = msgspec.field(default_factory=dict)
    extra: dict[str, Any] = msgspec.field(default_factory=dict, name=_EXTRA)


class WorkflowEdge(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A directed edge ``from_ -> to`` (``"from"`` in JSON), optionally conditional."""

    from_: str = msgspec.field(name="from")
    to: str
    name: str | None = None
    conditional: Conditional | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict, name=_EXTRA)


class Workflow(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A workflow instance: actions and the edges between them."""

    name: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    actions: list[WorkflowAction] = msgspec.field(default_factory=list)
    edges: list[WorkflowEdge] = msgspec.field(default_factory=list)
    extra: dict[str, Any] = msgspec.field(default_factory=dict, name=_EXTRA)

    @classmethod
    def from_json(cls, text: str | bytes) -> Workflow:
        """Parse a workflow from JSON text; raises `WorkflowValidationError` with the path of the error."""
        return load_workflow(text)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Workflow:
        """Build a workflow from decoded JSON; raises `WorkflowValidationError` with the path of the error."""
        return load_workflow(data)

    def to_dict(self) -> dict[str, Any]:
        """The workflow as decoded JSON, unknown keys included."""
        return dump_workflow(self)

    def to_json(self) -> bytes:
        """The workflow as JSON text, unknown keys included."""
        return msgspec.json.encode(dump_workflow(self))

    def action(self, action_id: str) -> WorkflowAction | None:
        """The action with this id, or None."""
        return next((a for a in self.actions if a.id == action_id), None)


WorkflowLike = Workflow | dict[str, Any] | str | bytes
"""What the kit accepts as a workflow: a `Workflow`, decoded JSON, or JSON text."""


def load_workflow(source: WorkflowLike) -> Workflow:
    """Load a workflow from any `WorkflowLike`, keeping unknown keys for a faithful round trip.

    Raises `WorkflowValidationError` naming the path of a malformed value: code ``invalid_json`` for
    text that is not JSON, ``too_deep`` for values nested more than `MAX_JSON_DEPTH` levels,
    ``invalid_format`` for anything else.
    """
    if isinstance(source, Workflow):
        return source
    if isinstance(source, str | bytes):
        try:
            source = msgspec.json.decode(source)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise WorkflowValidationError([Problem("invalid_json", "", f"not valid JSON: {exc}")]) from None
        except RecursionError:
            raise WorkflowValidationError([_too_deep("")]) from None
    if not isinstance(source, dict):
        found = type(source).__name__
        raise WorkflowValidationError([Problem("invalid_format", "", f"expected a JSON object, got {found}")])
    try:
        jsonlimits.encode(source)
    except jsonlimits.JSONShapeError as exc:
        code = "too_deep" if exc.code == "too_deep" else "invalid_format"
        raise WorkflowValidationError([Problem(code, exc.path, exc.reason)]) from None
    data = _without_extra_marker(source)
    try:
        workflow = msgspec.convert(data, Workflow)
    except msgspec.ValidationError as exc:
        path, message = split_msgspec_error(str(exc))
        raise WorkflowValidationError([Problem("invalid_format", path, message)]) from None
    _attach_extras(workflow, source)  # from the input as given: a literal ``$extra`` key is unknown too
    return workflow


def _too_deep(path: str) -> Problem:
    return Problem("too_deep", path, f"nested more than {jsonlimits.MAX_JSON_DEPTH} levels deep")


def dump_workflow(workflow: Workflow) -> dict[str, Any]:
    """The workflow as decoded JSON; unknown keys kept at load time are merged back in place."""
    data: dict[str, Any] = msgspec.to_builtins(workflow)
    data.setdefault("actions", [])  # the TypeScript kit requires both arrays
    data.setdefault("edges", [])
    _merge_extra(data)
    for action in data.get("actions", ()):
        _merge_extra(action)
    for edge in data.get("edges", ()):
        _merge_extra(edge)
        if isinstance(edge.get("conditional"), dict):
            _merge_extra(edge["conditional"])
    return data


_KNOWN: dict[type[msgspec.Struct], frozenset[str]] = {
    cls: frozenset(f.encode_name for f in msgspec.structs.fields(cls) if f.encode_name != _EXTRA)
    for cls in (Workflow, WorkflowAction, WorkflowEdge, Conditional)
}


def _unknown(cls: type[msgspec.Struct], raw: dict[str, Any]) -> dict[str, Any]:
    """Keys to restore on dump: unknown ones, and known ones holding an empty value (``null``, ``[]``,
    ``{}``) that encoding would otherwise omit, so a round trip gives back exactly what was loaded."""
    return {k: v for k, v in raw.items() if k not in _KNOWN[cls] or v is None or v in ([], {})}


def _attach_extras(workflow: Workflow, raw: dict[str, Any]) -> None:
    workflow.extra = _unknown(Workflow, raw)
    for action, raw_action in zip(workflow.actions, raw.get("actions") or (), strict=True):
        action.extra = _unknown(WorkflowAction, raw_action)
    for edge, raw_edge in zip(workflow.edges, raw.get("edges") or (), strict=True):
        edge.extra = _unknown(WorkflowEdge, raw_edge)
        if edge.conditional is not None:
            edge.conditional.extra = _unknown(Conditional, raw_edge["conditional"])


def _without_extra_marker(raw: dict[str, Any]) -> dict[str, Any]:
    """The input without literal ``$extra`` keys, so they can't masquerade as the internal field (they
    are kept as unknown keys like any other)."""

    def clean(obj: Any) -> Any:
        return {k: v for k, v in obj.items() if k != _EXTRA} if isinstance(obj, dict) else obj

    data: dict[str, Any] = clean(raw)
    if isinstance(data.get("actions"), list):
        data["actions"] = [clean(a) for a in data["actions"]]
    if isinstance(data.get("edges"), list):
        edges = [clean(edge) for edge in data["edges"]]
        data["edges"] = [
            {**e, "conditional": clean(e["conditional"])}
            if isinstance(e, dict) and isinstance(e.get("conditional"), dict)
            else e
            for e in edges
        ]
    return data


def _merge_extra(obj: dict[str, Any]) -> None:
    extra = obj.pop(_EXTRA, None)
    if extra:
        for key, value in extra.items():
            obj.setdefault(key, value)
