"""Ask the kit's AI provider for a workflow, check it with the kit's validation, and send the problems
back for a bounded number of repair rounds. What comes back is a `Draft`: never saved, never published.

The provider is the kit's (``kit.ai``, configured from ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` /
``WORKFLOW_KIT_AI_MODEL``); the labelled local stand-in cannot draft, so without a real one the feature
is unavailable (`unavailable_reason`). The request carries the catalog, the declared events, the draft
being changed (its steps and edges, never its sample data) and the user's words: nothing else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..ai import AIProviderError, LocalProvider
from ..engine.loops import LOOP_KINDS
from ..errors import NonRetriableError, Problem, RetryAfterError, WorkflowKitError, WorkflowValidationError
from ..workflow import SOURCE
from . import prompt
from .schema import response_format

if TYPE_CHECKING:
    from ..kit import WorkflowKit

MAX_REPAIR_ROUNDS = 2
"""How many times the problems of a draft go back to the model before the draft is returned as it is."""
MAX_WORDS = 4000
NOT_CONFIGURED = (
    "Describing a workflow in words needs an AI model, and none is configured: the host sets "
    "OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server)."
)


class DraftingError(WorkflowKitError):
    """The model could not be asked, or gave no usable workflow (`status` says how to answer over HTTP)."""

    code = "ai_failed"
    status = 502

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.retry_after = retry_after
        """Seconds to wait before asking again (for a rate limit)."""


@dataclass
class Draft:
    """A drafted workflow: its name and summary, the instance and its triggers, one explanation per step
    (by step id), the problems left after the repair rounds, how many rounds it took, which model."""

    name: str
    summary: str
    workflow: dict[str, Any]
    triggers: list[dict[str, Any]]
    explanations: dict[str, str]
    problems: list[Problem]
    repair_rounds: int
    model: str
    answers: list[str] = field(default_factory=list)
    """The model's raw answers, in order (for a host that opted in to keep them; never stored here)."""


def unavailable_reason(kit: WorkflowKit) -> str | None:
    """Why drafting is not available with this kit (None when it is)."""
    return NOT_CONFIGURED if isinstance(kit.ai, LocalProvider) else None


async def draft_workflow(
    kit: WorkflowKit,
    words: str,
    *,
    current: dict[str, Any] | None = None,
    max_repair_rounds: int = MAX_REPAIR_ROUNDS,
) -> Draft:
    """A draft for `words` (a new workflow, or a change to `current`: ``{"workflow", "triggers"}``).
    Raises `DraftingError` when no provider is configured (409), the provider fails (502), or no answer
    was a workflow at all."""
    reason = unavailable_reason(kit)
    if reason is not None:
        raise DraftingError(reason, code="ai_not_configured", status=409)
    words = words.strip()
    if not words or len(words) > MAX_WORDS:
        raise ValueError(f"say what should happen in 1 to {MAX_WORDS} characters")
    catalog = kit.public_actions()
    shown = _shown(current) if current is not None else None
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": prompt.system_message(catalog, kit.public_event_types())},
        {"role": "user", "content": prompt.user_message(words, shown)},
    ]
    fmt = response_format(catalog)
    answers: list[str] = []
    best: Draft | None = None
    for round_ in range(max_repair_rounds + 1):
        content, model = await _ask(kit, messages, fmt)
        answers.append(content)
        draft, problems = _read(kit, content, current, round_, model)
        if draft is not None:
            best = draft
        if not problems:
            break
        if round_ < max_repair_rounds:
            messages += [
                {"role": "assistant", "content": content},
                {"role": "user", "content": prompt.repair_message(problems)},
            ]
    if best is None:
        raise DraftingError("the AI model gave no usable workflow; try saying it differently")
    best.answers = answers
    return best


async def _ask(kit: WorkflowKit, messages: list[dict[str, Any]], fmt: dict[str, Any]) -> tuple[str, str]:
    try:
        result = await kit.ai.chat(model=kit.ai.model, messages=messages, response_format=fmt)
    except (AIProviderError, NonRetriableError, RetryAfterError) as exc:
        raise DraftingError(f"the AI model could not answer: {exc}") from None
    return result.content, result.model


