"""Issue 2 acceptance: order, concurrency, joins, conditions, skips, refs."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.testing import arun_workflow, run_workflow

EVENT = {
    "name": "app/x",
    "data": {
        "name": "Ann",
        "n": 5,
        "flag": True,
        "nothing": None,
        "ratio": 1.5,
        "items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
        "profile": {"email": "ann@example.com", "tags": ["x", "y"]},
        "odd-key": {"a b": 3},
    },
}


def _kit(log: list[tuple[str, str, float]] | None = None) -> WorkflowKit:
    kit = WorkflowKit()
    log = log if log is not None else []

    @kit.action(kind="echo", name="Echo", description="d", icon="e")
    def echo(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        log.append(("start", ctx.action.id, time.monotonic()))
        log.append(("end", ctx.action.id, time.monotonic()))
        return dict(inputs)

    @kit.action(kind="const", name="Const", description="d", icon="c")
    def const(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        log.append(("start", ctx.action.id, time.monotonic()))
        log.append(("end", ctx.action.id, time.monotonic()))
        return inputs.get("value")

    @kit.action(kind="wait", name="Wait", description="d", icon="w")
    async def wait(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        log.append(("start", ctx.action.id, time.monotonic()))
        await asyncio.sleep(float(inputs["seconds"]))
        log.append(("end", ctx.action.id, time.monotonic()))
        return ctx.action.id

    @kit.action(kind="block", name="Block", description="d", icon="b")
    def block(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        log.append(("start", ctx.action.id, time.monotonic()))
        time.sleep(float(inputs["seconds"]))
        log.append(("end", ctx.action.id, time.monotonic()))
        return ctx.action.id

    return kit


def _e(f: str, t: str, cond: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"from": f, "to": t, **({"conditional": cond} if cond else {})}


def _run(wf: dict[str, Any], log: list[tuple[str, str, float]] | None = None, **kw: Any) -> Any:
    return run_workflow(_kit(log), wf, EVENT, **kw)


# ---- order and concurrency -------------------------------------------------------------------------


def test_independent_async_branches_run_concurrently() -> None:
    wf = {
        "actions": [
            {"id": "root", "kind": "const", "inputs": {"value": 1}},
            {"id": "x", "kind": "wait", "inputs": {"seconds": 0.3}},
            {"id": "y", "kind": "wait", "inputs": {"seconds": 0.3}},
        ],
        "edges": [_e("$source", "root"), _e("root", "x"), _e("root", "y")],
    }
    t0 = time.monotonic()
    result = _run(wf)
    elapsed = time.monotonic() - t0
    assert result.status == "completed"
    assert elapsed < 0.5, elapsed


async def test_independent_async_branches_run_concurrently_arun() -> None:
    wf = {
        "actions": [
            {"id": "root", "kind": "const", "inputs": {"value": 1}},
            {"id": "x", "kind": "wait", "inputs": {"seconds": 0.3}},
            {"id": "y", "kind": "wait", "inputs": {"seconds": 0.3}},
            {"id": "z", "kind": "wait", "inputs": {"seconds": 0.3}},
        ],
        "edges": [_e("$source", "root"), _e("root", "x"), _e("root", "y"), _e("root", "z")],
    }
    t0 = time.monotonic()
    result = await arun_workflow(_kit(), wf, EVENT)
    assert result.status == "completed"
    assert time.monotonic() - t0 < 0.55


def test_independent_sync_branches_run_concurrently() -> None:
    """Not spelled out for sync handlers, but "independent branches run concurrently" is general."""
    wf = {
        "actions": [
            {"id": "x", "kind": "block", "inputs": {"seconds": 0.3}},
            {"id": "y", "kind": "block", "inputs": {"seconds": 0.3}},
        ],
        "edges": [_e("$source", "x"), _e("$source", "y")],
    }
    t0 = time.monotonic()
    result = _run(wf)
    assert result.status == "completed"
    assert time.monotonic() - t0 < 0.55


def test_join_waits_for_slower_parent_and_runs_once() -> None:
    log: list[tuple[str, str, float]] = []
    wf = {
        "actions": [
            {"id": "a", "kind": "const", "inputs": {"value": 0}},
            {"id": "fast", "kind": "wait", "inputs": {"seconds": 0.01}},
            {"id": "slow1", "kind": "wait", "inputs": {"seconds": 0.05}},
            {"id": "slow2", "kind": "wait", "inputs": {"seconds": 0.1}},
            {"id": "j", "kind": "echo", "inputs": {"f": "!ref($.state.fast)", "s": "!ref($.state.slow2)"}},
        ],
        "edges": [
            _e("$source", "a"),
            _e("a", "fast"),
            _e("a", "slow1"),
            _e("slow1", "slow2"),
            _e("fast", "j"),
            _e("slow2", "j"),
        ],
    }
    result = _run(wf, log)
    assert result.status == "completed"
    assert result.executed.count("j") == 1
    assert [x for x in log if x[:2] == ("start", "j")].__len__() == 1
    end_slow = next(t for w, a, t in log if (w, a) == ("end", "slow2"))
    start_j = next(t for w, a, t in log if (w, a) == ("start", "j"))
    assert end_slow <= start_j
    assert result.state["j"] == {"f": "fast", "s": "slow2"}
    assert result.executed[-1] == "j"


def test_topological_order_for_a_chain() -> None:
    wf = {
        "actions": [{"id": str(i), "kind": "const", "inputs": {"value": i}} for i in range(6)],
        "edges": [_e("$source", "0")] + [_e(str(i), str(i + 1)) for i in range(5)],
    }
    result = _run(wf)
    assert result.executed == [str(i) for i in range(6)]


# ---- conditions and skips --------------------------------------------------------------------------


def test_match_is_strict_json_equality() -> None:
    wf = {
        "actions": [
            {"id": "a", "kind": "echo", "inputs": {"n": 42, "t": True, "z": 0, "s": "42", "o": {"k": [1]}}},
            {"id": "m1", "kind": "const", "inputs": {"value": 1}},
            {"id": "m2", "kind": "const", "inputs": {"value": 2}},
            {"id": "m3", "kind": "const", "inputs": {"value": 3}},
            {"id": "m4", "kind": "const", "inputs": {"value": 4}},
            {"id": "m5", "kind": "const", "inputs": {"value": 5}},
            {"id": "m6", "kind": "const", "inputs": {"value": 6}},
            {"id": "m7", "kind": "const", "inputs": {"value": 7}},
        ],
        "edges": [
            _e("$source", "a"),
            _e("a", "m1", {"type": "match", "ref": "!ref($.output.n)", "value": 42}),  # yes
            _e("a", "m2", {"type": "match", "ref": "!ref($.output.n)", "value": "42"}),  # no
            _e("a", "m3", {"type": "match", "ref": "!ref($.output.t)", "value": 1}),  # no (True == 1 in Python)
            _e("a", "m4", {"type": "match", "ref": "!ref($.output.z)", "value": False}),  # no (0 == False in Python)
            _e("a", "m5", {"type": "match", "ref": "!ref($.output.s)", "value": 42}),  # no
            _e("a", "m6", {"type": "match", "ref": "!ref($.output.o)", "value": {"k": [1]}}),  # yes
            _e("a", "m7", {"type": "match", "ref": "!ref($.output.o)", "value": {"k": [True]}}),  # no
        ],
    }
    result = _run(wf)
    assert set(result.executed) == {"a", "m1", "m6"}
    assert set(result.skipped) == {"m2", "m3", "m4", "m5", "m7"}


def test_if_else_truthiness() -> None:
    truthy = {"n": 5, "s": "x", "l": [1], "o": {"a": 1}, "t": True}
    falsy = {"zero": 0, "empty": "", "f": False, "null": None}
    either: dict[str, Any] = {"el": [], "eo": {}}  # JavaScript (the TS kit) calls these truthy, Python falsy: left open
    actions: list[dict[str, Any]] = [{"id": "a", "kind": "echo", "inputs": {**truthy, **falsy, **either}}]
    edges = [_e("$source", "a")]
    for k in [*truthy, *falsy, *either]:
        actions.append({"id": f"if_{k}", "kind": "const", "inputs": {"value": k}})
        actions.append({"id": f"else_{k}", "kind": "const", "inputs": {"value": k}})
        edges.append(_e("a", f"if_{k}", {"type": "if", "ref": f"!ref($.output.{k})"}))
        edges.append(_e("a", f"else_{k}", {"type": "else", "ref": f"!ref($.output.{k})"}))
    result = _run({"actions": actions, "edges": edges})
    assert result.status == "completed"
    ran = set(result.executed)
    for k in truthy:
        assert f"if_{k}" in ran and f"else_{k}" in result.skipped, k
    for k in falsy:
        assert f"else_{k}" in ran and f"if_{k}" in result.skipped, k
    for k in either:
        assert (f"if_{k}" in ran) != (f"else_{k}" in ran), k


def test_skip_propagates_and_join_with_all_parents_skipped_is_skipped() -> None:
    wf = {
        "actions": [
            {"id": "a", "kind": "const", "inputs": {"value": False}},
            {"id": "b", "kind": "const", "inputs": {"value": 1}},
            {"id": "c", "kind": "const", "inputs": {"value": 2}},
            {"id": "d", "kind": "const", "inputs": {"value": 3}},
            {"id": "j", "kind": "const", "inputs": {"value": 4}},
            {"id": "after_j", "kind": "const", "inputs": {"value": 5}},
        ],
        "edges": [
            _e("$source", "a"),
            _e("a", "b", {"type": "if", "ref": "!ref($.output)"}),
            _e("a", "c", {"type": "if", "ref": "!ref($.output)"}),
            _e("b", "d"),
            _e("d", "j"),
            _e("c", "j"),
            _e("j", "after_j"),
        ],
    }
    result = _run(wf)
    assert result.status == "completed"
    assert result.executed == ["a"]
    assert set(result.skipped) == {"b", "c", "d", "j", "after_j"}
    assert set(result.state) == {"a"}


def test_join_runs_once_when_one_incoming_edge_taken_and_refs_to_skipped_are_null() -> None:
    wf = {
        "actions": [
            {"id": "a", "kind": "const", "inputs": {"value": "left"}},
            {"id": "l", "kind": "const", "inputs": {"value": "L"}},
            {"id": "r", "kind": "echo", "inputs": {"deep": {"x": 1}}},
            {"id": "r2", "kind": "const", "inputs": {"value": "R2"}},
            {
                "id": "j",
                "kind": "echo",
                "inputs": {"l": "!ref($.state.l)", "r": "!ref($.state.r.deep.x)", "r2": "!ref($.state.r2)"},
            },
        ],
        "edges": [
            _e("$source", "a"),
            _e("a", "l", {"type": "match", "ref": "!ref($.output)", "value": "left"}),
            _e("a", "r", {"type": "match", "ref": "!ref($.output)", "value": "right"}),
            _e("r", "r2"),
            _e("l", "j"),
            _e("r2", "j"),
        ],
    }
    result = _run(wf)
    assert result.status == "completed"
    assert result.executed == ["a", "l", "j"]
    assert set(result.skipped) == {"r", "r2"}
    assert result.state["j"] == {"l": "L", "r": None, "r2": None}


def test_conditional_edge_from_source() -> None:
    wf = {
        "actions": [
            {"id": "yes", "kind": "const", "inputs": {"value": 1}},
            {"id": "no", "kind": "const", "inputs": {"value": 2}},
        ],
        "edges": [
            _e("$source", "yes", {"type": "if", "ref": "!ref($.event.data.flag)"}),
            _e("$source", "no", {"type": "else", "ref": "!ref($.event.data.flag)"}),
        ],
    }
    result = _run(wf)
    assert result.executed == ["yes"] and result.skipped == ["no"]


def test_edge_ref_can_read_state_and_event() -> None:
    wf = {
        "actions": [
            {"id": "a", "kind": "const", "inputs": {"value": 1}},
            {"id": "b", "kind": "const", "inputs": {"value": 2}},
            {"id": "c", "kind": "const", "inputs": {"value": 3}},
        ],
        "edges": [
            _e("$source", "a"),
            _e("a", "b", {"type": "match", "ref": "!ref($.event.data.name)", "value": "Ann"}),
            _e("b", "c", {"type": "match", "ref": "!ref($.state.a)", "value": 1}),
        ],
    }
    result = _run(wf)
    assert result.executed == ["a", "b", "c"]


# ---- refs ------------------------------------------------------------------------------------------


def _echo_inputs(inputs: dict[str, Any]) -> Any:
    wf = {"actions": [{"id": "a", "kind": "echo", "inputs": inputs}], "edges": [_e("$source", "a")]}
    return _run(wf)


def test_whole_string_refs_keep_json_type() -> None:
    result = _echo_inputs(
        {
            "n": "!ref($.event.data.n)",
            "f": "!ref($.event.data.flag)",
            "null": "!ref($.event.data.nothing)",
            "ratio": "!ref($.event.data.ratio)",
            "obj": "!ref($.event.data.profile)",
            "arr": "!ref($.event.data.items)",
            "str": "!ref($.event.data.name)",
            "missing": "!ref($.event.data.nope)",
            "missing_deep": "!ref($.event.data.nope.deeper[3])",
            "event": "!ref($.event.name)",
        }
    )
    assert result.status == "completed", result.error
    assert result.state["a"] == {
        "n": 5,
        "f": True,
        "null": None,
        "ratio": 1.5,
        "obj": {"email": "ann@example.com", "tags": ["x", "y"]},
        "arr": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
        "str": "Ann",
        "missing": None,
        "missing_deep": None,
        "event": "app/x",
    }
    assert type(result.state["a"]["n"]) is int


def test_embedded_refs_render_json() -> None:
    result = _echo_inputs(
        {
            "n": "n=!ref($.event.data.n)",
            "s": "Hello, !ref($.event.data.name)!",
            "obj": "p=!ref($.event.data.profile)",
            "arr": "t=!ref($.event.data.profile.tags)",
            "two": "!ref($.event.data.name)/!ref($.event.data.n)/!ref($.event.data.name)",
            "spaces": "  !ref($.event.data.n)",
            "bracket": "v=!ref($.event.data['odd-key']['a b'])",
        }
    )
    assert result.status == "completed", result.error
    out = result.state["a"]
    assert out["n"] == "n=5"
    assert out["s"] == "Hello, Ann!"
    assert out["obj"].startswith("p=") and json.loads(out["obj"][2:]) == {
        "email": "ann@example.com",
        "tags": ["x", "y"],
    }
    assert out["arr"].startswith("t=") and json.loads(out["arr"][2:]) == ["x", "y"]
    assert out["two"] == "Ann/5/Ann"
    assert out["spaces"] == "  5"
    assert out["bracket"] == "v=3"


def test_embedded_scalars_render_as_json_text() -> None:
    """Embedded refs render into the string; a reasonable reader of "(objects as JSON)" in a JSON format expects
    booleans and null as JSON too (true/false/null), not Python's True/None."""
    result = _echo_inputs(
        {"b": "flag=!ref($.event.data.flag)", "z": "z=!ref($.event.data.nothing)", "f": "r=!ref($.event.data.ratio)"}
    )
    assert result.status == "completed", result.error
    assert result.state["a"]["b"] == "flag=true"
    assert result.state["a"]["z"] in ("z=null", "z=")
    assert result.state["a"]["f"] == "r=1.5"


