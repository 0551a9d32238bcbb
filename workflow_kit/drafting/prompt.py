"""What the model is told: how a workflow is written, the catalog (kinds, inputs, outputs, branches),
the declared events, and for a change the current draft. Only code-level facts, the draft and the
user's words: never the tenant's runs, events or other workflows."""

from __future__ import annotations

import json
from typing import Any

RULES = """You draft automations ("workflows") for the product's users. A workflow starts from its trigger \
(an event, or a cron schedule) and runs steps; each step is one of the actions listed below.
Answer with JSON that follows the given schema:
- steps: each with a unique id (lowercase, e.g. "toc", "send-tweets"), its kind, its inputs, and an \
explanation: one plain sentence saying what the step does in this workflow, for a non-programmer.
- edges: from "$source" (the trigger) or a step id, to a step id. Every step must be reachable from \
"$source". Steps with no edge between them run side by side.
- An input is a fixed value, or a ref to data: !ref($.event.data.<field>) for the trigger event's data, \
!ref($.state.<step id>.<field>) for the output of a step that runs before it (connected upstream).
- To branch, use a step of kind builtin:if (its condition is CEL over event and state, e.g. \
event.data.status == 'published' or state.toc.post_id > 3), and edges out of it with branch "True" or \
"False". Other actions' named branches are listed with them. Use condition only for an edge that is \
taken when a step failed: {"type": "failed"}.
- To repeat steps for each item of a list, use a step of kind builtin:for_each (its items: a ref to a \
list); the steps repeated inside it have it as their parent, and an edge from the loop's id to the first \
of them starts each iteration. Inside, !ref($.item) is the current item (!ref($.item.<field>) a field of \
it) and !ref($.index) its position. builtin:repeat_until repeats its steps until its condition (CEL over \
last, the round's result, and round) holds. A loop's result names the step inside it whose output is \
each iteration's result; steps after the loop have edges from the loop's id and read its output (the \
list of results). Steps outside loops have parent null.
- The trigger: {"event": name, "if": optional CEL over event} or {"cron": "min hour day month weekday"}.
- Use only what the user asked for; prefer the fewest steps."""


def system_message(catalog: list[dict[str, Any]], event_types: list[dict[str, Any]]) -> str:
    """The rules, the catalog and the declared events, as text."""
    lines = [RULES, "", "Actions:"]
    for entry in catalog:
        lines.append(f"- {entry['kind']}: {entry.get('name') or ''}. {entry.get('description') or ''}".rstrip())
        lines.append(f"  inputs: {_fields(entry['inputs'])}")
        lines.append(f"  output: {_fields(entry['outputs'])}")
        branches = [edge["name"] for edge in entry.get("edges", {}).get("edges", [])]
        if branches:
            lines.append(f"  branches: {', '.join(branches)}")
    if event_types:
        lines += ["", "Events the product sends (name: data fields):"]
        for declared in event_types:
            lines.append(f"- {declared['name']}: {_fields(declared['schema'])}. {declared.get('description') or ''}")
    return "\n".join(lines)


def user_message(words: str, current: dict[str, Any] | None) -> str:
    """The user's words; for a change, the draft they want changed (keep the ids of unchanged steps)."""
    if current is None:
        return f"Draft a workflow for this request:\n{words}"
    draft = json.dumps(current, ensure_ascii=False)
    return (
        "Change this workflow as the request says. Answer with the whole changed workflow; keep the ids, "
        f"inputs and edges of the steps the request does not change.\nWorkflow: {draft}\nRequest:\n{words}"
    )


def repair_message(problems: list[str]) -> str:
    listed = "\n".join(f"- {p}" for p in problems)
    return f"That draft has these problems:\n{listed}\nAnswer with the corrected draft, whole."


def _fields(schema: dict[str, Any]) -> str:
    """``name (type, required)`` for each top-level field of a schema; "nothing" without fields."""
    node = schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        node = schema.get("$defs", {}).get(ref.rsplit("/", 1)[1], schema)
    properties = node.get("properties")
    if not isinstance(properties, dict) or not properties:
        found = node.get("type")
        return str(found) if found else "any"
    required = set(node.get("required") or ())
    parts = []
    for name, prop in properties.items():
        kind = prop.get("type") if isinstance(prop, dict) else None
        branches = (prop.get("anyOf") or prop.get("oneOf") or []) if isinstance(prop, dict) else []
        if kind is None and branches:
            kind = "|".join(str(b.get("type", "any")) if isinstance(b, dict) else "any" for b in branches)
        parts.append(f"{name} ({kind or 'any'}{', required' if name in required else ''})")
    return ", ".join(parts)
