"""The JSON Schema a drafted workflow must follow, built from a kit's action catalog, for a provider's
structured outputs (OpenAI's ``response_format={"type": "json_schema", "strict": true}``).

The answer is ``{name, summary, trigger, steps, edges}``: each step is one of the catalog's kinds (one
``anyOf`` branch per kind, its ``kind`` a constant), with that kind's inputs and an ``explanation`` in
plain words; each edge goes ``from`` a step (or ``$source``, the trigger) ``to`` a step, optionally along
one of the source's predefined ``branch``es ("True", "False", "Received"...) or with a ``condition``.

Strict structured outputs take a subset of JSON Schema: every object lists all its properties as
required and allows no others, and only some keywords are understood. So the catalog's input schemas
are rewritten: ``$ref``s inlined, unsupported keywords dropped, optional inputs made nullable (a null is
dropped when the answer becomes a workflow), a free-form object asked for as JSON text, and any input
may instead be a ref (``!ref($.event.data.id)``).

Loops stay in the flat list: a step names the loop it repeats inside as its ``parent`` (null at the top),
an edge from a loop to one of its own steps starts each iteration (``$source`` of the body), and a loop
step says which of its steps gives each iteration's ``result``. The builder nests them into bodies.
"""

from __future__ import annotations

from typing import Any

from ..engine.loops import LOOP_KINDS

Schema = dict[str, Any]
KEPT = ("type", "enum", "const", "description")
MAX_DEPTH = 6
REF_HINT = (
    "a ref instead of a fixed value: !ref($.event.data.<field>) for the trigger event's data, "
    "!ref($.state.<step id>.<field>) for an earlier step's output"
)
JSON_TEXT = "a JSON object or list, written as JSON text"


def answer_schema(catalog: list[dict[str, Any]]) -> Schema:
    """The schema of a drafted workflow over `catalog` (``kit.public_actions()``)."""
    steps = [_step_schema(entry) for entry in catalog]
    nullable_text: Schema = {"type": ["string", "null"]}
    condition: Schema = _object(
        {
            "type": {"type": "string", "enum": ["if", "else", "match", "failed"]},
            "ref": {**nullable_text, "description": "what is compared, e.g. !ref($.output.status)"},
            "value": {"type": ["string", "number", "boolean", "null"], "description": "for match: the value"},
        }
    )
    edge = _object(
        {
            "from": {"type": "string", "description": "a step id, or $source for the trigger"},
            "to": {"type": "string", "description": "a step id"},
            "branch": {**nullable_text, "description": "one of the source step's named branches, e.g. True"},
            "condition": {"anyOf": [condition, {"type": "null"}]},
        }
    )
    trigger = _object(
        {
            "event": {**nullable_text, "description": "the event that starts the workflow"},
            "if": {**nullable_text, "description": "a CEL condition over event, e.g. event.data.status == 'draft'"},
            "cron": {**nullable_text, "description": "a schedule instead of an event, e.g. 0 9 * * 1"},
        }
    )
    return _object(
        {
            "name": {"type": "string", "description": "a short name for the workflow"},
            "summary": {"type": "string", "description": "one sentence saying what it does"},
            "trigger": trigger,
            "steps": {"type": "array", "items": {"anyOf": steps}},
            "edges": {"type": "array", "items": edge},
        }
    )


def response_format(catalog: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``response_format`` of the chat completion request."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "workflow_draft", "strict": True, "schema": answer_schema(catalog)},
    }


PARENT = "the id of the loop step this step repeats inside, or null for a step that is not in a loop"
RESULT = "the id of the step inside this loop whose output is each iteration's result, or null for all of them"


def _step_schema(entry: dict[str, Any]) -> Schema:
    root = entry["inputs"]
    inputs = _inputs_schema(root)
    properties: dict[str, Schema] = {
        "id": {"type": "string", "description": "unique, lowercase letters, digits and -"},
        "kind": {"type": "string", "const": entry["kind"]},
        "name": {"type": ["string", "null"], "description": "a name for this step, or null for the action's"},
        "parent": {"type": ["string", "null"], "description": PARENT},
        "inputs": inputs,
        "explanation": {"type": "string", "description": "what this step does here, in one plain sentence"},
    }
    if entry["kind"] in LOOP_KINDS:
        properties["result"] = {"type": ["string", "null"], "description": RESULT}
    return _object(properties, description=entry.get("name") or entry["kind"])


def _inputs_schema(root: Schema) -> Schema:
    top = _resolve(root, root)
    properties = top.get("properties")
    if not isinstance(properties, dict) or not properties:
        return _object({})
    required = set(top.get("required") or ())
    shaped: dict[str, Schema] = {}
    for name, prop in properties.items():
        value = _strict(root, prop, 0)
        branches = [value, {"type": "string", "description": REF_HINT}]
        if name not in required:
            branches.append({"type": "null"})
        shaped[name] = {"anyOf": branches}
    return _object(shaped)


def _object(properties: dict[str, Schema], description: str | None = None) -> Schema:
    out: Schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        out["description"] = description
    return out


def _resolve(root: Schema, node: Schema) -> Schema:
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part) if isinstance(target, dict) else None
    return target if isinstance(target, dict) else {}


def _strict(root: Schema, node: Any, depth: int) -> Schema:
    """One schema in the subset strict structured outputs take (see the module's docstring)."""
    if not isinstance(node, dict):
        return {"type": "string", "description": JSON_TEXT}
    node = _resolve(root, node)
    if depth > MAX_DEPTH:
        return {"type": "string", "description": JSON_TEXT}
    branches = node.get("anyOf") or node.get("oneOf")
    if isinstance(branches, list) and branches:
        out: Schema = {"anyOf": [_strict(root, b, depth + 1) for b in branches]}
        if isinstance(node.get("description"), str):
            out["description"] = node["description"][:300]
        return out
    kind = node.get("type")
    if kind == "object" or (kind is None and "properties" in node):
        properties = node.get("properties")
        if not isinstance(properties, dict) or not properties:
            return {"type": "string", "description": JSON_TEXT}
        required = set(node.get("required") or ())
        shaped: dict[str, Schema] = {}
        for name, prop in properties.items():
            value = _strict(root, prop, depth + 1)
            shaped[name] = value if name in required else {"anyOf": [value, {"type": "null"}]}
        return _object(shaped)
    if kind == "array":
        items = node.get("items")
        return {"type": "array", "items": _strict(root, items if isinstance(items, dict) else {}, depth + 1)}
    if kind is None and "enum" not in node and "const" not in node:
        return {"type": "string", "description": JSON_TEXT}  # any JSON value
    out = {key: node[key] for key in KEPT if key in node}
    if isinstance(out.get("description"), str):
        out["description"] = out["description"][:300]
    return out
