"""Issue 3, execution: every step kind, builtins, retries and backoff, determinism, statuses, cancel,
rerun, system events, limits and version pinning; on SQLite and PostgreSQL, on a virtual clock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from workflow_kit import (
    ActionContext,
    ActionContextSync,
    NonRetriableError,
    RetryAfterError,
    StepError,
    WorkflowKit,
)
from workflow_kit.retry import RetryPolicy
from workflow_kit.timeutil import VirtualClock, iso

from .issue3_support import START_MS, chain, fresh_database, make_kit, runs_of, settle, status, wait_status

T = "tenant-x"


class Env:
    def __init__(self, kit: WorkflowKit, clock: VirtualClock) -> None:
        self.kit = kit
        self.clock = clock
        self.calls: Counter[str] = Counter()
        self.flags: dict[str, Any] = {}
        self.gate = asyncio.Event()

    async def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.kit.notify()
        await asyncio.sleep(0.05)

    async def start(self, workflow_id: str, event: dict[str, Any]) -> str:
        await self.kit.send(T, event)
        runs = await self.kit.runs.list(T, workflow_id=workflow_id)
        assert runs, "the event started no run"
        return str(runs[0].id)

    async def finish(self, run_id: str, timeout: float = 15.0) -> Any:
        """Wait for the run to end, moving the virtual clock on (fast-policy retries are 1 ms away)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            run = await self.kit.runs.get(T, run_id)
            if status(run) in ("completed", "failed", "cancelled"):
                return run
            assert loop.time() < deadline, f"run {run_id} still {status(run)}"
            self.clock.advance(timedelta(milliseconds=5))
            self.kit.notify()
            await asyncio.sleep(0.02)

    async def wait(
        self,
        run_id: str,
        statuses: set[str] | str = frozenset({"completed", "failed", "cancelled"}),
        timeout: float = 10.0,
    ) -> Any:  # type: ignore[assignment]
        return await wait_status(
            self.kit, T, run_id, set(statuses) if not isinstance(statuses, str) else statuses, timeout
        )


