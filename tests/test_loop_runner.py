"""Loops (loop_runner.py): for each and repeat until, in memory and in the durable runtime on SQLite and
PostgreSQL: results in item order, concurrency, failures that stop or go on, nesting, durable sleeps
and waits inside bodies, and the step budget of an iteration."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from helpers import action, edge, workflow
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow_kit import ActionContext, ActionContextSync, NonRetriableError, WorkflowKit
from workflow_kit.runtime.models import RunStatus
from workflow_kit.runtime.worker.loop import Worker
from workflow_kit.testing import arun_workflow, run_workflow
from workflow_kit.timeutil import VirtualClock

TENANT = "acme"


def for_each(
    loop_id: str,
    body_actions: list[dict[str, Any]],
    body_edges: list[dict[str, Any]],
    result: str | None = None,
    **inputs: Any,
) -> dict[str, Any]:
    inputs.setdefault("items", "!ref($.event.data.items)")
    body: dict[str, Any] = {"actions": body_actions, "edges": body_edges}
    if result is not None:
        body["result"] = result
    return {"id": loop_id, "kind": "builtin:for_each", "inputs": inputs, "body": body}


def repeat(loop_id: str, body_actions: list[dict[str, Any]], result: str, **inputs: Any) -> dict[str, Any]:
    body = {"actions": body_actions, "edges": [edge("$source", body_actions[0]["id"])], "result": result}
    return {"id": loop_id, "kind": "builtin:repeat_until", "inputs": inputs, "body": body}


def only(loop: dict[str, Any]) -> dict[str, Any]:
    return workflow([loop], [edge("$source", loop["id"])])


@pytest.fixture
def calls() -> list[tuple[str, Any]]:
    return []


@pytest.fixture
def kit_with_actions(calls: list[tuple[str, Any]]) -> WorkflowKit:
    kit = WorkflowKit()
    register(kit, calls)
    return kit


def register(kit: WorkflowKit, calls: list[tuple[str, Any]]) -> None:
    @kit.action(kind="double")
    def double(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        calls.append((ctx.action.id, ctx.item))
        return inputs["n"] * 2

    @kit.action(kind="check")
    def check(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        calls.append((ctx.action.id, ctx.item))
        if inputs.get("bad"):
            raise NonRetriableError(f"{inputs.get('sku')} is out of stock")
        return inputs.get("sku")

    @kit.action(kind="nap")
    async def nap(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        calls.append(("nap:start", ctx.index))
        await asyncio.sleep(float(inputs.get("seconds", 0)))
        calls.append(("nap:end", ctx.index))
        return ctx.index

    @kit.action(kind="snooze")
    async def snooze(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        await ctx.step.sleep("snooze", "1h")
        return ctx.item

    @kit.action(kind="await_ok")
    async def await_ok(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        got = await ctx.step.wait_for_event(
            "ok", event="line/ok", if_exp="async.data.line == event.data.items[0]", timeout="1d"
        )
        return None if got is None else got["data"]["line"]

    @kit.action(kind="many_steps")
    async def many_steps(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        for i in range(int(inputs["steps"])):
            await ctx.step.run(f"s{i}", lambda: None)
        return ctx.index


# -- in memory ---------------------------------------------------------------------------------------


def test_for_each_gives_each_result_in_item_order_and_sees_item_and_index(
    kit_with_actions: WorkflowKit, calls: list[tuple[str, Any]]
) -> None:
    loop = for_each("each", [action("d", "double", n="!ref($.item)", at="!ref($.index)")], [edge("$source", "d")], "d")
    result = run_workflow(kit_with_actions, only(loop), {"name": "go", "data": {"items": [1, 2, 3]}})
    assert result.status == "completed"
    assert result.state == {"each": [2, 4, 6]}
    assert calls == [("d", 1), ("d", 2), ("d", 3)]  # ctx.action.id is the body's own id; ctx.item the item
    assert result.actions["each[1]/d"].inputs == {"n": 2, "at": 1}


def test_without_a_result_each_iteration_gives_the_body_state(kit_with_actions: WorkflowKit) -> None:
    body = [action("d", "double", n="!ref($.item)"), action("e", "double", n="!ref($.state.d)")]
    loop = for_each("each", body, [edge("$source", "d"), edge("d", "e")])
    result = run_workflow(kit_with_actions, only(loop), {"name": "go", "data": {"items": [1, 5]}})
    assert result.state["each"] == [{"d": 2, "e": 4}, {"d": 10, "e": 20}]


def test_a_failed_item_stops_the_loop_and_names_the_item(kit_with_actions: WorkflowKit, calls: list[Any]) -> None:
    loop = for_each(
        "each", [action("c", "check", sku="!ref($.item.sku)", bad="!ref($.item.bad)")], [edge("$source", "c")]
    )
    lines = [{"sku": "a"}, {"sku": "b", "bad": True}, {"sku": "c"}]
    result = run_workflow(kit_with_actions, only(loop), {"name": "go", "data": {"items": lines}})
    assert result.status == "failed"
    assert result.error is not None and result.error["action"] == "each"
    assert result.error["message"] == "item 2 of 3: b is out of stock"
    assert [c for c, _ in calls] == ["c", "c"]  # in order, one at a time: the third never started


def test_continue_collects_the_error_and_goes_on(kit_with_actions: WorkflowKit) -> None:
    loop = for_each(
        "each",
        [action("c", "check", sku="!ref($.item.sku)", bad="!ref($.item.bad)")],
        [edge("$source", "c")],
        "c",
        on_failure="continue",
    )
    lines = [{"sku": "a"}, {"sku": "b", "bad": True}, {"sku": "c"}]
    result = run_workflow(kit_with_actions, only(loop), {"name": "go", "data": {"items": lines}})
    assert result.status == "completed"
    assert result.state["each"] == ["a", {"error": {"name": "NonRetriableError", "message": "b is out of stock"}}, "c"]


async def test_concurrency_runs_items_at_once_but_keeps_the_order_of_results(
    kit_with_actions: WorkflowKit, calls: list[Any]
) -> None:
    loop = for_each("each", [action("n", "nap", seconds=0.05)], [edge("$source", "n")], "n", concurrency=3)
    result = await arun_workflow(kit_with_actions, only(loop), {"name": "go", "data": {"items": list(range(6))}})
    assert result.state["each"] == [0, 1, 2, 3, 4, 5]
    starts = [i for what, i in calls[:3] if what == "nap:start"]
    assert starts == [0, 1, 2]  # three started before any ended
    in_flight = peak = 0
    for what, _ in calls:
        in_flight += 1 if what == "nap:start" else -1
        peak = max(peak, in_flight)
    assert peak == 3


def test_loops_nest_three_deep_and_see_the_outer_state(kit_with_actions: WorkflowKit) -> None:
    innermost = for_each(
        "k", [action("x", "double", n="!ref($.item)")], [edge("$source", "x")], "x", items="!ref($.item)"
    )
    middle = for_each("j", [innermost], [edge("$source", "k")], "k", items="!ref($.item)")
    outer = for_each("i", [middle], [edge("$source", "j")], "j")
    flow = workflow([action("base", "double", n=1), outer], [edge("$source", "base"), edge("base", "i")])
    result = run_workflow(kit_with_actions, flow, {"name": "go", "data": {"items": [[[1, 2], [3]], [[4]]]}})
    assert result.status == "completed"
    assert result.state["i"] == [[[2, 4], [6]], [[8]]]
    assert "i[0]/j[1]/k[0]/x" in result.actions  # every iteration's step is an action of the run


def test_repeat_until_stops_when_the_condition_holds_or_at_max_rounds(kit_with_actions: WorkflowKit) -> None:
    met = repeat("poll", [action("r", "double", n="!ref($.round)")], "r", condition="last >= 4", max_rounds=10)
    result = run_workflow(kit_with_actions, only(met), {"name": "go", "data": {}})
    assert result.state["poll"] == {"rounds": 3, "met": True, "result": 4}
    capped = repeat("poll", [action("r", "double", n="!ref($.round)")], "r", condition="false", max_rounds=2)
    result = run_workflow(kit_with_actions, only(capped), {"name": "go", "data": {}})
    assert result.status == "completed"
    assert result.state["poll"] == {"rounds": 2, "met": False, "result": 2}


def test_repeat_until_sees_the_previous_rounds_result_and_waits_between_rounds(kit_with_actions: WorkflowKit) -> None:
    body = [action("r", "double", n="!ref($.round)", previous="!ref($.last)")]
    loop = repeat("poll", body, "r", condition="round == 2", max_rounds=5, wait_between="5m")
    result = run_workflow(kit_with_actions, only(loop), {"name": "go", "data": {}})
    assert result.state["poll"] == {"rounds": 3, "met": True, "result": 4}
    assert [result.actions[f"poll[{n}]/r"].inputs for n in range(3)] == [
        {"n": 0, "previous": None},
        {"n": 1, "previous": 0},
        {"n": 2, "previous": 2},
    ]
    sleeps = result.actions["poll"].steps
    assert [s.kind for s in sleeps] == ["sleep", "sleep"]  # between rounds 1-2 and 2-3, durable
    starts = [result.actions[f"poll[{n}]/r"].started_at for n in range(3)]
    assert starts[1] - starts[0] >= 300_000 and starts[2] - starts[1] >= 300_000


def test_an_iteration_has_a_step_budget_of_its_own(kit_with_actions: WorkflowKit) -> None:
    loop = for_each("each", [action("m", "many_steps", steps=600)], [edge("$source", "m")], "m")
    result = run_workflow(kit_with_actions, only(loop), {"name": "go", "data": {"items": [0, 1]}})
    assert result.status == "completed", result.error  # 1,200 steps in all, 600 per iteration
    too_many = for_each("each", [action("m", "many_steps", steps=1001)], [edge("$source", "m")], "m")
    result = run_workflow(kit_with_actions, only(too_many), {"name": "go", "data": {"items": [0]}})
    assert result.status == "failed"
    assert result.error is not None and "limit of 1000 steps" in result.error["message"]


# -- durable: SQLite and PostgreSQL ------------------------------------------------------------------


@pytest.fixture
def durable(kit: WorkflowKit, calls: list[tuple[str, Any]]) -> WorkflowKit:
    register(kit, calls)
    return kit


async def test_a_loop_with_a_sleep_in_its_body_resumes_after_the_sleep(
    durable: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    loop = for_each("each", [action("s", "snooze")], [edge("$source", "s")], "s", concurrency=2)
    record = durable.workflows.create_sync(TENANT, name="Naps", trigger="go", workflow=only(loop))
    await durable.send(TENANT, {"name": "go", "data": {"items": ["a", "b", "c"]}})
    await worker.idle()
    [run] = await durable.runs.list(TENANT, record.id)
    parked = await durable.runs.get(TENANT, run.id)
    assert parked.status == RunStatus.SLEEPING
    clock.advance(timedelta(hours=1))
    durable.notify()
    await worker.idle()
    clock.advance(timedelta(hours=1))  # the third item started once one of the first two finished
    durable.notify()
    await worker.idle()
    done = await durable.runs.get(TENANT, run.id)
    assert done.status == RunStatus.COMPLETED, done.error
    assert done.output == {"each": ["a", "b", "c"]}
    ids = {a.id for a in done.actions}
    assert {"each", "each[0]/s", "each[1]/s", "each[2]/s"} <= ids


async def test_an_event_wakes_a_wait_inside_a_loop_body(durable: WorkflowKit, worker: Worker) -> None:
    loop = for_each("each", [action("w", "await_ok")], [edge("$source", "w")], "w")
    record = durable.workflows.create_sync(TENANT, name="Waits", trigger="go", workflow=only(loop))
    await durable.send(TENANT, {"name": "go", "data": {"items": ["l1"]}})
    await worker.idle()
    [run] = await durable.runs.list(TENANT, record.id)
    assert (await durable.runs.get(TENANT, run.id)).status == RunStatus.WAITING
    await durable.send(TENANT, {"name": "line/ok", "data": {"line": "l1"}})
    await worker.idle()
    done = await durable.runs.get(TENANT, run.id)
    assert done.status == RunStatus.COMPLETED, done.error
    assert done.output == {"each": ["l1"]}


async def test_the_order_example_completes_with_line_two_handled(durable: WorkflowKit, worker: Worker) -> None:
    """For each line of the order, reserve stock; if reserving fails, notify the buyer and go on."""

    @durable.action(kind="notify")
    def notify(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return {"told": inputs["message"]}

    body = [
        action("reserve", "check", sku="!ref($.item.sku)", bad="!ref($.item.bad)"),
        action("tell", "notify", message="!ref($.state.reserve.error.message)"),
    ]
    edges = [edge("$source", "reserve"), edge("reserve", "tell", {"type": "failed"})]
    loop = for_each("each", body, edges, items="!ref($.event.data.lines)")
    record = durable.workflows.create_sync(TENANT, name="Order", trigger="order/created", workflow=only(loop))
    lines = [{"sku": "a"}, {"sku": "b", "bad": True}, {"sku": "c"}]
    await durable.send(TENANT, {"name": "order/created", "data": {"lines": lines}})
    await worker.idle()
    [run] = await durable.runs.list(TENANT, record.id)
    done = await durable.runs.get(TENANT, run.id)
    assert done.status == RunStatus.COMPLETED, done.error
    statuses = {a.id: a.status.value for a in done.actions}
    assert statuses["each[1]/reserve"] == "failed"  # handled: the run completed
    assert statuses["each[1]/tell"] == "completed"
    assert statuses["each[0]/tell"] == statuses["each[2]/tell"] == "skipped"
    assert done.output is not None
    second = done.output["each"][1]
    assert second["tell"] == {"told": "b is out of stock"}
    assert second["reserve"] == {"error": {"name": "NonRetriableError", "message": "b is out of stock"}}


# -- properties: random workflows with loops and error edges -----------------------------------------

PROPERTY_KIT = WorkflowKit()
PROPERTY_CALLS: list[tuple[str, Any]] = []


@PROPERTY_KIT.action(kind="maybe_fail")
def maybe_fail(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
    PROPERTY_CALLS.append((ctx.action.id, ctx.index))
    if inputs["fail"] is True or (isinstance(inputs["fail"], list) and ctx.index in inputs["fail"]):
        raise NonRetriableError(f"{ctx.action.id} failed")
    return {"ok": ctx.action.id}


@st.composite
def graphs(draw: st.DrawFn, prefix: str, depth: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A random DAG of steps (some failing, some with their failure handled by an error edge or by
    continue_on_failure) and, at the top, for-each loops holding such a graph."""
    size = draw(st.integers(1, 4))
    actions: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for n in range(size):
        node = f"{prefix}{n}"
        if depth == 0 and draw(st.integers(0, 3)) == 0:
            body_actions, body_edges = draw(graphs(f"{node}_", 1))
            items = draw(st.integers(0, 3))
            on_failure = draw(st.sampled_from(["stop", "continue"]))
            inputs = {"items": list(range(items)), "on_failure": on_failure}
            body = {"actions": body_actions, "edges": body_edges}
            step = {"id": node, "kind": "builtin:for_each", "inputs": inputs, "body": body}
        else:
            fail: Any = draw(st.sampled_from([False, True, [0], [1, 2]]))
            step = {"id": node, "kind": "maybe_fail", "inputs": {"fail": fail}}
        if draw(st.booleans()):
            step["policy"] = {"continue_on_failure": True}
        actions.append(step)
        parents = [f"{prefix}{p}" for p in range(n) if draw(st.booleans())] or ["$source"]
        for parent in parents:
            failed_edge = parent != "$source" and draw(st.integers(0, 2)) == 0
            edges.append({"from": parent, "to": node, **({"conditional": {"type": "failed"}} if failed_edge else {})})
    return actions, edges


