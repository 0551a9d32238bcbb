"""Save-time validation: every problem code, with its exact path, and the valid cases around each."""

import re
from typing import Any

import msgspec
import pytest

from workflow_kit import SOURCE, Problem, Workflow, WorkflowKit, WorkflowValidationError
from workflow_kit import validation as validation_module

# ---------------------------------------------------------------------------------------------------
# The kit the workflows are checked against


class AddInputs(msgspec.Struct):
    a: float
    b: float


class Total(msgspec.Struct):
    total: int
    label: str


class SayInputs(msgspec.Struct):
    text: str


class Address(msgspec.Struct):
    city: str
    zip: str


class Line(msgspec.Struct):
    sku: str
    qty: int


class Order(msgspec.Struct):
    lines: list[Line]


class PersonInputs(msgspec.Struct):
    name: str
    address: Address


def add_handler(ctx, inputs: AddInputs) -> Total:
    return Total(total=int(inputs.a + inputs.b), label="sum")


def echo_handler(ctx, inputs: dict[str, Any]) -> dict[str, Any]:
    return inputs


def say_handler(ctx, inputs: SayInputs) -> None:
    return None


def person_handler(ctx, inputs: PersonInputs) -> None:
    return None


def order_handler(ctx, inputs: dict[str, Any]) -> Order:
    return Order(lines=[Line(sku="a", qty=1)])


def make_kit() -> WorkflowKit:
    kit = WorkflowKit()
    kit.action(kind="add", name="Add", description="Add two numbers")(add_handler)
    kit.action(kind="echo", name="Echo")(echo_handler)
    kit.action(kind="say", name="Say")(say_handler)
    kit.action(kind="person", name="Person")(person_handler)
    kit.action(kind="order", name="Order")(order_handler)
    return kit


@pytest.fixture(scope="module")
def kit() -> WorkflowKit:
    return make_kit()


# ---------------------------------------------------------------------------------------------------
# Builders


def act(action_id: str, kind: str = "add", **inputs: Any) -> dict[str, Any]:
    return {"id": action_id, "kind": kind, "inputs": inputs}


def add(action_id: str, a: Any = 1, b: Any = 2) -> dict[str, Any]:
    return act(action_id, "add", a=a, b=b)


def edge(frm: str, to: str, **conditional: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"from": frm, "to": to}
    if conditional:
        e["conditional"] = conditional
    return e


def wf(actions: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"actions": actions, "edges": edges}


def nested(levels: int) -> dict[str, Any]:
    """``{"x": {"x": ... {}}}``: `levels` objects inside each other."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


def loop(
    action_id: str,
    actions: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    kind: str = "builtin:for_each",
    result: str | None = None,
    **inputs: Any,
) -> dict[str, Any]:
    """A loop action holding a body; a for-each over the event's items unless told otherwise."""
    if kind == "builtin:for_each":
        inputs.setdefault("items", "!ref($.event.data.items)")
    body: dict[str, Any] = {"actions": actions, "edges": edges}
    if result is not None:
        body["result"] = result
    return {"id": action_id, "kind": kind, "inputs": inputs, "body": body}


def found(problems: list[Problem]) -> list[tuple[str, str]]:
    return sorted((p.code, p.path) for p in problems)


# ---------------------------------------------------------------------------------------------------
# A valid workflow


VALID = wf(
    [
        add("a", a=1, b=2),
        act("check", "builtin:if", condition="state.a.total > 2 && event.data.plan == 'pro'"),
        act("yes", "say", text="total=!ref($.state.a.total) for !ref($.event.data.name)"),
        act("no", "add", a="!ref($.state.a.total)", b="!ref($.event.data.n)"),
        act("join", "echo", a="!ref($.state.a)", yes="!ref($.state.yes)", no="!ref($.state.no.total)"),
    ],
    [
        edge(SOURCE, "a"),
        edge("a", "check"),
        edge("check", "yes", type="if", ref="!ref($.output.result)"),
        edge("check", "no", type="else", ref="!ref($.output.result)"),
        edge("yes", "join"),
        edge("no", "join", type="match", ref="!ref($.output.total)", value=3),
    ],
)


def test_valid_workflow_has_no_problems(kit: WorkflowKit) -> None:
    assert kit.validate(VALID) == []


# ---------------------------------------------------------------------------------------------------
# One case (or more) per problem code: the exact code(s) and path(s), nothing else


