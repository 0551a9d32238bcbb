"""Tests for the pure planner (`workflow_kit.engine.planner`), the graph helpers and edge conditions, by example
(their properties over random workflows are in test_planner_properties.py)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
from helpers import assert_closed_cycle

from workflow_kit.engine.conditions import ConditionError, json_equal, truthy
from workflow_kit.engine.graph import WorkflowGraph, find_cycle, reachable, topological_order
from workflow_kit.engine.planner import Plan, plan
from workflow_kit.records import ActionStatus
from workflow_kit.workflow import SOURCE, load_workflow

S = ActionStatus
SRC = SOURCE

# --------------------------------------------------------------------------------------------------------------
# helpers


def cond(kind: str, ref: str = "!ref($.output.v)", *value: Any) -> dict[str, Any]:
    """A conditional dict; pass a value only for `match` (an explicit one, possibly None)."""
    out: dict[str, Any] = {"type": kind, "ref": ref}
    if value:
        (out["value"],) = value
    return out


def make_graph(action_ids: list[str], edges: list[tuple[Any, ...]]) -> WorkflowGraph:
    """Edges are ``(from, to)`` or ``(from, to, conditional_dict)``."""
    edge_dicts: list[dict[str, Any]] = []
    for edge in edges:
        item: dict[str, Any] = {"from": edge[0], "to": edge[1]}
        if len(edge) > 2 and edge[2] is not None:
            item["conditional"] = edge[2]
        edge_dicts.append(item)
    data = {"actions": [{"id": a, "kind": "noop"} for a in action_ids], "edges": edge_dicts}
    return WorkflowGraph.build(load_workflow(data))


def run_plan(
    graph: WorkflowGraph,
    statuses: Mapping[str, ActionStatus] | None = None,
    outputs: Mapping[str, Any] | None = None,
    event: dict[str, Any] | None = None,
) -> Plan:
    return plan(graph, dict(statuses or {}), dict(outputs or {}), event if event is not None else {})


def single_edge_decision(conditional: dict[str, Any], output: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Plan ``$source -> a -> b`` with `conditional` on ``a -> b`` and `a` completed with `output`."""
    graph = make_graph(["a", "b"], [(SRC, "a"), ("a", "b", conditional)])
    p = run_plan(graph, {"a": S.COMPLETED}, {"a": output})
    return p.ready, p.skipped


# --------------------------------------------------------------------------------------------------------------
# linear chains, fan-out, joins


def test_linear_chain_step_by_step() -> None:
    graph = make_graph(["a", "b", "c"], [(SRC, "a"), ("a", "b"), ("b", "c")])
    statuses: dict[str, ActionStatus] = {}

    p = run_plan(graph, statuses)
    assert p == Plan(ready=("a",), skipped=(), finished=False)

    statuses["a"] = S.RUNNING
    assert run_plan(graph, statuses) == Plan(ready=(), skipped=(), finished=False)

    statuses["a"] = S.COMPLETED
    assert run_plan(graph, statuses) == Plan(ready=("b",), skipped=(), finished=False)

    statuses["b"] = S.COMPLETED
    assert run_plan(graph, statuses) == Plan(ready=("c",), skipped=(), finished=False)

    statuses["c"] = S.COMPLETED
    assert run_plan(graph, statuses) == Plan(ready=(), skipped=(), finished=True)


def test_plan_does_not_mutate_its_inputs() -> None:
    graph = make_graph(["a", "b", "c"], [(SRC, "a"), ("a", "b", cond("if")), ("a", "c", cond("else"))])
    statuses = {"a": S.COMPLETED}
    outputs = {"a": {"v": 1}}
    event = {"name": "e", "data": {"x": 1}}
    before = (copy.deepcopy(statuses), copy.deepcopy(outputs), copy.deepcopy(event))
    p = plan(graph, statuses, outputs, event)
    assert p.ready == ("b",)
    assert p.skipped == ("c",)
    assert (statuses, outputs, event) == before


def test_fan_out_gives_both_children_ready_in_one_plan() -> None:
    graph = make_graph(["a", "b", "c"], [(SRC, "a"), ("a", "b"), ("a", "c")])
    p = run_plan(graph, {"a": S.COMPLETED})
    assert p.ready == ("b", "c")
    assert p.skipped == ()
    assert not p.finished


