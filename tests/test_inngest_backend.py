"""The Inngest backend, driven by a test double of Inngest's executor through the real SDK's request handler:
every conformance case and random graphs end as they end on the embedded runtime; a handler's sub-steps
replay without running again; a failing step retries, then raises `StepError` into the handler; builtins
are Inngest's step tools; events start runs as ``kit.send`` does."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from inngest_harness import TENANT, Harness, assert_same_end
from test_conformance import CASES, kit_for
from test_planner_properties import FAIL, Case, cases, oracle
from test_planner_properties import kit as property_kit

from workflow_kit import ActionContext, RetryAfterError, RetryPolicy, StepError, WorkflowKit
from workflow_kit.ai import LocalProvider
from workflow_kit.testing import arun_workflow

VALID = [p for p in CASES if not json.loads(p.read_text())["expect"].get("invalid")]


def only(*actions: dict[str, Any], edges: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A workflow of `actions` in a chain from the trigger (or with `edges`)."""
    if edges is None:
        ids = ["$source", *(a["id"] for a in actions)]
        edges = [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]
    return {"name": "test", "actions": list(actions), "edges": edges}


@pytest.mark.parametrize("path", VALID, ids=[f"{p.parent.name}/{p.stem}" for p in VALID])
async def test_a_conformance_case_ends_on_inngest_as_on_the_embedded_runtime(path: Path) -> None:
    case = json.loads(path.read_text())
    embedded = await arun_workflow(kit_for(case["actions"]), case["workflow"], case["event"])
    started: list[str] = []
    harness = Harness(kit_for(case["actions"], started))
    ended = await harness.run(case["workflow"], case["event"])
    await harness.close()
    assert_same_end(embedded, ended, harness.timeline)
    for action_id, count in case["expect"].get("calls_count", {}).items():
        assert Counter(started)[action_id] == count, action_id
    if case["expect"].get("runs_once"):
        assert len(started) == len(set(started)), started
    if path.stem in ("02-diamond", "03-fan-out"):  # independent branches: parallel steps
        assert harness.executor.ops["StepPlanned"] >= 2, harness.executor.ops


@pytest.fixture(scope="module")
def on_inngest() -> Iterator[tuple[asyncio.AbstractEventLoop, Harness]]:
    """One event loop and one served app for every random graph (building an app takes longer than a run)."""
    loop = asyncio.new_event_loop()
    harness = Harness(property_kit)
    yield loop, harness
    loop.run_until_complete(harness.close())
    loop.close()


@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases(max_actions=8))
def test_a_random_graph_ends_on_inngest_as_on_the_embedded_runtime(
    on_inngest: tuple[asyncio.AbstractEventLoop, Harness], case: Case
) -> None:
    """The same end as the embedded run; a failed run fails on an action the oracle says fails (which
    one first may differ: the embedded runtime goes on in other branches while a step backs off)."""
    loop, harness = on_inngest
    expected = oracle(case)

    async def both() -> None:
        embedded = await arun_workflow(property_kit, case.workflow(), case.event)
        ended = await harness.run(case.workflow(), case.event)
        if not expected.having(FAIL):
            assert_same_end(embedded, ended, harness.timeline)
            return
        assert ended.status == embedded.status == "failed"
        _status, state, error = harness.timeline.ends[ended.run_id]
        assert error is not None and error["action"] in expected.having(FAIL)
        assert all(state[a] == expected.outputs[a] for a in state)

    loop.run_until_complete(both())


async def test_parallel_iterations_with_parallel_branches_end_as_on_the_embedded_runtime() -> None:
    actions = [{"kind": "add", "behaviour": "add", "inputs": {"a": "number", "b": "number"}}]
    body = {
        "actions": [
            {"id": "double", "kind": "add", "inputs": {"a": "!ref($.item)", "b": "!ref($.item)"}},
            {"id": "next", "kind": "add", "inputs": {"a": "!ref($.item)", "b": 1}},
            {"id": "sum", "kind": "add", "inputs": {"a": "!ref($.state.double)", "b": "!ref($.state.next)"}},
        ],
        "edges": [
            {"from": "$source", "to": "double"},
            {"from": "$source", "to": "next"},
            {"from": "double", "to": "sum"},
            {"from": "next", "to": "sum"},
        ],
        "result": "sum",
    }
    loop = {"id": "each", "kind": "builtin:for_each", "inputs": {"items": "!ref($.event.data.items)", "concurrency": 3}}
    workflow = only({**loop, "body": body})
    event = {"name": "go", "data": {"items": [1, 2, 3, 4, 5]}}
    embedded = await arun_workflow(kit_for(actions), workflow, event)
    harness = Harness(kit_for(actions))
    ended = await harness.run(workflow, event)
    assert_same_end(embedded, ended, harness.timeline)
    assert ended.output == {"each": [4.0, 7.0, 10.0, 13.0, 16.0]}
    await harness.close()


