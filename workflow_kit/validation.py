"""Validation at save time: every problem of a workflow, each with a stable code and a path.

Codes: ``invalid_json``, ``invalid_format``, ``invalid_id``, ``reserved_id``, ``duplicate_action_id``,
``unknown_kind``, ``unknown_edge_source``, ``unknown_edge_target``, ``edge_into_source``,
``duplicate_edge``, ``cycle``, ``no_start``, ``unreachable``, ``unknown_conditional_type``,
``missing_ref``, ``missing_match_value``, ``malformed_ref``, ``invalid_ref_root``, ``unknown_event_field``,
``ref_not_upstream``, ``ref_path_not_in_output``, ``ref_type_mismatch``, ``template_type_mismatch``,
``missing_input``, ``unknown_input``, ``invalid_input``, ``invalid_expression``, ``ref_in_expression``,
``too_many_actions``, ``too_many_edges``, ``too_deep``, ``missing_body``, ``unexpected_body``,
``unknown_result``, ``invalid_policy``, ``loops_too_deep``, ``invalid_failure_edge``, ``blank`` (an input
a template left to fill, see `blanks`), ``invalid_blank``.

A loop action's body is checked as a workflow of its own, with paths into it
(``actions[2].body.actions[0].inputs.sku``): its refs see the body's upstream actions, the actions
upstream of the loop (in every enclosing scope), and the loop's own roots (``$.item`` and ``$.index``, or
``$.round`` and ``$.last``). When a for-each's items are one ref to a list whose schema is known (an
action's output, or the item of the loop around it), refs into ``$.item`` are checked against the
schema of its items as refs into an output are. Action ids are unique across the whole workflow,
bodies included.

A workflow over a size limit (`MAX_ACTIONS`, `MAX_EDGES`) gets that one problem and no further checks,
so the cost of validating anything a user sends stays bounded.

The messages are for the end users who build workflows: they call ``$source`` "the trigger", as the
editor shows it, and never name it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema
import msgspec
from jsonschema import Draft202012Validator

from . import blanks, paths, refs, schemas
from .actions import ActionDefinition, ActionRegistry
from .engine.conditions import CONDITIONAL_TYPES, FAILED
from .engine.graph import find_cycle, reachable, topological_order
from .engine.loops import FOR_EACH, LOOP_KINDS, body_variables
from .errors import ExpressionError, Problem, RefError, WorkflowValidationError
from .expressions import CEL_FORMAT, CONDITION_VARIABLES, check
from .timeutil import parse_duration
from .workflow import SOURCE, Workflow, WorkflowAction, WorkflowLike, load_workflow

MAX_ACTIONS = 1000
MAX_EDGES = 5000
MAX_ACTION_ID_LENGTH = 128
MAX_LOOP_DEPTH = 5
"""Loops inside loops inside loops...: how deep bodies may nest."""
EVENT_FIELDS = frozenset({"name", "data", "id", "ts", "v", "user"})
Parts = tuple[str | int, ...]


def validate(workflow: WorkflowLike, registry: ActionRegistry) -> list[Problem]:
    """Every problem in `workflow` against the actions in `registry`; an empty list means it is valid."""
    try:
        loaded = load_workflow(workflow)
    except WorkflowValidationError as exc:
        return exc.problems
    return size_problems(loaded) or _Validator(loaded, registry).problems()


def size_problems(workflow: Workflow) -> list[Problem]:
    """The size limits a workflow exceeds (then nothing else is checked, and nothing is stored). Actions
    and edges inside loops count."""
    problems = []
    actions, edges = _count(workflow.actions, len(workflow.edges))
    if actions > MAX_ACTIONS:
        message = f"a workflow has at most {MAX_ACTIONS} actions, this one has {actions}"
        problems.append(Problem("too_many_actions", "actions", message))
    if edges > MAX_EDGES:
        message = f"a workflow has at most {MAX_EDGES} edges, this one has {edges}"
        problems.append(Problem("too_many_edges", "edges", message))
    return problems


def _count(actions: list[WorkflowAction], edges: int) -> tuple[int, int]:
    total = len(actions)
    for action in actions:
        if action.body is not None:
            inner, inner_edges = _count(action.body.actions, len(action.body.edges))
            total += inner
            edges += inner_edges
    return total, edges


class _Outer:
    """What a loop's body sees of the scopes around it: the actions upstream of the loop (in every
    enclosing scope) and the roots the loop adds (``item``, ``index`` or ``round``, ``last``)."""

    def __init__(
        self,
        actions: dict[str, WorkflowAction],
        roots: tuple[str, ...],
        depth: int,
        handled: frozenset[str],
        item: _Shape | None = None,
    ) -> None:
        self.actions = actions
        self.roots = roots
        self.depth = depth
        self.handled = handled
        """Those of `actions` whose failure is handled (their output may be ``{"error": ...}``)."""
        self.item = item
        """The schema of a for-each loop's ``$.item``, when the list's schema says it."""


@dataclass(frozen=True)
class _Shape:
    """Where a ref lands in a schema: the schema it is read against (for ``$ref``) and the nodes."""

    root: schemas.Schema
    nodes: tuple[schemas.Schema, ...]

    def walk(self, steps: Parts) -> _Shape | _Missing | None:
        """The shape after `steps`; None when the schema does not constrain it, or where it has no
        such member."""
        nodes = list(self.nodes)
        for at, step in enumerate(steps):
            found: list[schemas.Schema] = []
            for node in nodes:
                children = schemas.child(self.root, node, step)
                if children is None:
                    return None
                found.extend(children)
            if not found:
                return _Missing(paths.join("", list(steps[: at + 1])).lstrip("."))
            nodes = found
        return _Shape(self.root, tuple(nodes))

    def types(self, singular: bool) -> set[str] | None:
        """The JSON types a ref landing here gives (a ref that is not singular gives a list)."""
        return _union_types(self.root, list(self.nodes)) if singular else {"array"}


@dataclass(frozen=True)
class _Missing:
    """A ref's path that its schema does not have, as far as it was walked."""

    path: str


