"""Issue 2 acceptance: the public API names, @kit.action, public_actions(), ActionContext, the format."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

import msgspec
import pytest

import workflow_kit
from workflow_kit import (
    ActionContext,
    NonRetriableError,
    RetryAfterError,
    StepError,
    Workflow,
    WorkflowAction,
    WorkflowEdge,
    WorkflowKit,
    WorkflowValidationError,
)
from workflow_kit.testing import arun_workflow, run_workflow

EVENT = {"name": "app/x", "data": {"a": 2, "b": 3, "name": "Ann"}}


class AddInputs(msgspec.Struct):
    a: float
    b: float


class AddOutput(msgspec.Struct):
    total: float


class GreetInputs(TypedDict):
    name: str


def _one(kind: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"actions": [{"id": "x", "kind": kind, "inputs": inputs}], "edges": [{"from": "$source", "to": "x"}]}


def test_public_names_importable() -> None:
    for name in (
        "WorkflowKit",
        "Workflow",
        "WorkflowAction",
        "WorkflowEdge",
        "ActionContext",
        "NonRetriableError",
        "RetryAfterError",
        "StepError",
        "WorkflowValidationError",
    ):
        assert hasattr(workflow_kit, name), name
        assert name in workflow_kit.__all__, name
    assert issubclass(NonRetriableError, Exception)
    assert issubclass(RetryAfterError, Exception)
    assert issubclass(StepError, Exception)
    assert issubclass(WorkflowValidationError, Exception)
    assert callable(run_workflow) and callable(arun_workflow)


def test_kit_needs_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORKFLOW_KIT_DATABASE_URL", raising=False)
    kit = WorkflowKit()

    @kit.action(kind="add", name="Add numbers", description="Adds", icon="plus")
    def add(ctx: ActionContext, inputs: AddInputs) -> AddOutput:
        return AddOutput(total=inputs.a + inputs.b)

    wf = _one("add", {"a": "!ref($.event.data.a)", "b": "!ref($.event.data.b)"})
    assert kit.validate(wf) == []
    kit.public_actions()
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "completed"
    assert result.state == {"x": {"total": 5.0}}  # a Struct output is stored as JSON
    assert list(tmp_path.iterdir()) == []  # nothing written: no database file


def test_handler_input_annotations_struct_typeddict_dict_sync_and_async() -> None:
    kit = WorkflowKit()

    @kit.action(kind="add", name="Add", description="d", icon="plus")
    def add(ctx: ActionContext, inputs: AddInputs) -> float:
        assert isinstance(inputs, AddInputs)
        return inputs.a + inputs.b

    @kit.action(kind="greet", name="Greet", description="d", icon="hi")
    async def greet(ctx: ActionContext, inputs: GreetInputs) -> str:
        return "hi " + inputs["name"]

    @kit.action(kind="any", name="Any", description="d", icon="*")
    def anything(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"keys": sorted(inputs)}

    wf = {
        "actions": [
            {"id": "s", "kind": "add", "inputs": {"a": "!ref($.event.data.a)", "b": 10}},
            {"id": "g", "kind": "greet", "inputs": {"name": "!ref($.event.data.name)"}},
            {"id": "d", "kind": "any", "inputs": {"z": 1, "y": "!ref($.state.s)"}},
        ],
        "edges": [{"from": "$source", "to": "s"}, {"from": "$source", "to": "g"}, {"from": "s", "to": "d"}],
    }
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "completed", result.error
    assert result.state == {"s": 12, "g": "hi Ann", "d": {"keys": ["y", "z"]}}
    assert result.error is None
    assert result.skipped == []
    assert sorted(result.executed) == ["d", "g", "s"]
    assert result.executed.index("s") < result.executed.index("d")


def test_workflow_argument_forms_dict_workflow_json_text() -> None:
    kit = WorkflowKit()

    @kit.action(kind="add", name="Add", description="d", icon="plus")
    def add(ctx: ActionContext, inputs: AddInputs) -> float:
        return inputs.a + inputs.b

    wf = _one("add", {"a": 1, "b": 2})
    text = json.dumps(wf)
    obj = Workflow(
        actions=[WorkflowAction(id="x", kind="add", inputs={"a": 1, "b": 2})],
        edges=[WorkflowEdge(from_="$source", to="x")],
    )
    for form in (wf, text, obj, workflow_kit.load_workflow(wf)):
        result = run_workflow(kit, form, EVENT)
        assert result.status == "completed", (form, result.error)
        assert result.state == {"x": 3}


def test_invalid_workflow_raises_before_anything_runs() -> None:
    kit = WorkflowKit()
    calls: list[str] = []

    @kit.action(kind="rec", name="Rec", description="d", icon="r")
    def rec(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        calls.append(ctx.action.id)

    wf = {
        "actions": [{"id": "a", "kind": "rec", "inputs": {}}, {"id": "b", "kind": "nope", "inputs": {}}],
        "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}],
    }
    with pytest.raises(WorkflowValidationError) as caught:
        run_workflow(kit, wf, EVENT)
    assert calls == []
    assert [p.path for p in caught.value.problems if "actions[1]" in p.path]
    for p in caught.value.problems:
        assert p.code and p.path and p.message


def test_public_actions_shape_is_json_ready_and_has_no_handler() -> None:
    kit = WorkflowKit()

    @kit.action(kind="add", name="Add numbers", description="Adds two numbers", icon="plus")
    def add(ctx: ActionContext, inputs: AddInputs) -> AddOutput:
        return AddOutput(total=inputs.a + inputs.b)

    actions = kit.public_actions()
    assert isinstance(actions, list)
    text = json.dumps(actions)  # JSON-ready
    assert "def add" not in text
    assert json.loads(text) == actions
    by_kind = {a["kind"]: a for a in actions}
    add_def = by_kind["add"]
    assert add_def["name"] == "Add numbers"
    assert add_def["description"] == "Adds two numbers"
    assert add_def["icon"] == "plus"
    assert "handler" not in add_def
    inputs = add_def["inputs"]
    assert inputs["type"] == "object"
    assert set(inputs["properties"]) == {"a", "b"}
    assert inputs["properties"]["a"]["type"] == "number"
    assert set(inputs.get("required", [])) == {"a", "b"}
    outputs = add_def["outputs"]
    assert isinstance(outputs, dict)
    # the output schema describes {"total": number} (maybe through a $ref/$defs)
    flat = json.dumps(outputs)
    assert "total" in flat and "number" in flat

    # builtin:if is registered by default and declares True/False edges on !ref($.output.result)
    if_def = by_kind["builtin:if"]
    assert "handler" not in if_def
    edges = if_def["edges"]
    edge_list = edges["edges"] if isinstance(edges, Mapping) else edges
    named = {e["name"]: e["conditional"] for e in edge_list}
    assert named["True"] == {"type": "if", "ref": "!ref($.output.result)"}
    assert named["False"] == {"type": "else", "ref": "!ref($.output.result)"}
    assert "condition" in json.dumps(if_def["inputs"])


def test_builtins_can_be_disabled() -> None:
    kit = WorkflowKit(disable_builtin_actions=True)
    assert "builtin:if" not in {a["kind"] for a in kit.public_actions()}
    problems = kit.validate(_one("builtin:if", {"condition": "true"}))
    assert problems and any("actions[0]" in p.path for p in problems)


def test_action_context_attributes() -> None:
    kit = WorkflowKit()
    seen: dict[str, Any] = {}

    @kit.action(kind="first", name="First", description="d", icon="1")
    def first(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"v": 1}

    @kit.action(kind="probe", name="Probe", description="d", icon="p")
    async def probe(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        seen["event"] = ctx.event
        seen["workflow"] = ctx.workflow
        seen["action"] = ctx.action
        seen["state"] = dict(ctx.state)
        seen["run_id"] = ctx.run_id
        seen["attempt"] = ctx.attempt
        seen["logger"] = ctx.logger
        seen["step"] = ctx.step
        try:
            ctx.state["hack"] = 1  # type: ignore[index]
        except TypeError:
            seen["read_only"] = True
        ctx.logger.info("hello from probe")
        out: str = await ctx.step.run("s", lambda: "ok")
        return out

    wf = {
        "name": "Probe wf",
        "actions": [
            {"id": "one", "kind": "first", "inputs": {}},
            {"id": "p", "kind": "probe", "name": "Probe it", "inputs": {"msg": "v=!ref($.state.one.v)"}},
        ],
        "edges": [{"from": "$source", "to": "one"}, {"from": "one", "to": "p"}],
    }
    original = copy.deepcopy(wf)
    result = run_workflow(kit, wf, EVENT, run_id="run-123")
    assert result.status == "completed", result.error
    assert seen["event"]["name"] == "app/x" and seen["event"]["data"] == EVENT["data"]
    assert isinstance(seen["workflow"], Workflow)
    assert seen["workflow"].name == "Probe wf"
    assert seen["action"].id == "p"
    assert seen["action"].inputs == {"msg": "v=1"}  # interpolated
    assert seen["state"] == {"one": {"v": 1}}
    assert seen["read_only"] is True
    assert seen["run_id"] == "run-123" == result.run_id
    assert isinstance(seen["attempt"], int)
    assert hasattr(seen["logger"], "info")
    assert hasattr(seen["step"], "run")
    assert wf == original  # the caller's workflow was not mutated by interpolation


FORMAT_TS = {
    "name": "Generate social posts",
    "description": "From the TS kit",
    "metadata": {"owner": "me", "nested": {"x": [1, 2]}},
    "customTop": {"keep": True},
    "actions": [
        {"id": "1", "kind": "echo", "name": "First", "description": "one", "inputs": {"a": 1}, "ui": {"x": 10}},
        {"id": "2", "kind": "builtin:if", "name": "Check", "inputs": {"condition": {"==": ["!ref($.state.1.a)", 1]}}},
        {"id": "3", "kind": "echo"},
    ],
    "edges": [
        {"from": "$source", "to": "1"},
        {"from": "1", "to": "2", "extra": "kept"},
        {
            "from": "2",
            "to": "3",
            "name": "True",
            "conditional": {"type": "if", "ref": "!ref($.output.result)", "note": "x"},
        },
    ],
}


def test_format_loads_and_round_trips_unknown_keys() -> None:
    loaded = workflow_kit.load_workflow(copy.deepcopy(FORMAT_TS))
    assert isinstance(loaded, Workflow)
    assert loaded.name == "Generate social posts"
    assert workflow_kit.dump_workflow(loaded) == FORMAT_TS
    again = Workflow.from_json(json.dumps(FORMAT_TS))
    assert json.loads(again.to_json()) == FORMAT_TS


def test_ts_format_workflow_runs() -> None:
    kit = WorkflowKit()

    @kit.action(kind="echo", name="Echo", description="d", icon="e")
    def echo(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        return dict(inputs)

    result = run_workflow(kit, json.dumps(FORMAT_TS), EVENT)
    assert result.status == "completed", result.error
    assert result.executed == ["1", "2", "3"]
    assert result.state["2"] == {"result": True}


def test_in_repo_files() -> None:
    root = Path(__file__).resolve().parents[2]
    py = (root / "pyproject.toml").read_text()
    assert "workflow_kit" in py and "editor_api" in py
    assert ">=3.11" in py.replace(" ", "")
    mk = (root / "Makefile").read_text()
    assert "demo:" in mk and "test:" in mk
    ci = root / ".ci" / "run"
    assert ci.exists() and "make test" in ci.read_text()
    assert os.access(ci, os.X_OK)
    readme = (root / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme  # in its Contributing section since issue 15
    for lock in ("poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock"):
        assert not (root / lock).exists()


def test_round_trip_keeps_a_key_named_dollar_extra() -> None:
    doc = {"actions": [{"id": "a", "kind": "e", "$extra": {"q": 1}}], "edges": [], "$extra": 5}
    assert workflow_kit.dump_workflow(workflow_kit.load_workflow(copy.deepcopy(doc))) == doc
