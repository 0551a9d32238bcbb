"""The conformance cases: workflows in the TypeScript kit's format and what our semantics must give.

The cases live in tests/conformance/cases (copied from the shared suite; tests/conformance/README.md
explains the format), tests/conformance/control-flow (the shared cases of loops, error edges and
policies) and tests/conformance/ours (our own cases in the same format, for the numbers the shared
suite holds back and a few more).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import pytest

from workflow_kit import WorkflowKit, WorkflowValidationError
from workflow_kit.testing import RunResult, run_workflow

HERE = Path(__file__).parent / "conformance"
SHARED = sorted((HERE / "cases").glob("*.json"))
CONTROL_FLOW = sorted((HERE / "control-flow").glob("*.json"))
OURS = sorted((HERE / "ours").glob("*.json"))
CASES = SHARED + CONTROL_FLOW + OURS
TYPES: dict[str, Any] = {
    "number": float,
    "string": str,
    "boolean": bool,
    "object": dict[str, Any],
    "array": list[Any],
    "any": Any,
}


def kit_for(specs: list[dict[str, Any]], started: list[str] | None = None) -> WorkflowKit:
    """A kit with the case's actions; each handler notes the id of the action it runs in `started`."""
    kit = WorkflowKit()
    for spec in specs:
        kit.register(_definition(spec, started if started is not None else []))
    return kit


def _definition(spec: dict[str, Any], started: list[str]) -> Any:
    from workflow_kit import ActionDefinition, NonRetriableError

    behaviour = spec["behaviour"]
    input_type: Any = dict[str, Any]
    if "inputs" in spec:
        input_type = msgspec.defstruct(
            f"{spec['kind'].title()}Inputs", [(name, TYPES[t]) for name, t in spec["inputs"].items()]
        )

    def get(inputs: Any, name: str) -> Any:
        return inputs[name] if isinstance(inputs, dict) else getattr(inputs, name)

    def handler(ctx: Any, inputs: Any) -> Any:
        started.append(ctx.action.id)
        if behaviour == "fail_if":
            if get(inputs, "fail"):
                raise NonRetriableError(get(inputs, "message"))
            return get(inputs, "value")
        if behaviour == "echo":
            return inputs if isinstance(inputs, dict) else msgspec.to_builtins(inputs)
        if behaviour == "add":
            return get(inputs, "a") + get(inputs, "b")
        if behaviour == "const":
            return get(inputs, "value")
        if behaviour == "fail":
            raise RuntimeError(get(inputs, "message"))
        if behaviour == "noop":
            return None
        raise AssertionError(f"unknown behaviour {behaviour}")

    handler.__annotations__ = {"ctx": Any, "inputs": input_type, "return": Any}
    return ActionDefinition.from_handler(handler, kind=spec["kind"])


def value_at(state: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path of the run's state (integer segments index lists)."""
    value: Any = state
    for segment in dotted.split("."):
        value = value[int(segment)] if isinstance(value, list) else value[segment]
    return value


def check_expectations(result: RunResult, expect: dict[str, Any], calls: Counter[str] | None = None) -> None:
    if "status" in expect:
        assert result.status == expect["status"], result.error
    if "executed" in expect:
        assert result.executed == expect["executed"]
    if "executed_set" in expect:
        assert set(result.executed) == set(expect["executed_set"])
    for action_id in expect.get("not_executed", []):
        assert action_id not in result.executed
    if "skipped" in expect:
        assert result.skipped == expect["skipped"]
    if "skipped_set" in expect:
        assert set(result.skipped) == set(expect["skipped_set"])
    if expect.get("runs_once"):
        started = [a for what, a in result.trace if what == "started"]
        assert len(started) == len(set(started))
        assert all(len(r.attempts) <= 1 for r in result.actions.values() if r.status == "completed")
    positions = {(what, a): i for i, (what, a) in enumerate(result.trace)}
    for first, second in expect.get("before", []):
        assert positions[("completed", first)] < positions[("started", second)], (first, second)
    suffixed = {tuple(where.split(".", 1)) for where in expect.get("state_json_suffix", {})}
    for action_id, value in expect.get("state", {}).items():
        actual = result.state[action_id]
        if isinstance(value, dict) and isinstance(actual, dict):
            for key, expected in value.items():
                assert actual[key] == expected, (action_id, key)
            # no other field, but those the case checks with state_json_suffix
            assert set(actual) <= set(value) | {key for a, key in suffixed if a == action_id}, (action_id, actual)
        else:
            assert actual == value, action_id
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            assert type(actual) is type(value) or number, (action_id, actual)  # true is not 1
    for where, (prefix, value) in expect.get("state_json_suffix", {}).items():
        action_id, field = where.split(".", 1)
        text = result.state[action_id][field]
        assert text.startswith(prefix)
        assert json.loads(text[len(prefix) :]) == value
    for dotted, value in expect.get("state_at", {}).items():
        assert value_at(result.state, dotted) == value, dotted
    for action_id, count in expect.get("calls_count", {}).items():
        assert calls is not None and calls[action_id] == count, (action_id, calls)
    if "error_contains" in expect:
        assert result.error is not None
        assert expect["error_contains"] in result.error["message"]
        assert "undefined" not in result.error["message"]


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_conformance_case(path: Path) -> None:
    case = json.loads(path.read_text())
    started: list[str] = []
    kit = kit_for(case["actions"], started)
    expect = case["expect"]
    if expect.get("invalid"):
        problems = kit.validate(case["workflow"])
        assert problems, "expected validation problems"
        assert all(p.code and p.path is not None and p.message for p in problems), problems
        if "problem_path_contains" in expect:
            assert any(expect["problem_path_contains"] in p.path for p in problems), problems
        with pytest.raises(WorkflowValidationError):
            run_workflow(kit, case["workflow"], case["event"])
        assert started == [], "a handler ran for an invalid workflow"
        return
    assert kit.validate(case["workflow"]) == []
    result = run_workflow(kit, case["workflow"], case["event"])
    check_expectations(result, expect, Counter(started))
    for action_id in expect.get("not_executed", []):
        assert action_id not in started, action_id
    if expect.get("runs_once"):
        assert len(started) == len(set(started)), started


def test_cases_are_present() -> None:
    assert len(SHARED) >= 11
    assert len(CONTROL_FLOW) >= 5


def test_our_cases_fill_the_numbers_the_shared_suite_holds_back() -> None:
    numbers = {int(p.name[:2]) for p in SHARED + OURS}
    assert set(range(1, 29)) <= numbers, sorted(set(range(1, 29)) - numbers)
    assert not {int(p.name[:2]) for p in SHARED} & {int(p.name[:2]) for p in OURS}