def expected(
    actions: list[dict[str, Any]], edges: list[dict[str, Any]], index: int | None
) -> tuple[dict[str, str], set[str]]:
    """The oracle: each action's status in one scope (an iteration has `index`) had every action been
    decided, and the actions whose failure is not handled (any of them fails the scope)."""
    status: dict[str, str] = {}
    unhandled: set[str] = set()
    handled = {e["from"] for e in edges if e.get("conditional")} | {
        a["id"] for a in actions if a.get("policy", {}).get("continue_on_failure")
    }
    for step in actions:  # parents come first
        taken = False
        for e in (e for e in edges if e["to"] == step["id"]):
            source = e["from"]
            if source == "$source":
                taken = True
            elif e.get("conditional"):
                taken = taken or status[source] == "failed"
            elif status[source] == "completed":
                taken = True
            elif status[source] == "failed":
                errors = any(x["from"] == source and x.get("conditional") for x in edges)
                taken = taken or (not errors and source in handled)
        if not taken:
            status[step["id"]] = "skipped"
            continue
        if step["kind"] == "builtin:for_each":
            body = step["body"]
            failed_items = [
                i for i in range(len(step["inputs"]["items"])) if expected(body["actions"], body["edges"], i)[1]
            ]
            ok = not failed_items or step["inputs"]["on_failure"] == "continue"
        else:
            fail = step["inputs"]["fail"]
            ok = not (fail is True or (isinstance(fail, list) and index in fail))
        status[step["id"]] = "completed" if ok else "failed"
        if not ok and step["id"] not in handled:
            unhandled.add(step["id"])
    return status, unhandled


