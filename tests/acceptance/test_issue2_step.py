"""Issue 2 acceptance: the Step API (ctx.step) in memory."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from workflow_kit import ActionContext, NonRetriableError, RetryAfterError, StepError, WorkflowKit
from workflow_kit.testing import run_workflow

EVENT = {"name": "app/order", "data": {"id": "o1"}}


def _one(kind: str, id_: str = "a") -> dict[str, Any]:
    return {"actions": [{"id": id_, "kind": kind, "inputs": {}}], "edges": [{"from": "$source", "to": id_}]}


def _step_keys(result: Any, action_id: str) -> list[str]:
    keys: list[str] = []
    for s in result.steps(action_id):
        keys.append(str(getattr(s, "key", None) or getattr(s, "id", None)))
    return keys


def test_step_ids_scoped_per_action_and_counters_for_repeats() -> None:
    kit = WorkflowKit()
    calls: list[str] = []

    @kit.action(kind="fetch", name="Fetch", description="d", icon="f")
    async def fetch(ctx: ActionContext, inputs: dict[str, Any]) -> list[Any]:
        def work(tag: str) -> str:
            calls.append(f"{ctx.action.id}:{tag}")
            return f"{ctx.action.id}-{tag}"

        first = await ctx.step.run("load", work, "1")
        second = await ctx.step.run("load", work, "2")
        third = await ctx.step.run("load", work, "3")
        return [first, second, third]

    wf = {
        "actions": [{"id": "x", "kind": "fetch", "inputs": {}}, {"id": "y", "kind": "fetch", "inputs": {}}],
        "edges": [{"from": "$source", "to": "x"}, {"from": "x", "to": "y"}],
    }
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "completed", result.error
    assert result.state["x"] == ["x-1", "x-2", "x-3"]
    assert result.state["y"] == ["y-1", "y-2", "y-3"]  # not x's memoized "load"
    assert sorted(calls) == sorted(["x:1", "x:2", "x:3", "y:1", "y:2", "y:3"])
    assert _step_keys(result, "x") == ["load", "load:1", "load:2"]
    assert _step_keys(result, "y") == ["load", "load:1", "load:2"]


def test_sync_handler_step_api() -> None:
    kit = WorkflowKit()

    @kit.action(kind="s", name="S", description="d", icon="s")
    def s(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        step: Any = ctx.step  # a sync handler annotated with ActionContext, as in the issue: blocking steps
        a = step.run("x", lambda v: v * 2, 21)
        step.sleep("nap", timedelta(hours=2))
        b = step.run("x", lambda: "again")
        return [a, b]

    t0 = time.monotonic()
    result = run_workflow(kit, _one("s"), EVENT)
    assert time.monotonic() - t0 < 2
    assert result.status == "completed", result.error
    assert result.state["a"] == [42, "again"]
    assert _step_keys(result, "a") == ["x", "nap", "x:1"]


def test_memoized_step_not_rerun_after_sleep() -> None:
    kit = WorkflowKit()
    calls: list[str] = []

    def record(name: str, value: int) -> int:
        calls.append(name)
        return value

    @kit.action(kind="m", name="M", description="d", icon="m")
    async def m(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        v = await ctx.step.run("one", record, "one", 1)
        await ctx.step.sleep("wait", "1h")
        w = await ctx.step.run("two", record, "two", 2)
        await ctx.step.sleep_until("later", datetime.now(UTC) + timedelta(days=3))
        return v + w

    t0 = time.monotonic()
    result = run_workflow(kit, _one("m"), EVENT)
    assert time.monotonic() - t0 < 2
    assert result.status == "completed", result.error
    assert result.state["a"] == 3
    assert calls == ["one", "two"]


def test_per_step_retry_counters_default_four_retries() -> None:
    kit = WorkflowKit()
    counts = {"a": 0, "b": 0}

    def flaky(name: str, failures: int) -> str:
        counts[name] += 1
        if counts[name] <= failures:
            raise RuntimeError(f"{name} failure {counts[name]}")
        return name

    @kit.action(kind="r", name="R", description="d", icon="r")
    async def r(ctx: ActionContext, inputs: dict[str, Any]) -> list[str]:
        # each fails 4 times and succeeds on the 5th attempt: fine only if the counters are separate
        return [await ctx.step.run("a", flaky, "a", 4), await ctx.step.run("b", flaky, "b", 4)]

    t0 = time.monotonic()
    result = run_workflow(kit, _one("r"), EVENT)
    assert time.monotonic() - t0 < 3  # backoff takes no real time
    assert result.status == "completed", result.error
    assert counts == {"a": 5, "b": 5}
    assert result.executed == ["a"]


def test_exhausted_step_raises_step_error_into_handler() -> None:
    kit = WorkflowKit()
    calls = {"n": 0}
    caught: dict[str, Any] = {}

    def always() -> None:
        calls["n"] += 1
        raise ValueError("nope nope")

    @kit.action(kind="x", name="X", description="d", icon="x")
    async def x(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        try:
            await ctx.step.run("bad", always)
        except StepError as exc:
            caught["exc"] = exc
            return "recovered"
        return "unreachable"

    result = run_workflow(kit, _one("x"), EVENT)
    assert result.status == "completed", result.error
    assert result.state["a"] == "recovered"
    assert calls["n"] == 5  # 1 + 4 retries
    assert "nope nope" in str(caught["exc"])


def test_uncaught_step_error_fails_run() -> None:
    kit = WorkflowKit()
    handler_calls = {"n": 0}

    @kit.action(kind="x", name="X", description="d", icon="x")
    async def x(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        handler_calls["n"] += 1
        await ctx.step.run("bad", lambda: (_ for _ in ()).throw(ValueError("kaboom")))

    result = run_workflow(kit, _one("x"), EVENT)
    assert result.status == "failed"
    assert result.error is not None and "kaboom" in result.error["message"]


def test_non_retriable_in_step_fails_at_once() -> None:
    kit = WorkflowKit()
    calls = {"n": 0}
    seen: list[type[BaseException]] = []

    def nr() -> None:
        calls["n"] += 1
        raise NonRetriableError("stop now")

    @kit.action(kind="x", name="X", description="d", icon="x")
    async def x(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        try:
            await ctx.step.run("nr", nr)
        except StepError as exc:
            seen.append(type(exc))
            raise

    result = run_workflow(kit, _one("x"), EVENT)
    assert result.status == "failed"
    assert calls["n"] == 1
    assert seen == [StepError]
    assert result.error is not None and "stop now" in result.error["message"]


def test_non_retriable_in_handler_fails_at_once_and_plain_errors_retry() -> None:
    kit = WorkflowKit()
    calls = {"nr": 0, "flaky": 0}
    attempts: list[int] = []

    @kit.action(kind="nr", name="NR", description="d", icon="x")
    def nr(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        calls["nr"] += 1
        raise NonRetriableError("bad input")

    @kit.action(kind="flaky", name="F", description="d", icon="x")
    def flaky(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        calls["flaky"] += 1
        attempts.append(ctx.attempt)
        if calls["flaky"] < 3:
            raise RuntimeError("transient")
        return "ok"

    r1 = run_workflow(kit, _one("nr"), EVENT)
    assert r1.status == "failed" and calls["nr"] == 1
    assert r1.error is not None and "bad input" in r1.error["message"]
    t0 = time.monotonic()
    r2 = run_workflow(kit, _one("flaky"), EVENT)
    assert time.monotonic() - t0 < 2
    assert r2.status == "completed" and r2.state == {"a": "ok"}
    assert r2.executed == ["a"]
    assert attempts == sorted(attempts) and len(set(attempts)) == 3  # the attempt counter moves


def test_retry_after_error_retries() -> None:
    kit = WorkflowKit()
    calls = {"n": 0}

    def limited() -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RetryAfterError("slow down", timedelta(minutes=10))
        return "done"

    @kit.action(kind="x", name="X", description="d", icon="x")
    async def x(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        out: str = await ctx.step.run("call", limited)
        return out

    t0 = time.monotonic()
    result = run_workflow(kit, _one("x"), EVENT)
    assert time.monotonic() - t0 < 2
    assert result.status == "completed" and result.state == {"a": "done"}
    assert calls["n"] == 2


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([{"name": "app/approved", "data": {"order": "o1", "by": "bob"}}], "bob"),
        ([{"name": "app/approved", "data": {"order": "o2", "by": "eve"}}], None),  # if_exp rejects it
        ([{"name": "app/other", "data": {"order": "o1", "by": "x"}}], None),  # other name
        ([], None),  # times out
        (
            [
                {"name": "app/approved", "data": {"order": "o2", "by": "eve"}},
                {"name": "app/approved", "data": {"order": "o1", "by": "ann"}},
            ],
            "ann",
        ),
    ],
)
def test_wait_for_event_with_stubbed_events_or_none(events: list[dict[str, Any]], expected: str | None) -> None:
    kit = WorkflowKit()

    @kit.action(kind="w", name="W", description="d", icon="w")
    async def w(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        got = await ctx.step.wait_for_event(
            "approval", event="app/approved", if_exp="async.data.order == event.data.id", timeout="7d"
        )
        return None if got is None else {"name": got["name"], "by": got["data"]["by"]}

    t0 = time.monotonic()
    result = run_workflow(kit, _one("w"), EVENT, events=events)
    assert time.monotonic() - t0 < 2  # a 7 day timeout takes no real time
    assert result.status == "completed", result.error
    if expected is None:
        assert result.state["a"] is None
    else:
        assert result.state["a"] == {"name": "app/approved", "by": expected}


def test_wait_for_event_timeout_timedelta_sync() -> None:
    kit = WorkflowKit()

    @kit.action(kind="w", name="W", description="d", icon="w")
    def w(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return ctx.step.wait_for_event("x", event="app/never", timeout=timedelta(hours=1))

    result = run_workflow(kit, _one("w"), EVENT)
    assert result.status == "completed" and result.state == {"a": None}


def test_send_event() -> None:
    kit = WorkflowKit()

    @kit.action(kind="s", name="S", description="d", icon="s")
    async def s(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        ids = await ctx.step.send_event("notify", [{"name": "app/a", "data": {"i": 1}}, {"name": "app/b", "data": {}}])
        one = await ctx.step.send_event("notify", {"name": "app/c", "data": {}})
        return {"n": len(ids), "m": len(one), "str": all(isinstance(i, str) for i in ids + one)}

    result = run_workflow(kit, _one("s"), EVENT)
    assert result.status == "completed", result.error
    assert result.state["a"] == {"n": 2, "m": 1, "str": True}
    assert [e["name"] for e in result.sent_events] == ["app/a", "app/b", "app/c"]
