"""What the builtin actions' input schemas tell the editor and the end user: a duration's message, the
workflow picker of ``builtin:invoke``, the date-time picker of ``builtin:sleep_until`` (which turns
away none of the times the step accepts, nor refs)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import action, edge, workflow

from workflow_kit import WorkflowKit
from workflow_kit.actions import InputError
from workflow_kit.engine.builtins import DURATION_MESSAGE


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