def _read(
    kit: WorkflowKit, content: str, current: dict[str, Any] | None, round_: int, model: str
) -> tuple[Draft | None, list[str]]:
    """The answer as a draft and its problems, as the model reads them (paths ``steps[0]...``)."""
    try:
        answer = json.loads(content)
    except ValueError:
        return None, ["the answer is not JSON: answer with JSON that follows the schema"]
    if not isinstance(answer, dict) or not isinstance(answer.get("steps"), list):
        return None, ["the answer must be an object with name, summary, trigger, steps and edges"]
    catalog = {entry["kind"]: entry for entry in kit.public_actions()}
    workflow, explanations = _instance(answer, catalog)
    if current is not None:
        workflow = _carry_over(current.get("workflow") or {}, workflow)
    triggers = [_trigger(answer.get("trigger"))]
    problems = kit.validate(workflow) + _trigger_problems(kit, triggers[0])
    draft = Draft(
        name=str(answer.get("name") or "New workflow")[:256],
        summary=str(answer.get("summary") or "")[:2000],
        workflow=workflow,
        triggers=triggers,
        explanations=explanations,
        problems=problems,
        repair_rounds=round_,
        model=model,
    )
    order = [str(step.get("id") or "") for step in answer["steps"] if isinstance(step, dict)]
    return draft, [f"{_for_model(p.path, workflow, order)}: {p.message}" if p.path else p.message for p in problems]


def step_ids(workflow: dict[str, Any]) -> list[str]:
    """Every action's id, a loop's body after the loop (as the model listed them)."""
    ids: list[str] = []
    for action in workflow.get("actions") or []:
        if isinstance(action, dict):
            ids.append(str(action.get("id")))
            if isinstance(action.get("body"), dict):
                ids += step_ids(action["body"])
    return ids