CASES: list[Any] = [
    # -- structure -------------------------------------------------------------------------------
    pytest.param(
        wf([add(f"a{i}") for i in range(1001)], [edge(SOURCE, f"a{i}") for i in range(1001)]),
        [("too_many_actions", "actions")],
        id="too_many_actions",
    ),
    pytest.param(
        wf([add("a")], [edge(SOURCE, "a")] * 5001),
        [("too_many_edges", "edges")],
        id="too_many_edges",
    ),
    pytest.param(
        {**wf([add("a")], [edge(SOURCE, "a")]), "metadata": {"x": nested(63)}},
        [("too_deep", "metadata" + ".x" * 63)],
        id="too_deep",
    ),
    pytest.param(
        wf([act("a", "nope")], [edge(SOURCE, "a")]),
        [("unknown_kind", "actions[0].kind")],
        id="unknown_kind",
    ),
    pytest.param(
        wf([add("a"), add("a")], [edge(SOURCE, "a")]),
        [("duplicate_action_id", "actions[1].id")],
        id="duplicate_action_id",
    ),
    pytest.param(
        wf([add("a"), add(SOURCE)], [edge(SOURCE, "a")]),
        [("reserved_id", "actions[1].id")],
        id="reserved_id",
    ),
    pytest.param(
        wf(
            [loop("each", [add("x")], [edge(SOURCE, "x")]), add("each[0]/x")],
            [edge(SOURCE, "each"), edge(SOURCE, "each[0]/x")],
        ),
        [("reserved_id", "actions[1].id")],
        id="reserved_id-loop-round",
    ),
    # -- loops, error edges and policies ---------------------------------------------------------
    pytest.param(
        wf([{"id": "each", "kind": "builtin:for_each", "inputs": {"items": [1]}}], [edge(SOURCE, "each")]),
        [("missing_body", "actions[0].body")],
        id="missing_body",
    ),
    pytest.param(
        wf([{**add("a"), "body": {"actions": [], "edges": []}}], [edge(SOURCE, "a")]),
        [("unexpected_body", "actions[0].body")],
        id="unexpected_body",
    ),
    pytest.param(
        wf([loop("each", [add("x")], [edge(SOURCE, "x")], result="nope")], [edge(SOURCE, "each")]),
        [("unknown_result", "actions[0].body.result")],
        id="unknown_result",
    ),
    pytest.param(
        wf([{**add("a"), "policy": {"timeout": "soon"}}], [edge(SOURCE, "a")]),
        [("invalid_policy", "actions[0].policy.timeout")],
        id="invalid_policy",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge(SOURCE, "b", type="failed")]),
        [("invalid_failure_edge", "edges[1].conditional.type")],
        id="invalid_failure_edge",
    ),
    pytest.param(
        wf(
            [
                loop(
                    "l1",
                    [
                        loop(
                            "l2",
                            [
                                loop(
                                    "l3",
                                    [
                                        loop(
                                            "l4",
                                            [
                                                loop(
                                                    "l5",
                                                    [loop("l6", [add("x")], [edge(SOURCE, "x")])],
                                                    [edge(SOURCE, "l6")],
                                                )
                                            ],
                                            [edge(SOURCE, "l5")],
                                        )
                                    ],
                                    [edge(SOURCE, "l4")],
                                )
                            ],
                            [edge(SOURCE, "l3")],
                        )
                    ],
                    [edge(SOURCE, "l2")],
                )
            ],
            [edge(SOURCE, "l1")],
        ),
        [("loops_too_deep", "actions[0].body" + ".actions[0].body" * 5)],
        id="loops_too_deep",
    ),
    pytest.param(
        wf(
            [
                loop(
                    "each",
                    [act("first", "echo", v="!ref($.state.second)"), act("second", "echo", v="!ref($.item)")],
                    [edge(SOURCE, "first"), edge("first", "second")],
                )
            ],
            [edge(SOURCE, "each")],
        ),
        [("ref_not_upstream", "actions[0].body.actions[0].inputs.v")],
        id="ref_not_upstream-in-body",
    ),
    pytest.param(
        wf(
            [loop("each", [add("x")], [edge(SOURCE, "x")]), add("after", a="!ref($.state.x)")],
            [edge(SOURCE, "each"), edge("each", "after")],
        ),
        [("ref_not_upstream", "actions[1].inputs.a")],
        id="ref_not_upstream-into-a-body",
    ),
    pytest.param(
        wf([loop("each", [add("x"), add("x")], [edge(SOURCE, "x")])], [edge(SOURCE, "each")]),
        [("duplicate_action_id", "actions[0].body.actions[1].id")],
        id="duplicate_action_id-in-body",
    ),
    pytest.param(
        wf([add("x"), loop("each", [add("x")], [edge(SOURCE, "x")])], [edge(SOURCE, "x"), edge("x", "each")]),
        [("duplicate_action_id", "actions[1].body.actions[0].id")],
        id="duplicate_action_id-across-scopes",
    ),
    pytest.param(
        wf([loop("each", [add("x", a="!ref($.round)")], [edge(SOURCE, "x")])], [edge(SOURCE, "each")]),
        [("invalid_ref_root", "actions[0].body.actions[0].inputs.a")],
        id="invalid_ref_root-round-in-for-each",
    ),
    pytest.param(
        wf([loop("each", [add("x"), add("y")], [edge(SOURCE, "x")])], [edge(SOURCE, "each")]),
        [("unreachable", "actions[0].body.actions[1]")],
        id="unreachable-in-body",
    ),
    pytest.param(
        wf(
            [
                act("order", "order"),
                loop(
                    "each",
                    [add("x", a="!ref($.item.qty)", b="!ref($.item.price)"), act("y", "say", text="!ref($.item.qty)")],
                    [edge(SOURCE, "x"), edge(SOURCE, "y")],
                    items="!ref($.state.order.lines)",
                ),
            ],
            [edge(SOURCE, "order"), edge("order", "each")],
        ),
        [
            ("ref_path_not_in_output", "actions[1].body.actions[0].inputs.b"),
            ("ref_type_mismatch", "actions[1].body.actions[1].inputs.text"),
        ],
        id="ref-into-item-checked-against-the-items-schema",
    ),
    pytest.param(
        wf([add("a"), add("")], [edge(SOURCE, "a")]),
        [("invalid_id", "actions[1].id")],
        id="invalid_id-empty",
    ),
    pytest.param(
        wf([add("a"), add("   ")], [edge(SOURCE, "a")]),
        [("invalid_id", "actions[1].id")],
        id="invalid_id-blank",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("ghost", "b"), edge("a", "b")]),
        [("unknown_edge_source", "edges[1].from")],
        id="unknown_edge_source",
    ),
    pytest.param(
        wf([add("a")], [edge(SOURCE, "a"), edge("a", "ghost")]),
        [("unknown_edge_target", "edges[1].to")],
        id="unknown_edge_target",
    ),
    pytest.param(
        wf([add("a")], [edge(SOURCE, "a"), edge("a", SOURCE)]),
        [("edge_into_source", "edges[1].to")],
        id="edge_into_source",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("a", "b"), edge("a", "b")]),
        [("duplicate_edge", "edges[2]")],
        id="duplicate_edge",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("a", "b"), edge("b", "a")]),
        [("cycle", "edges[2]")],
        id="cycle",
    ),
    pytest.param(
        wf([add("a"), add("b"), add("c")], [edge(SOURCE, "a"), edge("a", "b"), edge("b", "c"), edge("c", "b")]),
        [("cycle", "edges[3]")],
        id="cycle-not-through-first-action",
    ),
    pytest.param(
        wf([add("a")], [edge(SOURCE, "a"), edge("a", "a")]),
        [("cycle", "edges[1]")],
        id="cycle-self-loop",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge("a", "b")]),
        [("no_start", "edges")],
        id="no_start",
    ),
    pytest.param(wf([], []), [("no_start", "edges")], id="no_start-empty-workflow"),
    pytest.param(
        wf([add("a"), add("b"), add("c")], [edge(SOURCE, "a"), edge("c", "b")]),
        [("unreachable", "actions[1]"), ("unreachable", "actions[2]")],
        id="unreachable-from-an-orphan",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a")]),
        [("unreachable", "actions[1]")],
        id="unreachable-no-incoming-edge",
    ),
    # -- edge conditions ---------------------------------------------------------------------------
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("a", "b", type="when", ref="!ref($.output.total)")]),
        [("unknown_conditional_type", "edges[1].conditional.type")],
        id="unknown_conditional_type",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("a", "b", type="if")]),
        [("missing_ref", "edges[1].conditional.ref")],
        id="missing_ref",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("a", "b", type="match", ref="!ref($.output.total)")]),
        [("missing_match_value", "edges[1].conditional.value")],
        id="missing_match_value",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("a", "b", type="if", ref="$.output.total")]),
        [("malformed_ref", "edges[1].conditional.ref")],
        id="malformed_ref-condition-without-ref",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("a", "b", type="if", ref="!ref($.output.total")]),
        [("malformed_ref", "edges[1].conditional.ref")],
        id="malformed_ref-condition-unterminated",
    ),
    pytest.param(
        wf([add("a")], [edge(SOURCE, "a", type="if", ref="!ref($.output.x)")]),
        [("invalid_ref_root", "edges[0].conditional.ref")],
        id="invalid_ref_root-output-on-source-edge",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("a", "b", type="if", ref="!ref($.nope.x)")]),
        [("invalid_ref_root", "edges[1].conditional.ref")],
        id="invalid_ref_root-condition",
    ),
    pytest.param(
        wf([add("a")], [edge(SOURCE, "a", type="if", ref="!ref($.event.plan)")]),
        [("unknown_event_field", "edges[0].conditional.ref")],
        id="unknown_event_field-condition",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("a", "b", type="if", ref="!ref($.output.totl)")]),
        [("ref_path_not_in_output", "edges[1].conditional.ref")],
        id="ref_path_not_in_output-condition-output",
    ),
    pytest.param(
        wf(
            [add("a"), add("b"), add("c"), add("d")],
            [
                edge(SOURCE, "a"),
                edge("a", "b"),
                edge(SOURCE, "c"),
                edge("b", "d", type="if", ref="!ref($.state.c.total)"),
            ],
        ),
        [("ref_not_upstream", "edges[3].conditional.ref")],
        id="ref_not_upstream-condition-non-ancestor",
    ),
    pytest.param(
        wf([add("a"), add("b")], [edge(SOURCE, "a"), edge("a", "b", type="if", ref="!ref($.state.b.total)")]),
        [("ref_not_upstream", "edges[1].conditional.ref")],
        id="ref_not_upstream-condition-edge-target",
    ),
    pytest.param(
        wf([add("a")], [edge(SOURCE, "a", type="if", ref="!ref($.state.a.total)")]),
        [("ref_not_upstream", "edges[0].conditional.ref")],
        id="ref_not_upstream-condition-on-source-edge",
    ),
    # -- inputs: literal values against the input schema -------------------------------------------
    pytest.param(
        wf([add("a", a="one", b=2)], [edge(SOURCE, "a")]),
        [("invalid_input", "actions[0].inputs.a")],
        id="invalid_input-string-for-number",
    ),
    pytest.param(
        wf([add("a", a=True, b=2)], [edge(SOURCE, "a")]),
        [("invalid_input", "actions[0].inputs.a")],
        id="invalid_input-boolean-for-number",
    ),
    pytest.param(
        wf([act("a", "add", a=1)], [edge(SOURCE, "a")]),
        [("missing_input", "actions[0].inputs.b")],
        id="missing_input",
    ),
    pytest.param(
        wf([{**act("a", "add", a=1), "to_fill": {"b": "How much more?"}}], [edge(SOURCE, "a")]),
        [("blank", "actions[0].inputs.b")],
        id="blank",
    ),
    pytest.param(
        wf([{**act("a", "add", a=1, b=2), "to_fill": {"c": "What?"}}], [edge(SOURCE, "a")]),
        [("invalid_blank", "actions[0].to_fill.c")],
        id="invalid_blank",
    ),
    pytest.param(
        wf([act("a", "add", a=1, b=2, c=3)], [edge(SOURCE, "a")]),
        [("unknown_input", "actions[0].inputs.c")],
        id="unknown_input",
    ),
    pytest.param(
        wf([act("p", "person", name="Ann", address={"city": 1, "zip": "X1"})], [edge(SOURCE, "p")]),
        [("invalid_input", "actions[0].inputs.address.city")],
        id="invalid_input-nested",
    ),
    pytest.param(
        wf([act("p", "person", name="Ann", address={"city": "Oslo"})], [edge(SOURCE, "p")]),
        [("missing_input", "actions[0].inputs.address.zip")],
        id="missing_input-nested",
    ),
    pytest.param(
        wf([act("p", "person", name="Ann", address={"city": "Oslo", "zip": "1", "street": "x"})], [edge(SOURCE, "p")]),
        [("unknown_input", "actions[0].inputs.address.street")],
        id="unknown_input-nested",
    ),
    pytest.param(
        wf([act("p", "person", name="Ann")], [edge(SOURCE, "p")]),
        [("missing_input", "actions[0].inputs.address")],
        id="missing_input-nested-object",
    ),
    pytest.param(
        wf([act("i", "builtin:if", condition=5)], [edge(SOURCE, "i")]),
        [("invalid_input", "actions[0].inputs.condition")],
        id="invalid_input-condition-not-string-or-object",
    ),
    # -- inputs: refs ------------------------------------------------------------------------------
    pytest.param(
        wf([add("a", a="!ref($.state.a", b=2)], [edge(SOURCE, "a")]),
        [("malformed_ref", "actions[0].inputs.a")],
        id="malformed_ref-unterminated",
    ),
    pytest.param(
        wf([add("a", a="!ref($..[)", b=2)], [edge(SOURCE, "a")]),
        [("malformed_ref", "actions[0].inputs.a")],
        id="malformed_ref-invalid-jsonpath",
    ),
    pytest.param(
        wf([add("a", a="!ref(state.a)", b=2)], [edge(SOURCE, "a")]),
        [("malformed_ref", "actions[0].inputs.a")],
        id="malformed_ref-no-dollar",
    ),
    pytest.param(
        wf([act("a", "echo", x="!ref($.output.x)")], [edge(SOURCE, "a")]),
        [("invalid_ref_root", "actions[0].inputs.x")],
        id="invalid_ref_root-output-in-input",
    ),
    pytest.param(
        wf([act("a", "echo", x="!ref($.steps.x)")], [edge(SOURCE, "a")]),
        [("invalid_ref_root", "actions[0].inputs.x")],
        id="invalid_ref_root-unknown-root",
    ),
    pytest.param(
        wf([act("a", "echo", x="!ref($.event.foo)")], [edge(SOURCE, "a")]),
        [("unknown_event_field", "actions[0].inputs.x")],
        id="unknown_event_field",
    ),
    pytest.param(
        wf(
            [add("a"), add("b", a="!ref($.state.a.total)")],
            [edge(SOURCE, "a"), edge(SOURCE, "b")],
        ),
        [("ref_not_upstream", "actions[1].inputs.a")],
        id="ref_not_upstream-sibling",
    ),
    pytest.param(
        wf(
            [add("a"), add("b"), add("c", a="!ref($.state.b.total)")],
            [edge(SOURCE, "a"), edge("a", "b"), edge("a", "c")],
        ),
        [("ref_not_upstream", "actions[2].inputs.a")],
        id="ref_not_upstream-sibling-branch",
    ),
    pytest.param(
        wf([add("a", a="!ref($.state.b.total)"), add("b")], [edge(SOURCE, "a"), edge("a", "b")]),
        [("ref_not_upstream", "actions[0].inputs.a")],
        id="ref_not_upstream-downstream",
    ),
    pytest.param(
        wf([add("a", a="!ref($.state.a.total)")], [edge(SOURCE, "a")]),
        [("ref_not_upstream", "actions[0].inputs.a")],
        id="ref_not_upstream-itself",
    ),
    pytest.param(
        wf([add("a", a="!ref($.state.ghost.total)")], [edge(SOURCE, "a")]),
        [("ref_not_upstream", "actions[0].inputs.a")],
        id="ref_not_upstream-no-such-action",
    ),
    pytest.param(
        wf([add("a"), act("b", "echo", x="!ref($.state.a.totl)")], [edge(SOURCE, "a"), edge("a", "b")]),
        [("ref_path_not_in_output", "actions[1].inputs.x")],
        id="ref_path_not_in_output",
    ),
    pytest.param(
        wf([add("a"), act("b", "echo", x="!ref($.state.a.total.value)")], [edge(SOURCE, "a"), edge("a", "b")]),
        [("ref_path_not_in_output", "actions[1].inputs.x")],
        id="ref_path_not_in_output-into-a-number",
    ),
    pytest.param(
        wf([act("s", "say", text="hi"), act("b", "echo", x="!ref($.state.s.x)")], [edge(SOURCE, "s"), edge("s", "b")]),
        [("ref_path_not_in_output", "actions[1].inputs.x")],
        id="ref_path_not_in_output-null-output",
    ),
    pytest.param(
        wf([add("a"), add("b", a="!ref($.state.a.label)")], [edge(SOURCE, "a"), edge("a", "b")]),
        [("ref_type_mismatch", "actions[1].inputs.a")],
        id="ref_type_mismatch-string-to-number",
    ),
    pytest.param(
        wf([add("a"), add("b", a="!ref($.state.a)")], [edge(SOURCE, "a"), edge("a", "b")]),
        [("ref_type_mismatch", "actions[1].inputs.a")],
        id="ref_type_mismatch-object-to-number",
    ),
    pytest.param(
        wf(
            [add("a"), act("p", "person", name="Ann", address={"city": "!ref($.state.a.total)", "zip": "1"})],
            [edge(SOURCE, "a"), edge("a", "p")],
        ),
        [("ref_type_mismatch", "actions[1].inputs.address.city")],
        id="ref_type_mismatch-nested",
    ),
    pytest.param(
        wf([add("a"), add("b", a="n=!ref($.state.a.total)")], [edge(SOURCE, "a"), edge("a", "b")]),
        [("template_type_mismatch", "actions[1].inputs.a")],
        id="template_type_mismatch",
    ),
    pytest.param(
        wf([add("a", a="!ref($.event.data.x)!ref($.event.data.y)")], [edge(SOURCE, "a")]),
        [("template_type_mismatch", "actions[0].inputs.a")],
        id="template_type_mismatch-two-refs",
    ),
    # -- inputs: CEL expressions -------------------------------------------------------------------
    pytest.param(
        wf([add("a"), act("i", "builtin:if", condition="event.data.x >")], [edge(SOURCE, "a"), edge("a", "i")]),
        [("invalid_expression", "actions[1].inputs.condition")],
        id="invalid_expression-syntax",
    ),
    pytest.param(
        wf([add("a"), act("i", "builtin:if", condition="foo.bar == 1")], [edge(SOURCE, "a"), edge("a", "i")]),
        [("invalid_expression", "actions[1].inputs.condition")],
        id="invalid_expression-unknown-variable",
    ),
    pytest.param(
        wf([act("i", "builtin:if", condition="")], [edge(SOURCE, "i")]),
        [("invalid_expression", "actions[0].inputs.condition")],
        id="invalid_expression-empty",
    ),
    pytest.param(
        wf([act("i", "builtin:if", condition="!ref($.event.data.x) == 1")], [edge(SOURCE, "i")]),
        [("ref_in_expression", "actions[0].inputs.condition")],
        id="ref_in_expression",
    ),
    pytest.param(
        wf([act("i", "builtin:if", condition={"==": ["!ref($.state.ghost)", 1]})], [edge(SOURCE, "i")]),
        [("ref_not_upstream", 'actions[0].inputs.condition["=="][0]')],
        id="ref_not_upstream-inside-json-logic",
    ),
]


