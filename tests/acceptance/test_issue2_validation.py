"""Issue 2 acceptance: every validation problem has a code and a path; inputs are checked again after
interpolation."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from workflow_kit import ActionContext, WorkflowKit, WorkflowValidationError
from workflow_kit.testing import run_workflow

EVENT = {"name": "app/x", "data": {"n": 5, "name": "Ann", "email": "a@example.com"}}


class Address(msgspec.Struct):
    zip: str


class SendInputs(msgspec.Struct):
    email: str
    count: int
    address: Address | None = None


class Out(msgspec.Struct):
    id: str
    size: int


CALLS: list[str] = []


def _kit() -> WorkflowKit:
    kit = WorkflowKit()

    @kit.action(kind="send", name="Send", description="d", icon="s")
    def send(ctx: ActionContext, inputs: SendInputs) -> Out:
        CALLS.append(ctx.action.id)
        return Out(id="x", size=inputs.count)

    @kit.action(kind="echo", name="Echo", description="d", icon="e")
    def echo(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        CALLS.append(ctx.action.id)
        return dict(inputs)

    return kit


def _ok_send(id_: str = "s") -> dict[str, Any]:
    return {"id": id_, "kind": "send", "inputs": {"email": "a@b.c", "count": 1}}


def _problems(wf: dict[str, Any]) -> list[tuple[str, str, str]]:
    kit = _kit()
    problems = kit.validate(wf)
    for p in problems:
        assert isinstance(p.code, str) and p.code, p
        assert isinstance(p.path, str) and p.path, p  # "each problem with a code and a path"
        assert isinstance(p.message, str) and p.message, p
        assert "undefined" not in p.message
    CALLS.clear()
    with pytest.raises(WorkflowValidationError) as caught:
        run_workflow(kit, wf, EVENT)
    assert CALLS == []
    assert {(p.code, p.path) for p in caught.value.problems} == {(p.code, p.path) for p in problems}
    return [(p.code, p.path, p.message) for p in problems]


def _has(problems: list[tuple[str, str, str]], path_part: str) -> str:
    hits = [code for code, path, _ in problems if path_part in path]
    assert hits, f"no problem at {path_part}: {problems}"
    return hits[0]


def test_valid_workflow_has_no_problems() -> None:
    wf = {
        "actions": [_ok_send(), {"id": "e", "kind": "echo", "inputs": {"t": "size !ref($.state.s.size)"}}],
        "edges": [{"from": "$source", "to": "s"}, {"from": "s", "to": "e"}],
    }
    assert _kit().validate(wf) == []


CASES: dict[str, tuple[dict[str, Any], str]] = {
    "unknown_kind": (
        {"actions": [{"id": "a", "kind": "nope"}], "edges": [{"from": "$source", "to": "a"}]},
        "actions[0]",
    ),
    "duplicate_id": (
        {
            "actions": [_ok_send("a"), _ok_send("a")],
            "edges": [{"from": "$source", "to": "a"}],
        },
        "actions[1]",
    ),
    "source_as_id": (
        {"actions": [_ok_send("$source")], "edges": [{"from": "$source", "to": "$source"}]},
        "actions[0]",
    ),
    "edge_from_unknown": (
        {"actions": [_ok_send("a")], "edges": [{"from": "$source", "to": "a"}, {"from": "ghost", "to": "a"}]},
        "edges[1]",
    ),
    "edge_to_unknown": (
        {"actions": [_ok_send("a")], "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "ghost"}]},
        "edges[1]",
    ),
    "duplicate_edge": (
        {
            "actions": [_ok_send("a"), _ok_send("b")],
            "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}, {"from": "a", "to": "b"}],
        },
        "edges[2]",
    ),
    "cycle": (
        {
            "actions": [_ok_send("a"), _ok_send("b"), _ok_send("c")],
            "edges": [
                {"from": "$source", "to": "a"},
                {"from": "a", "to": "b"},
                {"from": "b", "to": "c"},
                {"from": "c", "to": "b"},
            ],
        },
        "edges",
    ),
    "self_loop": (
        {"actions": [_ok_send("a")], "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "a"}]},
        "edges[1]",
    ),
    "no_start": (
        {"actions": [_ok_send("a"), _ok_send("b")], "edges": [{"from": "a", "to": "b"}]},
        "",
    ),
    "unreachable": (
        {
            "actions": [_ok_send("a"), _ok_send("b"), _ok_send("c")],
            "edges": [{"from": "$source", "to": "a"}, {"from": "b", "to": "c"}, {"from": "c", "to": "b"}],
        },
        "actions[1]",
    ),
    "unreachable_simple": (
        {"actions": [_ok_send("a"), _ok_send("b")], "edges": [{"from": "$source", "to": "a"}]},
        "actions[1]",
    ),
    "unknown_conditional": (
        {
            "actions": [_ok_send("a"), _ok_send("b")],
            "edges": [
                {"from": "$source", "to": "a"},
                {"from": "a", "to": "b", "conditional": {"type": "unless", "ref": "!ref($.output.size)"}},
            ],
        },
        "edges[1].conditional",
    ),
    "literal_fails_schema": (
        {
            "actions": [{"id": "a", "kind": "send", "inputs": {"email": 42, "count": 1}}],
            "edges": [{"from": "$source", "to": "a"}],
        },
        "actions[0].inputs.email",
    ),
    "nested_literal_fails_schema": (
        {
            "actions": [{"id": "a", "kind": "send", "inputs": {"email": "x", "count": 1, "address": {"zip": 7}}}],
            "edges": [{"from": "$source", "to": "a"}],
        },
        "actions[0].inputs.address",
    ),
    "missing_required": (
        {"actions": [{"id": "a", "kind": "send", "inputs": {"email": "x"}}], "edges": [{"from": "$source", "to": "a"}]},
        "actions[0].inputs",
    ),
    "unknown_input": (
        {
            "actions": [{"id": "a", "kind": "send", "inputs": {"email": "x", "count": 1, "bogus": 1}}],
            "edges": [{"from": "$source", "to": "a"}],
        },
        "actions[0].inputs.bogus",
    ),
    "malformed_ref_bracket": (
        {
            "actions": [{"id": "a", "kind": "echo", "inputs": {"x": "!ref($.event.data[)"}}],
            "edges": [{"from": "$source", "to": "a"}],
        },
        "actions[0].inputs.x",
    ),
    "malformed_ref_unclosed": (
        {
            "actions": [{"id": "a", "kind": "echo", "inputs": {"x": "!ref($.event.data.n"}}],
            "edges": [{"from": "$source", "to": "a"}],
        },
        "actions[0].inputs.x",
    ),
    "ref_not_upstream": (
        {
            "actions": [
                _ok_send("a"),
                _ok_send("b"),
                {"id": "c", "kind": "echo", "inputs": {"x": "!ref($.state.b.id)"}},
            ],
            "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}, {"from": "a", "to": "c"}],
        },
        "actions[2].inputs.x",
    ),
    "ref_downstream": (
        {
            "actions": [{"id": "a", "kind": "echo", "inputs": {"x": "!ref($.state.b)"}}, _ok_send("b")],
            "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}],
        },
        "actions[0].inputs.x",
    ),
    "ref_unknown_action": (
        {
            "actions": [{"id": "a", "kind": "echo", "inputs": {"x": "!ref($.state.zzz)"}}],
            "edges": [{"from": "$source", "to": "a"}],
        },
        "actions[0].inputs.x",
    ),
    "ref_path_not_in_output_schema": (
        {
            "actions": [_ok_send("a"), {"id": "b", "kind": "echo", "inputs": {"x": "!ref($.state.a.nothere)"}}],
            "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}],
        },
        "actions[1].inputs.x",
    ),
    "embedded_ref_path_not_in_output_schema": (
        {
            "actions": [_ok_send("a"), {"id": "b", "kind": "echo", "inputs": {"x": "v=!ref($.state.a.nothere)"}}],
            "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}],
        },
        "actions[1].inputs.x",
    ),
    "template_to_non_string": (
        {
            "actions": [{"id": "a", "kind": "send", "inputs": {"email": "x", "count": "n=!ref($.event.data.n)"}}],
            "edges": [{"from": "$source", "to": "a"}],
        },
        "actions[0].inputs.count",
    ),
    "cel_does_not_compile": (
        {
            "actions": [{"id": "a", "kind": "builtin:if", "inputs": {"condition": "event.data.n >"}}],
            "edges": [{"from": "$source", "to": "a"}],
        },
        "actions[0].inputs.condition",
    ),
    "edge_conditional_ref_malformed": (
        {
            "actions": [_ok_send("a"), _ok_send("b")],
            "edges": [
                {"from": "$source", "to": "a"},
                {"from": "a", "to": "b", "conditional": {"type": "if", "ref": "!ref($.output[)"}},
            ],
        },
        "edges[1]",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_problem_code_and_path(name: str) -> None:
    wf, path_part = CASES[name]
    problems = _problems(wf)
    assert problems
    _has(problems, path_part)


def test_codes_distinguish_the_kinds_of_problem() -> None:
    collected: dict[str, str] = {}
    for name, (wf, part) in CASES.items():
        collected[name] = _code(wf, part)
    groups = [
        (
            "unknown_kind",
            "duplicate_id",
            "edge_to_unknown",
            "duplicate_edge",
            "cycle",
            "unreachable_simple",
            "unknown_conditional",
            "literal_fails_schema",
            "unknown_input",
            "malformed_ref_bracket",
            "ref_not_upstream",
            "ref_path_not_in_output_schema",
            "template_to_non_string",
            "cel_does_not_compile",
        )
    ]
    for group in groups:
        codes = [collected[n] for n in group]
        assert len(set(codes)) == len(codes), dict(zip(group, codes, strict=True))


def _code(wf: dict[str, Any], part: str) -> str:
    for p in _kit().validate(wf):
        if part in p.path:
            return p.code
    raise AssertionError(part)


def test_validate_reports_several_problems_at_once() -> None:
    wf = {
        "actions": [
            {"id": "a", "kind": "nope"},
            {"id": "b", "kind": "send", "inputs": {"email": 1, "count": 1}},
        ],
        "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "ghost"}],
    }
    paths = [p.path for p in _kit().validate(wf)]
    assert any("actions[0]" in p for p in paths)
    assert any("actions[1].inputs.email" in p for p in paths)
    assert any("edges[2]" in p for p in paths)


def test_inputs_validated_again_after_interpolation() -> None:
    kit = _kit()
    wf = {
        "actions": [{"id": "a", "kind": "send", "inputs": {"email": "!ref($.event.data.n)", "count": 1}}],
        "edges": [{"from": "$source", "to": "a"}],
    }
    assert kit.validate(wf) == []  # a whole-string ref to the event cannot be typed before the run
    CALLS.clear()
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "failed"
    assert CALLS == []  # the handler never ran
    assert result.error is not None
    assert "email" in result.error["message"]
    # non-retriable: one attempt only
    record = result.actions["a"]
    assert len(record.attempts) == 1, record.attempts
    assert record.attempts[0].error is not None
    assert record.attempts[0].error.name == "NonRetriableError"


def test_ref_into_typed_output_at_existing_path_is_fine() -> None:
    wf = {
        "actions": [
            _ok_send("a"),
            {"id": "b", "kind": "send", "inputs": {"email": "!ref($.state.a.id)", "count": "!ref($.state.a.size)"}},
        ],
        "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}],
    }
    kit = _kit()
    assert kit.validate(wf) == []
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "completed"
    assert result.state["b"] == {"id": "x", "size": 1}


def test_ref_type_mismatch_into_typed_output() -> None:
    """A whole-string ref to a typed output field of the wrong type (a string into an int input)."""
    wf = {
        "actions": [
            _ok_send("a"),
            {"id": "b", "kind": "send", "inputs": {"email": "x", "count": "!ref($.state.a.id)"}},
        ],
        "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}],
    }
    kit = _kit()
    problems = kit.validate(wf)
    if problems:
        assert any("actions[1].inputs.count" in p.path for p in problems)
    else:  # caught after interpolation instead
        result = run_workflow(kit, wf, EVENT)
        assert result.status == "failed" and result.error and "count" in result.error["message"]