def ensure_valid(workflow: WorkflowLike, registry: ActionRegistry) -> Workflow:
    """Load and validate; raise `WorkflowValidationError` with every problem if there are any."""
    loaded = load_workflow(workflow)
    problems = size_problems(loaded) or _Validator(loaded, registry).problems()
    if problems:
        raise WorkflowValidationError(problems)
    return loaded


class _Validator:
    def __init__(
        self,
        workflow: Workflow,
        registry: ActionRegistry,
        *,
        prefix: str = "",
        outer: _Outer | None = None,
        everywhere: dict[str, str] | None = None,
    ) -> None:
        self.workflow = workflow
        self.registry = registry
        self.prefix = prefix
        """The path of this scope: empty for the workflow, ``actions[2].body.`` for a loop's body."""
        self.outer = outer
        self.everywhere: dict[str, str] = {} if everywhere is None else everywhere
        """Every action id of the workflow so far, bodies included, with the path of its action."""
        self.found: list[Problem] = []
        self.index: dict[str, int] = {}
        self.links: list[tuple[str, str]] = []
        self.upstream: dict[str, set[str]] = {}

    def add(self, code: str, path: str, message: str) -> None:
        self.found.append(Problem(code, self.prefix + path, message))

    @property
    def in_body(self) -> bool:
        return self.outer is not None

    @property
    def roots(self) -> tuple[str, ...]:
        """The extra ref roots of this scope (a loop body's)."""
        return self.outer.roots if self.outer is not None else ()

    @property
    def handled(self) -> frozenset[str]:
        """The actions (of this scope and the enclosing ones) whose failure is handled: an error edge
        leaves them, or their policy continues on failure. Their output may be the error object."""
        found = {e.from_ for e in self.workflow.edges if e.conditional is not None and e.conditional.type == FAILED}
        found |= {a.id for a in self.workflow.actions if a.policy is not None and a.policy.continue_on_failure}
        return frozenset(found) | (self.outer.handled if self.outer is not None else frozenset())

    def lookup(self, action_id: str) -> WorkflowAction | None:
        """An action this scope may refer to: of this scope, or upstream of the loop around it."""
        if action_id in self.index:
            return self.workflow.actions[self.index[action_id]]
        return self.outer.actions.get(action_id) if self.outer is not None else None

    def problems(self) -> list[Problem]:
        self.check_actions()
        self.check_edges()
        self.check_graph()
        self.upstream = self.compute_upstream()
        for i, action in enumerate(self.workflow.actions):
            definition = self.registry.get(action.kind)
            if definition is not None and self.index.get(action.id) == i:
                self.check_inputs(i, action.id, action.inputs, definition)
        for j, edge in enumerate(self.workflow.edges):
            if edge.conditional is not None:
                self.check_condition(j)
        for i, action in enumerate(self.workflow.actions):
            if self.index.get(action.id) == i:
                self.check_policy(i, action)
                self.check_body(i, action)
        return self.found

    # -- loops and policies ----------------------------------------------------------------------

    def check_body(self, i: int, action: WorkflowAction) -> None:
        path = f"actions[{i}]"
        if action.kind not in LOOP_KINDS:
            if action.body is not None:
                self.add("unexpected_body", f"{path}.body", "only a loop holds steps inside it")
            return
        if action.body is None:
            self.add("missing_body", f"{path}.body", "add the steps to repeat inside the loop")
            return
        depth = (self.outer.depth if self.outer is not None else 0) + 1
        if depth > MAX_LOOP_DEPTH:
            self.add("loops_too_deep", f"{path}.body", f"loops nest at most {MAX_LOOP_DEPTH} deep")
            return
        body = action.body
        if body.result is not None and body.result not in {a.id for a in body.actions}:
            self.add("unknown_result", f"{path}.body.result", f"there is no step {body.result!r} inside this loop")
        visible = dict(self.outer.actions) if self.outer is not None else {}
        for upstream_id in self.upstream.get(action.id, set()):
            found = self.lookup(upstream_id)
            if found is not None:
                visible[upstream_id] = found
        inner = _Validator(
            body.as_workflow(),
            self.registry,
            prefix=f"{self.prefix}{path}.body.",
            outer=_Outer(visible, body_variables(action.kind), depth, self.handled, self.loop_item(action)),
            everywhere=self.everywhere,
        )
        self.found.extend(inner.problems())

    def loop_item(self, action: WorkflowAction) -> _Shape | None:
        """The schema of a for-each's ``$.item`` when its `items` is one ref to a list whose schema is
        known (an upstream action's output, or the item of the loop around it); else None."""
        items = action.inputs.get("items") if action.kind == FOR_EACH else None
        if not isinstance(items, str):
            return None
        try:
            spans = refs.scan(items)
            ref = refs.compile_ref(spans[0].path) if len(spans) == 1 else None
        except RefError:
            return None
        if ref is None or not ref.singular or (spans[0].start, spans[0].end) != (0, len(items)):
            return None
        rest = ref.prefix[1:]
        shape: _Shape | None = None
        if ref.root == "state" and rest and isinstance(rest[0], str) and rest[1:2] != ("error",):
            found = self.lookup(rest[0])
            definition = self.registry.get(found.kind) if found is not None else None
            if definition is not None:
                shape, rest = _Shape(definition.output_schema, (definition.output_schema,)), rest[1:]
        elif ref.root == "item" and self.outer is not None:
            shape = self.outer.item
        if shape is None:
            return None
        listed = shape.walk(rest)
        item = listed.walk((0,)) if isinstance(listed, _Shape) else None
        return item if isinstance(item, _Shape) else None

    def check_policy(self, i: int, action: WorkflowAction) -> None:
        policy = action.policy
        if policy is None or policy.timeout is None:
            return
        try:
            seconds = parse_duration(policy.timeout).total_seconds()
        except ValueError:
            seconds = 0
        if seconds <= 0:
            message = "write a timeout such as 30s or 5m"
            self.add("invalid_policy", f"actions[{i}].policy.timeout", message)

    # -- structure -------------------------------------------------------------------------------

    def check_actions(self) -> None:
        for i, action in enumerate(self.workflow.actions):
            path = f"actions[{i}]"
            if not action.id.strip():
                self.add("invalid_id", f"{path}.id", "an action id must be a non-empty string")
            elif len(action.id) > MAX_ACTION_ID_LENGTH or "\x00" in action.id:
                message = f"an action id is at most {MAX_ACTION_ID_LENGTH} characters, without NUL characters"
                self.add("invalid_id", f"{path}.id", message)
            elif action.id == SOURCE:
                self.add("reserved_id", f"{path}.id", "this id is reserved for the trigger; pick another id")
            elif action.id in self.everywhere:
                self.add(
                    "duplicate_action_id",
                    f"{path}.id",
                    f"id {action.id!r} is already used by {self.everywhere[action.id]}",
                )
                if action.id not in self.index:  # used in another scope: this scope's edges still find it
                    self.index[action.id] = i
            else:
                self.index[action.id] = i
                self.everywhere[action.id] = f"{self.prefix}{path}"
            if action.kind not in self.registry:
                self.add("unknown_kind", f"{path}.kind", f"unknown action kind {action.kind!r}")
        loops = [a.id for a in self.workflow.actions if a.kind in LOOP_KINDS]
        for i, action in enumerate(self.workflow.actions):
            clash = next((loop for loop in loops if action.id.startswith(loop + "[")), None)
            if clash is not None:
                message = f"ids starting with {clash + '['!r} name the steps of that loop's rounds; pick another id"
                self.add("reserved_id", f"actions[{i}].id", message)

    def check_edges(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        for j, edge in enumerate(self.workflow.edges):
            path = f"edges[{j}]"
            valid = True
            if edge.from_ != SOURCE and edge.from_ not in self.index:
                self.add("unknown_edge_source", f"{path}.from", f"edge from unknown action {edge.from_!r}")
                valid = False
            if edge.to == SOURCE:
                self.add("edge_into_source", f"{path}.to", "no edge may lead into the trigger")
                valid = False
            elif edge.to not in self.index:
                self.add("unknown_edge_target", f"{path}.to", f"edge to unknown action {edge.to!r}")
                valid = False
            pair = (edge.from_, edge.to)
            if pair in seen:
                first = seen[pair]
                self.add("duplicate_edge", path, f"edge {edge.from_} -> {edge.to} duplicates edges[{first}]")
            elif valid:
                seen[pair] = j
                self.links.append(pair)

    def check_graph(self) -> None:
        ids = list(self.index)
        cycle = find_cycle(ids, self.links)
        if cycle is not None:
            closing = (cycle[-2], cycle[-1])
            j = next(j for j, e in enumerate(self.workflow.edges) if (e.from_, e.to) == closing)
            self.add("cycle", f"edges[{j}]", "the edges form a cycle: " + " -> ".join(cycle))
        if not any(source == SOURCE for source, _ in self.links):
            if self.in_body:
                self.add("no_start", "edges", "Nothing runs in this loop yet: add a first step inside it")
            else:
                self.add("no_start", "edges", "Nothing runs yet: add a first step after the trigger")
            return
        reached = reachable(SOURCE, self.links)
        start = "the start of the loop" if self.in_body else "the trigger"
        for action_id, i in self.index.items():
            if action_id not in reached:
                message = f"action {action_id!r} is not connected to {start}, so it would never run"
                self.add("unreachable", f"actions[{i}]", message)

    def compute_upstream(self) -> dict[str, set[str]]:
        """Every action's ancestors: one pass in topological order when the graph is acyclic (a cycle
        was reported already; then a search per action)."""
        ids = list(self.index)
        order = topological_order(ids, self.links)
        if order is None:
            reverse = [(target, source) for source, target in self.links]
            return {action_id: reachable(action_id, reverse) - {SOURCE, action_id} for action_id in ids}
        parents: dict[str, list[str]] = {action_id: [] for action_id in ids}
        for source, target in self.links:
            if source != SOURCE:
                parents[target].append(source)
        upstream: dict[str, set[str]] = {}
        for action_id in order:
            found: set[str] = set(parents[action_id])
            for parent in parents[action_id]:
                found |= upstream[parent]
            upstream[action_id] = found
        return upstream

    # -- inputs ----------------------------------------------------------------------------------

    def check_inputs(self, i: int, action_id: str, inputs: dict[str, Any], definition: ActionDefinition) -> None:
        base = f"actions[{i}].inputs"
        root = definition.input_schema
        probe = _probe(inputs)
        for name, question in self.check_blanks(i, self.workflow.actions[i], root).items():
            probe[name] = _REF_VALUE  # not given yet: a blank, not a missing input
            self.add("blank", paths.join(base, (name,)), f"to fill in: {question}")
        for parts, code, message in schemas.iter_errors(_lenient_validator(definition), probe):
            self.add(code, paths.join(base, parts), message)
        for parts, text in _strings(inputs, ()):
            path = paths.join(base, parts)
            targets = _schemas_at(root, parts)
            variables = _expression_variables(root, targets)
            if variables is not None:
                self.check_expression(path, text, (*variables, *self.roots))
                continue
            if refs.REF_OPEN not in text:
                continue
            spans = self.scan(path, text)
            if spans is None:
                continue
            whole = len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(text)
            for span in spans:
                checked, source_types = self.check_ref(path, span, upstream=self.upstream.get(action_id, set()))
                if whole and checked and targets is not None:
                    target_types = _union_types(root, targets)
                    if not schemas.compatible(source_types, target_types):
                        self.add(
                            "ref_type_mismatch",
                            path,
                            f"{span.text} gives {schemas.describe_types(source_types)}, but this input takes "
                            f"{schemas.describe_types(target_types)}",
                        )
            if not whole and targets is not None:
                target_types = _union_types(root, targets)
                if target_types is not None and "string" not in target_types:
                    self.add(
                        "template_type_mismatch",
                        path,
                        f"text with refs always gives a string, but this input takes "
                        f"{schemas.describe_types(target_types)}; use a single !ref(...) as the whole value",
                    )

    def check_blanks(self, i: int, action: WorkflowAction, root: schemas.Schema) -> dict[str, str]:
        """The step's open blanks (see `blanks`); a malformed ``to_fill`` is an ``invalid_blank``."""
        found = blanks.marks(action)
        if found is None:
            return {}
        path = f"actions[{i}].{blanks.TO_FILL}"
        if not isinstance(found, dict) or not all(isinstance(q, str) and q.strip() for q in found.values()):
            self.add("invalid_blank", path, "list the inputs to fill as {input name: the question to ask}")
            return {}
        known = root.get("properties")
        unknown = sorted(name for name in found if isinstance(known, dict) and name not in known)
        for name in unknown:
            self.add("invalid_blank", paths.join(path, (name,)), f"this step has no input {name!r} to fill")
        return {name: q for name, q in blanks.open_blanks(action).items() if name not in unknown}

    def check_expression(self, path: str, text: str, variables: tuple[str, ...]) -> None:
        if refs.REF_OPEN in text:
            self.add(
                "ref_in_expression",
                path,
                "a CEL expression reads its variables directly (e.g. event.data.x); remove the !ref(...)",
            )
            return
        try:
            check(text, variables)
        except ExpressionError as exc:
            self.add("invalid_expression", path, str(exc))

    # -- edge conditions -------------------------------------------------------------------------

    def check_condition(self, j: int) -> None:
        edge = self.workflow.edges[j]
        conditional = edge.conditional
        assert conditional is not None
        path = f"edges[{j}].conditional"
        if conditional.type not in CONDITIONAL_TYPES:
            allowed = ", ".join(CONDITIONAL_TYPES)
            self.add(
                "unknown_conditional_type",
                f"{path}.type",
                f"unknown type {conditional.type!r} (use {allowed})",
            )
        if conditional.type == FAILED:
            if edge.from_ == SOURCE:
                self.add("invalid_failure_edge", f"{path}.type", "the trigger cannot fail: start from a step")
            return  # taken when its source failed: nothing to read
        if conditional.type == "match" and conditional.value is msgspec.UNSET:
            self.add("missing_match_value", f"{path}.value", "a match condition needs the value to compare with")
        if not conditional.ref:
            self.add("missing_ref", f"{path}.ref", "a condition needs a ref, e.g. !ref($.output.result)")
            return
        spans = self.scan(f"{path}.ref", conditional.ref)
        if spans is None or (edge.from_ not in self.index and edge.from_ != SOURCE):
            return
        upstream = self.upstream.get(edge.from_, set()) | ({edge.from_} - {SOURCE})
        output_of = edge.from_ if edge.from_ != SOURCE else None
        for span in spans:
            self.check_ref(f"{path}.ref", span, upstream=upstream, output_of=output_of, edge=True)

    # -- refs ------------------------------------------------------------------------------------

    def scan(self, path: str, text: str) -> list[refs.RefSpan] | None:
        try:
            spans = refs.scan(text)
            for span in spans:
                refs.compile_ref(span.path)
        except RefError as exc:
            self.add("malformed_ref", path, str(exc))
            return None
        if not spans:
            self.add("malformed_ref", path, f"expected a ref such as !ref($.output.result), got {text!r}")
            return None
        return spans

    def check_ref(
        self,
        path: str,
        span: refs.RefSpan,
        *,
        upstream: set[str],
        output_of: str | None = None,
        edge: bool = False,
    ) -> tuple[bool, set[str] | None]:
        """Check a ref's root and target: (no problem found, the JSON types it gives or None if unknown)."""
        ref = refs.compile_ref(span.path)
        roots = ("event", "state", "output", *self.roots) if edge else ("event", "state", *self.roots)
        root = ref.root
        if root == "item" and self.outer is not None and self.outer.item is not None:
            return self.item_types(path, span, ref.prefix[1:], ref.singular)
        if root in self.roots:
            return True, None  # a loop's index, round or last, or an item of unknown schema
        if root not in roots:
            where = "an edge condition" if edge else "an action input"
            shown = ", ".join(f"$.{r}" for r in roots)
            self.add("invalid_ref_root", path, f"{span.text}: in {where} a ref starts with {shown}")
            return False, None
        rest = ref.prefix[1:]
        if root == "event":
            if rest and isinstance(rest[0], str) and rest[0] not in EVENT_FIELDS:
                self.add(
                    "unknown_event_field",
                    path,
                    f"{span.text}: an event has name, data, id, ts and v; did you mean $.event.data.{rest[0]}?",
                )
                return False, None
            return True, None
        if root == "output":
            if output_of is None:
                self.add(
                    "invalid_ref_root",
                    path,
                    f"{span.text}: edges from the trigger have no $.output; use $.event",
                )
                return False, None
            return self.output_types(path, span, output_of, rest, ref.singular)
        if not rest or not isinstance(rest[0], str):
            return True, None
        target = rest[0]
        if self.outer is not None and target in self.outer.actions:
            upstream = upstream | {target}
        if target not in upstream:
            if target not in self.index and target not in self.everywhere:
                message = f"{span.text}: there is no action {target!r}"
            elif target not in self.index:
                message = f"{span.text}: action {target!r} is inside another loop or not upstream of this one"
            else:
                message = f"{span.text}: action {target!r} is not upstream of this one, so its output is not known here"
            self.add("ref_not_upstream", path, message)
            return False, None
        return self.output_types(path, span, target, rest[1:], ref.singular)

    def item_types(self, path: str, span: refs.RefSpan, rest: Parts, singular: bool) -> tuple[bool, set[str] | None]:
        """Check a ref into a for-each's ``$.item`` against the schema of the list's items."""
        assert self.outer is not None and self.outer.item is not None
        shape = self.outer.item.walk(rest)
        if isinstance(shape, _Missing):
            self.add("ref_path_not_in_output", path, f"{span.text}: the items of this loop have no {shape.path}")
            return False, None
        return True, (shape.types(singular) if shape is not None else None if singular else {"array"})

    def output_types(
        self, path: str, span: refs.RefSpan, action_id: str, rest: Parts, singular: bool
    ) -> tuple[bool, set[str] | None]:
        action = self.lookup(action_id)
        definition = self.registry.get(action.kind) if action is not None else None
        if action is None or definition is None:
            return False, None
        output = definition.output_schema
        if rest and rest[0] == "error" and action_id in self.handled:
            output = FAILURE_OUTPUT  # the output of a failure that is handled
        shape = _Shape(output, (output,)).walk(rest)
        if isinstance(shape, _Missing):
            message = (
                f"{span.text}: the output of {action_id!r} ({definition.kind}) has no {shape.path or 'such field'}"
            )
            self.add("ref_path_not_in_output", path, message)
            return False, None
        return True, (shape.types(singular) if shape is not None else None if singular else {"array"})


FAILURE_OUTPUT: schemas.Schema = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "message": {"type": "string"}},
            "required": ["name", "message"],
        }
    },
    "required": ["error"],
}
"""The output of an action whose failure is handled (an error edge, or ``continue_on_failure``)."""