@pytest.mark.parametrize(("workflow", "expected"), CASES)
def test_problem_code_and_path(kit: WorkflowKit, workflow: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    problems = kit.validate(workflow)
    assert found(problems) == sorted(expected)
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.message.strip()
        assert SOURCE not in problem.message  # end users know it as "the trigger"


def test_invalid_json(kit: WorkflowKit) -> None:
    problems = kit.validate('{"actions": [')
    assert found(problems) == [("invalid_json", "")]


@pytest.mark.parametrize(
    ("workflow", "path"),
    [
        pytest.param({"actions": [{"id": 1, "kind": "add"}], "edges": []}, "actions[0].id", id="id-not-string"),
        pytest.param({"actions": [], "edges": [{"from": SOURCE}]}, "edges[0].to", id="edge-without-to"),
        pytest.param(
            {"actions": [{"id": "a", "kind": "add", "inputs": []}], "edges": []},
            "actions[0].inputs",
            id="inputs-not-object",
        ),
        pytest.param(
            {"actions": [], "edges": [{"from": SOURCE, "to": "a", "conditional": {"type": 1}}]},
            "edges[0].conditional.type",
            id="conditional-type-not-string",
        ),
        pytest.param([], "", id="not-an-object"),
        pytest.param("[1, 2]", "", id="json-text-not-an-object"),
    ],
)
def test_invalid_format(kit: WorkflowKit, workflow: Any, path: str) -> None:
    assert found(kit.validate(workflow)) == [("invalid_format", path)]


def test_every_documented_code_is_covered() -> None:
    documented = set(re.findall(r"``([a-z_]+)``", validation_module.__doc__ or ""))
    covered = {code for case in CASES for code, _ in case.values[1]} | {"invalid_json", "invalid_format"}
    assert len(documented) == 39
    assert documented == covered


# ---------------------------------------------------------------------------------------------------
# Valid variations next to each problem: nothing is reported


VALID_CASES: list[Any] = [
    pytest.param(
        wf(
            [
                add("before"),
                loop(
                    "each",
                    [
                        add("double", a="!ref($.item)", b="!ref($.state.before.total)"),
                        act("check", "builtin:if", condition="item > index && state.double.total > 0"),
                        act("note", "say", text="item !ref($.index): !ref($.state.double.total)"),
                        loop(
                            "inner",
                            [add("deep", a="!ref($.item)", b="!ref($.state.double.total)")],
                            [edge(SOURCE, "deep")],
                            result="deep",
                            items="!ref($.item.parts)",
                        ),
                    ],
                    [
                        edge(SOURCE, "double"),
                        edge("double", "check"),
                        edge("check", "note", type="if", ref="!ref($.output.result)"),
                        edge("double", "inner"),
                    ],
                    result="double",
                    concurrency=3,
                    on_failure="continue",
                ),
                add("after", a="!ref($.state.each[0].total)"),
                loop(
                    "poll",
                    [add("try", a="!ref($.round)", b="!ref($.last.total)")],
                    [edge(SOURCE, "try")],
                    kind="builtin:repeat_until",
                    condition="last.total > 3 || round > 2",
                    max_rounds=5,
                    wait_between="5m",
                ),
            ],
            [edge(SOURCE, "before"), edge("before", "each"), edge("each", "after"), edge("after", "poll")],
        ),
        id="loops-nested-with-refs-to-item-index-round-last-and-outer-state",
    ),
    pytest.param(
        wf(
            [
                act("order", "order"),
                loop(
                    "each",
                    [
                        add("x", a="!ref($.item.qty)"),
                        act("y", "say", text="!ref($.item.sku)"),
                        act("z", "say", text="line !ref($.index): !ref($.item.qty) of !ref($.item.sku)"),
                    ],
                    [edge(SOURCE, "x"), edge(SOURCE, "y"), edge(SOURCE, "z")],
                    items="!ref($.state.order.lines)",
                ),
            ],
            [edge(SOURCE, "order"), edge("order", "each")],
        ),
        id="refs-into-typed-items",
    ),
    pytest.param(
        wf(
            [
                {**add("a"), "policy": {"retries": 0, "timeout": "30s", "continue_on_failure": True}},
                act("fallback", "say", text="failed: !ref($.state.a.error.message)"),
                add("next"),
            ],
            [edge(SOURCE, "a"), edge("a", "fallback", type="failed"), edge("a", "next")],
        ),
        id="error-edge-and-policy",
    ),
    pytest.param(
        wf(
            [add("a"), add("b", a="!ref($.state.a.total)", b="!ref($.state.a.total)")],
            [edge(SOURCE, "a"), edge("a", "b")],
        ),
        id="integer-output-to-number-input",
    ),
    pytest.param(
        wf([add("a"), act("s", "say", text="n=!ref($.state.a.total)")], [edge(SOURCE, "a"), edge("a", "s")]),
        id="template-to-string-input",
    ),
    pytest.param(
        wf([add("a"), act("s", "say", text="!ref($.state.a.label)")], [edge(SOURCE, "a"), edge("a", "s")]),
        id="whole-ref-string-to-string",
    ),
    pytest.param(
        wf([add("a"), act("b", "echo", x="!ref($.state.a.total)")], [edge(SOURCE, "a"), edge("a", "b")]),
        id="correct-path-into-typed-output",
    ),
    pytest.param(
        wf(
            [act("e", "echo", v=1), act("b", "echo", x="!ref($.state.e.anything.deep[0])")],
            [edge(SOURCE, "e"), edge("e", "b")],
        ),
        id="any-path-into-dict-output",
    ),
    pytest.param(
        wf([add("a", a="!ref($.event.data.anything)", b="!ref($.event.data.n.deep)")], [edge(SOURCE, "a")]),
        id="event-data-anything",
    ),
    pytest.param(
        wf(
            [act("a", "echo", **{f: f"!ref($.event.{f})" for f in ("name", "data", "id", "ts", "v", "user")})],
            [edge(SOURCE, "a")],
        ),
        id="every-event-field",
    ),
    pytest.param(
        wf([add("a")], [edge(SOURCE, "a", type="if", ref="!ref($.event.data.go)")]),
        id="event-ref-on-source-edge",
    ),
    pytest.param(
        wf(
            [add("a"), add("b"), add("c")],
            [
                edge(SOURCE, "a"),
                edge("a", "b"),
                edge("b", "c", type="if", ref="!ref($.state.b.total)"),
            ],
        ),
        id="condition-ref-to-edge-from",
    ),
    pytest.param(
        wf(
            [add("a"), add("b"), add("c")],
            [
                edge(SOURCE, "a"),
                edge("a", "b"),
                edge("b", "c", type="match", ref="!ref($.state.a.label)", value="sum"),
            ],
        ),
        id="condition-ref-to-ancestor-of-edge-from",
    ),
    pytest.param(
        wf(
            [add("a"), add("b"), add("c")],
            [edge(SOURCE, "a"), edge("a", "b"), edge("b", "c", type="else", ref="!ref($.output.total)")],
        ),
        id="condition-output-path-in-schema",
    ),
    pytest.param(
        wf(
            [add("a"), act("b", "echo")],
            [edge(SOURCE, "a"), edge("a", "b", type="match", ref="!ref($.output.total)", value=None)],
        ),
        id="match-null-value",
    ),
    pytest.param(
        wf(
            [
                add("a"),
                add("b", a="!ref($.state.a.total)"),
                add("c"),
                add("d", a="!ref($.state.a.total)", b="!ref($.state.b.total)"),
                act("e", "say", text="!ref($.state.c.label)"),
            ],
            [
                edge(SOURCE, "a"),
                edge("a", "b"),
                edge("a", "c"),
                edge("b", "d"),
                edge("c", "d"),
                edge("d", "e"),
            ],
        ),
        id="ref-upstream-through-a-join",
    ),
    pytest.param(
        wf([act("i", "builtin:if", condition={"==": ["!ref($.event.data.plan)", "pro"]})], [edge(SOURCE, "i")]),
        id="json-logic-condition",
    ),
    pytest.param(
        wf([add("a"), act("i", "builtin:if", condition="state.a.total > 1")], [edge(SOURCE, "a"), edge("a", "i")]),
        id="cel-condition-over-state",
    ),
    pytest.param(
        wf(
            [act("i", "builtin:if", condition="event.data.items.exists(x, x.qty > 1) && size(event.data.items) > 0")],
            [edge(SOURCE, "i")],
        ),
        id="cel-condition-with-macro-variable",
    ),
    pytest.param(
        wf(
            [add("a"), act("p", "person", name="!ref($.state.a.label)", address={"city": "Oslo", "zip": "0150"})],
            [edge(SOURCE, "a"), edge("a", "p")],
        ),
        id="nested-input-object",
    ),
    pytest.param(
        wf([add("a"), act("p", "person", name="x", address="!ref($.state.a)")], [edge(SOURCE, "a"), edge("a", "p")]),
        id="whole-ref-object-to-object-input",
    ),
]


@pytest.mark.parametrize("workflow", VALID_CASES)
def test_valid_variations(kit: WorkflowKit, workflow: dict[str, Any]) -> None:
    assert kit.validate(workflow) == []


# ---------------------------------------------------------------------------------------------------
# Reporting


def test_every_problem_is_reported_at_once(kit: WorkflowKit) -> None:
    workflow = wf(
        [
            add("a", a="x"),
            act("b", "nope"),
            act("c", "add", a=1, z=2),
            act("d", "echo", x="!ref($.state.ghost)", y="!ref($.event.foo)"),
            add("e"),
        ],
        [
            edge(SOURCE, "a"),
            edge("a", "b"),
            edge("a", "b"),
            edge("a", "c"),
            edge("c", "d"),
            edge("d", "ghost"),
            edge("a", "d", type="maybe", ref="!ref($.output.total)"),
        ],
    )
    assert found(kit.validate(workflow)) == sorted(
        [
            ("invalid_input", "actions[0].inputs.a"),
            ("unknown_kind", "actions[1].kind"),
            ("missing_input", "actions[2].inputs.b"),
            ("unknown_input", "actions[2].inputs.z"),
            ("ref_not_upstream", "actions[3].inputs.x"),
            ("unknown_event_field", "actions[3].inputs.y"),
            ("unreachable", "actions[4]"),
            ("duplicate_edge", "edges[2]"),
            ("unknown_edge_target", "edges[5].to"),
            ("unknown_conditional_type", "edges[6].conditional.type"),
        ]
    )


def test_nested_input_problems_have_nested_paths(kit: WorkflowKit) -> None:
    workflow = wf(
        [act("p", "person", name=5, address={"city": 1, "street": "Main"})],
        [edge(SOURCE, "p")],
    )
    assert found(kit.validate(workflow)) == [
        ("invalid_input", "actions[0].inputs.address.city"),
        ("invalid_input", "actions[0].inputs.name"),
        ("missing_input", "actions[0].inputs.address.zip"),
        ("unknown_input", "actions[0].inputs.address.street"),
    ]


def test_problem_messages_name_the_cause(kit: WorkflowKit) -> None:
    workflow = wf(
        [add("a"), add("b", a="!ref($.state.ghost.total)", b="!ref($.state.a.totl)")],
        [edge(SOURCE, "a"), edge("a", "b")],
    )
    by_path = {p.path: p for p in kit.validate(workflow)}
    assert "ghost" in by_path["actions[1].inputs.a"].message
    assert "totl" in by_path["actions[1].inputs.b"].message


def test_messages_about_the_trigger_say_the_trigger(kit: WorkflowKit) -> None:
    def messages(workflow: dict[str, Any]) -> dict[str, str]:
        return {p.code: p.message for p in kit.validate(workflow)}

    assert messages(wf([add("a")], [])) == {"no_start": "Nothing runs yet: add a first step after the trigger"}
    unreachable = messages(wf([add("a"), add("b")], [edge(SOURCE, "a")]))["unreachable"]
    assert unreachable == "action 'b' is not connected to the trigger, so it would never run"
    assert "the trigger" in messages(wf([add("a")], [edge(SOURCE, "a"), edge("a", SOURCE)]))["edge_into_source"]
    assert "the trigger" in messages(wf([add("a"), add(SOURCE)], [edge(SOURCE, "a")]))["reserved_id"]
    output_on_trigger = wf([add("a")], [edge(SOURCE, "a", type="if", ref="!ref($.output.x)")])
    assert "edges from the trigger have no $.output" in messages(output_on_trigger)["invalid_ref_root"]


# ---------------------------------------------------------------------------------------------------
# What validate and load accept


INVALID = wf([add("a", a="one"), add("b")], [edge(SOURCE, "a")])


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda d: d, id="dict"),
        pytest.param(lambda d: msgspec.json.encode(d).decode(), id="json-str"),
        pytest.param(msgspec.json.encode, id="json-bytes"),
        pytest.param(Workflow.from_dict, id="Workflow"),
    ],
)
def test_validate_accepts_dict_json_text_and_workflow(kit: WorkflowKit, convert: Any) -> None:
    assert kit.validate(convert(VALID)) == []
    assert found(kit.validate(convert(INVALID))) == [
        ("invalid_input", "actions[0].inputs.a"),
        ("unreachable", "actions[1]"),
    ]


def test_load_returns_a_workflow_when_valid(kit: WorkflowKit) -> None:
    loaded = kit.load(VALID)
    assert isinstance(loaded, Workflow)
    assert [a.id for a in loaded.actions] == ["a", "check", "yes", "no", "join"]


def test_load_raises_with_every_problem(kit: WorkflowKit) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        kit.load(INVALID)
    assert found(info.value.problems) == found(kit.validate(INVALID))
    assert len(info.value.problems) == 2
    assert "actions[0].inputs.a" in str(info.value)


def test_load_raises_on_malformed_workflow(kit: WorkflowKit) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        kit.load({"actions": [{"id": 1, "kind": "add"}], "edges": []})
    assert found(info.value.problems) == [("invalid_format", "actions[0].id")]


def test_validation_depends_on_the_registered_actions() -> None:
    bare = WorkflowKit(disable_builtin_actions=True)
    workflow = wf([act("i", "builtin:if", condition="true")], [edge(SOURCE, "i")])
    assert found(bare.validate(workflow)) == [("unknown_kind", "actions[0].kind")]
    assert WorkflowKit().validate(workflow) == []
