"""`kit.template`: templates are checked against the registry when registered; a broken one fails with
every problem and its path; blanks are the one problem a template may have; the demo's templates register."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from helpers import action, edge, workflow

from workflow_kit import ActionContextSync, WorkflowKit
from workflow_kit.templates import TemplateError


class PostInput(msgspec.Struct):
    post_id: int


class Revision(msgspec.Struct):
    post_id: int
    text: str


def make_kit() -> WorkflowKit:
    kit = WorkflowKit()

    @kit.action(kind="review", name="Review a post")
    def review(ctx: ActionContextSync, inputs: PostInput) -> Revision:
        return Revision(post_id=inputs.post_id, text="")

    @kit.action(kind="apply", name="Apply the review")
    def apply(ctx: ActionContextSync, inputs: PostInput) -> bool:
        return True

    return kit


GOOD = workflow(
    [
        {**action("review", "review"), "to_fill": {"post_id": "Which post?"}},
        action("apply", "apply", post_id="!ref($.state.review.post_id)"),
    ],
    [edge("$source", "review"), edge("review", "apply")],
)


def register(kit: WorkflowKit, **changes: Any) -> Any:
    options: dict[str, Any] = {
        "name": "Review then apply",
        "description": "Review a post, apply the review",
        "workflow": GOOD,
        "trigger": {"event": "post.updated"},
        "tags": ["review"],
        **changes,
    }
    return kit.template("review-then-apply", **options)


def test_a_template_registers_and_lists_with_its_blanks() -> None:
    kit = make_kit()
    declared = register(kit, settings={"retries": 2})
    assert kit.templates.get("review-then-apply") is declared
    [entry] = kit.public_templates()
    assert entry["id"] == "review-then-apply"
    assert entry["name"] == "Review then apply"
    assert entry["tags"] == ["review"]
    assert entry["trigger"] == {"event": "post.updated"}
    assert entry["settings"] == {"retries": 2}
    assert entry["workflow"] == GOOD
    assert entry["blanks"] == [
        {"action_id": "review", "input": "post_id", "question": "Which post?", "path": "actions[0].inputs.post_id"}
    ]


def test_a_broken_template_fails_with_every_problem_and_its_path() -> None:
    kit = make_kit()
    broken = workflow(
        [action("review", "reviw", post_id=1), action("apply", "apply", post_id="!ref($.state.nowhere.id)")],
        [edge("$source", "review"), edge("review", "apply")],
    )
    with pytest.raises(TemplateError) as caught:
        register(
            kit, workflow=broken, trigger={"event": "post.updated", "if": "event.data.("}, settings={"retries": 99}
        )
    paths = {p.path for p in caught.value.problems}
    assert "workflow.actions[0].kind" in paths
    assert "workflow.actions[1].inputs.post_id" in paths
    assert "trigger.if" in paths
    assert any(p.startswith("settings") for p in paths)
    assert "review-then-apply" in str(caught.value)
    assert "workflow.actions[0].kind" in str(caught.value)
    assert len(kit.templates) == 0


def test_a_template_is_checked_against_the_actions_registered_before_it() -> None:
    kit = WorkflowKit()
    with pytest.raises(TemplateError, match="unknown action kind 'review'"):
        register(kit)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"name": " "}, "name"),
        ({"tags": "review"}, "tags"),
        ({"trigger": {"cron": "every day"}}, "trigger.cron"),
    ],
)
def test_bad_fields_are_refused_with_their_path(changes: dict[str, Any], path: str) -> None:
    with pytest.raises(TemplateError) as caught:
        register(make_kit(), **changes)
    assert path in {p.path for p in caught.value.problems}


def test_ids_are_checked_and_registered_once() -> None:
    kit = make_kit()
    with pytest.raises(TemplateError, match="lowercase"):
        kit.template("Not An Id", name="x", workflow=GOOD, trigger="post.updated")
    register(kit)
    with pytest.raises(TemplateError, match="already registered"):
        register(kit)


def test_the_demo_ships_templates_for_its_blog_actions() -> None:
    from seeds.blog import register as register_blog

    kit = WorkflowKit()
    register_blog(kit)
    templates = kit.public_templates()
    assert 4 <= len(templates) <= 6
    kinds = {a["kind"] for t in templates for a in t["workflow"]["actions"]}
    assert {"add_toc", "grammar_review", "generate_tweet_posts", "builtin:if"} <= kinds
    with_blanks = [t for t in templates if t["blanks"]]
    assert with_blanks and all(b["question"] for t in with_blanks for b in t["blanks"])