def _instance(answer: dict[str, Any], catalog: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """The answer's flat steps and edges as a workflow: a step whose parent is a loop goes into that loop's
    body, an edge into the graph of the step it goes to, from the loop itself meaning the body's start."""
    steps = [step for step in answer["steps"] if isinstance(step, dict)]
    explanations: dict[str, str] = {}
    kinds: dict[str, str] = {}
    made: list[tuple[str, dict[str, Any]]] = []
    graphs: dict[str | None, dict[str, Any]] = {None: {"actions": [], "edges": []}}
    for step in steps:
        step_id, kind = str(step.get("id") or ""), str(step.get("kind") or "")
        entry = catalog.get(kind, {})
        action: dict[str, Any] = {"id": step_id, "kind": kind, "inputs": _inputs(step.get("inputs"), entry)}
        if isinstance(step.get("name"), str) and step["name"].strip():
            action["name"] = step["name"].strip()
        if kind in LOOP_KINDS:
            action["body"] = graphs.setdefault(step_id, {"actions": [], "edges": []})
            if isinstance(step.get("result"), str) and step["result"].strip():
                action["body"]["result"] = step["result"].strip()
        made.append((step_id, action))
        kinds[step_id] = kind
        if isinstance(step.get("explanation"), str):
            explanations[step_id] = step["explanation"].strip()
    parents = {
        str(step.get("id") or ""): step["parent"]
        for step in steps
        if isinstance(step.get("parent"), str) and kinds.get(step["parent"]) in LOOP_KINDS
    }
    scope = {step_id: _scope(step_id, parents) for step_id in kinds}
    for step_id, action in made:
        graphs[scope[step_id]]["actions"].append(action)
    for edge in answer.get("edges") or []:
        if not isinstance(edge, dict):
            continue
        inside = scope.get(str(edge.get("to")))
        out = _edge(edge, kinds, catalog)
        if inside is not None and out["from"] == inside:
            out["from"] = SOURCE  # from the loop to one of its own steps: the start of each iteration
        graphs[inside]["edges"].append(out)
    workflow = graphs[None]
    if isinstance(answer.get("name"), str):
        workflow["name"] = answer["name"][:256]
    return workflow, explanations


def _scope(step_id: str, parents: dict[str, str]) -> str | None:
    """The loop a step is in (None: the top); a loop that would be inside itself is at the top."""
    seen = {step_id}
    parent = parents.get(step_id)
    while parent is not None:
        if parent in seen:
            return None
        seen.add(parent)
        parent = parents.get(parent)
    return parents.get(step_id)


def _inputs(given: Any, entry: dict[str, Any]) -> dict[str, Any]:
    """Nulls dropped (an optional input left out); JSON text decoded where the input takes an object."""
    if not isinstance(given, dict):
        return {}
    properties = entry.get("inputs", {}).get("properties") or {}
    out: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        prop = properties.get(name) if isinstance(properties, dict) else None
        out[name] = _decoded(value) if isinstance(value, str) and _takes_json(prop) else value
    return out


def _decoded(text: str) -> Any:
    """JSON text the model wrote for an object input, decoded; a ref or text that is not JSON as it is
    (validation then says what is wrong with it)."""
    if text.startswith("!ref("):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _takes_json(prop: Any) -> bool:
    if not isinstance(prop, dict):
        return False
    branches = prop.get("anyOf") or prop.get("oneOf") or [prop]
    return any(isinstance(b, dict) and b.get("type") in ("object", "array") for b in branches) and not any(
        isinstance(b, dict) and b.get("type") == "string" for b in branches
    )


def _edge(edge: dict[str, Any], kinds: dict[str, str], catalog: dict[str, dict[str, Any]]) -> dict[str, Any]:
    source = str(edge.get("from") or "")
    out: dict[str, Any] = {"from": SOURCE if source in ("trigger", "$trigger") else source, "to": str(edge.get("to"))}
    branch = edge.get("branch")
    named = catalog.get(kinds.get(source, ""), {}).get("edges", {}).get("edges", [])
    found = next((e for e in named if isinstance(branch, str) and e["name"].lower() == branch.lower()), None)
    if found is not None:
        out["name"] = found["name"]
        if found.get("conditional"):
            out["conditional"] = dict(found["conditional"])
    condition = edge.get("condition")
    if found is None and isinstance(condition, dict) and condition.get("type"):
        conditional = {k: condition[k] for k in ("type", "ref", "value") if condition.get(k) is not None}
        out["conditional"] = conditional
    return out


def _trigger(given: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        return {"event": ""}
    if isinstance(given.get("cron"), str) and given["cron"].strip():
        return {"cron": given["cron"].strip()}
    trigger: dict[str, Any] = {"event": str(given.get("event") or "")}
    if isinstance(given.get("if"), str) and given["if"].strip():
        trigger["if"] = given["if"].strip()
    return trigger


def _trigger_problems(kit: WorkflowKit, trigger: dict[str, Any]) -> list[Problem]:
    from ..runtime.rules.triggers import parse_trigger

    try:
        parse_trigger(trigger, cron_seconds=kit.cron_seconds)
    except WorkflowValidationError as exc:
        return exc.problems
    return []


def _shown(current: dict[str, Any]) -> dict[str, Any]:
    """What the model sees of the draft being changed: steps (id, kind, name, inputs), edges, triggers;
    never its metadata (kept sample outputs are the tenant's data) nor the editor's positions."""
    workflow = current.get("workflow") or {}
    steps = [
        {key: action[key] for key in ("id", "kind", "name", "inputs") if key in action}
        for action in workflow.get("actions") or []
        if isinstance(action, dict)
    ]
    edges = [edge for edge in workflow.get("edges") or [] if isinstance(edge, dict)]
    return {"triggers": current.get("triggers") or [], "steps": steps, "edges": edges}


def _carry_over(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Keep what the model did not see: the draft's metadata (positions, samples) and a kept step's
    other keys (its policy, its to-fill marks) when the step keeps its id and kind."""
    old = {a.get("id"): a for a in before.get("actions") or [] if isinstance(a, dict)}
    actions = []
    for action in after["actions"]:
        previous = old.get(action["id"])
        kept: dict[str, Any] = {}
        if previous is not None and previous.get("kind") == action["kind"]:
            kept = {k: v for k, v in previous.items() if k not in ("id", "kind", "name", "inputs")}
        actions.append({**kept, **action})
    out = {**after, "actions": actions}
    if isinstance(before.get("metadata"), dict):
        out["metadata"] = before["metadata"]
    return out


ACTION_AT = re.compile(r"actions\[(\d+)\]")


def _for_model(path: str, workflow: dict[str, Any], order: list[str]) -> str:
    """A problem's path as the model wrote it: the action at ``actions[0].body.actions[1]`` is the step
    listed at ``steps[3]``."""
    graph, rest, found = workflow, path, None
    while (match := ACTION_AT.match(rest)) is not None:
        actions = graph.get("actions") or []
        index = int(match.group(1))
        if index >= len(actions) or not isinstance(actions[index], dict):
            break
        found, rest = actions[index], rest[match.end() :]
        body = found.get("body")
        if not (rest.startswith(".body.actions[") and isinstance(body, dict)):
            break
        graph, rest = body, rest[len(".body.") :]
    if found is None or str(found.get("id")) not in order:
        return path
    return f"steps[{order.index(str(found.get('id')))}]{rest}"
