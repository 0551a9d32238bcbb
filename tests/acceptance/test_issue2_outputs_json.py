"""Issue 2 acceptance: "Outputs are stored as JSON" (the return annotation may be any msgspec-encodable type),
and the refs that read them; public_actions() schemas are valid JSON Schema; CEL compiled once."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import msgspec

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.testing import run_workflow


class Out(msgspec.Struct):
    fixed: tuple[int, int]
    label: str


def _kit() -> WorkflowKit:
    kit = WorkflowKit()

    @kit.action(kind="pair", name="Pair", description="d", icon="p")
    def pair(ctx: ActionContext, inputs: dict[str, Any]) -> tuple[int, int]:
        return (1, 2)

    @kit.action(kind="out", name="Out", description="d", icon="o")
    def out(ctx: ActionContext, inputs: dict[str, Any]) -> Out:
        return Out(fixed=(3, 4), label="x")

    @kit.action(kind="steps", name="Steps", description="d", icon="s")
    async def steps(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return await ctx.step.run("t", lambda: (5, 6))

    @kit.action(kind="echo", name="Echo", description="d", icon="e")
    def echo(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        return dict(inputs)

    return kit


def _wf() -> dict[str, Any]:
    return {
        "actions": [
            {"id": "p", "kind": "pair"},
            {"id": "o", "kind": "out"},
            {"id": "s", "kind": "steps"},
            {
                "id": "r",
                "kind": "echo",
                "inputs": {
                    "first": "!ref($.state.p[0])",
                    "all": "!ref($.state.p[*])",
                    "fixed1": "!ref($.state.o.fixed[1])",
                    "step": "!ref($.state.s[1])",
                },
            },
        ],
        "edges": [
            {"from": "$source", "to": "p"},
            {"from": "$source", "to": "o"},
            {"from": "$source", "to": "s"},
            {"from": "p", "to": "r"},
            {"from": "o", "to": "r"},
            {"from": "s", "to": "r"},
        ],
    }


def test_list_and_struct_outputs_are_json() -> None:
    kit = WorkflowKit()

    @kit.action(kind="l", name="L", description="d", icon="l")
    def lst(ctx: ActionContext, inputs: dict[str, Any]) -> list[int]:
        return [1, 2]

    wf = {
        "actions": [{"id": "a", "kind": "l"}, {"id": "b", "kind": "l"}],
        "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}],
    }
    result = run_workflow(kit, wf)
    assert result.state == {"a": [1, 2], "b": [1, 2]}


def test_tuple_outputs_are_stored_as_json_lists() -> None:
    result = run_workflow(_kit(), _wf())
    assert result.status == "completed", result.error
    assert result.state["p"] == [1, 2]
    assert result.state["o"] == {"fixed": [3, 4], "label": "x"}
    assert result.state["s"] == [5, 6]
    # state is what a JSON round trip gives
    assert json.loads(json.dumps(result.state)) == result.state


def test_refs_into_tuple_outputs() -> None:
    result = run_workflow(_kit(), _wf())
    assert result.status == "completed", result.error
    assert result.state["r"] == {"first": 1, "all": [1, 2], "fixed1": 4, "step": 6}


def test_public_actions_schemas_are_valid_json_schema() -> None:
    kit = _kit()

    class In(msgspec.Struct):
        email: str
        count: int = 1

    @kit.action(kind="typed", name="Typed", description="d", icon="t")
    def typed(ctx: ActionContext, inputs: In) -> Out:
        return Out(fixed=(1, 2), label=inputs.email)

    for action in kit.public_actions():
        jsonschema.Draft202012Validator.check_schema(action["inputs"])
        jsonschema.Draft202012Validator.check_schema(action["outputs"])
    typed_def = next(a for a in kit.public_actions() if a["kind"] == "typed")
    validator = jsonschema.Draft202012Validator(typed_def["inputs"])
    assert validator.is_valid({"email": "a@b.c"})
    assert not validator.is_valid({"count": 2})
    assert not validator.is_valid({"email": 5})


def test_cel_expression_compiled_once() -> None:
    from workflow_kit import expressions

    kit = WorkflowKit()
    condition = "event.data.n > 12345"
    wf = {
        "actions": [{"id": "g", "kind": "builtin:if", "inputs": {"condition": condition}}],
        "edges": [{"from": "$source", "to": "g"}],
    }
    run_workflow(kit, wf, {"name": "x", "data": {"n": 1}})
    before = expressions.compile_expression.cache_info()
    for _ in range(3):
        result = run_workflow(kit, wf, {"name": "x", "data": {"n": 99999}})
        assert result.state["g"] == {"result": True}
    after = expressions.compile_expression.cache_info()
    assert after.misses == before.misses
    assert after.hits > before.hits


def test_negative_index_into_tuple_output_validates() -> None:
    wf = {
        "actions": [
            {"id": "p", "kind": "pair"},
            {"id": "r", "kind": "echo", "inputs": {"last": "!ref($.state.p[-1])"}},
        ],
        "edges": [{"from": "$source", "to": "p"}, {"from": "p", "to": "r"}],
    }
    assert _kit().validate(wf) == []
