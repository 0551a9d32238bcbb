"""One invocation of one action (executor.py): the action's own policy, its retries instead of its
kind's, a timeout per attempt, and failures handled by continue_on_failure or an error edge."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from helpers import action, edge, workflow

from workflow_kit import ActionContext, ActionContextSync, WorkflowKit
from workflow_kit.retry import RetryPolicy
from workflow_kit.testing import run_workflow


@pytest.fixture
def seen() -> list[str]:
    return []


@pytest.fixture
def kit(seen: list[str]) -> WorkflowKit:
    kit = WorkflowKit(retry_policy=RetryPolicy.fast())

    @kit.action(kind="flaky", retries=3)
    def flaky(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        seen.append(f"attempt {ctx.attempt}")
        raise RuntimeError("the service is down")

    @kit.action(kind="slow")
    async def slow(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return "late"

    @kit.action(kind="slow_sync")
    def slow_sync(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        gate = threading.Event()
        gate.wait(float(inputs["seconds"]))
        seen.append("sync finished")
        return "late"

    @kit.action(kind="echo")
    def echo(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return inputs

    return kit


def one(step: dict[str, Any], *more: dict[str, Any], edges: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return workflow([step, *more], edges or [edge("$source", step["id"])])


def with_policy(step: dict[str, Any], **policy: Any) -> dict[str, Any]:
    return {**step, "policy": policy}


def test_without_a_policy_the_action_kinds_retries_apply(kit: WorkflowKit, seen: list[str]) -> None:
    result = run_workflow(kit, one(action("a", "flaky")))
    assert result.status == "failed"
    assert seen == ["attempt 0", "attempt 1", "attempt 2", "attempt 3"]


@pytest.mark.parametrize("retries", [0, 1, 5])
def test_the_actions_own_retries_replace_its_kinds(kit: WorkflowKit, seen: list[str], retries: int) -> None:
    result = run_workflow(kit, one(with_policy(action("a", "flaky"), retries=retries)))
    assert result.status == "failed"
    assert len(seen) == retries + 1
    assert len(result.actions["a"].attempts) == retries + 1


def test_an_async_attempt_past_its_timeout_is_cancelled_and_fails(kit: WorkflowKit, seen: list[str]) -> None:
    result = run_workflow(kit, one(with_policy(action("a", "slow"), timeout="100ms", retries=1)))
    assert result.status == "failed"
    assert result.error is not None
    assert result.error["name"] == "AttemptTimeoutError"
    assert result.error["message"] == "the step took longer than its timeout of 0.1 s"
    assert seen == ["cancelled", "cancelled"]  # each attempt was stopped, and retried once
    assert len(result.actions["a"].attempts) == 2


def test_a_sync_attempt_past_its_timeout_fails_and_its_late_result_is_dropped(
    kit: WorkflowKit, seen: list[str]
) -> None:
    result = run_workflow(kit, one(with_policy(action("a", "slow_sync", seconds=0.5), timeout="50ms", retries=0)))
    assert result.status == "failed"
    assert result.error is not None and result.error["name"] == "AttemptTimeoutError"
    assert "late" not in str(result.state)  # the thread ran on (it cannot be stopped), unheard


def test_continue_on_failure_gives_the_error_as_output_and_goes_on(kit: WorkflowKit, seen: list[str]) -> None:
    flow = one(
        with_policy(action("a", "flaky"), retries=1, continue_on_failure=True),
        action("b", "echo", why="!ref($.state.a.error.message)"),
        edges=[edge("$source", "a"), edge("a", "b")],
    )
    result = run_workflow(kit, flow)
    assert result.status == "completed", result.error
    assert len(seen) == 2  # it failed after its retries, not before
    assert result.state["a"] == {"error": {"name": "RuntimeError", "message": "the service is down"}}
    assert result.state["b"] == {"why": "the service is down"}
    assert result.actions["a"].status == "failed"


def test_an_error_edge_is_taken_only_on_failure_and_the_others_are_not(kit: WorkflowKit) -> None:
    flow = one(
        with_policy(action("a", "flaky"), retries=0),
        action("fallback", "echo", x=1),
        action("next", "echo", x=2),
        edges=[edge("$source", "a"), edge("a", "fallback", {"type": "failed"}), edge("a", "next")],
    )
    result = run_workflow(kit, flow)
    assert result.status == "completed"
    assert result.executed == ["a", "fallback"]
    assert result.skipped == ["next"]
    ok = one(
        action("a", "echo", x=0),
        action("fallback", "echo", x=1),
        action("next", "echo", x=2),
        edges=[edge("$source", "a"), edge("a", "fallback", {"type": "failed"}), edge("a", "next")],
    )
    result = run_workflow(kit, ok)
    assert result.executed == ["a", "next"]
    assert result.skipped == ["fallback"]


def test_an_unhandled_failure_still_fails_the_run(kit: WorkflowKit) -> None:
    flow = one(
        with_policy(action("a", "flaky"), retries=0), action("b", "echo"), edges=[edge("$source", "a"), edge("a", "b")]
    )
    result = run_workflow(kit, flow)
    assert result.status == "failed"
    assert result.error is not None and result.error["action"] == "a"
    assert "b" not in result.executed