@lru_cache(maxsize=1024)
def _lenient_validator(definition: ActionDefinition) -> Draft202012Validator:
    validator: Draft202012Validator = _LenientValidator(
        definition.input_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return validator


class _RefValue:
    """Stands in for a string holding refs while literal inputs are checked: its value is not known yet."""

    __slots__ = ()


_REF_VALUE = _RefValue()


def _skip_ref_values(check_keyword: Callable[..., Any]) -> Callable[..., Iterator[Any]]:
    def check_unless_ref(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if instance is _REF_VALUE:
            return
        errors = check_keyword(validator, value, instance, schema)
        if errors is not None:
            yield from errors

    return check_unless_ref


_LenientValidator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    {keyword: _skip_ref_values(fn) for keyword, fn in Draft202012Validator.VALIDATORS.items()},
)


def _probe(value: Any) -> Any:
    if isinstance(value, str):
        return _REF_VALUE if refs.REF_OPEN in value else value
    if isinstance(value, dict):
        return {k: _probe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_probe(v) for v in value]
    return value


def _strings(value: Any, parts: Parts) -> Iterator[tuple[Parts, str]]:
    if isinstance(value, str):
        yield parts, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*parts, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*parts, i))


def _schemas_at(root: schemas.Schema, parts: Parts) -> list[schemas.Schema] | None:
    nodes = [root]
    for step in parts:
        found: list[schemas.Schema] = []
        for node in nodes:
            children = schemas.child(root, node, step)
            if children is None:
                return None
            found.extend(children)
        if not found:
            return None
        nodes = found
    return nodes


def _union_types(root: schemas.Schema, nodes: list[schemas.Schema]) -> set[str] | None:
    types: set[str] = set()
    for node in nodes:
        found = schemas.json_types(root, node)
        if found is None:
            return None
        types |= found
    return types


def _expression_variables(root: schemas.Schema, nodes: list[schemas.Schema] | None) -> tuple[str, ...] | None:
    """If the input takes a CEL expression (``format: cel``), the variables it may read."""
    for node in nodes or ():
        for branch in schemas.branches(root, node):
            if branch.get("format") == CEL_FORMAT:
                return tuple(branch.get("x-cel-variables") or CONDITION_VARIABLES)
    return None
