"""The Step API (ctx.step) in memory: memoization, replay, retries, sleeps, waits, events, guards."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from helpers import action, edge, workflow

from workflow_kit import (
    ActionContext,
    ActionContextSync,
    NonRetriableError,
    RetryAfterError,
    StepError,
    WorkflowKit,
)
from workflow_kit.records import StepStatus
from workflow_kit.retry import RetryPolicy
from workflow_kit.step import MAX_STEPS_PER_RUN
from workflow_kit.testing import RunResult, run_workflow

EVENT = {"name": "app/order.created", "data": {"order": 7}}
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def one(kit: WorkflowKit, kind: str, **kwargs: Any) -> RunResult:
    wf = workflow([action("a", kind)], [edge("$source", "a")])
    return run_workflow(kit, wf, EVENT, start_time=START, **kwargs)


@pytest.fixture
def kit() -> WorkflowKit:
    return WorkflowKit(retry_policy=RetryPolicy.fast())


def test_run_steps_are_memoized_across_replays(kit: WorkflowKit) -> None:
    calls: list[str] = []

    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        first = ctx.step.run("load", lambda: calls.append("load") or {"id": 7})
        ctx.step.sleep("nap", "1h")
        second = ctx.step.run("save", lambda x: calls.append("save") or x + 1, first["id"])
        return {"first": first, "second": second}

    result = one(kit, "work")
    assert result.status == "completed", result.error
    assert result.state["a"] == {"first": {"id": 7}, "second": 8}
    assert calls == ["load", "save"]  # the sleep replayed "load" from its record
    steps = result.steps("a")
    assert [(s.key, s.kind, s.status) for s in steps] == [
        ("load", "run", StepStatus.COMPLETED),
        ("nap", "sleep", StepStatus.COMPLETED),
        ("save", "run", StepStatus.COMPLETED),
    ]


async def test_async_handlers_use_the_async_step_api(kit: WorkflowKit) -> None:
    from workflow_kit.testing import arun_workflow

    calls: list[str] = []

    async def fetch(n: int) -> int:
        calls.append("fetch")
        return n * 2

    @kit.action(kind="work")
    async def work(ctx: ActionContext, inputs: dict[str, Any]) -> int:
        doubled: int = await ctx.step.run("fetch", fetch, 21)
        await ctx.step.sleep("nap", timedelta(minutes=5))
        plain: int = await ctx.step.run("plain", lambda: 1)  # sync functions work too
        return doubled + plain

    wf = workflow([action("a", "work")], [edge("$source", "a")])
    result = await arun_workflow(kit, wf, EVENT)
    assert result.state == {"a": 43}
    assert calls == ["fetch"]


def test_repeated_step_ids_get_a_counter(kit: WorkflowKit) -> None:
    @kit.action(kind="loop")
    def loop(ctx: ActionContextSync, inputs: dict[str, Any]) -> list[int]:
        return [ctx.step.run("item", lambda i=i: i * 10) for i in range(3)]

    result = one(kit, "loop")
    assert result.state["a"] == [0, 10, 20]
    assert [s.key for s in result.steps("a")] == ["item", "item:1", "item:2"]


def test_step_ids_are_scoped_to_the_action(kit: WorkflowKit) -> None:
    @kit.action(kind="same")
    def same(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        return str(ctx.step.run("shared-id", lambda: ctx.action.id))

    wf = workflow([action("x", "same"), action("y", "same")], [edge("$source", "x"), edge("x", "y")])
    result = run_workflow(kit, wf, EVENT)
    assert result.state == {"x": "x", "y": "y"}
    assert result.steps("y")[0].key == "shared-id"


def test_each_step_has_its_own_retry_counter(kit: WorkflowKit) -> None:
    failures = {"first": 3, "second": 3}
    attempts_seen: list[int] = []

    def flaky(name: str) -> str:
        if failures[name]:
            failures[name] -= 1
            raise TimeoutError(f"{name} timed out")
        return name

    @kit.action(kind="two")
    def two(ctx: ActionContextSync, inputs: dict[str, Any]) -> list[str]:
        attempts_seen.append(ctx.attempt)
        return [ctx.step.run("first", flaky, "first"), ctx.step.run("second", flaky, "second")]

    result = one(kit, "two")
    assert result.status == "completed", result.error  # 3 failures each is within 4 retries per step
    assert result.state["a"] == ["first", "second"]
    assert [len(s.attempts) for s in result.steps("a")] == [4, 4]
    assert attempts_seen == [0, 1, 2, 3, 1, 2, 3]  # ctx.attempt follows the step being retried


def test_exhausted_step_raises_step_error_into_the_handler(kit: WorkflowKit) -> None:
    caught: list[StepError] = []

    def broken() -> None:
        raise KeyError("missing")

    @kit.action(kind="careful")
    def careful(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        try:
            ctx.step.run("broken", broken)
        except StepError as exc:
            caught.append(exc)
            return ctx.step.run("fallback", lambda: "fallback")
        return "unreachable"

    result = one(kit, "careful")
    assert result.state["a"] == "fallback"
    assert caught[-1].name == "KeyError" and "missing" in caught[-1].message
    assert caught[-1].step_id == "broken"
    broken_step = result.steps("a")[0]
    assert broken_step.status == StepStatus.FAILED and len(broken_step.attempts) == 5


def test_uncaught_step_error_fails_the_run_without_retrying_the_action(kit: WorkflowKit) -> None:
    handler_calls: list[int] = []

    @kit.action(kind="fails")
    def fails(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        handler_calls.append(1)
        ctx.step.run("charge", lambda: 1 / 0)

    result = one(kit, "fails")
    assert result.status == "failed"
    assert result.error == {"name": "ZeroDivisionError", "message": "division by zero", "action": "a", "step": "charge"}
    assert len(result.steps("a")[0].attempts) == 5
    assert len(result.actions["a"].attempts) == 1  # the action itself was not retried


def test_non_retriable_error_in_a_step_fails_at_once(kit: WorkflowKit) -> None:
    def refuse() -> None:
        raise NonRetriableError("card declined")

    @kit.action(kind="pay")
    def pay(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.run("charge", refuse)

    result = one(kit, "pay")
    assert result.error is not None and result.error["message"] == "card declined"
    assert len(result.steps("a")[0].attempts) == 1


def test_retry_after_error_reschedules_at_its_time() -> None:
    kit = WorkflowKit(retry_policy=RetryPolicy(jitter_ms=0))
    tries: list[int] = []

    @kit.action(kind="limited")
    def limited(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        def call() -> str:
            tries.append(1)
            if len(tries) == 1:
                raise RetryAfterError("rate limited", timedelta(seconds=90))
            return "ok"

        return str(ctx.step.run("call", call))

    result = one(kit, "limited")
    assert result.state == {"a": "ok"}
    first, second = result.steps("a")[0].attempts
    assert second.started_at - first.started_at == 90_000


def test_sleep_and_sleep_until_take_virtual_time(kit: WorkflowKit) -> None:
    times: list[datetime] = []

    @kit.action(kind="sleepy")
    def sleepy(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.sleep("short", 30_000)  # milliseconds
        ctx.step.sleep("days", "3d")
        ctx.step.sleep_until("noon", "2026-01-10T12:00:00Z")
        ctx.step.sleep_until("past", START)  # already passed: returns at once
        times.append(datetime.now(UTC))

    result = one(kit, "sleepy")
    assert result.status == "completed"
    steps = result.steps("a")
    assert [s.kind for s in steps] == ["sleep", "sleep", "sleep_until", "sleep_until"]
    assert all(s.status == StepStatus.COMPLETED for s in steps)
    assert result.actions["a"].ended_at == int(datetime(2026, 1, 10, 12, tzinfo=UTC).timestamp() * 1000)
    assert datetime.now(UTC) - times[0] < timedelta(seconds=5)


def test_wait_for_event_takes_a_matching_stub_event(kit: WorkflowKit) -> None:
    @kit.action(kind="approve")
    def approve(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return ctx.step.wait_for_event(
            "approval", event="app/approved", if_exp="async.data.order == event.data.order", timeout="1d"
        )

    events = [
        {"name": "app/approved", "data": {"order": 99}},  # another order: does not match
        {"name": "app/other", "data": {"order": 7}},
        {"name": "app/approved", "data": {"order": 7, "by": "Ann"}},
    ]
    result = one(kit, "approve", events=events)
    assert result.status == "completed"
    assert result.state["a"]["name"] == "app/approved"
    assert result.state["a"]["data"] == {"order": 7, "by": "Ann"}


def test_wait_for_event_times_out_to_none(kit: WorkflowKit) -> None:
    @kit.action(kind="approve")
    def approve(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        got = ctx.step.wait_for_event("approval", event="app/approved", timeout=timedelta(hours=2))
        return {"got": got}

    result = one(kit, "approve")
    assert result.state["a"] == {"got": None}
    step = result.steps("a")[0]
    assert step.wait is not None and step.wait.event == "app/approved"
    assert result.actions["a"].ended_at - result.actions["a"].started_at == 2 * 3_600_000


def test_received_and_timed_out_edges_with_builtin_if(kit: WorkflowKit) -> None:
    @kit.action(kind="wait")
    def wait(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"event": ctx.step.wait_for_event("w", event="app/go", timeout="1h")}

    @kit.action(kind="mark")
    def mark(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        return ctx.action.id

    wf = workflow(
        [action("w", "wait"), action("got", "mark"), action("timeout", "mark")],
        [
            edge("$source", "w"),
            edge("w", "got", {"type": "if", "ref": "!ref($.output.event)"}),
            edge("w", "timeout", {"type": "else", "ref": "!ref($.output.event)"}),
        ],
    )
    received = run_workflow(kit, wf, EVENT, events=[{"name": "app/go", "data": {}}])
    assert received.executed == ["w", "got"]
    timed_out = run_workflow(kit, wf, EVENT)
    assert timed_out.executed == ["w", "timeout"]


def test_send_event_is_sent_once_and_can_satisfy_a_wait(kit: WorkflowKit) -> None:
    @kit.action(kind="sender")
    def sender(ctx: ActionContextSync, inputs: dict[str, Any]) -> list[str]:
        ids = ctx.step.send_event("notify", [{"name": "app/ping", "data": {"n": 1}}, {"name": "app/ping"}])
        ctx.step.sleep("after", "1m")  # forces a replay: the events must not be sent again
        return ids

    @kit.action(kind="waiter")
    def waiter(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return ctx.step.wait_for_event("ping", event="app/ping", if_exp="async.data.n == 1", timeout="1h")

    wf = workflow([action("s", "sender"), action("w", "waiter")], [edge("$source", "s"), edge("s", "w")])
    result = run_workflow(kit, wf, EVENT)
    assert len(result.sent_events) == 2
    assert result.state["s"] == [e["id"] for e in result.sent_events]
    assert result.sent_events[1]["data"] == {}
    assert result.state["w"]["data"] == {"n": 1}


def test_send_event_of_one_event_returns_a_list_of_one_id(kit: WorkflowKit) -> None:
    @kit.action(kind="one_sender")
    async def one_sender(ctx: ActionContext, inputs: dict[str, Any]) -> list[str]:
        ids: list[str] = await ctx.step.send_event("notify", {"name": "app/c", "data": {}})
        return ids

    result = one(kit, "one_sender")
    assert result.status == "completed", result.error
    [event_id] = result.state["a"]
    assert [e["id"] for e in result.sent_events] == [event_id]


def test_send_event_rejects_malformed_events(kit: WorkflowKit) -> None:
    @kit.action(kind="bad_sender")
    def bad_sender(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.send_event("bad", {"data": {}})

    result = one(kit, "bad_sender")
    assert result.status == "failed"
    assert result.error is not None and "name" in result.error["message"]


def test_replay_that_calls_a_different_step_fails_the_run(kit: WorkflowKit) -> None:
    invocations: list[int] = []

    @kit.action(kind="fickle")
    def fickle(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        invocations.append(1)
        step_id = "first" if len(invocations) == 1 else "renamed"
        ctx.step.run(step_id, lambda: 1)
        ctx.step.sleep("nap", "1m")

    result = one(kit, "fickle")
    assert result.status == "failed"
    assert result.error is not None and result.error["name"] == "NonDeterminismError"
    assert "'renamed'" in result.error["message"] and "'first'" in result.error["message"]


def test_a_step_of_another_kind_at_a_recorded_position_is_caught(kit: WorkflowKit) -> None:
    invocations: list[int] = []

    @kit.action(kind="fickle")
    def fickle(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        invocations.append(1)
        if len(invocations) == 1:
            ctx.step.sleep("x", "1m")
        else:
            ctx.step.run("x", lambda: 1)

    result = one(kit, "fickle")
    assert result.error is not None and result.error["name"] == "NonDeterminismError"


def test_nested_steps_are_rejected(kit: WorkflowKit) -> None:
    @kit.action(kind="nested")
    def nested(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.run("outer", lambda: ctx.step.run("inner", lambda: 1))

    result = one(kit, "nested")
    assert result.status == "failed"
    assert result.error is not None and "nested" in result.error["message"]


def test_control_flow_survives_a_broad_except(kit: WorkflowKit) -> None:
    @kit.action(kind="greedy")
    def greedy(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        try:
            ctx.step.sleep("nap", "1h")
        except Exception:  # must not swallow the suspension
            return "swallowed"
        return "slept"

    assert one(kit, "greedy").state == {"a": "slept"}


def test_step_output_limit(kit: WorkflowKit) -> None:
    @kit.action(kind="huge")
    def huge(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.run("big", lambda: "x" * (4 * 1024 * 1024 + 1))

    result = one(kit, "huge")
    assert result.status == "failed"
    assert result.error is not None and "4 MB" in result.error["message"]
    assert len(result.steps("a")[0].attempts) == 1


def test_step_output_must_be_json(kit: WorkflowKit) -> None:
    @kit.action(kind="opaque")
    def opaque(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.run("obj", object)

    result = one(kit, "opaque")
    assert result.error is not None and "not JSON" in result.error["message"]


def test_steps_per_run_limit(kit: WorkflowKit) -> None:
    @kit.action(kind="many")
    def many(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        for i in range(MAX_STEPS_PER_RUN + 1):
            ctx.step.run(f"s{i}", lambda: None)

    result = one(kit, "many")
    assert result.status == "failed"
    assert result.error is not None and "1000 steps" in result.error["message"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.sleep("bad", "soon"), "invalid sleep duration"),
        (lambda s: s.sleep("long", "400d"), "366 days"),
        (lambda s: s.sleep_until("when", "yesterday"), "invalid time"),
        (lambda s: s.wait_for_event("w", event="x", timeout="1h", if_exp="async.data.a =="), "syntax error"),
        (lambda s: s.wait_for_event("w", event="x", timeout="1h", if_exp="other.a == 1"), "unknown variable"),
        (lambda s: s.run("", lambda: 1), "non-empty string"),
    ],
)
def test_invalid_step_arguments_fail_clearly(kit: WorkflowKit, call: Any, message: str) -> None:
    @kit.action(kind="bad")
    def bad(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        call(ctx.step)

    result = one(kit, "bad")
    assert result.status == "failed"
    assert result.error is not None and message in result.error["message"]
    assert len(result.actions["a"].attempts) == 1


def test_output_type_converts_recorded_json(kit: WorkflowKit) -> None:
    class Point(msgspec.Struct):
        x: int
        y: int

    @kit.action(kind="typed")
    def typed(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
        point = ctx.step.run("point", lambda: Point(1, 2), output_type=Point)
        ctx.step.sleep("nap", "1s")
        assert isinstance(point, Point)
        return point.x + point.y

    assert one(kit, "typed").state == {"a": 3}


def test_logger_is_quiet_while_replaying(kit: WorkflowKit, caplog: pytest.LogCaptureFixture) -> None:
    @kit.action(kind="chatty")
    def chatty(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.logger.info("before the nap")
        ctx.step.run("work", lambda: 1)
        ctx.step.sleep("nap", "1h")
        ctx.logger.info("after the nap")

    with caplog.at_level(logging.INFO, logger="workflow_kit.actions"):
        one(kit, "chatty")
    messages = [r.getMessage() for r in caplog.records if r.name == "workflow_kit.actions"]
    assert messages == ["before the nap", "after the nap"]
    assert all(getattr(r, "action_id", None) == "a" for r in caplog.records if r.name == "workflow_kit.actions")


async def test_parallel_steps_with_gather_are_recorded_even_when_one_suspends(kit: WorkflowKit) -> None:
    import asyncio

    from workflow_kit.testing import arun_workflow

    calls: list[str] = []

    async def slow() -> str:
        await asyncio.sleep(0.05)  # real time: still running when the sleep beside it suspends the action
        calls.append("slow")
        return "done"

    @kit.action(kind="fan")
    async def fan(ctx: ActionContext, inputs: dict[str, Any]) -> list[Any]:
        results = await asyncio.gather(ctx.step.run("slow", slow), ctx.step.sleep("nap", "1h"))
        return list(results)

    wf = workflow([action("a", "fan")], [edge("$source", "a")])
    result = await arun_workflow(kit, wf, EVENT)
    assert result.state == {"a": ["done", None]}
    assert calls == ["slow"]  # recorded during the first invocation, replayed after the nap
    assert [s.key for s in result.steps("a")] == ["slow", "nap"]


def test_invoke_runs_another_workflow_in_memory(kit: WorkflowKit) -> None:
    @kit.action(kind="double")
    def double(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
        return int(ctx.event["data"]["n"]) * 2

    @kit.action(kind="caller")
    def caller(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return ctx.step.invoke("call", workflow_id="doubler", data={"n": 21})

    child = workflow([action("d", "double")], [edge("$source", "d")])
    result = one(kit, "caller", workflows={"doubler": child})
    assert result.state == {"a": {"d": 42}}


def test_invoke_failures_in_memory(kit: WorkflowKit) -> None:
    @kit.action(kind="broken")
    def broken(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise NonRetriableError("child broke")

    @kit.action(kind="caller")
    def caller(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return ctx.step.invoke("call", workflow_id=inputs.get("target", "broken"))

    failing = workflow([action("b", "broken")], [edge("$source", "b")])
    result = one(kit, "caller", workflows={"broken": failing})
    assert result.status == "failed"
    assert result.error is not None and "child broke" in result.error["message"]
    wf = workflow([action("a", "caller", target="missing")], [edge("$source", "a")])
    missing = run_workflow(kit, wf, EVENT)
    assert missing.error is not None and "missing" in missing.error["message"]