def register(env: Env) -> None:
    kit, calls, flags = env.kit, env.calls, env.flags

    @kit.action(kind="memo", name="Memo")
    async def memo(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        calls["memo.handler"] += 1

        def a() -> int:
            calls["memo.a"] += 1
            return 41

        x = await ctx.step.run("a", a)
        await ctx.step.sleep("nap", "2d")

        def b() -> int:
            calls["memo.b"] += 1
            return int(x) + 1

        y = await ctx.step.run("b", b)
        return {"x": x, "y": y}

    @kit.action(kind="until", name="Until")
    async def until(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        await ctx.step.sleep_until("u", ctx.event["data"]["at"])
        calls["until.after"] += 1
        return "woke"

    @kit.action(kind="waiter", name="Waiter")
    async def waiter(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        got = await ctx.step.wait_for_event(
            "w", event="app/approved", if_exp="async.data.id == event.data.id", timeout="1h"
        )
        calls["waiter.after"] += 1
        return {"got": got}

    @kit.action(kind="sender", name="Sender")
    async def sender(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        ids = await ctx.step.send_event("s", {"name": "app/child", "data": {"from": ctx.event["data"].get("id")}})
        calls["sender.after_send"] += 1
        await ctx.step.sleep("nap", "1m")
        return {"ids": ids}

    @kit.action(kind="record", name="Record")
    async def record(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        calls["record"] += 1
        return {"event": ctx.event, "inputs": inputs}

    @kit.action(kind="invoker", name="Invoker")
    async def invoker(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        try:
            out = await ctx.step.invoke("inv", workflow_id=inputs["workflow_id"], data={"n": 5})
        except StepError as exc:
            return {"step_error": str(exc)}
        return {"child": out}

    @kit.action(kind="double", name="Double")
    async def double(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        calls["double"] += 1
        return int(ctx.event["data"]["n"]) * 2

    @kit.action(kind="boom", name="Boom")
    async def boom(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        def body() -> None:
            calls["boom.body"] += 1
            raise ValueError("kaput")

        if flags.get("catch"):
            try:
                await ctx.step.run("b", body)
            except StepError as exc:
                return {"caught": exc.message if hasattr(exc, "message") else str(exc)}
        await ctx.step.run("b", body)
        return "unreachable"

    @kit.action(kind="handler_fails", name="Handler fails")
    async def handler_fails(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        calls["hf"] += 1
        if calls["hf"] <= flags.get("fail_times", 0):
            raise RuntimeError(f"attempt {calls['hf']} failed")
        return calls["hf"]

    @kit.action(kind="nonretry", name="Non retriable")
    async def nonretry(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        def body() -> None:
            calls["nr.body"] += 1
            raise NonRetriableError("no point")

        await ctx.step.run("n", body)

    @kit.action(kind="retry_after", name="Retry after")
    async def retry_after(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        def body() -> str:
            calls["ra.body"] += 1
            if calls["ra.body"] == 1:
                raise RetryAfterError("later", timedelta(minutes=10))
            return "ok"

        return await ctx.step.run("r", body)

    @kit.action(kind="flaky_step", name="Flaky step")
    async def flaky_step(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        def a() -> str:
            calls["fs.a"] += 1
            return "a"

        def b() -> str:
            calls["fs.b"] += 1
            if flags.get("b_fails"):
                raise NonRetriableError("b is broken")
            return "b"

        return [await ctx.step.run("a", a), await ctx.step.run("b", b)]

    @kit.action(kind="nondet", name="Nondeterministic")
    async def nondet(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        mode = flags.get("mode", "first")
        if mode == "first":
            await ctx.step.run("a", lambda: 1)
        elif mode == "other_id":
            await ctx.step.run("zzz", lambda: 1)
        else:  # other kind, same id
            await ctx.step.sleep("a", "1s")
        await ctx.step.sleep("nap", "1h")
        calls["nondet.end"] += 1
        return "done"

    @kit.action(kind="gated", name="Gated")
    async def gated(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        async def body() -> str:
            calls["gated.body"] += 1
            await asyncio.wait_for(env.gate.wait(), timeout=10)
            return "through"

        first = await ctx.step.run("g", body)

        def after() -> str:
            calls["gated.after"] += 1
            return "after"

        return [first, await ctx.step.run("after", after)]

    @kit.action(kind="sleepy", name="Sleepy")
    async def sleepy(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        await ctx.step.sleep("nap", "1h")

        def after() -> str:
            calls["sleepy.after"] += 1
            return "after"

        return await ctx.step.run("after", after)

    @kit.action(kind="tag", name="Tag")
    async def tag(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return inputs.get("v")

    @kit.action(kind="big_step", name="Big step output")
    async def big_step(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        await ctx.step.run("big", lambda: "x" * (4 * 1024 * 1024 + 100))
        return "unreachable"

    @kit.action(kind="big_action", name="Big action output")
    async def big_action(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return "x" * (4 * 1024 * 1024 + 100)

    @kit.action(kind="near_big", name="Almost 4 MB")
    async def near_big(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return len(await ctx.step.run("big", lambda: "x" * (3 * 1024 * 1024)))

    @kit.action(kind="many_steps", name="Many steps")
    async def many_steps(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        n = int(ctx.event["data"]["n"])
        for i in range(n):
            await ctx.step.run(f"s{i}", lambda i=i: i)
        return n


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path)


def _env(url: str, policy: RetryPolicy | None = None) -> Env:
    clock = VirtualClock(START_MS)
    kit = make_kit(url, clock=clock, policy=policy)
    env = Env(kit, clock)
    register(env)
    return env


@pytest.fixture
async def env(url: str) -> AsyncIterator[Env]:
    e = _env(url)
    async with e.kit.worker(poll_ms=50):
        yield e
    e.kit.close()


@pytest.fixture
async def slow_env(url: str) -> AsyncIterator[Env]:
    """The default (Inngest's) retry policy, on the virtual clock."""
    e = _env(url, RetryPolicy())
    async with e.kit.worker(poll_ms=50):
        yield e
    e.kit.close()


def one(kind: str, **inputs: Any) -> dict[str, Any]:
    action: dict[str, Any] = {"id": kind, "kind": kind}
    if inputs:
        action["inputs"] = inputs
    return chain(action)


# -- step kinds ------------------------------------------------------------------------------------


async def test_step_run_is_memoized_across_a_sleep_of_days(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="memo", trigger="app/go", workflow=one("memo"))
    run_id = await env.start(w.id, {"name": "app/go", "data": {}})
    run = await env.wait(run_id, "sleeping")
    assert env.calls["memo.a"] == 1 and env.calls["memo.b"] == 0
    await env.advance(timedelta(days=1))
    await settle(0.2)
    assert status(await env.kit.runs.get(T, run_id)) == "sleeping"
    await env.advance(timedelta(days=1, seconds=1))
    run = await env.wait(run_id)
    assert status(run) == "completed", run.error
    assert run.output == {"memo": {"x": 41, "y": 42}}
    assert env.calls["memo.a"] == 1 and env.calls["memo.b"] == 1
    assert [s.key for s in run.action("memo").steps] == ["a", "nap", "b"]


async def test_sleep_until_a_time(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="until", trigger="app/go", workflow=one("until"))
    run_id = await env.start(w.id, {"name": "app/go", "data": {"at": iso(START_MS + 3 * 3_600_000)}})
    await env.wait(run_id, "sleeping")
    await env.advance(timedelta(hours=2))
    await settle(0.2)
    assert env.calls["until.after"] == 0
    await env.advance(timedelta(hours=1))
    run = await env.wait(run_id)
    assert status(run) == "completed" and run.output == {"until": "woke"}


async def test_wait_for_event_received_with_if_exp(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="wait", trigger="app/go", workflow=one("waiter"))
    run_id = await env.start(w.id, {"name": "app/go", "data": {"id": 7}})
    await env.wait(run_id, "waiting")
    await env.kit.send(T, {"name": "app/approved", "data": {"id": 8}})  # does not match the CEL
    await env.kit.send(T, {"name": "app/other", "data": {"id": 7}})  # another name
    await settle(0.2)
    assert status(await env.kit.runs.get(T, run_id)) == "waiting"
    await env.kit.send(T, {"name": "app/approved", "data": {"id": 7, "ok": True}})
    run = await env.wait(run_id)
    assert status(run) == "completed"
    got = run.output["waiter"]["got"]
    assert got["name"] == "app/approved" and got["data"] == {"id": 7, "ok": True}


async def test_wait_for_event_times_out_to_none(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="wait", trigger="app/go", workflow=one("waiter"))
    run_id = await env.start(w.id, {"name": "app/go", "data": {"id": 7}})
    await env.wait(run_id, "waiting")
    await env.advance(timedelta(minutes=59))
    await settle(0.2)
    assert status(await env.kit.runs.get(T, run_id)) == "waiting"
    await env.advance(timedelta(minutes=2))
    run = await env.wait(run_id)
    assert status(run) == "completed" and run.output == {"waiter": {"got": None}}


async def test_wait_matches_only_events_received_after_it(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="wait", trigger="app/go", workflow=one("waiter"))
    await env.kit.send(T, {"name": "app/approved", "data": {"id": 7}})  # before the run exists
    await env.advance(timedelta(seconds=1))
    run_id = await env.start(w.id, {"name": "app/go", "data": {"id": 7}})
    await env.wait(run_id, "waiting")
    await settle(0.2)
    assert status(await env.kit.runs.get(T, run_id)) == "waiting"
    await env.advance(timedelta(hours=2))
    run = await env.wait(run_id)
    assert run.output == {"waiter": {"got": None}}


async def test_send_event_step_triggers_workflows_returns_ids_and_is_not_resent(env: Env) -> None:
    parent = env.kit.workflows.create_sync(T, name="parent", trigger="app/go", workflow=one("sender"))
    child = env.kit.workflows.create_sync(T, name="child", trigger="app/child", workflow=one("record"))
    run_id = await env.start(parent.id, {"name": "app/go", "data": {"id": 3}})
    await env.wait(run_id, "sleeping")
    await env.advance(timedelta(minutes=2))
    run = await env.wait(run_id)
    assert status(run) == "completed"
    ids = run.output["sender"]["ids"]
    assert isinstance(ids, list) and len(ids) == 1 and isinstance(ids[0], str)
    [child_run] = await runs_of(env.kit, T, workflow_id=child.id)
    child_run = await env.wait(child_run.id)
    assert child_run.output["record"]["event"]["data"] == {"from": 3}
    assert len(await env.kit.runs.list(T, workflow_id=child.id)) == 1  # the replay did not send again
    assert env.calls["sender.after_send"] == 2  # the handler replayed after the sleep


async def test_invoke_returns_the_other_workflows_result(env: Env) -> None:
    child = env.kit.workflows.create_sync(T, name="child", trigger="app/never", workflow=one("double"))
    parent = env.kit.workflows.create_sync(
        T,
        name="parent",
        trigger="app/go",
        workflow=chain({"id": "inv", "kind": "invoker", "inputs": {"workflow_id": child.id}}),
    )
    run_id = await env.start(parent.id, {"name": "app/go", "data": {}})
    run = await env.wait(run_id)
    assert status(run) == "completed", run.error
    child_runs = await env.kit.runs.list(T, workflow_id=child.id)
    assert len(child_runs) == 1
    child_run = await env.kit.runs.get(T, child_runs[0].id)
    assert child_run.event["data"] == {"n": 5}
    assert run.output["inv"]["child"] == child_run.output == {"double": 10}


async def test_invoke_of_a_failing_workflow_raises_step_error(env: Env) -> None:
    child = env.kit.workflows.create_sync(T, name="child", trigger="app/never", workflow=one("nonretry"))
    parent = env.kit.workflows.create_sync(
        T,
        name="parent",
        trigger="app/go",
        workflow=chain({"id": "inv", "kind": "invoker", "inputs": {"workflow_id": child.id}}),
    )
    run = await env.finish(await env.start(parent.id, {"name": "app/go", "data": {}}))
    assert status(run) == "completed"
    assert "step_error" in run.output["inv"]


async def test_invoke_of_another_tenants_workflow_fails(env: Env) -> None:
    other = env.kit.workflows.create_sync("tenant-other", name="child", trigger="app/never", workflow=one("double"))
    parent = env.kit.workflows.create_sync(
        T,
        name="parent",
        trigger="app/go",
        workflow=chain({"id": "inv", "kind": "invoker", "inputs": {"workflow_id": other.id}}),
    )
    run = await env.wait(await env.start(parent.id, {"name": "app/go", "data": {}}))
    assert status(run) in ("completed", "failed")
    if status(run) == "completed":
        assert "step_error" in run.output["inv"]
    assert await env.kit.runs.list("tenant-other") == []


# -- builtins --------------------------------------------------------------------------------------


def test_builtins_are_registered_with_typed_inputs(env: Env) -> None:
    catalog = {a["kind"]: a for a in env.kit.public_actions()}
    for kind in (
        "builtin:sleep",
        "builtin:sleep_until",
        "builtin:wait_for_event",
        "builtin:send_event",
        "builtin:invoke",
    ):
        assert kind in catalog, kind
        assert catalog[kind]["inputs"]["type"] == "object" and catalog[kind]["inputs"]["properties"]
    names = {e["name"] for e in catalog["builtin:wait_for_event"]["edges"]["edges"]}
    assert {"Received", "Timed out"} <= names
    problems = env.kit.validate(chain({"id": "s", "kind": "builtin:sleep", "inputs": {"duration": "soon"}}))
    assert problems and "duration" in problems[0].path


async def test_builtin_sleep_and_sleep_until_with_a_ref(env: Env) -> None:
    wf = chain(
        {"id": "s", "kind": "builtin:sleep", "inputs": {"duration": "1d"}},
        {"id": "u", "kind": "builtin:sleep_until", "inputs": {"until": "!ref($.event.data.at)"}},
        {"id": "r", "kind": "record"},
    )
    w = env.kit.workflows.create_sync(T, name="b", trigger="app/go", workflow=wf)
    run_id = await env.start(w.id, {"name": "app/go", "data": {"at": iso(START_MS + 2 * 86_400_000)}})
    await env.wait(run_id, "sleeping")
    await env.advance(timedelta(days=1, seconds=1))
    await settle(0.3)
    run = await env.kit.runs.get(T, run_id)
    assert status(run) == "sleeping" and env.calls["record"] == 0
    await env.advance(timedelta(days=1))
    run = await env.wait(run_id)
    assert status(run) == "completed" and env.calls["record"] == 1


def _wait_workflow(kit: WorkflowKit) -> dict[str, Any]:
    catalog = {a["kind"]: a for a in kit.public_actions()}
    edges = {e["name"]: e for e in catalog["builtin:wait_for_event"]["edges"]["edges"]}
    return {
        "actions": [
            {
                "id": "w",
                "kind": "builtin:wait_for_event",
                "inputs": {"event": "app/approved", "if": "async.data.id == event.data.id", "timeout": "1h"},
            },
            {"id": "yes", "kind": "tag", "inputs": {"v": "received"}},
            {"id": "no", "kind": "tag", "inputs": {"v": "timed out"}},
        ],
        "edges": [
            {"from": "$source", "to": "w"},
            {"from": "w", "to": "yes", "name": "Received", "conditional": edges["Received"]["conditional"]},
            {"from": "w", "to": "no", "name": "Timed out", "conditional": edges["Timed out"]["conditional"]},
        ],
    }


async def test_builtin_wait_for_event_received_edge(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="b", trigger="app/go", workflow=_wait_workflow(env.kit))
    run_id = await env.start(w.id, {"name": "app/go", "data": {"id": 1}})
    await env.wait(run_id, "waiting")
    await env.kit.send(T, {"name": "app/approved", "data": {"id": 1}})
    run = await env.wait(run_id)
    assert status(run) == "completed"
    assert run.output["w"]["data"] == {"id": 1}
    assert run.output.get("yes") == "received" and run.output.get("no") is None
    assert str(run.action("no").status).endswith("skipped")


async def test_builtin_wait_for_event_timed_out_edge(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="b", trigger="app/go", workflow=_wait_workflow(env.kit))
    run_id = await env.start(w.id, {"name": "app/go", "data": {"id": 1}})
    await env.wait(run_id, "waiting")
    await env.advance(timedelta(hours=1, seconds=1))
    run = await env.wait(run_id)
    assert status(run) == "completed"
    assert run.output.get("w") is None
    assert run.output.get("no") == "timed out" and run.output.get("yes") is None


async def test_builtin_send_event_with_refs(env: Env) -> None:
    wf = chain(
        {
            "id": "s",
            "kind": "builtin:send_event",
            "inputs": {
                "name": "app/child",
                "data": {"post": "!ref($.event.data.id)", "t": "post !ref($.event.data.id)"},
            },
        }
    )
    parent = env.kit.workflows.create_sync(T, name="p", trigger="app/go", workflow=wf)
    child = env.kit.workflows.create_sync(T, name="c", trigger="app/child", workflow=one("record"))
    run = await env.wait(await env.start(parent.id, {"name": "app/go", "data": {"id": 9}}))
    assert status(run) == "completed", run.error
    [child_run] = await runs_of(env.kit, T, workflow_id=child.id)
    child_run = await env.wait(child_run.id)
    assert child_run.output["record"]["event"]["data"] == {"post": 9, "t": "post 9"}


async def test_builtin_invoke(env: Env) -> None:
    child = env.kit.workflows.create_sync(T, name="child", trigger="app/never", workflow=one("double"))
    wf = chain(
        {
            "id": "i",
            "kind": "builtin:invoke",
            "inputs": {"workflow_id": child.id, "data": {"n": "!ref($.event.data.n)"}},
        }
    )
    parent = env.kit.workflows.create_sync(T, name="p", trigger="app/go", workflow=wf)
    run = await env.wait(await env.start(parent.id, {"name": "app/go", "data": {"n": 21}}))
    assert status(run) == "completed", run.error
    assert run.output["i"] == {"double": 42}


# -- retries ---------------------------------------------------------------------------------------


async def test_default_retries_are_4_then_step_error_fails_the_run(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="r", trigger="app/go", workflow=one("boom"))
    run = await env.finish(await env.start(w.id, {"name": "app/go", "data": {}}))
    assert status(run) == "failed"
    assert env.calls["boom.body"] == 5
    step = run.action("boom").steps[0]
    assert len(step.attempts) == 5
    assert run.error and "kaput" in str(run.error)


async def test_step_error_can_be_caught_by_the_handler(env: Env) -> None:
    env.flags["catch"] = True
    w = env.kit.workflows.create_sync(T, name="r", trigger="app/go", workflow=one("boom"))
    run = await env.finish(await env.start(w.id, {"name": "app/go", "data": {}}))
    assert status(run) == "completed", run.error
    assert "kaput" in run.output["boom"]["caught"]
    assert env.calls["boom.body"] == 5


@pytest.mark.parametrize("retries", [0, 2, 20])
async def test_per_workflow_retries(env: Env, retries: int) -> None:
    w = env.kit.workflows.create_sync(
        T, name="r", trigger="app/go", workflow=one("boom"), settings={"retries": retries}
    )
    run = await env.finish(await env.start(w.id, {"name": "app/go", "data": {}}))
    assert status(run) == "failed"
    assert env.calls["boom.body"] == retries + 1


@pytest.mark.parametrize("retries", [-1, 21])
def test_per_workflow_retries_out_of_range_are_refused(env: Env, retries: int) -> None:
    with pytest.raises(Exception) as info:
        env.kit.workflows.create_sync(
            T, name="r", trigger="app/go", workflow=one("boom"), settings={"retries": retries}
        )
    assert "retries" in str(info.value)


async def test_action_handler_failures_are_retried_and_earlier_actions_not_recomputed(env: Env) -> None:
    env.flags["fail_times"] = 2
    wf = chain({"id": "first", "kind": "record"}, {"id": "hf", "kind": "handler_fails"})
    w = env.kit.workflows.create_sync(T, name="r", trigger="app/go", workflow=wf)
    run = await env.finish(await env.start(w.id, {"name": "app/go", "data": {}}))
    assert status(run) == "completed", run.error
    assert run.output["hf"] == 3
    assert env.calls["record"] == 1
    assert len(run.action("hf").attempts) == 3


async def test_non_retriable_error_fails_at_once(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="r", trigger="app/go", workflow=one("nonretry"))
    run = await env.finish(await env.start(w.id, {"name": "app/go", "data": {}}))
    assert status(run) == "failed"
    assert env.calls["nr.body"] == 1
    assert "no point" in str(run.error)


async def test_retry_after_error_reschedules_at_its_time(slow_env: Env) -> None:
    env = slow_env
    w = env.kit.workflows.create_sync(T, name="r", trigger="app/go", workflow=one("retry_after"))
    run_id = await env.start(w.id, {"name": "app/go", "data": {}})
    for _ in range(100):
        if env.calls["ra.body"] >= 1:
            break
        await asyncio.sleep(0.02)
    await settle(0.2)
    run = await env.kit.runs.get(T, run_id)
    assert status(run) not in ("completed", "failed")
    step = run.action("retry_after").steps[0]
    assert step.wake_at == env.clock.now_ms() + 10 * 60_000
    await env.advance(timedelta(minutes=9))
    await settle(0.2)
    assert env.calls["ra.body"] == 1
    await env.advance(timedelta(minutes=1))
    run = await env.wait(run_id)
    assert status(run) == "completed" and run.output == {"retry_after": "ok"}
    assert env.calls["ra.body"] == 2


async def _next_wake(env: Env, run_id: str, failures: int) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        run = await env.kit.runs.get(T, run_id)
        action = run.action("boom")
        if action and action.steps and action.steps[0].failures >= failures and action.steps[0].wake_at:
            return int(action.steps[0].wake_at)
        if status(run) in ("failed", "completed"):
            raise AssertionError(f"run ended: {run.error}")
        assert loop.time() < deadline, "no retry scheduled"
        await asyncio.sleep(0.02)


async def test_backoff_schedule_with_jitter_and_cap(slow_env: Env) -> None:
    env = slow_env
    w = env.kit.workflows.create_sync(T, name="r", trigger="app/go", workflow=one("boom"), settings={"retries": 12})
    run_id = await env.start(w.id, {"name": "app/go", "data": {}})
    expected = [15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200, 7200, 7200]
    jitters = []
    for n, base in enumerate(expected, start=1):
        wake = await _next_wake(env, run_id, n)
        delay = (wake - env.clock.now_ms()) / 1000
        assert base <= delay <= base + 60, (n, delay)  # plus jitter
        jitters.append(delay - base)
        env.clock.advance_to(wake)
        env.kit.notify()
    run = await env.wait(run_id)
    assert status(run) == "failed"
    assert env.calls["boom.body"] == 13
    assert len(set(jitters)) > 1  # there is jitter


async def test_rerun_from_failed_step_keeps_completed_steps(env: Env) -> None:
    env.flags["b_fails"] = True
    w = env.kit.workflows.create_sync(T, name="r", trigger="app/go", workflow=one("flaky_step"))
    run_id = await env.start(w.id, {"name": "app/go", "data": {}})
    run = await env.finish(run_id)
    assert status(run) == "failed"
    env.flags["b_fails"] = False
    new_id = await env.kit.runs.rerun(T, run_id, from_failed_step=True)
    rerun = await env.finish(str(new_id if isinstance(new_id, str) else new_id.id))
    assert status(rerun) == "completed", rerun.error
    assert rerun.output == {"flaky_step": ["a", "b"]}
    assert env.calls["fs.a"] == 1
    again = await env.kit.runs.rerun(T, run_id, from_failed_step=False)
    again_run = await env.finish(str(again if isinstance(again, str) else again.id))
    assert status(again_run) == "completed"
    assert env.calls["fs.a"] == 2


# -- determinism -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["other_id", "other_kind"])
async def test_determinism_guard(env: Env, mode: str) -> None:
    w = env.kit.workflows.create_sync(T, name="n", trigger="app/go", workflow=one("nondet"))
    run_id = await env.start(w.id, {"name": "app/go", "data": {}})
    await env.wait(run_id, "sleeping")
    env.flags["mode"] = mode
    await env.advance(timedelta(hours=2))
    run = await env.wait(run_id)
    assert status(run) == "failed"
    assert env.calls["nondet.end"] == 0
    text = str(run.error).lower()
    assert "determinis" in text or "expected" in text, run.error


# -- statuses, cancel ------------------------------------------------------------------------------


async def test_running_status_and_cancel_mid_step_runs_no_further_step(env: Env) -> None:
    w = env.kit.workflows.create_sync(
        T, name="g", trigger="app/go", workflow=chain({"id": "g", "kind": "gated"}, {"id": "r", "kind": "record"})
    )
    run_id = await env.start(w.id, {"name": "app/go", "data": {}})
    for _ in range(200):
        if env.calls["gated.body"]:
            break
        await asyncio.sleep(0.02)
    assert status(await env.kit.runs.get(T, run_id)) == "running"
    await env.kit.runs.cancel(T, run_id)
    env.gate.set()
    run = await env.wait(run_id)
    assert status(run) == "cancelled"
    await settle(0.3)
    assert env.calls["gated.after"] == 0 and env.calls["record"] == 0
    assert status(await env.kit.runs.get(T, run_id)) == "cancelled"


async def test_cancel_a_sleeping_run(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="s", trigger="app/go", workflow=one("sleepy"))
    run_id = await env.start(w.id, {"name": "app/go", "data": {}})
    await env.wait(run_id, "sleeping")
    await env.kit.runs.cancel(T, run_id)
    assert status(await env.kit.runs.get(T, run_id)) == "cancelled"
    await env.advance(timedelta(hours=2))
    await settle(0.3)
    assert env.calls["sleepy.after"] == 0
    assert status(await env.kit.runs.get(T, run_id)) == "cancelled"


async def test_sleeping_runs_hold_no_worker(url: str) -> None:
    e = _env(url)
    w = e.kit.workflows.create_sync(T, name="s", trigger="app/sleep", workflow=one("sleepy"))
    r = e.kit.workflows.create_sync(T, name="r", trigger="app/rec", workflow=one("record"))
    async with e.kit.worker(concurrency=1, poll_ms=50):
        sleepers = []
        for _ in range(3):
            sleepers.append(await e.start(w.id, {"name": "app/sleep", "data": {}}))
            await e.wait(sleepers[-1], "sleeping")
        run = await e.wait(await e.start(r.id, {"name": "app/rec", "data": {}}))
        assert status(run) == "completed"
    e.kit.close()


# -- system events ---------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["completed", "failed", "cancelled"])
async def test_system_events_on_run_end(env: Env, outcome: str) -> None:
    kind = {"completed": "double", "failed": "nonretry", "cancelled": "sleepy"}[outcome]
    source = env.kit.workflows.create_sync(T, name="source", trigger="app/go", workflow=one(kind))
    watcher = env.kit.workflows.create_sync(
        T,
        name="watcher",
        trigger={"event": f"workflow/run.{outcome}", "if": f"event.data.workflow_id == '{source.id}'"},
        workflow=one("record"),
    )
    run_id = await env.start(source.id, {"name": "app/go", "data": {"n": 1}})
    if outcome == "cancelled":
        await env.wait(run_id, "sleeping")
        await env.kit.runs.cancel(T, run_id)
    run = await env.wait(run_id)
    assert status(run) == outcome
    [seen] = await runs_of(env.kit, T, workflow_id=watcher.id)
    seen = await env.wait(seen.id)
    event = seen.output["record"]["event"]
    assert event["name"] == f"workflow/run.{outcome}"
    values = {str(v) for v in event["data"].values() if not isinstance(v, dict)}
    assert run_id in values and source.id in values, event
    if outcome == "failed":
        assert "no point" in str(event["data"])
    # another tenant does not see it
    assert await env.kit.runs.list("tenant-other") == []


async def test_system_events_reach_only_the_runs_tenant(env: Env) -> None:
    source = env.kit.workflows.create_sync(T, name="source", trigger="app/go", workflow=one("double"))
    spy = env.kit.workflows.create_sync(
        "tenant-spy", name="spy", trigger="workflow/run.completed", workflow=one("record")
    )
    run = await env.wait(await env.start(source.id, {"name": "app/go", "data": {"n": 1}}))
    assert status(run) == "completed"
    await settle(0.3)
    assert await env.kit.runs.list("tenant-spy", workflow_id=spy.id) == []


# -- limits ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["big_step", "big_action"])
async def test_output_over_4mb_fails_with_a_clear_error(env: Env, kind: str) -> None:
    w = env.kit.workflows.create_sync(T, name="b", trigger="app/go", workflow=one(kind))
    run = await env.wait(await env.start(w.id, {"name": "app/go", "data": {}}), timeout=30)
    assert status(run) == "failed"
    text = str(run.error).lower()
    assert "4 mb" in text or "4mb" in text or "4194304" in text or "too large" in text, run.error


async def test_output_under_4mb_is_fine(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="b", trigger="app/go", workflow=one("near_big"))
    run = await env.wait(await env.start(w.id, {"name": "app/go", "data": {}}), timeout=30)
    assert status(run) == "completed", run.error


async def test_more_than_1000_steps_fails_with_a_clear_error(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="m", trigger="app/go", workflow=one("many_steps"))
    run = await env.wait(await env.start(w.id, {"name": "app/go", "data": {"n": 1001}}), timeout=120)
    assert status(run) == "failed"
    text = str(run.error).lower()
    assert "1000" in text or "1,000" in text, run.error


# -- version pinning -------------------------------------------------------------------------------


async def test_a_run_keeps_its_version_when_the_workflow_is_edited(env: Env) -> None:
    def wf(v: int) -> dict[str, Any]:
        return chain(
            {"id": "s", "kind": "builtin:sleep", "inputs": {"duration": "1h"}},
            {"id": "t", "kind": "tag", "inputs": {"v": v}},
        )

    w = env.kit.workflows.create_sync(T, name="v", trigger="app/go", workflow=wf(1))
    run_id = await env.start(w.id, {"name": "app/go", "data": {}})
    await env.wait(run_id, "sleeping")
    env.kit.workflows.update_sync(T, w.id, workflow=wf(2))
    env.kit.workflows.publish_sync(T, w.id)
    await env.advance(timedelta(seconds=1))
    new_id = await env.start(w.id, {"name": "app/go", "data": {}})
    assert new_id != run_id
    await env.wait(new_id, "sleeping")
    await env.advance(timedelta(hours=2))
    old = await env.wait(run_id)
    new = await env.wait(new_id)
    assert old.output["t"] == 1 and new.output["t"] == 2
    assert old.version == 1 and new.version == 2


async def test_1000_steps_are_allowed_and_the_limit_counts_the_whole_run(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="m", trigger="app/go", workflow=one("many_steps"))
    run = await env.wait(await env.start(w.id, {"name": "app/go", "data": {"n": 1000}}), timeout=120)
    assert status(run) == "completed", run.error
    two = chain({"id": "a", "kind": "many_steps"}, {"id": "b", "kind": "many_steps"})
    w2 = env.kit.workflows.create_sync(T, name="m2", trigger="app/two", workflow=two)
    run = await env.wait(await env.start(w2.id, {"name": "app/two", "data": {"n": 600}}), timeout=120)
    assert status(run) == "failed"
    assert "1000" in str(run.error) or "1,000" in str(run.error)


async def test_send_sync_from_async_code_with_a_worker_running(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="d", trigger="app/go", workflow=one("double"))
    ids = await asyncio.wait_for(asyncio.to_thread(env.kit.send_sync, T, {"name": "app/go", "data": {"n": 2}}), 10)
    assert len(ids) == 1
    [run] = await runs_of(env.kit, T, workflow_id=w.id)
    assert (await env.wait(run.id)).output == {"double": 4}


async def test_event_ts_defaults_to_the_receive_time(env: Env) -> None:
    w = env.kit.workflows.create_sync(T, name="d", trigger="app/go", workflow=one("record"))
    run = await env.wait(await env.start(w.id, {"name": "app/go", "data": {}}))
    assert run.output["record"]["event"]["ts"] == env.clock.now_ms()


async def test_two_workers_and_two_kits_run_each_step_once(url: str) -> None:
    clock = VirtualClock(START_MS)
    kits = [make_kit(url, clock=clock), make_kit(url, clock=clock)]
    counts: Counter[str] = Counter()
    for k in kits:

        @k.action(kind="count", name="Count")
        async def count(ctx: ActionContext, inputs: dict[str, Any]) -> int:
            n = ctx.event["data"]["n"]
            for i in range(3):
                await ctx.step.run(f"s{i}", lambda i=i: counts.update([f"{n}:{i}"]))
            return int(n)

    w = kits[0].workflows.create_sync(T, name="c", trigger="app/c", workflow=one("count"))
    async with kits[0].worker(poll_ms=20), kits[0].worker(poll_ms=20), kits[1].worker(poll_ms=20):
        await kits[1].send(T, [{"name": "app/c", "data": {"n": n}} for n in range(20)])
        runs = await kits[0].runs.list(T, workflow_id=w.id)
        assert len(runs) == 20
        for r in runs:
            assert status(await wait_status(kits[0], T, r.id, timeout=30)) == "completed"
    assert counts == Counter({f"{n}:{i}": 1 for n in range(20) for i in range(3)})
    for k in kits:
        k.close()


async def test_system_events_are_emitted_for_every_run_in_a_chain(env: Env) -> None:
    previous = env.kit.workflows.create_sync(T, name="w0", trigger="app/go", workflow=one("double"))
    chain_ids = [previous.id]
    for n in range(1, 5):
        nxt = env.kit.workflows.create_sync(
            T,
            name=f"w{n}",
            trigger={"event": "workflow/run.completed", "if": f"event.data.workflow_id == '{previous.id}'"},
            workflow=one("record"),
        )
        chain_ids.append(nxt.id)
        previous = nxt
    await env.start(chain_ids[0], {"name": "app/go", "data": {"n": 1}})
    for n, workflow_id in enumerate(chain_ids[1:], start=1):
        runs = await runs_of(env.kit, T, workflow_id=workflow_id, timeout=2)
        assert len(runs) == 1, f"w{n} did not run: w{n - 1}'s run emitted no workflow/run.completed"
        assert status(await env.wait(runs[0].id)) == "completed"


async def test_sync_handler_steps_are_durable(env: Env) -> None:
    @env.kit.action(kind="syncy", name="Sync")
    def syncy(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
        def a() -> int:
            env.calls["syncy.a"] += 1
            return 5

        x = ctx.step.run("a", a)
        ctx.step.sleep("nap", "1h")
        return int(x) + int(ctx.step.run("b", lambda: 1))

    w = env.kit.workflows.create_sync(T, name="s", trigger="app/go", workflow=one("syncy"))
    run_id = await env.start(w.id, {"name": "app/go", "data": {}})
    await env.wait(run_id, "sleeping")
    await env.advance(timedelta(hours=1, seconds=1))
    run = await env.wait(run_id)
    assert run.output == {"syncy": 6} and env.calls["syncy.a"] == 1


async def test_builtin_invoke_timeout_fails_the_run(env: Env) -> None:
    child = env.kit.workflows.create_sync(T, name="child", trigger="app/never", workflow=one("sleepy"))
    wf = chain({"id": "i", "kind": "builtin:invoke", "inputs": {"workflow_id": child.id, "timeout": "1m"}})
    parent = env.kit.workflows.create_sync(T, name="p", trigger="app/go", workflow=wf)
    run_id = await env.start(parent.id, {"name": "app/go", "data": {}})
    await env.wait(run_id, "waiting")
    await env.advance(timedelta(minutes=2))
    run = await env.wait(run_id)
    assert status(run) == "failed"
    assert "time" in str(run.error).lower()
