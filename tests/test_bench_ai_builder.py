"""bench/ai_builder.py: its evaluation set fits the demo's catalog, a right draft scores right and a
wrong one says what it misses, and without a configured model it says so and exits 0."""

from __future__ import annotations

import pytest

from bench import ai_builder
from workflow_kit.drafting import Draft


def draft(actions: list[dict[str, object]], edges: list[dict[str, object]], trigger: dict[str, object]) -> Draft:
    return Draft(
        name="d",
        summary="",
        workflow={"actions": actions, "edges": edges},
        triggers=[trigger],
        explanations={},
        problems=[],
        repair_rounds=0,
        model="m",
    )


def test_the_set_has_twenty_requests_or_more_over_the_demo_actions() -> None:
    assert len(ai_builder.CASES) >= 20
    ai_builder.check_cases(ai_builder.demo_kit())  # raises on a kind the demo does not have


def test_a_right_draft_scores_right_and_a_wrong_one_says_what_it_misses() -> None:
    case = ai_builder.CASES[3]  # a table of contents, then a grammar review, when a post moves to review
    right = draft(
        [
            {"id": "toc", "kind": "add_toc", "inputs": {"post_id": "!ref($.event.data.id)"}},
            {"id": "g", "kind": "grammar_review", "inputs": {"post_id": "!ref($.state.toc.post_id)"}},
        ],
        [{"from": "$source", "to": "toc"}, {"from": "toc", "to": "g"}],
        {"event": "blog-post.updated", "if": "event.data.status == 'under review'"},
    )
    assert ai_builder.check(case, right) == []
    wrong = draft(right.workflow["actions"][:1], right.workflow["edges"][:1], {"event": "blog-post.published"})
    missed = ai_builder.check(case, wrong)
    assert "a step grammar_review" in missed
    assert "an edge add_toc -> grammar_review" in missed
    assert "the trigger blog-post.updated" in missed


def test_without_a_model_it_says_so_and_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert ai_builder.main([]) == 0
    assert "No AI model is configured" in capsys.readouterr().out
