"""The workflow instance format (workflow_kit/workflow.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import msgspec
import pytest

from workflow_kit.errors import WorkflowValidationError
from workflow_kit.workflow import (
    SOURCE,
    Conditional,
    Workflow,
    WorkflowAction,
    WorkflowEdge,
    dump_workflow,
    load_workflow,
)

# A workflow as the TypeScript Workflow Kit's editor saves it.
TS_WORKFLOW: dict[str, Any] = {
    "name": "Welcome sequence",
    "description": "Greets new users and follows up with pro users",
    "metadata": {"createdBy": "user_123", "version": 3},
    "actions": [
        {
            "id": "1",
            "kind": "send_email",
            "name": "Send welcome email",
            "description": "The first touch",
            "inputs": {"to": "!ref($.event.data.email)", "subject": "Welcome, !ref($.event.data.name)"},
        },
        {"id": "2", "kind": "wait", "inputs": {"duration": "1d"}},
        {"id": "3", "kind": "send_email", "inputs": {"to": "!ref($.event.data.email)", "subject": "Pro tips"}},
        {"id": "4", "kind": "send_email", "inputs": {"to": "!ref($.event.data.email)", "subject": "Upgrade?"}},
    ],
    "edges": [
        {"from": "$source", "to": "1"},
        {"from": "1", "to": "2", "name": "then"},
        {"from": "2", "to": "3", "conditional": {"type": "match", "ref": "!ref($.event.data.plan)", "value": "pro"}},
        {"from": "2", "to": "4", "conditional": {"type": "else", "ref": "!ref($.event.data.plan)"}},
    ],
}

# Every level carries keys the model does not know.
WITH_EXTRAS: dict[str, Any] = {
    "name": "wf",
    "workflowId": "wf_1",
    "ui": {"zoom": 1.5, "viewport": [0, 0]},
    "actions": [
        {"id": "a", "kind": "k", "inputs": {"x": 1}, "position": {"x": 10, "y": 20}, "color": None},
        {"id": "b", "kind": "k", "inputs": {"y": [1, 2]}, "extra": "not the internal field"},
    ],
    "edges": [
        {"from": "$source", "to": "a", "animated": True},
        {
            "from": "a",
            "to": "b",
            "label": {"text": "yes"},
            "conditional": {"type": "if", "ref": "!ref($.output.ok)", "note": "added by a plugin", "weight": 0.5},
        },
    ],
}


# --- loading the TypeScript kit's JSON ---------------------------------------------------------------


def test_loads_typescript_workflow_kit_json() -> None:
    workflow = load_workflow(TS_WORKFLOW)

    assert isinstance(workflow, Workflow)
    assert workflow.name == "Welcome sequence"
    assert workflow.description == "Greets new users and follows up with pro users"
    assert workflow.metadata == {"createdBy": "user_123", "version": 3}

    assert [a.id for a in workflow.actions] == ["1", "2", "3", "4"]
    first = workflow.actions[0]
    assert isinstance(first, WorkflowAction)
    assert first.kind == "send_email"
    assert first.name == "Send welcome email"
    assert first.description == "The first touch"
    assert first.inputs == {"to": "!ref($.event.data.email)", "subject": "Welcome, !ref($.event.data.name)"}
    assert workflow.actions[1].name is None
    assert workflow.actions[1].description is None

    assert [(e.from_, e.to) for e in workflow.edges] == [(SOURCE, "1"), ("1", "2"), ("2", "3"), ("2", "4")]
    assert all(isinstance(e, WorkflowEdge) for e in workflow.edges)
    assert workflow.edges[0].conditional is None
    assert workflow.edges[1].name == "then"

    match = workflow.edges[2].conditional
    assert isinstance(match, Conditional)
    assert (match.type, match.ref, match.value) == ("match", "!ref($.event.data.plan)", "pro")

    other = workflow.edges[3].conditional
    assert other is not None
    assert (other.type, other.ref) == ("else", "!ref($.event.data.plan)")
    assert other.value is msgspec.UNSET


def test_source_constant() -> None:
    assert SOURCE == "$source"


def test_action_lookup() -> None:
    workflow = load_workflow(TS_WORKFLOW)
    found = workflow.action("3")
    assert found is not None
    assert found.inputs["subject"] == "Pro tips"
    assert workflow.action("nope") is None


def test_minimal_workflow_defaults() -> None:
    workflow = load_workflow({})
    assert workflow.name is None
    assert workflow.description is None
    assert workflow.metadata == {}
    assert workflow.actions == []
    assert workflow.edges == []
    assert dump_workflow(workflow) == {"actions": [], "edges": []}  # the TypeScript kit requires both arrays


def test_edge_from_is_encoded_as_from() -> None:
    edge = WorkflowEdge(from_="a", to="b")
    assert msgspec.json.decode(msgspec.json.encode(edge)) == {"from": "a", "to": "b"}
    assert msgspec.to_builtins(edge) == {"from": "a", "to": "b"}
    dumped = dump_workflow(Workflow(edges=[edge]))
    assert dumped["edges"] == [{"from": "a", "to": "b"}]
    assert "from_" not in dumped["edges"][0]


# --- accepted inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(TS_WORKFLOW, id="dict"),
        pytest.param(json.dumps(TS_WORKFLOW), id="str"),
        pytest.param(json.dumps(TS_WORKFLOW).encode(), id="bytes"),
    ],
)
def test_load_workflow_accepts_dict_str_and_bytes(source: Any) -> None:
    workflow = load_workflow(source)
    assert workflow.name == "Welcome sequence"
    assert len(workflow.actions) == 4
    assert dump_workflow(workflow) == TS_WORKFLOW


def test_load_workflow_accepts_a_workflow() -> None:
    workflow = load_workflow(TS_WORKFLOW)
    assert load_workflow(workflow) is workflow


def test_load_workflow_does_not_mutate_its_input() -> None:
    source = copy.deepcopy(WITH_EXTRAS)
    source["$extra"] = {"x": 1}
    before = copy.deepcopy(source)
    load_workflow(source)
    assert source == before


# --- round trips ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("document", [TS_WORKFLOW, WITH_EXTRAS], ids=["typescript", "extras"])
def test_round_trip_is_exact(document: dict[str, Any]) -> None:
    source = copy.deepcopy(document)
    assert dump_workflow(load_workflow(source)) == document
    assert load_workflow(source).to_dict() == document


@pytest.mark.parametrize("document", [TS_WORKFLOW, WITH_EXTRAS], ids=["typescript", "extras"])
def test_round_trip_through_json(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    workflow = Workflow.from_json(text)
    encoded = workflow.to_json()
    assert isinstance(encoded, bytes)
    assert json.loads(encoded) == document
    assert Workflow.from_json(encoded).to_dict() == document
    assert Workflow.from_dict(copy.deepcopy(document)).to_dict() == document


def test_unknown_keys_are_kept_at_every_level() -> None:
    workflow = load_workflow(copy.deepcopy(WITH_EXTRAS))
    assert workflow.extra == {"workflowId": "wf_1", "ui": {"zoom": 1.5, "viewport": [0, 0]}}
    assert workflow.actions[0].extra == {"position": {"x": 10, "y": 20}, "color": None}
    assert workflow.actions[1].extra == {"extra": "not the internal field"}
    assert workflow.edges[0].extra == {"animated": True}
    assert workflow.edges[1].extra == {"label": {"text": "yes"}}
    conditional = workflow.edges[1].conditional
    assert conditional is not None
    assert conditional.extra == {"note": "added by a plugin", "weight": 0.5}


def test_dumped_workflow_has_no_internal_keys() -> None:
    text = load_workflow(copy.deepcopy(WITH_EXTRAS)).to_json()
    assert b"$extra" not in text


def test_match_conditional_with_null_value_keeps_the_null() -> None:
    document = {
        "actions": [{"id": "a", "kind": "k"}],
        "edges": [{"from": "$source", "to": "a", "conditional": {"type": "match", "ref": "!ref($.x)", "value": None}}],
    }
    workflow = load_workflow(copy.deepcopy(document))
    conditional = workflow.edges[0].conditional
    assert conditional is not None
    assert conditional.value is None
    dumped = dump_workflow(workflow)
    assert dumped == document
    assert "value" in dumped["edges"][0]["conditional"]
    assert json.loads(workflow.to_json())["edges"][0]["conditional"]["value"] is None


def test_conditional_without_value_stays_without_value() -> None:
    document = {
        "actions": [{"id": "a", "kind": "k"}],
        "edges": [{"from": "$source", "to": "a", "conditional": {"type": "if", "ref": "!ref($.x)"}}],
    }
    workflow = load_workflow(copy.deepcopy(document))
    conditional = workflow.edges[0].conditional
    assert conditional is not None
    assert conditional.value is msgspec.UNSET
    dumped = dump_workflow(workflow)
    assert dumped == document
    assert "value" not in dumped["edges"][0]["conditional"]
    assert "value" not in json.loads(workflow.to_json())["edges"][0]["conditional"]


@pytest.mark.parametrize("value", [0, False, "", [], {}, {"a": [1, None]}, 1.5])
def test_match_conditional_falsy_and_structured_values_round_trip(value: Any) -> None:
    document = {
        "actions": [{"id": "a", "kind": "k"}],
        "edges": [{"from": "$source", "to": "a", "conditional": {"type": "match", "ref": "!ref($.x)", "value": value}}],
    }
    assert dump_workflow(load_workflow(copy.deepcopy(document))) == document


# --- the literal "$extra" key ----------------------------------------------------------------------------


def test_literal_extra_marker_in_input_is_not_internal_data() -> None:
    document = {
        "name": "wf",
        "$extra": {"name": "hijacked", "injected": 1},
        "actions": [{"id": "a", "kind": "k", "$extra": {"kind": "evil", "injected": 2}}],
        "edges": [
            {
                "from": "$source",
                "to": "a",
                "$extra": {"to": "elsewhere", "injected": 3},
                "conditional": {"type": "if", "ref": "!ref($.x)", "$extra": {"type": "match", "injected": 4}},
            }
        ],
    }
    workflow = load_workflow(copy.deepcopy(document))

    assert workflow.name == "wf"
    assert workflow.actions[0].kind == "k"
    assert workflow.edges[0].to == "a"
    conditional = workflow.edges[0].conditional
    assert conditional is not None
    assert conditional.type == "if"
    for extra in (workflow.extra, workflow.actions[0].extra, workflow.edges[0].extra, conditional.extra):
        assert "injected" not in extra

    dumped = dump_workflow(workflow)
    assert dumped["name"] == "wf"
    assert "injected" not in dumped
    assert "injected" not in dumped["actions"][0]
    assert dumped["actions"][0]["kind"] == "k"
    assert "injected" not in dumped["edges"][0]
    assert dumped["edges"][0]["to"] == "a"
    assert "injected" not in dumped["edges"][0]["conditional"]
    assert dumped["edges"][0]["conditional"]["type"] == "if"


def test_a_literal_dollar_extra_key_round_trips_as_an_unknown_key() -> None:
    """A key named "$extra" in a document is data like any unknown key: kept, and written back as it was."""
    document = {"actions": [{"id": "a", "kind": "e", "$extra": {"q": 1}}], "edges": [], "$extra": 5}
    assert dump_workflow(load_workflow(copy.deepcopy(document))) == document


# --- malformed input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"actions": [{"id": "a", "kind": "k"}, {"id": 1, "kind": "k"}]}, "actions[1].id"),
        ({"actions": [{"id": "a", "kind": 7}]}, "actions[0].kind"),
        ({"actions": [{"id": "a", "kind": "k", "inputs": []}]}, "actions[0].inputs"),
        ({"actions": [{"id": "a", "kind": "k", "name": 3}]}, "actions[0].name"),
        ({"edges": [{"from": "$source", "to": 5}]}, "edges[0].to"),
        ({"edges": [{"from": "$source", "to": "a"}, {"from": None, "to": "a"}]}, "edges[1].from"),
        ({"edges": [{"from": "a", "to": "b", "conditional": {"type": 1}}]}, "edges[0].conditional.type"),
        ({"edges": [{"from": "a", "to": "b", "conditional": "yes"}]}, "edges[0].conditional"),
        ({"actions": "x"}, "actions"),
        ({"actions": [1]}, "actions[0]"),
        ({"name": 42}, "name"),
        ({"metadata": []}, "metadata"),
    ],
)
def test_malformed_values_report_invalid_format_with_path(document: dict[str, Any], path: str) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        load_workflow(document)
    problem = info.value.problems[0]
    assert problem.code == "invalid_format"
    assert problem.path == path
    assert problem.message
    assert path in str(info.value)


@pytest.mark.parametrize(
    ("document", "where", "field"),
    [
        ({"actions": [{"kind": "k"}]}, "actions[0]", "id"),
        ({"edges": [{"from": "a"}]}, "edges[0]", "to"),
        ({"edges": [{"from": "a", "to": "b", "conditional": {"ref": "x"}}]}, "edges[0].conditional", "type"),
    ],
)
def test_missing_required_field_names_the_object_and_field(document: dict[str, Any], where: str, field: str) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        load_workflow(document)
    problem = info.value.problems[0]
    assert problem.code == "invalid_format"
    assert problem.path.startswith(where)
    assert field in f"{problem.path} {problem.message}"


@pytest.mark.parametrize("text", ["{", "not json", b"[1,", "", b'{"name": }'])
def test_invalid_json_text(text: str | bytes) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        load_workflow(text)
    (problem,) = info.value.problems
    assert problem.code == "invalid_json"
    assert problem.path == ""


@pytest.mark.parametrize("source", [[1, 2], 5, None, "[]", "null", '"text"', b"42"])
def test_non_object_is_invalid_format(source: Any) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        load_workflow(source)
    (problem,) = info.value.problems
    assert problem.code == "invalid_format"
    assert problem.path == ""
    assert "object" in problem.message


def test_from_json_raises_validation_error() -> None:
    with pytest.raises(WorkflowValidationError) as info:
        Workflow.from_json('{"actions": [{"id": 1, "kind": "k"}]}')
    assert info.value.problems[0].path == "actions[0].id"
    assert info.value.code == "invalid_workflow"
