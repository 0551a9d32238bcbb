"""Issue 2 acceptance: builtin:if with CEL (and json-logic), CEL errors with expression and position."""

from __future__ import annotations

import re
from typing import Any

import pytest

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.testing import run_workflow

EVENT = {"name": "app/x", "data": {"n": 5, "plan": "pro", "tags": ["a", "b"]}}


def _kit() -> WorkflowKit:
    kit = WorkflowKit()

    @kit.action(kind="const", name="Const", description="d", icon="c")
    def const(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return inputs.get("value")

    return kit


def _gate(condition: Any) -> dict[str, Any]:
    return {
        "actions": [
            {"id": "v", "kind": "const", "inputs": {"value": {"score": 7, "name": "x"}}},
            {"id": "g", "kind": "builtin:if", "inputs": {"condition": condition}},
            {"id": "t", "kind": "const", "inputs": {"value": "T"}},
            {"id": "f", "kind": "const", "inputs": {"value": "F"}},
        ],
        "edges": [
            {"from": "$source", "to": "v"},
            {"from": "v", "to": "g"},
            {"from": "g", "to": "t", "name": "True", "conditional": {"type": "if", "ref": "!ref($.output.result)"}},
            {"from": "g", "to": "f", "name": "False", "conditional": {"type": "else", "ref": "!ref($.output.result)"}},
        ],
    }


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
    ],
)
def test_builtin_if_cel_and_json_logic(condition: Any, expected: bool) -> None:
    result = run_workflow(_kit(), _gate(condition), EVENT)
    assert result.status == "completed", result.error
    assert result.state["g"] == {"result": expected}
    assert result.executed == ["v", "g", "t" if expected else "f"]
    assert result.skipped == ["f" if expected else "t"]


def test_cel_compile_error_has_expression_and_position() -> None:
    expression = "event.data.n >> 3"
    problems = _kit().validate(_gate(expression))
    hits = [p for p in problems if p.path.startswith("actions[1].inputs.condition")]
    assert hits, problems
    message = hits[0].message
    assert expression in message
    assert re.search(r"(column|col|position|offset)\W*\d+", message, re.I), message


def test_cel_unknown_variable_is_a_problem() -> None:
    problems = _kit().validate(_gate("evnt.data.n > 3"))
    assert any(p.path.startswith("actions[1].inputs.condition") for p in problems), problems


def test_cel_runtime_error_fails_run_with_expression() -> None:
    expression = "event.data.missing.deeper > 1"
    kit = _kit()
    assert kit.validate(_gate(expression)) == []
    result = run_workflow(kit, _gate(expression), EVENT)
    assert result.status == "failed"
    assert result.error is not None
    assert expression in result.error["message"]
    assert "t" not in result.executed and "f" not in result.executed


def test_cel_non_bool_result() -> None:
    """A condition giving a non-boolean: either a validation problem, a failed run, or coerced; never a crash."""
    kit = _kit()
    problems = kit.validate(_gate("event.data.n + 1"))
    if problems:
        assert any("condition" in p.path for p in problems)
        return
    result = run_workflow(kit, _gate("event.data.n + 1"), EVENT)
    assert result.status in ("completed", "failed")


def test_exported_expression_error_carries_fields() -> None:
    from workflow_kit import ExpressionError
    from workflow_kit.expressions import compile_expression

    with pytest.raises(ExpressionError) as caught:
        compile_expression("1 +")
    assert caught.value.expression == "1 +"
    assert caught.value.column is not None
