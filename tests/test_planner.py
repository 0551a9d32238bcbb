"""Tests for the pure planner (`workflow_kit.engine.planner`), the graph helpers and edge conditions."""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def assert_closed_cycle(cycle: list[str] | None, edges: list[tuple[str, str]]) -> None:
    assert cycle is not None
    assert len(cycle) >= 2
    assert cycle[0] == cycle[-1]
    assert len(set(cycle[:-1])) == len(cycle) - 1  # a simple cycle
    edge_set = set(edges)
    for source, target in itertools.pairwise(cycle):
        assert (source, target) in edge_set


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


# --------------------------------------------------------------------------------------------------------------
# property tests: random DAGs, simulated runs

VALUES: list[Any] = [None, False, True, 0, 1, 1.0, 2, "", "a", "1", [], {}, [1], {"k": 1}]


def canon(value: Any) -> Any:
    """An independent canonical form for strict JSON equality (numbers by value, bools apart)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("num", float(value))
    if isinstance(value, str):
        return ("str", value)
    if value is None:
        return ("null",)
    if isinstance(value, list):
        return ("list", tuple(canon(v) for v in value))
    if isinstance(value, dict):
        return ("obj", frozenset((k, canon(v)) for k, v in value.items()))
    raise TypeError(value)


def js_truthy(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return len(value) > 0
    return True  # arrays and objects, even empty


def oracle_condition(conditional: dict[str, Any] | None, output: Any) -> bool:
    if conditional is None:
        return True
    value = output.get("v") if isinstance(output, dict) else None
    if conditional["type"] == "if":
        return js_truthy(value)
    if conditional["type"] == "else":
        return not js_truthy(value)
    return canon(value) == canon(conditional.get("value"))


conditionals = st.one_of(
    st.none(),
    st.sampled_from(["if", "else"]).map(cond),
    st.sampled_from(VALUES).map(lambda v: cond("match", "!ref($.output.v)", v)),
)


@st.composite
def random_dags(draw: st.DrawFn, *, with_conditions: bool = True, max_actions: int = 25) -> dict[str, Any]:
    """A random DAG: logical index i may only have edges from lower indices (and $source); every node has at
    least one incoming edge. Actions are declared in a shuffled order to exercise stable ordering."""
    n = draw(st.integers(min_value=1, max_value=max_actions))
    ids = [f"n{i}" for i in range(n)]
    edges: list[tuple[str, str, dict[str, Any] | None]] = []
    for i in range(n):
        parents = draw(st.lists(st.integers(min_value=0, max_value=i - 1), max_size=3)) if i else []
        sources = [ids[p] for p in parents]
        if not sources or draw(st.booleans()):
            sources.append(SRC)
        for source in sources:
            conditional = draw(conditionals) if with_conditions else None
            edges.append((source, ids[i], conditional))
    declared = draw(st.permutations(ids))
    outputs = {a: {"v": draw(st.sampled_from(VALUES))} for a in ids}
    return {"ids": ids, "declared": list(declared), "edges": edges, "outputs": outputs}


def reference_order(declared: list[str], edges: list[tuple[str, str, Any]]) -> list[str]:
    """Greedy: repeatedly take the earliest-declared action whose parents are all placed."""
    parents = {a: {e[0] for e in edges if e[1] == a and e[0] != SRC} for a in declared}
    placed: list[str] = []
    remaining = list(declared)
    while remaining:
        nxt = next(a for a in remaining if parents[a] <= set(placed))
        placed.append(nxt)
        remaining.remove(nxt)
    return placed


def reference_outcome(dag: dict[str, Any]) -> dict[str, ActionStatus]:
    """Sequential reference semantics in logical index order (which is topological)."""
    outcome: dict[str, ActionStatus] = {}
    for a in dag["ids"]:
        taken = False
        for source, target, conditional in dag["edges"]:
            if target != a:
                continue
            if source == SRC:
                taken |= oracle_condition(conditional, None)
            elif outcome[source] is S.COMPLETED:
                taken |= oracle_condition(conditional, dag["outputs"][source])
        outcome[a] = S.COMPLETED if taken else S.SKIPPED
    return outcome


def simulate(dag: dict[str, Any], graph: WorkflowGraph, data: st.DataObject | None) -> tuple[dict[str, Any], int]:
    """Run the planner to the end, checking per-call invariants. With `data`, only a random non-empty subset
    of the running actions completes each round; without, every ready action completes at once."""
    ids: list[str] = dag["ids"]
    parents = {a: {e[0] for e in dag["edges"] if e[1] == a} for a in ids}
    statuses: dict[str, ActionStatus] = {}
    outputs: dict[str, Any] = {}
    running: list[str] = []
    history: list[tuple[str, str]] = []
    calls = 0
    limit = 3 * len(ids) + 5
    while True:
        calls += 1
        assert calls <= limit, "the planner does not make progress"
        before_statuses = dict(statuses)
        before_outputs = copy.deepcopy(outputs)
        p = plan(graph, statuses, outputs, {})
        assert statuses == before_statuses
        assert outputs == before_outputs

        decided_now = [*p.ready, *p.skipped]
        assert len(set(decided_now)) == len(decided_now), "an action decided twice in one call"
        for a in decided_now:
            assert a in graph.actions
            assert statuses.get(a, S.PENDING) is S.PENDING, f"{a} decided again"

        # each decision happens only once every parent is resolved (before the call, or skipped earlier in it)
        skipped_so_far: set[str] = set()
        for a in p.skipped:
            for parent in parents[a] - {SRC}:
                assert statuses.get(parent, S.PENDING).resolved or parent in skipped_so_far
            skipped_so_far.add(a)
        for a in p.ready:
            for parent in parents[a] - {SRC}:
                assert statuses.get(parent, S.PENDING).resolved or parent in p.skipped

        # ready/skipped lists are parents first (graph order)
        position = {a: i for i, a in enumerate(graph.order)}
        assert list(p.ready) == sorted(p.ready, key=position.__getitem__)
        assert list(p.skipped) == sorted(p.skipped, key=position.__getitem__)

        for a in p.skipped:
            statuses[a] = S.SKIPPED
            history.append((a, "skipped"))
        for a in p.ready:
            statuses[a] = S.RUNNING
            running.append(a)

        all_resolved = all(statuses.get(a, S.PENDING).resolved for a in ids)
        assert p.finished is (all_resolved and not p.ready)
        if p.finished:
            assert not running
            break
        assert running, "not finished, yet nothing is running and nothing was decided"

        if data is None:
            done = list(running)
        else:
            done = data.draw(st.lists(st.sampled_from(running), min_size=1, unique=True), label="complete")
        for a in done:
            running.remove(a)
            statuses[a] = S.COMPLETED
            outputs[a] = dag["outputs"][a]
            history.append((a, "completed"))

    return {"statuses": statuses, "outputs": outputs, "history": history}, calls


def check_final(dag: dict[str, Any], result: dict[str, Any]) -> None:
    ids: list[str] = dag["ids"]
    statuses: dict[str, ActionStatus] = result["statuses"]
    history: list[tuple[str, str]] = result["history"]

    executed = [a for a, what in history if what == "completed"]
    skipped = [a for a, what in history if what == "skipped"]
    assert len(executed) == len(set(executed)), "an action ran twice"
    assert len(skipped) == len(set(skipped)), "an action was skipped twice"
    assert not set(executed) & set(skipped), "an action was both executed and skipped"
    assert set(executed) | set(skipped) == set(ids)
    assert all(statuses[a] in (S.COMPLETED, S.SKIPPED) for a in ids)

    # order respects every edge: a child's decision comes after its parent's
    when = {a: i for i, (a, _) in enumerate(history)}
    for source, target, _ in dag["edges"]:
        if source != SRC:
            assert when[source] < when[target], f"{target} decided before its parent {source}"

    # runs iff at least one incoming edge is taken, given the final statuses and outputs
    for a in ids:
        taken = any(
            oracle_condition(conditional, None if source == SRC else dag["outputs"][source])
            for source, target, conditional in dag["edges"]
            if target == a and (source == SRC or statuses[source] is S.COMPLETED)
        )
        assert (statuses[a] is S.COMPLETED) is taken, a

    assert statuses == reference_outcome(dag)


def build(dag: dict[str, Any]) -> WorkflowGraph:
    data = {
        "actions": [{"id": a, "kind": "noop"} for a in dag["declared"]],
        "edges": [{"from": s, "to": t, **({"conditional": c} if c is not None else {})} for s, t, c in dag["edges"]],
    }
    return WorkflowGraph.build(load_workflow(data))


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(random_dags())
def test_property_run_completing_every_ready_action(dag: dict[str, Any]) -> None:
    graph = build(dag)
    result, calls = simulate(dag, graph, None)
    check_final(dag, result)
    assert calls <= len(dag["ids"]) + 1


@PROPERTY_SETTINGS
@given(random_dags(), st.data())
def test_property_run_with_random_partial_completion(dag: dict[str, Any], data: st.DataObject) -> None:
    graph = build(dag)
    result, _ = simulate(dag, graph, data)
    check_final(dag, result)


@PROPERTY_SETTINGS
@given(random_dags(with_conditions=False))
def test_property_without_conditions_every_action_runs(dag: dict[str, Any]) -> None:
    graph = build(dag)
    result, calls = simulate(dag, graph, None)
    check_final(dag, result)
    assert all(result["statuses"][a] is S.COMPLETED for a in dag["ids"])
    assert [a for a, what in result["history"] if what == "skipped"] == []
    assert calls <= len(dag["ids"]) + 1


@PROPERTY_SETTINGS
@given(random_dags())
def test_property_graph_order_and_ancestors(dag: dict[str, Any]) -> None:
    graph = build(dag)
    assert list(graph.order) == reference_order(dag["declared"], dag["edges"])
    assert sorted(graph.order) == sorted(dag["ids"])
    position = {a: i for i, a in enumerate(graph.order)}
    plain_edges = [(s, t) for s, t, _ in dag["edges"]]
    for source, target in plain_edges:
        if source != SRC:
            assert position[source] < position[target]
    reversed_edges = [(t, s) for s, t in plain_edges if s != SRC]
    for a in dag["ids"]:
        assert graph.ancestors(a) == reachable(a, reversed_edges)
    assert reachable(SRC, plain_edges) == set(dag["ids"])
    assert find_cycle(dag["declared"], plain_edges) is None
    assert topological_order(dag["declared"], plain_edges) == list(graph.order)


@PROPERTY_SETTINGS
@given(random_dags(max_actions=15), st.data())
def test_property_back_edge_makes_a_cycle(dag: dict[str, Any], data: st.DataObject) -> None:
    plain_edges = [(s, t) for s, t, _ in dag["edges"] if s != SRC]
    if not plain_edges:
        # no inner edge: add a self-loop on some action
        node = data.draw(st.sampled_from(dag["ids"]))
        back = (node, node)
    else:
        # close a path: pick an edge u -> v and add v' -> u for some descendant v' of v (or v itself)
        u, v = data.draw(st.sampled_from(plain_edges))
        back = (data.draw(st.sampled_from(sorted({v} | reachable(v, plain_edges)))), u)
    cyclic = [*plain_edges, back]
    assert topological_order(dag["declared"], cyclic) is None
    cycle = find_cycle(dag["declared"], cyclic)
    assert_closed_cycle(cycle, cyclic)
