"""Trying one step on its own (workflow_kit.step_trial): inputs resolved as in a run, one attempt, an
error in words, sleeps and waits on a virtual clock, events collected, loop steps with a sample item."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from helpers import action, edge, workflow

from workflow_kit import ActionContext, ActionContextSync, WorkflowKit
from workflow_kit.events import normalize_event
from workflow_kit.step_trial import TrialError, find_action, loop_variables, try_action
from workflow_kit.workflow import load_workflow

EVENT = normalize_event({"name": "shop/order.placed", "data": {"id": 7, "items": ["a", "b"]}}, 1_000)


class Greeting(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    times: int = 1


@pytest.fixture
def kit() -> WorkflowKit:
    kit = WorkflowKit()
    kit.calls = 0  # type: ignore[attr-defined]

    @kit.action(kind="echo")
    def echo(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"inputs": inputs, "item": ctx.item}

    @kit.action(kind="greet")
    def greet(ctx: ActionContextSync, inputs: Greeting) -> str:
        return " ".join([f"Hello {inputs.name}"] * inputs.times)

    @kit.action(kind="flaky", retries=5)
    def flaky(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        kit.calls += 1  # type: ignore[attr-defined]
        raise RuntimeError("the mail server said no")

    @kit.action(kind="patient")
    async def patient(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        await ctx.step.sleep("rest", "2h")
        got = await ctx.step.wait_for_event("reply", event="shop/reply", timeout="1d")
        sent = await ctx.step.send_event("tell", {"name": "shop/told", "data": {"n": 1}})
        return {"got": got, "sent": len(sent)}

    return kit


async def trial(kit: WorkflowKit, raw: dict[str, Any], action_id: str, state: dict[str, Any] | None = None) -> Any:
    return await try_action(kit, load_workflow(raw), action_id, EVENT, state or {}, tenant="acme")


async def test_inputs_are_resolved_from_the_event_and_the_upstream_outputs(kit: WorkflowKit) -> None:
    raw = workflow(
        [action("a", "echo"), action("b", "echo", post="!ref($.event.data.id)", said="!ref($.state.a.word)")],
        [edge("$source", "a"), edge("a", "b")],
    )
    result = await trial(kit, raw, "b", {"a": {"word": "hi"}})
    assert result.error is None
    assert result.output == {"inputs": {"post": 7, "said": "hi"}, "item": None}
    assert result.inputs == {"post": 7, "said": "hi"}
    assert result.duration_ms >= 0


async def test_the_earlier_steps_read_without_outputs_are_named(kit: WorkflowKit) -> None:
    raw = workflow(
        [
            action("a", "echo"),
            action("b", "echo"),
            action("c", "echo", x="!ref($.state.a.word)", y="from !ref($.state.b)", z="!ref($.state.a)"),
        ],
        [edge("$source", "a"), edge("a", "b"), edge("b", "c")],
    )
    result = await trial(kit, raw, "c", {"b": 1})
    assert result.unsampled == ["a"]
    assert result.output["inputs"]["x"] is None
    assert (await trial(kit, raw, "c", {"a": {}, "b": 1})).unsampled == []


async def test_a_typed_action_gets_its_struct(kit: WorkflowKit) -> None:
    raw = workflow([action("g", "greet", name="Ann", times=2)], [edge("$source", "g")])
    assert (await trial(kit, raw, "g")).output == "Hello Ann Hello Ann"


async def test_bad_inputs_are_an_error_in_words(kit: WorkflowKit) -> None:
    raw = workflow([action("g", "greet", times=2)], [edge("$source", "g")])
    result = await trial(kit, raw, "g")
    assert result.output is None
    assert result.error is not None and result.error.startswith("its inputs are not valid: ")
    assert "name" in result.error and "greet" not in result.error


async def test_a_failure_is_tried_once_and_said_without_a_traceback(kit: WorkflowKit) -> None:
    raw = workflow([action("f", "flaky")], [edge("$source", "f")])
    result = await trial(kit, raw, "f")
    assert result.error == "the mail server said no"
    assert kit.calls == 1  # type: ignore[attr-defined]


async def test_sleeps_and_waits_pass_on_a_virtual_clock_and_events_are_not_sent(kit: WorkflowKit) -> None:
    raw = workflow([action("p", "patient")], [edge("$source", "p")])
    result = await trial(kit, raw, "p")
    assert result.error is None
    assert result.output == {"got": None, "sent": 1}  # the wait timed out: nothing arrives in a test
    assert [event["name"] for event in result.sent_events] == ["shop/told"]
    assert result.duration_ms < 5_000  # two virtual hours and a day took no real time


async def test_a_step_in_a_for_each_sees_the_first_item(kit: WorkflowKit) -> None:
    body = {
        "actions": [action("inner", "echo", it="!ref($.item)", at="!ref($.index)")],
        "edges": [edge("$source", "inner")],
    }
    loop = {"id": "each", "kind": "builtin:for_each", "inputs": {"items": "!ref($.event.data.items)"}, "body": body}
    raw = workflow([loop], [edge("$source", "each")])
    result = await trial(kit, raw, "inner")
    assert result.output == {"inputs": {"it": "a", "at": 0}, "item": "a"}
    assert result.item == "a"


def test_loop_variables_without_a_list_and_in_repeat_until() -> None:
    empty = load_workflow(
        workflow([{"id": "each", "kind": "builtin:for_each", "inputs": {"items": "!ref($.state.none)"}}], [])
    )
    assert loop_variables(empty.actions, EVENT, {}) == {"item": None, "index": 0}
    repeat = load_workflow(workflow([{"id": "again", "kind": "builtin:repeat_until", "inputs": {}}], []))
    assert loop_variables(repeat.actions, EVENT, {}) == {"round": 0, "last": None}


async def test_what_cannot_be_tried_is_a_trial_error_with_a_path(kit: WorkflowKit) -> None:
    loop = {"id": "each", "kind": "builtin:for_each", "inputs": {"items": []}, "body": {"actions": [], "edges": []}}
    raw = workflow([loop, action("gone", "no-such-kind")], [edge("$source", "each")])
    for action_id, said in [("nope", "not in the workflow"), ("each", "a loop"), ("gone", "not available")]:
        with pytest.raises(TrialError, match=said) as caught:
            await trial(kit, raw, action_id)
        assert caught.value.path == "action_id"


def test_find_action_names_the_loops_around() -> None:
    inner = {"id": "inner", "kind": "builtin:for_each", "body": {"actions": [action("x", "echo")], "edges": []}}
    outer = {"id": "outer", "kind": "builtin:for_each", "body": {"actions": [inner], "edges": []}}
    found = find_action(load_workflow(workflow([outer], [])), "x")
    assert found is not None
    assert [loop.id for loop in found[1]] == ["outer", "inner"]
    assert find_action(load_workflow(workflow([outer], [])), "y") is None
