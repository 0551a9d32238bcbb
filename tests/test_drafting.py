"""Drafting a workflow from words (`workflow_kit.drafting`) against a local fake OpenAI-compatible server:
the answer schema built from the catalog and sent as strict structured outputs, the repair loop (an
invalid draft, its problems back to the model, a valid one), its bound, a change keeping what the model
did not see, and no provider configured."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from drafting_answers import INVALID, LOOP_WORDS, REVIEW_WORDS, VALID, answer, loop_answer, reply, step
from fake_openai import FakeOpenAI, completion

from workflow_kit import WorkflowKit
from workflow_kit.ai import LocalProvider, OpenAIProvider
from workflow_kit.drafting import DraftingError, answer_schema, draft_workflow, unavailable_reason


@pytest.fixture
def fake(fake_model: FakeOpenAI) -> FakeOpenAI:
    return fake_model


def blog_kit(fake: FakeOpenAI | None = None) -> WorkflowKit:
    from seeds.blog import register

    provider = OpenAIProvider("test-key", base_url=fake.base_url, model="test-model") if fake else LocalProvider()
    kit = WorkflowKit(ai=provider)
    register(kit)
    return kit


def test_the_answer_schema_has_one_strict_branch_per_kind_with_its_inputs() -> None:
    kit = blog_kit()
    schema = answer_schema(kit.public_actions())
    assert schema["required"] == ["name", "summary", "trigger", "steps", "edges"]
    assert schema["additionalProperties"] is False
    branches = schema["properties"]["steps"]["items"]["anyOf"]
    kinds = [b["properties"]["kind"]["const"] for b in branches]
    assert "add_toc" in kinds and "builtin:if" in kinds and "builtin:wait_for_event" in kinds
    toc = branches[kinds.index("add_toc")]
    assert toc["required"] == ["id", "kind", "name", "parent", "inputs", "explanation"]
    each = branches[kinds.index("builtin:for_each")]  # a loop: its steps name it as their parent
    assert each["required"] == ["id", "kind", "name", "parent", "inputs", "explanation", "result"]
    assert each["properties"]["inputs"]["required"] == ["items", "concurrency", "on_failure"]
    assert "builtin:repeat_until" in kinds
    post_id = toc["properties"]["inputs"]["properties"]["post_id"]["anyOf"]
    assert post_id[0] == {"type": "integer"} and post_id[1]["type"] == "string"  # a value, or a ref
    approval = branches[kinds.index("wait_for_approval")]["properties"]["inputs"]
    assert approval["required"] == ["post_id", "timeout"]  # strict: all listed, the optional one nullable
    assert {"type": "null"} in approval["properties"]["timeout"]["anyOf"]

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for node in walk(schema):
        assert "$ref" not in node and "pattern" not in node and "default" not in node
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert node["required"] == list(node["properties"])


async def test_problems_go_back_to_the_model_until_the_draft_is_valid(fake: FakeOpenAI) -> None:
    fake.script += [reply(INVALID), reply(VALID)]
    draft = await draft_workflow(blog_kit(fake), REVIEW_WORDS)
    assert draft.problems == []
    assert draft.repair_rounds == 1
    assert [a["id"] for a in draft.workflow["actions"]] == ["toc", "grammar"]
    assert draft.triggers == [{"event": "blog-post.updated", "if": "event.data.status == 'under review'"}]
    assert draft.explanations["grammar"] == "Fixes the grammar of the same post."
    first, second = (r["body"] for r in fake.requests)
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["strict"] is True
    assert first["response_format"]["json_schema"]["schema"] == answer_schema(blog_kit().public_actions())
    assert first["messages"][-1]["content"].endswith(REVIEW_WORDS)
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert "steps[1].inputs.post_id" in second["messages"][-1]["content"]


async def test_the_repair_rounds_are_bounded(fake: FakeOpenAI) -> None:
    fake.script += [reply(INVALID)] * 3
    draft = await draft_workflow(blog_kit(fake), REVIEW_WORDS, max_repair_rounds=2)
    assert len(fake.requests) == 3
    assert draft.repair_rounds == 2
    assert [p.path for p in draft.problems] == ["actions[1].inputs.post_id"]


async def test_an_answer_that_is_not_json_is_repaired_too(fake: FakeOpenAI) -> None:
    fake.script += [(200, {}, completion("Sure!")), reply(VALID)]
    draft = await draft_workflow(blog_kit(fake), REVIEW_WORDS)
    assert draft.problems == [] and draft.repair_rounds == 1
    assert "not JSON" in fake.requests[1]["body"]["messages"][-1]["content"]


async def test_branches_become_the_predefined_edges(fake: FakeOpenAI) -> None:
    body = answer(
        [
            step(
                "published", "builtin:if", "Checks the post is published.", condition="event.data.status == 'published'"
            ),
            step("tweets", "generate_tweet_posts", "Writes tweets.", post_id="!ref($.event.data.id)"),
        ],
        [("$source", "published")],
    )
    body["edges"].append({"from": "published", "to": "tweets", "branch": "true", "condition": None})
    fake.script.append(reply(body))
    draft = await draft_workflow(blog_kit(fake), "Tweet published posts")
    assert draft.problems == []
    assert draft.workflow["edges"][1] == {
        "from": "published",
        "to": "tweets",
        "name": "True",
        "conditional": {"type": "if", "ref": "!ref($.output.result)"},
    }


async def test_a_loop_is_drafted_as_steps_naming_their_loop_and_nested_into_its_body(fake: FakeOpenAI) -> None:
    fake.script += [reply(loop_answer("!ref($.state.nowhere.id)")), reply(loop_answer("!ref($.item)"))]
    draft = await draft_workflow(blog_kit(fake), LOOP_WORDS)
    assert draft.problems == [] and draft.repair_rounds == 1
    sent = fake.requests[0]["body"]["response_format"]["json_schema"]["schema"]
    assert "builtin:for_each" in json.dumps(sent)
    assert "steps[1].inputs.post_id" in fake.requests[1]["body"]["messages"][-1]["content"]  # the body step
    loop, done = draft.workflow["actions"]
    assert loop["inputs"] == {"items": [1, 2, 3]}
    assert loop["body"] == {
        "actions": [{"id": "toc", "kind": "add_toc", "inputs": {"post_id": "!ref($.item)"}}],
        "edges": [{"from": "$source", "to": "toc"}],
        "result": "toc",
    }
    assert draft.workflow["edges"] == [{"from": "$source", "to": "each"}, {"from": "each", "to": "done"}]
    assert done == {"id": "done", "kind": "builtin:send_event", "inputs": {"name": "posts.refreshed"}}
    assert draft.triggers == [{"cron": "0 9 * * 1"}]
    assert list(draft.explanations) == ["each", "toc", "done"]


async def test_a_change_sends_the_steps_not_the_samples_and_keeps_them(fake: FakeOpenAI) -> None:
    current_workflow = {
        "actions": [{"id": "toc", "kind": "add_toc", "inputs": {"post_id": "!ref($.event.data.id)"}}],
        "edges": [{"from": "$source", "to": "toc"}],
        "metadata": {"positions": {"toc": {"x": 1, "y": 2}}, "sample_outputs": {"toc": {"markdown": "SECRET TEXT"}}},
    }
    fake.script.append(reply(VALID))
    current = {"workflow": current_workflow, "triggers": [{"event": "blog-post.updated"}]}
    draft = await draft_workflow(blog_kit(fake), "Then fix the grammar", current=current)
    sent = json.dumps(fake.requests[0]["body"])
    assert "SECRET TEXT" not in sent and "positions" not in sent
    assert '\\"id\\": \\"toc\\"' in sent  # the current steps are sent
    assert draft.workflow["metadata"] == current_workflow["metadata"]  # kept, locally


async def test_without_a_provider_drafting_says_why() -> None:
    kit = blog_kit()
    assert unavailable_reason(kit) is not None
    with pytest.raises(DraftingError) as caught:
        await draft_workflow(kit, REVIEW_WORDS)
    assert caught.value.status == 409 and "OPENAI_API_KEY" in str(caught.value)


async def test_a_failing_provider_is_a_drafting_error(fake: FakeOpenAI) -> None:
    fake.script.append((400, {}, {"error": {"message": "bad request", "type": "invalid_request_error"}}))
    with pytest.raises(DraftingError) as caught:
        await draft_workflow(blog_kit(fake), REVIEW_WORDS)
    assert caught.value.status == 502
    assert "test-key" not in str(caught.value)