async def test_a_handlers_sub_steps_replay_without_running_again() -> None:
    kit = WorkflowKit()
    calls: Counter[str] = Counter()

    def once(name: str) -> str:
        calls[name] += 1
        return name.upper()

    @kit.action(kind="two-steps")
    async def two_steps(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        calls["handler"] += 1
        first = await ctx.step.run("first", once, "a")
        await ctx.step.sleep("pause", "1h")
        second = await ctx.step.run("second", once, "b")
        return {"first": first, "second": second}

    harness = Harness(kit)
    ended = await harness.run(only({"id": "work", "kind": "two-steps", "inputs": {}}), {"name": "go"})
    assert ended.status == "completed"
    assert ended.output == {"work": {"first": "A", "second": "B"}}
    assert calls["a"] == calls["b"] == 1
    assert calls["handler"] > 3  # found out by its first attempt, then replayed on each request
    assert harness.executor.posts > calls["handler"]
    await harness.close()


async def test_handlers_with_steps_run_side_by_side_as_parallel_steps() -> None:
    kit = WorkflowKit()
    calls: Counter[str] = Counter()

    def once(name: str) -> str:
        calls[name] += 1
        return name

    @kit.action(kind="async-steps")
    async def async_steps(ctx: ActionContext, inputs: dict[str, Any]) -> list[str]:
        return [
            await ctx.step.run("one", once, f"{ctx.action.id}.1"),
            await ctx.step.run("two", once, f"{ctx.action.id}.2"),
        ]

    @kit.action(kind="sync-steps")
    def sync_steps(ctx: Any, inputs: dict[str, Any]) -> list[str]:
        first = ctx.step.run("one", once, f"{ctx.action.id}.1")
        ctx.step.sleep("pause", "1m")
        return [first, ctx.step.run("two", once, f"{ctx.action.id}.2")]

    harness = Harness(kit)
    workflow = only(
        {"id": "a", "kind": "async-steps", "inputs": {}},
        {"id": "b", "kind": "sync-steps", "inputs": {}},
        {"id": "c", "kind": "async-steps", "inputs": {}},
        edges=[{"from": "$source", "to": "a"}, {"from": "$source", "to": "b"}, {"from": "a", "to": "c"}],
    )
    ended = await harness.run(workflow, {"name": "go"})
    assert ended.status == "completed", ended.error
    assert ended.output == {"a": ["a.1", "a.2"], "b": ["b.1", "b.2"], "c": ["c.1", "c.2"]}
    assert set(calls.values()) == {1}  # every sub-step ran once, though a and b replayed on each request
    assert harness.executor.ops["StepPlanned"] >= 4
    await harness.close()


@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_a_failing_step_retries_then_raises_step_error_into_the_handler(sync: bool) -> None:
    kit = WorkflowKit(retry_policy=RetryPolicy.fast(2))
    tries = Counter[str]()

    def charge() -> None:
        tries["charge"] += 1
        raise RuntimeError("card declined")

    if sync:

        @kit.action(kind="pay")
        def pay(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
            try:
                ctx.step.run("charge", charge)
            except StepError as exc:
                return {"caught": exc.name, "message": exc.message}
            return {"caught": None}

    else:

        @kit.action(kind="pay")
        async def pay_async(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
            try:
                await ctx.step.run("charge", charge)
            except StepError as exc:
                return {"caught": exc.name, "message": exc.message}
            return {"caught": None}

    harness = Harness(kit)
    ended = await harness.run(only({"id": "pay", "kind": "pay", "inputs": {}}), {"name": "go"})
    assert ended.status == "completed", ended.error
    assert ended.output == {"pay": {"caught": "RuntimeError", "message": "card declined"}}
    assert tries["charge"] == 3  # the first attempt and two retries, each an Inngest attempt
    assert harness.executor.ops["StepError"] == 2
    await harness.close()


async def test_a_handler_failing_outside_its_steps_is_retried_with_its_steps_kept() -> None:
    kit = WorkflowKit(retry_policy=RetryPolicy.fast(2))
    calls: Counter[str] = Counter()

    def fetch() -> int:
        calls["fetch"] += 1
        return 41

    @kit.action(kind="flaky")
    async def flaky(ctx: ActionContext, inputs: dict[str, Any]) -> int:
        value = await ctx.step.run("fetch", fetch)
        if ctx.attempt < 2:
            raise RuntimeError(f"not yet ({ctx.attempt})")
        return int(value) + 1

    loop = {
        "id": "again",
        "kind": "builtin:repeat_until",
        "inputs": {"condition": "round >= 2", "max_rounds": 5, "wait_between": "1m"},
        "body": {"actions": [{"id": "f", "kind": "flaky", "inputs": {}}], "edges": [{"from": "$source", "to": "f"}]},
    }
    workflow = only({"id": "flaky", "kind": "flaky", "inputs": {}}, loop)
    embedded = await arun_workflow(kit, workflow, {"name": "go"})
    calls.clear()
    harness = Harness(kit)
    ended = await harness.run(workflow, {"name": "go"})
    assert_same_end(embedded, ended, harness.timeline)
    assert ended.output["flaky"] == 42
    assert ended.output["again"] == {"rounds": 3, "met": True, "result": {"f": 42}}
    assert calls["fetch"] == 4  # once per action: its own and each round's, never again on a retry
    assert harness.executor.ops["Sleep"] == 2
    await harness.close()


async def test_retry_after_and_an_uncaught_step_error_map_to_the_sdks() -> None:
    kit = WorkflowKit(retry_policy=RetryPolicy.fast(1))
    tries = Counter[str]()

    @kit.action(kind="later")
    async def later(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        tries["later"] += 1
        if ctx.attempt == 0:
            raise RetryAfterError("busy", 5_000)
        return "done"

    @kit.action(kind="broken")
    async def broken(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        await ctx.step.run("boom", lambda: 1 / 0)

    harness = Harness(kit)
    ended = await harness.run(
        only({"id": "later", "kind": "later", "inputs": {}}, {"id": "broken", "kind": "broken", "inputs": {}}),
        {"name": "go"},
    )
    assert ended.status == "failed"
    assert tries["later"] == 2
    _status, state, error = harness.timeline.ends[ended.run_id]
    assert state == {"later": "done"}
    assert error == {"name": "ZeroDivisionError", "message": "division by zero", "action": "broken"}
    await harness.close()


async def test_the_builtins_are_inngest_step_tools() -> None:
    kit = WorkflowKit()

    @kit.action(kind="total")
    async def total(ctx: ActionContext, inputs: dict[str, Any]) -> int:
        return int(ctx.event["data"]["order"]) * 10

    harness = Harness(kit)
    harness.workflows.add(TENANT, "child", only({"id": "total", "kind": "total", "inputs": {}}))
    workflow = only(
        {"id": "nap", "kind": "builtin:sleep", "inputs": {"duration": "2h"}},
        {
            "id": "wait",
            "kind": "builtin:wait_for_event",
            "inputs": {"event": "order/paid", "timeout": "1d", "if": "async.data.order == event.data.order"},
        },
        {"id": "send", "kind": "builtin:send_event", "inputs": {"name": "order/paid", "data": {"order": 7}}},
        {"id": "other", "kind": "builtin:wait_for_event", "inputs": {"event": "order/refunded", "timeout": "1h"}},
        {"id": "child", "kind": "builtin:invoke", "inputs": {"workflow_id": "child", "data": {"order": 3}}},
        edges=[  # the wait and the send are parallel steps: the wait begins before the event is sent
            {"from": "$source", "to": "nap"},
            {"from": "nap", "to": "wait"},
            {"from": "nap", "to": "send"},
            {"from": "wait", "to": "other"},
            {"from": "send", "to": "other"},
            {"from": "other", "to": "child"},
        ],
    )
    ended = await harness.run(workflow, {"name": "order/created", "data": {"order": 7}})
    assert ended.status == "completed", ended.error
    assert ended.output["wait"]["name"] == "order/paid"
    assert ended.output["wait"]["data"] == {"order": 7}  # the tenant's tag is not shown
    assert ended.output["other"] is None  # timed out
    assert ended.output["child"] == {"total": 30}
    assert len(ended.output["send"]["ids"]) == 1
    await harness.close()


async def test_a_failed_invoked_workflow_raises_step_error_in_the_invoking_handler() -> None:
    kit = WorkflowKit(retry_policy=RetryPolicy.fast(0))

    @kit.action(kind="boom")
    async def boom(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        raise RuntimeError("out of stock")

    @kit.action(kind="order")
    async def order(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, str]:
        try:
            await ctx.step.invoke("reserve", workflow_id="reserve")
        except StepError as exc:
            return {"name": exc.name, "message": exc.message}
        return {}

    harness = Harness(kit)
    harness.workflows.add(TENANT, "reserve", only({"id": "boom", "kind": "boom", "inputs": {}}))
    ended = await harness.run(only({"id": "order", "kind": "order", "inputs": {}}), {"name": "go"})
    assert ended.output == {
        "order": {"name": "InvokeError", "message": "the invoked run of 'reserve' failed: out of stock"}
    }
    await harness.close()


async def test_sleep_until_and_ai_infer_are_steps_of_the_handler() -> None:
    kit = WorkflowKit(ai=LocalProvider())

    @kit.action(kind="summarize")
    async def summarize(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        await ctx.step.sleep_until("morning", "2030-01-01T09:00:00Z")
        answer = await ctx.step.ai.infer("ask", messages=[{"role": "user", "content": "hello"}])
        return str(answer["provider"])

    harness = Harness(kit)
    ended = await harness.run(only({"id": "sum", "kind": "summarize", "inputs": {}}), {"name": "go"})
    assert ended.output == {"sum": "local"}
    assert harness.executor.ops["Sleep"] == 1
    await harness.close()


async def test_a_step_id_used_twice_sends_its_events_twice_and_a_replay_sends_nothing_again() -> None:
    kit = WorkflowKit()

    @kit.action(kind="announce")
    async def announce(ctx: ActionContext, inputs: dict[str, Any]) -> list[str]:
        first = await ctx.step.send_event("tell", {"name": "news", "data": {"n": 1}})
        await ctx.step.sleep("pause", "1m")  # the handler replays: the first send is not sent again
        second = await ctx.step.send_event("tell", {"name": "news", "data": {"n": 2}})
        return first + second

    harness = Harness(kit)
    ended = await harness.run(only({"id": "say", "kind": "announce", "inputs": {}}), {"name": "go"})
    news = [e for e in harness.executor.inbox if e["name"] == "news"]
    assert [e["data"]["n"] for e in news] == [1, 2]
    assert ended.output == {"say": [e["id"] for e in news]}
    await harness.close()


async def test_a_wait_is_not_satisfied_by_another_tenants_event() -> None:
    kit = WorkflowKit()
    harness = Harness(kit)

    @kit.action(kind="poke")
    async def poke(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        await ctx.step.run("send", lambda: harness.backend.send("other", {"name": "ping"}))

    workflow = only(
        {"id": "wait", "kind": "builtin:wait_for_event", "inputs": {"event": "ping", "timeout": "1h"}},
        {"id": "poke", "kind": "poke", "inputs": {}},
        edges=[{"from": "$source", "to": "wait"}, {"from": "$source", "to": "poke"}],
    )
    ended = await harness.run(workflow, {"name": "go"})
    assert ended.output == {"wait": None, "poke": None}
    pings = [e["data"] for e in harness.executor.inbox if e["name"] == "ping"]
    assert pings == [{"_wk_tenant": "other"}]  # sent after the wait began, by another tenant
    await harness.close()


async def test_events_start_the_tenants_matching_workflows() -> None:
    kit = WorkflowKit()

    @kit.action(kind="note")
    async def note(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"event": ctx.event["name"], "trigger": ctx.trigger}

    harness = Harness(kit)
    workflow = only({"id": "note", "kind": "note", "inputs": {}})
    harness.workflows.add(TENANT, "big", workflow, triggers=[{"event": "order/*", "if": "event.data.total > 10"}])
    harness.workflows.add(TENANT, "any", workflow, triggers=["user/signed_up", "order/created"])
    harness.workflows.add("other", "theirs", workflow, triggers=["order/created"])
    ids = await harness.backend.send(TENANT, [{"name": "order/created", "data": {"total": 5}, "id": "o-1"}])
    await harness.backend.send(TENANT, {"name": "order/created", "data": {"total": 50}})
    await harness.backend.send(TENANT, {"name": "order/created", "data": {"total": 5}, "id": "o-1"})  # a repeat
    assert ids == ["o-1"]
    harness.backend.take_events()  # kit.send, as the editor API calls it, now reaches Inngest too
    await harness.kit.send(TENANT, {"name": "user/signed_up", "data": {}})
    ended = await harness.executor.run_queued()
    outputs = sorted(json.dumps(e.output, sort_keys=True) for e in ended)
    assert [json.loads(o)["note"]["trigger"] for o in outputs] == [
        {"event": "order/*", "if": "event.data.total > 10", "index": 0},
        {"event": "order/created", "index": 1},
        {"event": "order/created", "index": 1},
        {"event": "user/signed_up", "index": 0},
    ]
    await harness.close()


async def test_a_cron_trigger_is_inngests_schedule_of_the_workflows_own_function() -> None:
    kit = WorkflowKit()

    @kit.action(kind="note")
    async def note(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"event": ctx.event, "trigger": ctx.trigger}

    harness = Harness(kit)
    weekly = "TZ=Europe/Paris 0 9 * * 1"
    workflow = only({"id": "note", "kind": "note", "inputs": {}})
    harness.workflows.add(TENANT, "digest", workflow, triggers=["digest/asked", {"cron": weekly}])
    harness.workflows.add(TENANT, "plain", workflow, triggers=["digest/asked"])
    await harness.backend.dedicate_published(TENANT)
    generic, digest = harness.backend.functions()  # "plain" has neither settings nor a schedule
    config = digest.get_config("http://127.0.0.1/api/inngest").main
    assert [getattr(t, "cron", None) for t in config.triggers] == [None, weekly]
    tick = {"name": "inngest/scheduled.timer", "data": {"cron": weekly}, "ts": 1_893_484_800_000}
    ended = await harness.executor.run(digest.id, tick)
    assert ended.output["note"]["trigger"] == {"index": 1, "cron": weekly}
    assert ended.output["note"]["event"]["name"] == "workflow/scheduled.timer"
    assert ended.output["note"]["event"]["data"]["scheduled_at"] == "2030-01-01T08:00:00Z"
    await harness.backend.send(TENANT, {"name": "digest/asked"})  # its events go to its own function too
    assert sorted(function for function, _, _ in harness.executor.queued) == sorted([generic.id, digest.id])
    await harness.close()


async def test_runs_start_from_the_kits_store_pinned_to_the_version_published(kit: WorkflowKit) -> None:
    @kit.action(kind="greet")
    async def greet(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return f"{inputs['word']} {ctx.event['data']['name']}"

    def greeting(word: str) -> dict[str, Any]:
        return only({"id": "greet", "kind": "greet", "inputs": {"word": word}})

    triggers = [{"event": "user/*", "if": "event.data.name != 'bot'"}]
    record = await kit.workflows.create(TENANT, name="Greet", workflow=greeting("hi"), triggers=triggers)
    await kit.workflows.create(TENANT, name="Off", workflow=greeting("no"), triggers=["user/created"], enabled=False)
    harness = Harness(kit, store=True)
    users = [{"name": "user/created", "data": {"name": "ann"}}, {"name": "user/created", "data": {"name": "bot"}}]
    await harness.backend.send(TENANT, users)
    await kit.workflows.update(TENANT, record.id, workflow=greeting("hello"), publish=True)
    (ended,) = await harness.executor.run_queued()
    assert ended.output == {"greet": "hi ann"}  # version 1: the one published when the event came
    await harness.backend.send(TENANT, users[:1])
    (ended,) = await harness.executor.run_queued()
    assert ended.output == {"greet": "hello ann"}
    await harness.close()


async def test_the_fastapi_integration_serves_the_same_function() -> None:
    started: list[str] = []
    actions = [{"kind": "add", "behaviour": "add", "inputs": {"a": "number", "b": "number"}}]
    harness = Harness(kit_for(actions, started), fastapi=True)
    workflow = only({"id": "sum", "kind": "add", "inputs": {"a": "!ref($.event.data.a)", "b": 2}})
    ended = await harness.run(workflow, {"name": "go", "data": {"a": 40}})
    assert ended.output == {"sum": 42}
    assert started == ["sum"]
    await harness.close()