def test_fan_out_from_source_gives_all_roots_ready() -> None:
    graph = make_graph(["a", "b", "c"], [(SRC, "a"), (SRC, "b"), (SRC, "c")])
    assert run_plan(graph).ready == ("a", "b", "c")


def test_diamond_join_waits_for_both_parents_then_is_ready_once() -> None:
    graph = make_graph(["a", "b", "c", "d"], [(SRC, "a"), ("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    statuses: dict[str, ActionStatus] = {"a": S.COMPLETED}
    assert run_plan(graph, statuses).ready == ("b", "c")

    statuses |= {"b": S.COMPLETED, "c": S.RUNNING}
    p = run_plan(graph, statuses)
    assert p.ready == ()
    assert p.skipped == ()

    statuses |= {"b": S.RUNNING, "c": S.COMPLETED}
    assert run_plan(graph, statuses).ready == ()

    statuses |= {"b": S.COMPLETED, "c": S.COMPLETED}
    p = run_plan(graph, statuses)
    assert p.ready == ("d",)
    assert p.ready.count("d") == 1

    statuses["d"] = S.RUNNING
    p = run_plan(graph, statuses)
    assert p == Plan(ready=(), skipped=(), finished=False)

    statuses["d"] = S.COMPLETED
    assert run_plan(graph, statuses) == Plan(ready=(), skipped=(), finished=True)


def test_uneven_join_waits_for_the_longer_branch() -> None:
    # a -> b -> d ; a -> c -> e -> d
    graph = make_graph(
        ["a", "b", "c", "d", "e"],
        [(SRC, "a"), ("a", "b"), ("a", "c"), ("b", "d"), ("c", "e"), ("e", "d")],
    )
    statuses: dict[str, ActionStatus] = {"a": S.COMPLETED, "b": S.COMPLETED, "c": S.COMPLETED}
    p = run_plan(graph, statuses)
    assert p.ready == ("e",)
    assert "d" not in p.ready
    assert "d" not in p.skipped

    statuses["e"] = S.RUNNING
    assert run_plan(graph, statuses).ready == ()

    statuses["e"] = S.COMPLETED
    assert run_plan(graph, statuses).ready == ("d",)


def test_join_runs_when_one_parent_is_skipped_and_the_other_completed() -> None:
    graph = make_graph(
        ["a", "b", "c", "d"],
        [(SRC, "a"), ("a", "b", cond("if")), ("a", "c", cond("else")), ("b", "d"), ("c", "d")],
    )
    p = run_plan(graph, {"a": S.COMPLETED}, {"a": {"v": True}})
    assert p.ready == ("b",)
    assert p.skipped == ("c",)
    # d waits for b, even though c is already skipped in this very call
    assert "d" not in p.ready + p.skipped

    p = run_plan(graph, {"a": S.COMPLETED, "b": S.COMPLETED, "c": S.SKIPPED}, {"a": {"v": True}})
    assert p.ready == ("d",)
    assert p.skipped == ()


def test_join_is_skipped_when_all_parents_are_skipped() -> None:
    graph = make_graph(
        ["a", "b", "c", "d"],
        [(SRC, "a"), ("a", "b", cond("if")), ("a", "c", cond("if")), ("b", "d"), ("c", "d")],
    )
    p = run_plan(graph, {"a": S.COMPLETED}, {"a": {"v": 0}})
    assert p.ready == ()
    assert p.skipped == ("b", "c", "d")
    assert p.finished


def test_join_of_previously_skipped_parents_is_skipped() -> None:
    graph = make_graph(["a", "b", "c", "d"], [(SRC, "a"), ("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    p = run_plan(graph, {"a": S.COMPLETED, "b": S.SKIPPED, "c": S.SKIPPED})
    assert p == Plan(ready=(), skipped=("d",), finished=True)


def test_skip_propagates_through_a_grandchild_chain_in_one_call() -> None:
    graph = make_graph(
        ["a", "b", "c", "d", "e"],
        [(SRC, "a"), ("a", "b", cond("if")), ("b", "c"), ("c", "d"), ("d", "e")],
    )
    p = run_plan(graph, {"a": S.COMPLETED}, {"a": {"v": False}})
    assert p.ready == ()
    assert p.skipped == ("b", "c", "d", "e")  # parents first
    assert p.finished is True


def test_child_of_skipped_node_with_unconditional_edge_from_completed_node_runs() -> None:
    # a -if-> b -> d, plus a plain edge a -> d: b is skipped, d still runs through the edge from a
    graph = make_graph(
        ["a", "b", "d"],
        [(SRC, "a"), ("a", "b", cond("if")), ("b", "d"), ("a", "d")],
    )
    p = run_plan(graph, {"a": S.COMPLETED}, {"a": {"v": None}})
    assert p.skipped == ("b",)
    assert p.ready == ("d",)
    assert not p.finished


def test_skip_propagation_stops_at_a_node_with_another_live_path() -> None:
    # a -if-> b -> c -> e ; a -> d -> e : b and c are skipped at once, e waits for d, then runs
    graph = make_graph(
        ["a", "b", "c", "d", "e"],
        [(SRC, "a"), ("a", "b", cond("if")), ("b", "c"), ("c", "e"), ("a", "d"), ("d", "e")],
    )
    p = run_plan(graph, {"a": S.COMPLETED}, {"a": {"v": ""}})
    assert p.skipped == ("b", "c")
    assert p.ready == ("d",)
    statuses = {"a": S.COMPLETED, "b": S.SKIPPED, "c": S.SKIPPED, "d": S.COMPLETED}
    assert run_plan(graph, statuses, {"a": {"v": ""}}) == Plan(ready=("e",), skipped=(), finished=False)


def test_already_decided_actions_are_not_planned_again() -> None:
    graph = make_graph(["a", "b"], [(SRC, "a"), ("a", "b")])
    for status in S:
        if status is S.PENDING:
            continue
        p = run_plan(graph, {"a": S.COMPLETED, "b": status})
        assert p.ready == ()
        assert p.skipped == ()
        assert p.finished is status.resolved


def test_action_without_incoming_edges_is_skipped() -> None:
    # validation rejects such a workflow; the planner still decides it (no edge can be taken)
    graph = make_graph(["a", "lonely"], [(SRC, "a")])
    p = run_plan(graph)
    assert p.ready == ("a",)
    assert p.skipped == ("lonely",)


def test_empty_workflow_is_finished() -> None:
    graph = make_graph([], [])
    assert run_plan(graph) == Plan(ready=(), skipped=(), finished=True)


# --------------------------------------------------------------------------------------------------------------
# blocking statuses


@pytest.mark.parametrize("status", [S.PENDING, S.RUNNING, S.SLEEPING, S.WAITING, S.RETRYING])
def test_unresolved_parent_blocks_children(status: ActionStatus) -> None:
    graph = make_graph(["a", "b", "c"], [(SRC, "a"), ("a", "b"), ("b", "c")])
    statuses = {} if status is S.PENDING else {"a": status}
    p = run_plan(graph, statuses)
    if status is S.PENDING:
        assert p.ready == ("a",)
    else:
        assert p.ready == ()
    assert p.skipped == ()
    assert p.finished is False


@pytest.mark.parametrize("status", [S.RUNNING, S.SLEEPING, S.WAITING, S.RETRYING, S.FAILED])
def test_unresolved_parent_blocks_a_join_even_if_the_other_parent_completed(status: ActionStatus) -> None:
    graph = make_graph(["a", "b", "c"], [(SRC, "a"), (SRC, "b"), ("a", "c"), ("b", "c")])
    p = run_plan(graph, {"a": S.COMPLETED, "b": status})
    assert p == Plan(ready=(), skipped=(), finished=False)


def test_failed_parent_blocks_children_and_run_never_finishes() -> None:
    graph = make_graph(["a", "b", "c"], [(SRC, "a"), ("a", "b"), ("b", "c")])
    statuses = {"a": S.FAILED}
    for _ in range(3):
        p = run_plan(graph, statuses)
        assert p == Plan(ready=(), skipped=(), finished=False)


def test_failed_action_with_everything_else_resolved_is_not_finished() -> None:
    graph = make_graph(["a", "b"], [(SRC, "a"), (SRC, "b")])
    p = run_plan(graph, {"a": S.COMPLETED, "b": S.FAILED})
    assert p == Plan(ready=(), skipped=(), finished=False)


def test_failed_branch_does_not_block_independent_branch() -> None:
    graph = make_graph(["a", "b", "c", "d"], [(SRC, "a"), (SRC, "b"), ("a", "c"), ("b", "d")])
    p = run_plan(graph, {"a": S.FAILED, "b": S.COMPLETED})
    assert p.ready == ("d",)
    assert p.skipped == ()
    assert p.finished is False


# --------------------------------------------------------------------------------------------------------------
# conditions through the planner

TRUTHINESS = [
    (None, False),
    (False, False),
    (True, True),
    (0, False),
    (0.0, False),
    (-0.0, False),
    (float("nan"), False),
    ("", False),
    (1, True),
    (-1, True),
    (0.5, True),
    (float("inf"), True),
    ("0", True),
    ("false", True),
    (" ", True),
    ([], True),
    ({}, True),
    ([0], True),
    ({"a": None}, True),
]


@pytest.mark.parametrize(("value", "expected"), TRUTHINESS)
def test_truthy_table(value: Any, expected: bool) -> None:
    assert truthy(value) is expected


@pytest.mark.parametrize(("value", "expected"), TRUTHINESS)
def test_if_and_else_edges_follow_truthiness(value: Any, expected: bool) -> None:
    graph = make_graph(["a", "yes", "no"], [(SRC, "a"), ("a", "yes", cond("if")), ("a", "no", cond("else"))])
    p = run_plan(graph, {"a": S.COMPLETED}, {"a": {"v": value}})
    if expected:
        assert (p.ready, p.skipped) == (("yes",), ("no",))
    else:
        assert (p.ready, p.skipped) == (("no",), ("yes",))


def test_if_on_missing_field_is_false_and_else_is_true() -> None:
    graph = make_graph(["a", "yes", "no"], [(SRC, "a"), ("a", "yes", cond("if")), ("a", "no", cond("else"))])
    p = run_plan(graph, {"a": S.COMPLETED}, {"a": {"other": 1}})
    assert p.ready == ("no",)
    assert p.skipped == ("yes",)
    # an action that completed without any output behaves the same
    p = run_plan(graph, {"a": S.COMPLETED}, {})
    assert p.ready == ("no",)
    assert p.skipped == ("yes",)


JSON_EQUAL = [
    (42, 42, True),
    (42, 42.0, True),
    (42.0, 42, True),
    (0, -0.0, True),
    (42, "42", False),
    ("42", 42, False),
    (True, 1, False),
    (1, True, False),
    (False, 0, False),
    (0, False, False),
    (True, True, True),
    (False, False, True),
    (True, False, False),
    (None, None, True),
    (None, 0, False),
    (None, False, False),
    (None, "", False),
    ("", "", True),
    ("", 0, False),
    ("a", "a", True),
    ("a", "A", False),
    ([], [], True),
    ([], {}, False),
    ({}, {}, True),
    ([1, 2], [1, 2], True),
    ([1, 2], [2, 1], False),
    ([1, 2], [1, 2, 3], False),
    ([1, 2.0], [1.0, 2], True),
    ([True], [1], False),
    ({"a": 1, "b": [1, {"c": True}]}, {"b": [1.0, {"c": True}], "a": 1.0}, True),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True),
    ({"a": 1}, {"a": 1, "b": 2}, False),
    ({"a": 1}, {"b": 1}, False),
    ({"a": True}, {"a": 1}, False),
    ({"a": None}, {}, False),
    ([None], [], False),
    ("[1]", [1], False),
]


@pytest.mark.parametrize(("left", "right", "expected"), JSON_EQUAL)
def test_json_equal_table(left: Any, right: Any, expected: bool) -> None:
    assert json_equal(left, right) is expected
    assert json_equal(right, left) is expected


@pytest.mark.parametrize(("output", "expected_value", "matches"), JSON_EQUAL)
def test_match_edge_uses_strict_json_equality(output: Any, expected_value: Any, matches: bool) -> None:
    ready, skipped = single_edge_decision(cond("match", "!ref($.output.v)", expected_value), {"v": output})
    assert (ready, skipped) == ((("b",), ()) if matches else ((), ("b",)))


def test_match_without_value_matches_null_and_missing() -> None:
    no_value = cond("match")
    assert "value" not in no_value
    assert single_edge_decision(no_value, {"v": None}) == (("b",), ())
    assert single_edge_decision(no_value, {}) == (("b",), ())
    assert single_edge_decision(no_value, {"v": 0}) == ((), ("b",))
    assert single_edge_decision(no_value, {"v": False}) == ((), ("b",))


def test_match_explicit_null_value() -> None:
    null_value = cond("match", "!ref($.output.v)", None)
    assert single_edge_decision(null_value, {"v": None}) == (("b",), ())
    assert single_edge_decision(null_value, {"v": ""}) == ((), ("b",))


def test_match_on_whole_output_object() -> None:
    c = cond("match", "!ref($.output)", {"x": 1, "y": [True, "s"]})
    assert single_edge_decision(c, {"y": [True, "s"], "x": 1.0}) == (("b",), ())
    assert single_edge_decision(c, {"y": [1, "s"], "x": 1}) == ((), ("b",))


def test_match_branches_route_to_one_child() -> None:
    graph = make_graph(
        ["a", "red", "green", "other"],
        [
            (SRC, "a"),
            ("a", "red", cond("match", "!ref($.output.color)", "red")),
            ("a", "green", cond("match", "!ref($.output.color)", "green")),
            ("a", "other", cond("else", "!ref($.output.known)")),
        ],
    )
    p = run_plan(graph, {"a": S.COMPLETED}, {"a": {"color": "green", "known": True}})
    assert p.ready == ("green",)
    assert p.skipped == ("red", "other")


def test_condition_output_is_the_edge_source_output() -> None:
    # d has edges from a and b; only the b edge's condition looks at b's output
    graph = make_graph(
        ["a", "b", "d"],
        [(SRC, "a"), (SRC, "b"), ("a", "d", cond("if")), ("b", "d", cond("if"))],
    )
    statuses = {"a": S.COMPLETED, "b": S.COMPLETED}
    assert run_plan(graph, statuses, {"a": {"v": 0}, "b": {"v": 1}}).ready == ("d",)
    assert run_plan(graph, statuses, {"a": {"v": 1}, "b": {"v": 0}}).ready == ("d",)
    assert run_plan(graph, statuses, {"a": {"v": 0}, "b": {"v": 0}}).skipped == ("d",)


@pytest.mark.parametrize(
    ("x", "if_ready", "match_ready"),
    [
        (1, True, True),
        (1.0, True, True),
        ("1", True, False),
        (True, True, False),
        (0, False, False),
        (None, False, False),
    ],
)
def test_conditions_on_source_edges_read_the_event(x: Any, if_ready: bool, match_ready: bool) -> None:
    graph = make_graph(
        ["by_if", "by_else", "by_match"],
        [
            (SRC, "by_if", cond("if", "!ref($.event.data.x)")),
            (SRC, "by_else", cond("else", "!ref($.event.data.x)")),
            (SRC, "by_match", cond("match", "!ref($.event.data.x)", 1)),
        ],
    )
    p = run_plan(graph, event={"name": "go", "data": {"x": x}})
    expected_ready = {"by_if"} if if_ready else {"by_else"}
    if match_ready:
        expected_ready.add("by_match")
    assert set(p.ready) == expected_ready
    assert set(p.skipped) == {"by_if", "by_else", "by_match"} - expected_ready
    assert p.finished is False


def test_source_edge_condition_with_missing_event_field() -> None:
    graph = make_graph(
        ["a", "b"],
        [(SRC, "a", cond("if", "!ref($.event.data.missing)")), (SRC, "b", cond("else", "!ref($.event.data.missing)"))],
    )
    p = run_plan(graph, event={"name": "go", "data": {}})
    assert p.ready == ("b",)
    assert p.skipped == ("a",)


def test_source_edge_output_is_null() -> None:
    graph = make_graph(["a"], [(SRC, "a", cond("match", "!ref($.output)", None))])
    assert run_plan(graph, event={"name": "go", "data": {"x": 1}}).ready == ("a",)


def test_condition_reads_event_on_inner_edge() -> None:
    graph = make_graph(["a", "b"], [(SRC, "a"), ("a", "b", cond("match", "!ref($.event.name)", "go"))])
    assert run_plan(graph, {"a": S.COMPLETED}, event={"name": "go"}).ready == ("b",)
    assert run_plan(graph, {"a": S.COMPLETED}, event={"name": "stop"}).skipped == ("b",)


def test_condition_reads_state_of_another_action() -> None:
    graph = make_graph(
        ["a", "b", "c"],
        [(SRC, "a"), ("a", "b"), ("b", "c", cond("match", "!ref($.state.a.v)", "yes"))],
    )
    statuses = {"a": S.COMPLETED, "b": S.COMPLETED}
    assert run_plan(graph, statuses, {"a": {"v": "yes"}, "b": {"v": "no"}}).ready == ("c",)
    assert run_plan(graph, statuses, {"a": {"v": "no"}, "b": {"v": "yes"}}).skipped == ("c",)


def test_condition_reads_state_with_dashed_id() -> None:
    graph = make_graph(
        ["step-1", "b"],
        [(SRC, "step-1"), ("step-1", "b", cond("if", "!ref($.state.step-1.ok)"))],
    )
    assert run_plan(graph, {"step-1": S.COMPLETED}, {"step-1": {"ok": True}}).ready == ("b",)
    assert run_plan(graph, {"step-1": S.COMPLETED}, {"step-1": {"ok": False}}).skipped == ("b",)


def test_invalid_condition_ref_raises_condition_error() -> None:
    graph = make_graph(["a", "b"], [(SRC, "a"), ("a", "b", cond("if", "!ref($.output[)"))])
    with pytest.raises(ConditionError):
        run_plan(graph, {"a": S.COMPLETED}, {"a": {"v": 1}})


def test_unknown_condition_type_raises_condition_error() -> None:
    graph = make_graph(["a", "b"], [(SRC, "a"), ("a", "b", cond("unless"))])
    with pytest.raises(ConditionError, match="unless"):
        run_plan(graph, {"a": S.COMPLETED}, {"a": {"v": 1}})


def test_conditions_on_edges_from_unfinished_sources_are_not_evaluated() -> None:
    # a broken condition on an edge whose source is skipped must not be evaluated
    graph = make_graph(
        ["a", "b", "c"],
        [(SRC, "a"), ("a", "b", cond("if")), ("b", "c", cond("unless")), ("a", "c")],
    )
    p = run_plan(graph, {"a": S.COMPLETED}, {"a": {"v": False}})
    assert p.skipped == ("b",)
    assert p.ready == ("c",)


# --------------------------------------------------------------------------------------------------------------
# graph helpers


def test_order_is_topological_and_stable_by_declaration_order() -> None:
    # declared out of dependency order: c before its parent a
    graph = make_graph(
        ["c", "b", "a", "z", "d"],
        [(SRC, "a"), (SRC, "b"), (SRC, "z"), ("a", "c"), ("b", "d"), ("a", "d")],
    )
    assert graph.order == ("b", "a", "c", "z", "d")
    position = {a: i for i, a in enumerate(graph.order)}
    for edge in graph.workflow.edges:
        if edge.from_ != SRC:
            assert position[edge.from_] < position[edge.to]


def test_order_of_independent_actions_is_declaration_order() -> None:
    ids = ["q", "a", "m", "b"]
    graph = make_graph(ids, [(SRC, i) for i in ids])
    assert graph.order == tuple(ids)


def test_ready_and_skipped_are_listed_in_graph_order() -> None:
    graph = make_graph(
        ["y", "x", "w"],
        [(SRC, "w"), ("w", "x", cond("if")), ("w", "y", cond("if")), ("w", "x"), ("w", "y")],
    )
    assert graph.order == ("w", "y", "x")
    assert run_plan(graph, {"w": S.COMPLETED}, {"w": {"v": 0}}).ready == ("y", "x")


def test_topological_order_function() -> None:
    assert topological_order(["a", "b", "c"], [("c", "a"), ("b", "a")]) == ["b", "c", "a"]
    assert topological_order(["a", "b"], [(SRC, "b"), (SRC, "a")]) == ["a", "b"]
    assert topological_order(["a", "b"], [("a", "b"), ("a", "b")]) == ["a", "b"]  # duplicate edge
    assert topological_order(["a", "b"], [("a", "unknown"), ("ghost", "b")]) == ["a", "b"]
    assert topological_order([], []) == []


@pytest.mark.parametrize(
    "edges",
    [
        [("a", "a")],
        [("a", "b"), ("b", "a")],
        [("a", "b"), ("b", "c"), ("c", "a")],
        [(SRC, "a"), ("a", "b"), ("b", "c"), ("c", "b")],
    ],
)
def test_topological_order_returns_none_on_a_cycle(edges: list[tuple[str, str]]) -> None:
    assert topological_order(["a", "b", "c"], edges) is None


def test_build_rejects_a_cycle() -> None:
    with pytest.raises(ValueError, match="cycle"):
        make_graph(["a", "b"], [(SRC, "a"), ("a", "b"), ("b", "a")])


@pytest.mark.parametrize(
    ("nodes", "edges", "members"),
    [
        (["a"], [("a", "a")], {"a"}),
        (["a", "b"], [("a", "b"), ("b", "a")], {"a", "b"}),
        (["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")], {"b", "c", "d"}),
        (["x", "a", "b"], [("x", "a"), ("a", "b"), ("b", "a"), ("x", "ghost")], {"a", "b"}),
        (["a", "b", "c"], [(SRC, "a"), ("a", "b"), ("b", "c"), ("c", "a")], {"a", "b", "c"}),
    ],
)
def test_find_cycle_returns_a_closed_cycle(nodes: list[str], edges: list[tuple[str, str]], members: set[str]) -> None:
    cycle = find_cycle(nodes, edges)
    assert_closed_cycle(cycle, edges)
    assert cycle is not None
    assert set(cycle) == members


def test_find_cycle_none_on_a_dag() -> None:
    assert find_cycle(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]) is None
    assert find_cycle([], []) is None
    assert find_cycle(["a"], [("a", "ghost"), ("ghost", "a")]) is None


def test_reachable() -> None:
    edges = [(SRC, "a"), ("a", "b"), ("a", "c"), ("c", "d"), ("e", "f")]
    assert reachable(SRC, edges) == {"a", "b", "c", "d"}
    assert reachable("a", edges) == {"b", "c", "d"}
    assert reachable("c", edges) == {"d"}
    assert reachable("d", edges) == set()
    assert reachable("unknown", edges) == set()
    assert reachable("a", [("a", "b"), ("b", "a")]) == {"a", "b"}  # on a cycle, itself included
    assert reachable("a", [("a", "a")]) == {"a"}


def test_ancestors_and_parents() -> None:
    # a -> b -> d ; a -> c -> e -> d ; x -> e ; y (alone)
    graph = make_graph(
        ["a", "b", "c", "d", "e", "x", "y"],
        [(SRC, "a"), (SRC, "x"), (SRC, "y"), ("a", "b"), ("a", "c"), ("b", "d"), ("c", "e"), ("e", "d"), ("x", "e")],
    )
    assert graph.ancestors("a") == frozenset()
    assert graph.ancestors("y") == frozenset()
    assert graph.ancestors("b") == {"a"}
    assert graph.ancestors("e") == {"a", "c", "x"}
    assert graph.ancestors("d") == {"a", "b", "c", "e", "x"}
    assert SRC not in graph.ancestors("d")
    assert graph.parents("d") == ("b", "e")
    assert graph.parents("a") == (SRC,)


def test_parents_are_deduplicated() -> None:
    graph = make_graph(["a", "b"], [(SRC, "a"), ("a", "b", cond("if")), ("a", "b", cond("else"))])
    assert graph.parents("b") == ("a",)
    assert len(graph.incoming["b"]) == 2
    # with an if and an else edge from the same parent, b always runs
    for v in (0, 1):
        assert run_plan(graph, {"a": S.COMPLETED}, {"a": {"v": v}}).ready == ("b",)


def test_incoming_and_outgoing() -> None:
    graph = make_graph(["a", "b"], [(SRC, "a"), ("a", "b")])
    assert [e.from_ for e in graph.incoming["a"]] == [SRC]
    assert [e.to for e in graph.outgoing[SRC]] == ["a"]
    assert [e.to for e in graph.outgoing["a"]] == ["b"]
    assert graph.outgoing["b"] == ()
