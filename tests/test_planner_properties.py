"""Property tests of the planner and of whole in-memory runs, against an independent oracle.

Hypothesis draws a random DAG of actions: ``step`` actions whose outcome is scripted (complete with a
random output, fail, or fail a few times and then complete), and ``builtin:if`` actions with a random CEL
condition over the event and the state; edges carry random conditions (``if``, ``else``, ``match``) on the
source's output, on an upstream action's state, or on the event; there is fan-out from any node, and
joins of up to four parents.

`oracle` says what must happen, computed straight from the definition in DESIGN.md ("an action runs if
at least one incoming edge is taken; skips propagate; a join waits for every parent") by recursion over
the graph, with its own evaluation of conditions and of the CEL subset drawn here. Nothing of the engine is
used by the oracle. The same oracle checks:

- the pure planner, driven by a loop that completes running actions in a random order: one at a time,
  a random handful at a time, or all at once (then the number of plans is bounded too);
- `workflow_kit.testing.run_workflow` (the real runner, concurrent, on a virtual clock).

The graph itself is checked against simple references too: its order (topological, stable in the order
the actions are declared), ancestors and cycle detection.

The examples are the same on every run (tests/conftest.py's Hypothesis profile). For a longer search,
with new examples:

    WORKFLOW_KIT_PROPERTY_EXAMPLES=5000 pytest tests/test_planner_properties.py
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from conftest import PROPERTY_EXAMPLES
from helpers import assert_closed_cycle
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from workflow_kit import ActionContext, NonRetriableError, WorkflowKit, load_workflow
from workflow_kit.engine import WorkflowGraph, plan
from workflow_kit.engine.graph import find_cycle, reachable, topological_order
from workflow_kit.expressions import evaluate_bool
from workflow_kit.records import ActionStatus
from workflow_kit.retry import RetryPolicy
from workflow_kit.testing import run_workflow

SOURCE = "$source"
S = ActionStatus
PROPERTIES = settings(  # the rest (derandomized, no deadline) is conftest's Hypothesis profile
    max_examples=PROPERTY_EXAMPLES or 150,  # a few milliseconds each (make test's share of the suite's time)
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RETRIES = 2

# --------------------------------------------------------------------------------------------------------------
# The kit: a scripted action, and the builtins (builtin:if among them)

kit = WorkflowKit(retry_policy=RetryPolicy.fast(RETRIES))


@kit.action(kind="step", name="Scripted step")
async def step(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
    """Does what its inputs say: fail for good, fail `flaky` times and then complete, or complete."""
    if inputs["fail"]:
        raise NonRetriableError(f"{ctx.action.id} fails on purpose")
    if ctx.attempt < inputs["flaky"]:
        raise RuntimeError(f"{ctx.action.id} flakes (attempt {ctx.attempt})")
    return inputs["output"]


# --------------------------------------------------------------------------------------------------------------
# Random workflows

VALUES: list[Any] = [
    None,
    False,
    True,
    0,
    1,
    1.0,
    2,
    2.0,
    -1,
    "",
    "a",
    "0",
    "1",
    [],
    [0],
    [1],
    {},
    {"k": 1},
    {"k": "a"},
]
EVENT_KEYS = ("x", "y")
MAX_PARENTS = 4


@dataclass
class Node:
    id: str
    kind: str  # "step" or "if"
    fail: bool = False
    flaky: int = 0
    output: Any = None  # a step's output (always {"v": ...}); None for an if
    cel: Any = None  # an if's condition, as a small tree (see `cel_text` and `cel_value`)


@dataclass
class Edge:
    source: str
    target: str
    conditional: dict[str, Any] | None = None


@dataclass
class Case:
    nodes: list[Node]  # in a topological order (index order)
    edges: list[Edge]
    declared: list[str]  # the order the actions are listed in the workflow
    event: dict[str, Any]
    by_id: dict[str, Node] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {n.id: n for n in self.nodes}

    def parents(self, action_id: str) -> set[str]:
        return {e.source for e in self.edges if e.target == action_id and e.source != SOURCE}

    def ancestors(self, action_id: str) -> set[str]:
        found: set[str] = set()
        frontier = list(self.parents(action_id))
        while frontier:
            parent = frontier.pop()
            if parent not in found:
                found.add(parent)
                frontier.extend(self.parents(parent))
        return found

    def workflow(self) -> dict[str, Any]:
        actions = []
        for action_id in self.declared:
            node = self.by_id[action_id]
            if node.kind == "if":
                actions.append({"id": node.id, "kind": "builtin:if", "inputs": {"condition": cel_text(node.cel)}})
            else:
                inputs = {"fail": node.fail, "flaky": node.flaky, "output": node.output}
                actions.append({"id": node.id, "kind": "step", "inputs": inputs})
        edges = []
        for edge in self.edges:
            item: dict[str, Any] = {"from": edge.source, "to": edge.target}
            if edge.conditional is not None:
                item["conditional"] = edge.conditional
            edges.append(item)
        return {"name": "random", "actions": actions, "edges": edges}


def cel_text(tree: Any) -> str:
    op = tree[0]
    if op == "flag":
        return f"event.data.flags[{tree[1]}]"
    if op == "has":
        return f"has(state.{tree[1]})"
    if op == "gt":
        return f"event.data.n > {tree[1]}"
    if op == "not":
        return f"!({cel_text(tree[1])})"
    return f"({cel_text(tree[1])}) {'&&' if op == 'and' else '||'} ({cel_text(tree[2])})"


# The strategies are built once: building one per draw (for each node's ancestors, say) costs Hypothesis more
# than the whole check of an example.
CEL_TREES = st.recursive(
    st.one_of(
        st.tuples(st.just("flag"), st.integers(0, 2)),
        st.tuples(st.just("gt"), st.integers(-1, 3)),
        st.tuples(st.just("has"), st.integers(0, 11)),  # an ancestor, by its index: see `naming_ancestors`
    ),
    lambda inner: st.one_of(st.tuples(st.just("not"), inner), st.tuples(st.sampled_from(["and", "or"]), inner, inner)),
    max_leaves=4,
)
CONDITION_KINDS = st.sampled_from(["none", "none", "if", "else", "match"])
DRAWN_VALUES = st.sampled_from(VALUES)
INDICES = st.integers(0, 1_000)
PARENT_INDICES = st.lists(INDICES, max_size=MAX_PARENTS)
FLAGS = st.lists(st.booleans(), min_size=3, max_size=3)


def naming_ancestors(tree: Any, ancestors: list[str]) -> Any:
    """The drawn tree with each ``has`` atom naming an ancestor (a flag where the node has none)."""
    op = tree[0]
    if op == "has":
        return ("has", ancestors[tree[1] % len(ancestors)]) if ancestors else ("flag", tree[1] % 3)
    if op == "not":
        return ("not", naming_ancestors(tree[1], ancestors))
    if op in ("and", "or"):
        return (op, naming_ancestors(tree[1], ancestors), naming_ancestors(tree[2], ancestors))
    return tree


def output_field(node: Node) -> str:
    return "result" if node.kind == "if" else "v"


@st.composite
def conditions(draw: st.DrawFn, source: Node | None, upstream: list[Node]) -> dict[str, Any] | None:
    """A condition for an edge from `source` (None: from $source); `upstream` are the nodes whose state
    the condition may read (the source and its ancestors)."""
    refs = [f"!ref($.event.data.{key})" for key in EVENT_KEYS]
    if source is not None:
        refs += [f"!ref($.output.{output_field(source)})"] * 3  # the common case: the source's own output
        refs += [f"!ref($.state.{n.id}.{output_field(n)})" for n in upstream]
        if source.kind == "step":
            refs.append("!ref($.output.v.k)")
    kind = draw(CONDITION_KINDS)
    if kind == "none":
        return None
    if source is not None and source.kind == "if" and kind in ("if", "else") and draw(st.booleans()):
        ref = "!ref($.output.result)"  # the If's own True / False edges
    else:
        ref = refs[draw(INDICES) % len(refs)]
    conditional: dict[str, Any] = {"type": kind, "ref": ref}
    if kind == "match":
        conditional["value"] = draw(DRAWN_VALUES)
    return conditional


@st.composite
def cases(
    draw: st.DrawFn, max_actions: int = 12, failures: bool | None = None, conditioned: bool | None = None
) -> Case:
    """A random workflow and event. `failures`: whether steps may fail for good; `conditioned`: whether
    edges may carry conditions; each drawn when not given (mostly yes)."""
    failures = draw(st.integers(0, 3)) > 0 if failures is None else failures
    conditioned = draw(st.integers(0, 3)) > 0 if conditioned is None else conditioned
    n = draw(st.integers(1, max_actions))
    nodes: list[Node] = []
    edges: list[Edge] = []
    for i in range(n):
        node_id = f"n{i}"
        parents = sorted({p % i for p in draw(PARENT_INDICES)}) if i else []
        sources: list[str] = [f"n{p}" for p in parents]
        if not sources or draw(st.integers(0, 4)) == 0:
            sources.insert(0, SOURCE)
        provisional = Case(nodes, [*edges, *(Edge(s, node_id) for s in sources)], [], {})
        ancestors = sorted(provisional.ancestors(node_id))
        if draw(st.integers(0, 3)) == 0:
            node = Node(node_id, "if", cel=naming_ancestors(draw(CEL_TREES), ancestors))
        else:
            fail = failures and draw(st.integers(0, 9)) == 0
            flaky = draw(st.integers(0, RETRIES)) if draw(st.integers(0, 4)) == 0 else 0
            node = Node(node_id, "step", fail=fail, flaky=flaky, output={"v": draw(DRAWN_VALUES)})
        for source_id in sources:
            source = provisional.by_id.get(source_id)
            upstream = (
                [] if source is None else [source, *(provisional.by_id[a] for a in provisional.ancestors(source_id))]
            )
            edges.append(Edge(source_id, node_id, draw(conditions(source, upstream)) if conditioned else None))
        nodes.append(node)
    declared = draw(st.permutations([node.id for node in nodes]))
    event = {
        "name": "test/run",
        "data": {
            "flags": draw(FLAGS),
            "n": draw(st.integers(-2, 4)),
            **{key: draw(DRAWN_VALUES) for key in EVENT_KEYS},
        },
    }
    return Case(nodes, edges, list(declared), event)


# --------------------------------------------------------------------------------------------------------------
# The oracle: what must happen, straight from the definition

RUN, SKIP, FAIL, BLOCKED = "completed", "skipped", "failed", "blocked"


def js_truthy(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True  # arrays and objects, even empty ones


def same_json(left: Any, right: Any) -> bool:
    """JSON equality: numbers by value, booleans apart from numbers, objects without order."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return float(left) == float(right)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same_json(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return set(left) == set(right) and all(same_json(left[k], right[k]) for k in left)
    return type(left) is type(right) and left == right