def test_multi_match_queries_always_give_lists() -> None:
    result = _echo_inputs(
        {
            "wild": "!ref($.event.data.items[*].qty)",
            "filter_one": "!ref($.event.data.items[?@.sku == 'B'])",
            "filter_none": "!ref($.event.data.items[?@.qty > 100])",
            "desc": "!ref($.event..email)",
            "slice": "!ref($.event.data.items[0:1].sku)",
            "union": "!ref($.event.data.items[0,1].sku)",
            "obj_wild": "!ref($.event.data.profile.*)",
        }
    )
    assert result.status == "completed", result.error
    out = result.state["a"]
    assert out["wild"] == [2, 1]
    assert out["filter_one"] == [{"sku": "B", "qty": 1}]
    assert out["filter_none"] == []
    assert out["desc"] == ["ann@example.com"]
    assert out["slice"] == ["A"]
    assert out["union"] == ["A", "B"]
    assert out["obj_wild"] == ["ann@example.com", ["x", "y"]]


def test_refs_nested_in_objects_and_arrays_are_interpolated() -> None:
    result = _echo_inputs(
        {"o": {"k": "!ref($.event.data.n)", "l": ["!ref($.event.data.name)", "x !ref($.event.data.n)"]}}
    )
    assert result.status == "completed", result.error
    assert result.state["a"] == {"o": {"k": 5, "l": ["Ann", "x 5"]}}


