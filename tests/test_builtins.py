"""What the builtin actions' input schemas tell the editor and the end user: a duration's message, the
workflow picker of ``builtin:invoke``, the date-time picker of ``builtin:sleep_until`` (which turns
away none of the times the step accepts, nor refs); and ``builtin:if`` taking its branch from a condition in
CEL or json-logic, or failing the run when the condition fails."""

from __future__ import annotations

import re
from typing import Any

import pytest
from helpers import action, edge, workflow

from workflow_kit import ActionContextSync, WorkflowKit, expressions
from workflow_kit.actions import InputError
from workflow_kit.engine.builtins import DURATION_MESSAGE
from workflow_kit.testing import run_workflow


@pytest.fixture(scope="module")
def kit() -> WorkflowKit:
    return WorkflowKit()


def inputs_schema(kit: WorkflowKit, kind: str) -> dict[str, Any]:
    [found] = [a["inputs"] for a in kit.public_actions() if a["kind"] == kind]
    schema: dict[str, Any] = found
    return schema


def problems_of(kit: WorkflowKit, kind: str, **inputs: Any) -> list[tuple[str, str, str]]:
    checked = workflow([action("a", kind, **inputs)], [edge("$source", "a")])
    return [(p.code, p.path, p.message) for p in kit.validate(checked)]


@pytest.mark.parametrize(
    ("kind", "inputs", "path"),
    [
        ("builtin:sleep", {"duration": "fifteen seconds"}, "duration"),
        ("builtin:wait_for_event", {"event": "app/x", "timeout": "a while"}, "timeout"),
        ("builtin:invoke", {"workflow_id": "w", "timeout": "soon"}, "timeout"),
    ],
)
def test_a_bad_duration_says_how_to_write_one(kit: WorkflowKit, kind: str, inputs: dict[str, Any], path: str) -> None:
    assert problems_of(kit, kind, **inputs) == [("invalid_input", f"actions[0].inputs.{path}", DURATION_MESSAGE)]
    assert DURATION_MESSAGE == "Write a duration such as 15m or 2h"


def test_a_bad_duration_fails_a_run_with_the_same_message(kit: WorkflowKit) -> None:
    sleep = kit.registry.get("builtin:sleep")
    assert sleep is not None
    with pytest.raises(InputError, match=f"inputs.duration: {DURATION_MESSAGE}"):
        sleep.prepare_inputs({"duration": "fifteen seconds"})  # a ref that gave a bad duration


@pytest.mark.parametrize("duration", ["15m", "2h", "1h30m", " 1d ", "500ms", "!ref($.event.data.wait)"])
def test_good_durations_and_refs_pass(kit: WorkflowKit, duration: str) -> None:
    assert problems_of(kit, "builtin:sleep", duration=duration) == []


def test_the_duration_schema_carries_the_message(kit: WorkflowKit) -> None:
    assert inputs_schema(kit, "builtin:sleep")["properties"]["duration"]["errorMessage"] == DURATION_MESSAGE
    [branch, _null] = inputs_schema(kit, "builtin:invoke")["properties"]["timeout"]["anyOf"]
    assert branch["errorMessage"] == DURATION_MESSAGE


def test_invoke_asks_for_a_workflow_with_a_picker(kit: WorkflowKit) -> None:
    workflow_id = inputs_schema(kit, "builtin:invoke")["properties"]["workflow_id"]
    assert workflow_id["x-widget"] == "workflow"
    assert workflow_id["type"] == "string"


def test_sleep_until_offers_a_date_time_picker_for_its_text(kit: WorkflowKit) -> None:
    until = inputs_schema(kit, "builtin:sleep_until")["properties"]["until"]
    assert until["anyOf"] == [{"type": "string", "format": "date-time"}, {"type": "integer"}]


@pytest.mark.parametrize(
    "until",
    [
        "2026-01-31T09:00:00Z",
        "2026-01-31T09:00:00+02:00",
        "2026-01-31T09:00:00.250-05:30",
        "2026-01-31T09:00:00",
        "!ref($.event.data.at)",
        "at !ref($.event.data.at)",
        1_769_850_000_000,
    ],
)
def test_sleep_until_turns_away_no_time_the_step_accepts_nor_refs(kit: WorkflowKit, until: Any) -> None:
    assert problems_of(kit, "builtin:sleep_until", until=until) == []
    step = kit.registry.get("builtin:sleep_until")
    assert step is not None
    if not (isinstance(until, str) and "!ref" in until):
        step.prepare_inputs({"until": until})  # what a run checks, once refs are filled in


