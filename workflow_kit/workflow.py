"""The workflow instance: the JSON graph end users build, in the TypeScript Workflow Kit's format.

``{"name", "description", "metadata", "actions": [{id, kind, name?, description?, inputs?}],
"edges": [{from, to, name?, conditional?: {type, ref, value?}}]}``, with ``"$source"`` as the trigger.
Keys this model does not know survive a load/dump round trip (kept in each object's `extra`).

Our superset (a workflow that uses none of it is the TypeScript kit's format unchanged):

- an action may carry a ``policy``: ``{"retries": 0..20, "timeout": "30s", "continue_on_failure": true}``;
- a loop action (``builtin:for_each``, ``builtin:repeat_until``) holds a ``body``: ``{"actions", "edges",
  "result"?}``, a graph of its own whose edges start from ``$source`` (the start of an iteration);
- an edge may be taken when its source failed: ``"conditional": {"type": "failed"}``.
"""

from __future__ import annotations

from typing import Annotated, Any

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


MAX_POLICY_RETRIES = 20


class ActionPolicy(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How one action of a workflow is retried and bounded, set by the end user (all optional):
    `retries` after the first attempt (0..20, instead of the action's default), a `timeout` per attempt
    (a duration such as ``30s``), and `continue_on_failure` (a failure after the retries gives the action
    the output ``{"error": {name, message}}`` and its successors run; the run does not fail)."""

    retries: Annotated[int, msgspec.Meta(ge=0, le=MAX_POLICY_RETRIES)] | None = None
    timeout: str | None = None
    continue_on_failure: bool | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict, name=_EXTRA)


class WorkflowAction(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One action placed in a workflow: its `kind` names a registered action definition. A loop
    action holds its `body`; any action may carry a `policy`."""

    id: str
    kind: str
    name: str | None = None
    description: str | None = None
    inputs: dict[str, Any] = msgspec.field(default_factory=dict)
    policy: ActionPolicy | None = None
    body: WorkflowBody | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict, name=_EXTRA)


class WorkflowEdge(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A directed edge ``from_ -> to`` (``"from"`` in JSON), optionally conditional."""

    from_: str = msgspec.field(name="from")
    to: str
    name: str | None = None
    conditional: Conditional | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict, name=_EXTRA)


class WorkflowBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The graph a loop action runs for each item (or round): its edges start from ``$source``, the
    start of an iteration. `result` names the body action whose output is the iteration's result (none:
    the body's state object, every action's output by id)."""

    actions: list[WorkflowAction] = msgspec.field(default_factory=list)
    edges: list[WorkflowEdge] = msgspec.field(default_factory=list)
    result: str | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict, name=_EXTRA)

    def as_workflow(self) -> Workflow:
        """The body as a workflow of its own (the planner and the validator take one)."""
        return Workflow(actions=self.actions, edges=self.edges)


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
    _merge_graph_extras(data)
    return data


def _merge_graph_extras(graph: dict[str, Any]) -> None:
    """Merge back the unknown keys of a graph's actions and edges, and of loop bodies, at any depth."""
    for action in graph.get("actions", ()):
        _merge_extra(action)
        if isinstance(action.get("policy"), dict):
            _merge_extra(action["policy"])
        if isinstance(action.get("body"), dict):
            _merge_extra(action["body"])
            _merge_graph_extras(action["body"])
    for edge in graph.get("edges", ()):
        _merge_extra(edge)
        if isinstance(edge.get("conditional"), dict):
            _merge_extra(edge["conditional"])


_KNOWN: dict[type[msgspec.Struct], frozenset[str]] = {
    cls: frozenset(f.encode_name for f in msgspec.structs.fields(cls) if f.encode_name != _EXTRA)
    for cls in (Workflow, WorkflowAction, WorkflowEdge, Conditional, ActionPolicy, WorkflowBody)
}


def _unknown(cls: type[msgspec.Struct], raw: dict[str, Any]) -> dict[str, Any]:
    """Keys to restore on dump: unknown ones, and known ones holding an empty value (``null``, ``[]``,
    ``{}``) that encoding would otherwise omit, so a round trip gives back exactly what was loaded."""
    return {k: v for k, v in raw.items() if k not in _KNOWN[cls] or v is None or v in ([], {})}


def _attach_extras(workflow: Workflow, raw: dict[str, Any]) -> None:
    workflow.extra = _unknown(Workflow, raw)
    _attach_graph_extras(workflow.actions, workflow.edges, raw)


def _attach_graph_extras(actions: list[WorkflowAction], edges: list[WorkflowEdge], raw: dict[str, Any]) -> None:
    for action, raw_action in zip(actions, raw.get("actions") or (), strict=True):
        action.extra = _unknown(WorkflowAction, raw_action)
        if action.policy is not None:
            action.policy.extra = _unknown(ActionPolicy, raw_action["policy"])
        if action.body is not None:
            action.body.extra = _unknown(WorkflowBody, raw_action["body"])
            _attach_graph_extras(action.body.actions, action.body.edges, raw_action["body"])
    for edge, raw_edge in zip(edges, raw.get("edges") or (), strict=True):
        edge.extra = _unknown(WorkflowEdge, raw_edge)
        if edge.conditional is not None:
            edge.conditional.extra = _unknown(Conditional, raw_edge["conditional"])


def _without_extra_marker(raw: dict[str, Any]) -> dict[str, Any]:
    """The input without literal ``$extra`` keys, so they can't masquerade as the internal field (they
    are kept as unknown keys like any other)."""
    return _clean_graph(_clean(raw))


def _clean(obj: Any) -> Any:
    return {k: v for k, v in obj.items() if k != _EXTRA} if isinstance(obj, dict) else obj


def _clean_graph(data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data.get("actions"), list):
        actions = []
        for raw_action in data["actions"]:
            action = _clean(raw_action)
            if isinstance(action, dict):
                if isinstance(action.get("policy"), dict):
                    action["policy"] = _clean(action["policy"])
                if isinstance(action.get("body"), dict):
                    action["body"] = _clean_graph(_clean(action["body"]))
            actions.append(action)
        data["actions"] = actions
    if isinstance(data.get("edges"), list):
        edges = [_clean(edge) for edge in data["edges"]]
        data["edges"] = [
            {**e, "conditional": _clean(e["conditional"])}
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