def test_bracket_paths_on_state() -> None:
    wf = {
        "actions": [
            {"id": "step-1", "kind": "echo", "inputs": {"v": 1, "with space": 2}},
            {
                "id": "2",
                "kind": "echo",
                "inputs": {"a": "!ref($.state['step-1'].v)", "b": "!ref($.state['step-1']['with space'])"},
            },
            {"id": "3", "kind": "echo", "inputs": {"c": "!ref($.state['2'].a)", "d": 'c=!ref($.state["2"].b)'}},
        ],
        "edges": [_e("$source", "step-1"), _e("step-1", "2"), _e("2", "3")],
    }
    result = _run(wf)
    assert result.status == "completed", result.error
    assert result.state["3"] == {"c": 1, "d": "c=2"}


@pytest.mark.parametrize(
    "text",
    ["hi !ref($.event.data.nope) there", "!ref($.event.data.name) and !ref($.event.data.missing.x)"],
)
def test_embedded_ref_matching_nothing_fails_naming_the_ref(text: str) -> None:
    result = _echo_inputs({"t": text})
    assert result.status == "failed"
    assert result.error is not None
    missing = "$.event.data.nope" if "nope" in text else "$.event.data.missing.x"
    assert missing in result.error["message"]
    assert "undefined" not in result.error["message"].lower()
    assert "a" not in result.state


def test_embedded_ref_to_skipped_action_fails_or_renders_null() -> None:
    """The issue says a ref to a skipped action's output is null; embedded, "matches nothing" fails. Either is
    acceptable here, but never "undefined"."""
    wf = {
        "actions": [
            {"id": "a", "kind": "const", "inputs": {"value": 0}},
            {"id": "s", "kind": "const", "inputs": {"value": 1}},
            {"id": "j", "kind": "echo", "inputs": {"t": "s=!ref($.state.s)"}},
        ],
        "edges": [
            _e("$source", "a"),
            _e("a", "s", {"type": "if", "ref": "!ref($.output)"}),
            _e("s", "j"),
            _e("a", "j"),
        ],
    }
    result = _run(wf)
    if result.status == "completed":
        assert result.state["j"]["t"] in ("s=null", "s=")
    else:
        assert result.error and "undefined" not in result.error["message"]
