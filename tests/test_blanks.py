"""Blanks: inputs a template leaves to fill (``to_fill``) are ``blank`` problems until given, never
``missing_input``; a malformed mark is an ``invalid_blank``; `find_blanks` lists the open ones in order."""

from __future__ import annotations

from typing import Any

import msgspec
from helpers import action, edge, workflow

from workflow_kit import ActionContextSync, WorkflowKit
from workflow_kit.blanks import find_blanks


class PostInput(msgspec.Struct):
    post_id: int
    note: str = ""


def make_kit() -> WorkflowKit:
    kit = WorkflowKit()

    @kit.action(kind="review", name="Review a post")
    def review(ctx: ActionContextSync, inputs: PostInput) -> int:
        return inputs.post_id

    return kit


def blank_step(**inputs: Any) -> dict[str, Any]:
    return {**action("review", "review", **inputs), "to_fill": {"post_id": "Which post?"}}


def test_an_open_blank_is_a_blank_problem_not_a_missing_input() -> None:
    problems = make_kit().validate(workflow([blank_step()], [edge("$source", "review")]))
    assert [(p.code, p.path) for p in problems] == [("blank", "actions[0].inputs.post_id")]
    assert "Which post?" in problems[0].message


def test_a_filled_blank_is_no_problem_and_keeps_its_type_checks() -> None:
    kit = make_kit()
    assert kit.validate(workflow([blank_step(post_id=3)], [edge("$source", "review")])) == []
    problems = kit.validate(workflow([blank_step(post_id="three")], [edge("$source", "review")]))
    assert [(p.code, p.path) for p in problems] == [("invalid_input", "actions[0].inputs.post_id")]


def test_a_blank_inside_a_loop_is_found_with_its_path() -> None:
    loop = {
        "id": "each",
        "kind": "builtin:for_each",
        "inputs": {"items": "!ref($.event.data.posts)"},
        "body": {"actions": [blank_step()], "edges": [edge("$source", "review")]},
    }
    instance = workflow([loop], [edge("$source", "each")])
    [blank] = find_blanks(instance)
    assert (blank.action_id, blank.input, blank.question) == ("review", "post_id", "Which post?")
    assert blank.path == "actions[0].body.actions[0].inputs.post_id"
    codes = [(p.code, p.path) for p in make_kit().validate(instance)]
    assert codes == [("blank", "actions[0].body.actions[0].inputs.post_id")]


def test_malformed_marks_are_invalid_blanks_with_their_paths() -> None:
    kit = make_kit()
    unknown = {**action("review", "review", post_id=1), "to_fill": {"title": "What title?"}}
    problems = kit.validate(workflow([unknown], [edge("$source", "review")]))
    assert [(p.code, p.path) for p in problems] == [("invalid_blank", "actions[0].to_fill.title")]
    not_questions = {**action("review", "review", post_id=1), "to_fill": ["post_id"]}
    problems = kit.validate(workflow([not_questions], [edge("$source", "review")]))
    assert [(p.code, p.path) for p in problems] == [("invalid_blank", "actions[0].to_fill")]