def lookup(value: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def ref_value(ref: str, *, output: Any, state: Mapping[str, Any], event: dict[str, Any]) -> Any:
    """The value of the simple refs drawn here: ``!ref($.a.b.c)`` with plain names only."""
    assert ref.startswith("!ref($.") and ref.endswith(")")
    root, *rest = ref[len("!ref($.") : -1].split(".")
    if root == "output":
        return lookup(output, rest)
    if root == "state":
        return lookup(dict(state), rest)
    assert root == "event"
    return lookup(event, rest)


def condition_holds(conditional: dict[str, Any] | None, **values: Any) -> bool:
    if conditional is None:
        return True
    value = ref_value(conditional["ref"], **values)
    if conditional["type"] == "if":
        return js_truthy(value)
    if conditional["type"] == "else":
        return not js_truthy(value)
    return same_json(value, conditional["value"])


def cel_value(tree: Any, state: Mapping[str, Any], event: dict[str, Any]) -> bool:
    op = tree[0]
    if op == "flag":
        return bool(event["data"]["flags"][tree[1]])
    if op == "has":
        return tree[1] in state
    if op == "gt":
        return bool(event["data"]["n"] > tree[1])
    if op == "not":
        return not cel_value(tree[1], state, event)
    left, right = cel_value(tree[1], state, event), cel_value(tree[2], state, event)
    return (left and right) if op == "and" else (left or right)


@dataclass
class Expected:
    outcome: dict[str, str]  # RUN, SKIP, FAIL or BLOCKED (a parent failed or is blocked: never decided)
    outputs: dict[str, Any]  # of the actions that complete

    def having(self, outcome: str) -> set[str]:
        return {a for a, o in self.outcome.items() if o == outcome}


def oracle(case: Case) -> Expected:
    outcome: dict[str, str] = {}
    outputs: dict[str, Any] = {}

    def decide(action_id: str) -> str:
        if action_id in outcome:
            return outcome[action_id]
        incoming = [e for e in case.edges if e.target == action_id]
        parents = {e.source for e in incoming} - {SOURCE}
        if any(decide(p) in (FAIL, BLOCKED) for p in parents):
            result = BLOCKED
        else:
            # every parent is resolved; the state holds what completed (all of it upstream of here)
            taken = any(
                condition_holds(
                    e.conditional,
                    output=None if e.source == SOURCE else outputs.get(e.source),
                    state=outputs,
                    event=case.event,
                )
                for e in incoming
                if e.source == SOURCE or outcome[e.source] == RUN
            )
            node = case.by_id[action_id]
            if not taken:
                result = SKIP
            elif node.kind == "step" and node.fail:
                result = FAIL
            else:
                result = RUN
                ancestor_state = {a: outputs[a] for a in case.ancestors(action_id) if a in outputs}
                is_if = node.kind == "if"
                outputs[action_id] = (
                    {"result": cel_value(node.cel, ancestor_state, case.event)} if is_if else node.output
                )
        outcome[action_id] = result
        return result

    for node in case.nodes:
        decide(node.id)
    return Expected(outcome, outputs)


# --------------------------------------------------------------------------------------------------------------
# Driving the pure planner


Completing = Literal["one", "some", "all"]
COMPLETING: st.SearchStrategy[Completing] = st.sampled_from(["one", "some", "all"])


@dataclass
class Driven:
    statuses: dict[str, ActionStatus]
    outputs: dict[str, Any]
    history: list[str]  # "started a", "completed a", "failed a", "skipped a", in order
    plans: int  # how many times the planner was called


def drive_planner(case: Case, data: st.DataObject, completing: Completing) -> Driven:
    """Plan, start what is ready, finish running actions (`completing`: one chosen at random, a random
    non-empty handful, or all of them), repeat. A step ends as scripted (a flaky one completes: retries are
    the runner's business); an If evaluates its CEL.

    As the runner does, every plan after the first looks only at the children of what just completed
    (`frontier`); each must equal the plan that looks at every action."""
    graph = WorkflowGraph.build(load_workflow(case.workflow()))
    position = {action_id: i for i, action_id in enumerate(graph.order)}
    statuses: dict[str, ActionStatus] = {}
    outputs: dict[str, Any] = {}
    running: list[str] = []
    history: list[str] = []
    frontier: list[str] | None = None
    plans = 0
    for _ in range(4 * len(case.nodes) + 4):
        before = (copy.deepcopy(statuses), copy.deepcopy(outputs), copy.deepcopy(case.event))
        decided = plan(graph, statuses, outputs, case.event, frontier=frontier)
        plans += 1
        assert (statuses, outputs, case.event) == before, "plan() changed its inputs"
        if frontier is not None:
            assert decided == plan(graph, statuses, outputs, case.event), f"the plan of frontier {frontier} differs"

        assert not set(decided.ready) & set(decided.skipped)
        assert len(set(decided.ready)) == len(decided.ready) and len(set(decided.skipped)) == len(decided.skipped)
        assert list(decided.ready) == sorted(decided.ready, key=position.__getitem__), "ready: not in graph order"
        assert list(decided.skipped) == sorted(decided.skipped, key=position.__getitem__), "skipped: not in order"
        skipped_now: set[str] = set()
        for action_id in [*decided.skipped, *decided.ready]:
            assert statuses.get(action_id, S.PENDING) is S.PENDING, f"{action_id} decided twice"
        for action_id in decided.skipped:
            unresolved = [p for p in case.parents(action_id) if not statuses.get(p, S.PENDING).resolved]
            assert set(unresolved) <= skipped_now, f"{action_id} skipped before its parents {unresolved} resolved"
            skipped_now.add(action_id)
        for action_id in decided.ready:
            unresolved = [p for p in case.parents(action_id) if not statuses.get(p, S.PENDING).resolved]
            assert set(unresolved) <= set(decided.skipped), f"{action_id} ready before {unresolved} resolved"

        for action_id in decided.skipped:
            statuses[action_id] = S.SKIPPED
            history.append(f"skipped {action_id}")
        for action_id in decided.ready:
            statuses[action_id] = S.RUNNING
            running.append(action_id)
            history.append(f"started {action_id}")

        everything_resolved = all(statuses.get(n.id, S.PENDING).resolved for n in case.nodes)
        assert decided.finished == (everything_resolved and not decided.ready)
        if not running:
            break
        candidates = sorted(running)
        if completing == "one":
            done = [data.draw(st.sampled_from(candidates), label="finishes next")]
        elif completing == "some":
            done = data.draw(st.lists(st.sampled_from(candidates), min_size=1, unique=True), label="finish next")
        else:
            done = candidates
        for action_id in done:
            running.remove(action_id)
            node = case.by_id[action_id]
            if node.kind == "if":
                statuses[action_id] = S.COMPLETED
                state = {"event": case.event, "state": outputs}
                outputs[action_id] = {"result": evaluate_bool(cel_text(node.cel), state)}
            elif node.fail:
                statuses[action_id] = S.FAILED
            else:
                statuses[action_id] = S.COMPLETED
                outputs[action_id] = node.output
            history.append(f"{statuses[action_id]} {action_id}")
        frontier = [child for a in done if statuses[a] is S.COMPLETED for child in graph.children(a)]
    else:
        raise AssertionError("the planner made no progress")
    return Driven(statuses, outputs, history, plans)


def check_order(case: Case, history: list[str]) -> None:
    """Each action is decided (started or skipped) once, ends once, and only after every parent ended."""
    position: dict[str, int] = {}
    for i, entry in enumerate(history):
        what, action_id = entry.split(" ")
        key = f"{'decided' if what in ('started', 'skipped') else 'ended'} {action_id}"
        assert key not in position, f"{key} twice in {history}"
        position[key] = i
        if what == "skipped":
            position[f"ended {action_id}"] = i
    for action_id in {entry.split(" ")[1] for entry in history}:
        if f"decided {action_id}" not in position:
            raise AssertionError(f"{action_id} ended without being started: {history}")
        for parent in case.parents(action_id):
            ended = position.get(f"ended {parent}")
            assert ended is not None and ended < position[f"decided {action_id}"], (
                f"{action_id} was decided before its parent {parent} ended: {history}"
            )


@PROPERTIES
@given(cases(), st.data(), COMPLETING)
def test_the_planner_does_what_the_oracle_says(case: Case, data: st.DataObject, completing: Completing) -> None:
    note(f"workflow: {case.workflow()}\nevent: {case.event}")
    expected = oracle(case)
    describe(case, expected)
    event(f"completing: {completing}")
    driven = drive_planner(case, data, completing)
    check_order(case, driven.history)
    as_oracle = {
        S.COMPLETED: RUN,
        S.SKIPPED: SKIP,
        S.FAILED: FAIL,
        S.PENDING: BLOCKED,  # never decided: a parent failed (or was blocked itself)
    }
    found = {n.id: as_oracle[driven.statuses.get(n.id, S.PENDING)] for n in case.nodes}
    assert found == expected.outcome
    assert driven.outputs == expected.outputs
    if not expected.having(FAIL):  # every action ends executed or skipped, each once
        assert all(driven.statuses[n.id] in (S.COMPLETED, S.SKIPPED) for n in case.nodes)
        started = [entry for entry in driven.history if entry.startswith("started")]
        skipped = [entry for entry in driven.history if entry.startswith("skipped")]
        assert len(started) + len(skipped) == len(case.nodes)
    if not any(e.conditional for e in case.edges) and not expected.having(FAIL):
        assert set(driven.statuses.values()) == {S.COMPLETED}  # nothing to skip
    if completing == "all":  # a plan per level of the graph, and the last
        assert driven.plans <= len(case.nodes) + 1


# --------------------------------------------------------------------------------------------------------------
# Driving the real runner (in memory)


def describe(case: Case, expected: Expected) -> None:
    """Label the example, so that ``--hypothesis-show-statistics`` shows what the search covers."""
    event(f"actions: {len(case.nodes) // 4 * 4}-{len(case.nodes) // 4 * 4 + 3}")
    event(f"joins: {sum(len(case.parents(n.id)) > 1 for n in case.nodes) > 0}")
    event(f"if actions: {any(n.kind == 'if' for n in case.nodes)}")
    event(f"skipped: {len(expected.having(SKIP)) > 0}")
    event(f"fails: {len(expected.having(FAIL)) > 0}")
    event(f"blocked: {len(expected.having(BLOCKED)) > 0}")
    event(f"skipped join: {any(len(case.parents(a)) > 1 for a in expected.having(SKIP))}")


def check_run(case: Case) -> None:
    expected = oracle(case)
    if currently_in_test_context():
        describe(case, expected)
    result = run_workflow(kit, case.workflow(), case.event)
    if currently_in_test_context():
        note(f"trace: {result.trace}")

    started = [a for what, a in result.trace if what == "started"]
    skipped = [a for what, a in result.trace if what == "skipped"]
    ended = [a for what, a in result.trace if what in ("completed", "failed")]
    assert result.executed == started
    assert result.skipped == skipped
    assert len(started) == len(set(started)), "an action started twice"
    assert len(skipped) == len(set(skipped)), "an action was skipped twice"
    assert len(ended) == len(set(ended)), "an action ended twice"
    assert not set(started) & set(skipped), "an action was both executed and skipped"
    assert set(ended) <= set(started)

    # the order respects every edge: an action is started or skipped only after all its parents ended
    history = [f"{what} {a}" for what, a in result.trace]
    check_order(case, history)

    if expected.having(FAIL):
        assert result.status == "failed"
        assert result.error is not None and result.error["action"] in expected.having(FAIL)
        assert set(started) <= expected.having(RUN) | expected.having(FAIL)
        assert set(skipped) <= expected.having(SKIP)
        assert set(result.state) <= expected.having(RUN)
        assert all(result.state[a] == expected.outputs[a] for a in result.state)
    else:
        assert result.status == "completed", result.error
        assert result.error is None
        assert set(started) == expected.having(RUN)
        assert set(skipped) == expected.having(SKIP)
        assert set(started) | set(skipped) == {n.id for n in case.nodes}
        assert result.state == expected.outputs
    for action_id in result.state:  # each completed action ran once, plus one retry per scripted flake
        node = case.by_id[action_id]
        assert len(result.actions[action_id].attempts) == (node.flaky + 1 if node.kind == "step" else 1)


@PROPERTIES
@given(cases())
def test_in_memory_runs_do_what_the_oracle_says(case: Case) -> None:
    note(f"workflow: {case.workflow()}\nevent: {case.event}")
    check_run(case)


# --------------------------------------------------------------------------------------------------------------
# The oracle itself, on cases small enough to check by hand


def test_oracle_join_runs_once_if_any_edge_is_taken() -> None:
    nodes = [Node("n0", "step", output={"v": 1}), Node("n1", "step", output={"v": 0}), Node("n2", "step")]
    edges = [
        Edge(SOURCE, "n0"),
        Edge(SOURCE, "n1"),
        Edge("n0", "n2", {"type": "if", "ref": "!ref($.output.v)"}),
        Edge("n1", "n2", {"type": "if", "ref": "!ref($.output.v)"}),
    ]
    case = Case(nodes, edges, ["n0", "n1", "n2"], {"name": "e", "data": {}})
    assert oracle(case).outcome == {"n0": RUN, "n1": RUN, "n2": RUN}
    check_run(case)


def test_oracle_skips_propagate_to_grandchildren() -> None:
    nodes = [Node("n0", "step", output={"v": 0}), Node("n1", "step"), Node("n2", "step")]
    edges = [Edge(SOURCE, "n0"), Edge("n0", "n1", {"type": "if", "ref": "!ref($.output.v)"}), Edge("n1", "n2")]
    case = Case(nodes, edges, ["n2", "n1", "n0"], {"name": "e", "data": {}})
    assert oracle(case).outcome == {"n0": RUN, "n1": SKIP, "n2": SKIP}
    check_run(case)


def test_oracle_if_branches_and_a_failure_blocks_its_descendants() -> None:
    nodes = [
        Node("n0", "if", cel=("flag", 0)),
        Node("n1", "step", output={"v": "t"}),
        Node("n2", "step", fail=True),
        Node("n3", "step"),
    ]
    edges = [
        Edge(SOURCE, "n0"),
        Edge("n0", "n1", {"type": "if", "ref": "!ref($.output.result)"}),
        Edge("n0", "n2", {"type": "else", "ref": "!ref($.output.result)"}),
        Edge("n2", "n3"),
    ]
    taken = Case(nodes, edges, ["n0", "n1", "n2", "n3"], {"name": "e", "data": {"flags": [True]}})
    assert oracle(taken).outcome == {"n0": RUN, "n1": RUN, "n2": SKIP, "n3": SKIP}
    check_run(taken)
    other = Case(nodes, edges, ["n0", "n1", "n2", "n3"], {"name": "e", "data": {"flags": [False]}})
    assert oracle(other).outcome == {"n0": RUN, "n1": SKIP, "n2": FAIL, "n3": BLOCKED}
    check_run(other)


# --------------------------------------------------------------------------------------------------------------
# The graph: order, ancestors, cycles


def reference_order(declared: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Greedy: repeatedly take the earliest-declared action whose parents are all placed."""
    parents = {a: {source for source, target in edges if target == a and source != SOURCE} for a in declared}
    placed: list[str] = []
    remaining = list(declared)
    while remaining:
        following = next(a for a in remaining if parents[a] <= set(placed))
        placed.append(following)
        remaining.remove(following)
    return placed


@PROPERTIES
@given(cases(max_actions=25, failures=False, conditioned=False))
def test_the_graph_order_is_topological_and_stable_and_ancestors_are_the_reachable_parents(case: Case) -> None:
    graph = WorkflowGraph.build(load_workflow(case.workflow()))
    ids = [n.id for n in case.nodes]
    edges = [(e.source, e.target) for e in case.edges]
    assert list(graph.order) == reference_order(case.declared, edges)
    assert sorted(graph.order) == sorted(ids)
    position = {a: i for i, a in enumerate(graph.order)}
    for source, target in edges:
        if source != SOURCE:
            assert position[source] < position[target]
    reversed_edges = [(t, s) for s, t in edges if s != SOURCE]
    for a in ids:
        assert graph.ancestors(a) == reachable(a, reversed_edges) == case.ancestors(a)
    assert reachable(SOURCE, edges) == set(ids)
    assert find_cycle(case.declared, edges) is None
    assert topological_order(case.declared, edges) == list(graph.order)


@PROPERTIES
@given(cases(max_actions=15, failures=False, conditioned=False), st.data())
def test_a_back_edge_makes_a_cycle(case: Case, data: st.DataObject) -> None:
    plain_edges = [(e.source, e.target) for e in case.edges if e.source != SOURCE]
    if not plain_edges:
        # no inner edge: add a self-loop on some action
        node = data.draw(st.sampled_from([n.id for n in case.nodes]))
        back = (node, node)
    else:
        # close a path: pick an edge u -> v and add v' -> u for some descendant v' of v (or v itself)
        u, v = data.draw(st.sampled_from(plain_edges))
        back = (data.draw(st.sampled_from(sorted({v} | reachable(v, plain_edges)))), u)
    cyclic = [*plain_edges, back]
    assert topological_order(case.declared, cyclic) is None
    assert_closed_cycle(find_cycle(case.declared, cyclic), cyclic)