def test_sleep_until_of_the_wrong_type_is_a_problem(kit: WorkflowKit) -> None:
    [(code, path, message)] = problems_of(kit, "builtin:sleep_until", until=True)
    assert (code, path) == ("invalid_input", "actions[0].inputs.until")
    assert "string or number" in message


# -- builtin:if: its condition in CEL or json-logic ----------------------------------------------------

IF_EVENT = {"name": "app/x", "data": {"n": 5, "plan": "pro", "tags": ["a", "b"]}}


def gate(condition: Any) -> dict[str, Any]:
    """const v (score 7) -> if g -> t on True, f on False."""
    return workflow(
        [
            action("v", "const", value={"score": 7, "name": "x"}),
            action("g", "builtin:if", condition=condition),
            action("t", "const", value="T"),
            action("f", "const", value="F"),
        ],
        [
            edge("$source", "v"),
            edge("v", "g"),
            edge("g", "t", {"type": "if", "ref": "!ref($.output.result)"}, name="True"),
            edge("g", "f", {"type": "else", "ref": "!ref($.output.result)"}, name="False"),
        ],
    )


@pytest.fixture
def if_kit() -> WorkflowKit:
    kit = WorkflowKit()

    @kit.action(kind="const")
    def const(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return inputs.get("value")

    return kit


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("event.data.n > 3", True),
        ("event.data.n > 30", False),
        ("state.v.score == 7 && event.data.plan == 'pro'", True),
        ("'b' in event.data.tags", True),
        ("size(event.data.tags) == 3", False),
        ("event.name.startsWith('app/')", True),
        ({"==": ["!ref($.event.data.plan)", "pro"]}, True),
        ({"and": [{">": ["!ref($.state.v.score)", 5]}, {"==": ["!ref($.event.data.n)", 5]}]}, True),
        ({"<": ["!ref($.event.data.n)", 1]}, False),
        ({">": [{"var": "state.v.score"}, 6]}, True),  # json-logic's own var, as the TypeScript kit writes it
    ],
)
def test_if_takes_the_branch_its_condition_gives(if_kit: WorkflowKit, condition: Any, expected: bool) -> None:
    result = run_workflow(if_kit, gate(condition), IF_EVENT)
    assert result.status == "completed", result.error
    assert result.state["g"] == {"result": expected}
    assert result.executed == ["v", "g", "t" if expected else "f"]
    assert result.skipped == ["f" if expected else "t"]


def test_a_cel_syntax_error_is_a_problem_quoting_the_expression_and_its_column(if_kit: WorkflowKit) -> None:
    [problem] = if_kit.validate(gate("event.data.n >> 3"))
    assert (problem.code, problem.path) == ("invalid_expression", "actions[1].inputs.condition")
    assert "event.data.n >> 3" in problem.message
    assert re.search(r"column \d+", problem.message), problem.message


@pytest.mark.parametrize(
    ("condition", "says"),
    [
        ("event.data.missing.deeper > 1", "missing"),  # valid, but fails on this event
        ("event.data.n + 1", "true or false"),  # gives a number
    ],
)
def test_a_condition_that_fails_at_run_time_fails_the_run_naming_it(
    if_kit: WorkflowKit, condition: str, says: str
) -> None:
    assert if_kit.validate(gate(condition)) == []
    result = run_workflow(if_kit, gate(condition), IF_EVENT)
    assert result.status == "failed"
    assert result.error is not None and result.error["action"] == "g"
    assert condition in result.error["message"] and says in result.error["message"]
    assert "t" not in result.executed and "f" not in result.executed


def test_a_condition_is_compiled_once_for_every_run(if_kit: WorkflowKit) -> None:
    condition = "event.data.n > 12345"
    run_workflow(if_kit, gate(condition), {"name": "x", "data": {"n": 1}})
    before = expressions.compile_expression.cache_info()
    for _ in range(3):
        assert run_workflow(if_kit, gate(condition), {"name": "x", "data": {"n": 99999}}).state["g"] == {"result": True}
    after = expressions.compile_expression.cache_info()
    assert after.misses == before.misses
    assert after.hits > before.hits