@given(st.data())
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
def test_every_action_and_iteration_ends_once_executed_skipped_or_handled(data: st.DataObject) -> None:
    actions, edges = data.draw(graphs("n", 0))
    PROPERTY_CALLS.clear()
    result = run_workflow(PROPERTY_KIT, {"actions": actions, "edges": edges}, {"name": "go", "data": {}})
    statuses, unhandled = expected(actions, edges, None)
    assert len(PROPERTY_CALLS) == len(set(PROPERTY_CALLS)), PROPERTY_CALLS  # nothing ran twice
    if unhandled:  # the run fails on one of them; what had not started by then never does
        assert result.status == "failed"
        assert result.error is not None and result.error["action"] in unhandled, (result.error, unhandled)
        for action_id, status in statuses.items():
            assert result.actions[action_id].status in (status, "pending"), (action_id, statuses)
        return
    assert result.status == "completed", (result.error, statuses)
    for action_id, status in statuses.items():
        assert result.actions[action_id].status == status, (action_id, statuses)
    for loop in (a for a in actions if a["kind"] == "builtin:for_each" and statuses[a["id"]] != "skipped"):
        body = loop["body"]
        for i in range(len(loop["inputs"]["items"])):
            inner, failed = expected(body["actions"], body["edges"], i)
            for body_id, status in inner.items():
                recorded = result.actions[f"{loop['id']}[{i}]/{body_id}"].status
                assert recorded == status or (failed and recorded == "pending"), (loop["id"], i, body_id)
            if failed and loop["inputs"]["on_failure"] == "stop":
                assert not any(key.startswith(f"{loop['id']}[{i + 1}]") for key in result.actions)
                break  # a stopping loop starts no item after a failed one
