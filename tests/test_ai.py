"""AI steps through the real openai client against a local OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from fake_openai import FakeOpenAI, completion, fake_openai_server
from helpers import action, edge, workflow

from workflow_kit import ActionContext, ActionContextSync, WorkflowKit
from workflow_kit.ai import LOCAL_LABEL, LocalProvider, OpenAIProvider, provider_from_environment, retry_after
from workflow_kit.retry import RetryPolicy
from workflow_kit.runtime.models import RunStatus
from workflow_kit.testing import run_workflow
from workflow_kit.timeutil import VirtualClock

EVENT = {"name": "post/review", "data": {"title": "Durable workflows"}}
MESSAGES = [{"role": "system", "content": "Review grammar."}, {"role": "user", "content": "Teh text."}]


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as state:
        yield state


def kit_with(provider: Any, policy: RetryPolicy | None = None) -> WorkflowKit:
    kit = WorkflowKit(ai=provider, retry_policy=policy or RetryPolicy(jitter_ms=0))

    @kit.action(kind="review")
    def review(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        answer = ctx.step.ai.infer("review", messages=MESSAGES)
        ctx.step.sleep("think", "1m")  # a replay after this must not ask again
        return answer

    return kit


def one(kit: WorkflowKit) -> Any:
    return run_workflow(kit, workflow([action("r", "review")], [edge("$source", "r")]), EVENT)


def test_infer_asks_once_and_records_the_answer(fake_openai: FakeOpenAI) -> None:
    fake_openai.script.append((200, {}, completion("The text.")))
    result = one(kit_with(OpenAIProvider("sk-test", base_url=fake_openai.base_url, model="test-model")))
    assert result.status == "completed", result.error
    assert result.state["r"]["content"] == "The text."
    assert result.state["r"]["provider"] == "openai"
    assert result.state["r"]["usage"]["total_tokens"] == 8
    assert len(fake_openai.requests) == 1  # replayed after the sleep from the record
    sent = fake_openai.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "test-model" and sent["body"]["messages"] == MESSAGES
    assert sent["auth"] == "Bearer sk-test"
    [step, _] = result.steps("r")
    assert step.kind == "ai.infer" and step.key == "review"


def test_rate_limit_retries_at_the_time_the_provider_names(fake_openai: FakeOpenAI) -> None:
    fake_openai.script += [
        (429, {"retry-after": "7"}, {"error": {"message": "slow down", "type": "rate_limit"}}),
        (200, {}, completion("after the wait")),
    ]
    result = one(kit_with(OpenAIProvider("sk-test", base_url=fake_openai.base_url)))
    assert result.state["r"]["content"] == "after the wait"
    first, second = result.steps("r")[0].attempts
    assert first.error is not None and first.error.name == "RetryAfterError" and "429" in first.error.message
    assert second.started_at - first.started_at == 7_000


def test_retry_after_in_milliseconds_is_honoured(fake_openai: FakeOpenAI) -> None:
    fake_openai.script += [
        (429, {"retry-after-ms": "2500"}, {"error": {"message": "wait"}}),
        (200, {}, completion("ok")),
    ]
    result = one(kit_with(OpenAIProvider("sk-test", base_url=fake_openai.base_url)))
    first, second = result.steps("r")[0].attempts
    assert second.started_at - first.started_at == 2_500


def test_server_errors_retry_with_the_step_backoff(fake_openai: FakeOpenAI) -> None:
    fake_openai.script += [
        (500, {}, {"error": {"message": "boom"}}),
        (503, {}, {"error": {"message": "busy"}}),
        (200, {}, completion("third time")),
    ]
    result = one(kit_with(OpenAIProvider("sk-test", base_url=fake_openai.base_url)))
    assert result.state["r"]["content"] == "third time"
    attempts = result.steps("r")[0].attempts
    assert [a.error.name if a.error else None for a in attempts] == ["AIProviderError", "AIProviderError", None]
    assert [b.started_at - a.started_at for a, b in itertools.pairwise(attempts)] == [15_000, 30_000]


def test_a_bad_request_fails_at_once(fake_openai: FakeOpenAI) -> None:
    fake_openai.script.append((400, {}, {"error": {"message": "model not found"}}))
    result = one(kit_with(OpenAIProvider("sk-test", base_url=fake_openai.base_url)))
    assert result.status == "failed"
    assert result.error is not None and "400" in result.error["message"]
    assert len(fake_openai.requests) == 1


def test_exhausted_retries_fail_the_run(fake_openai: FakeOpenAI) -> None:
    fake_openai.script += [(500, {}, {"error": {"message": "down"}})] * 3
    kit = kit_with(OpenAIProvider("sk-test", base_url=fake_openai.base_url), RetryPolicy.fast(retries=2))
    result = one(kit)
    assert result.status == "failed"
    assert len(fake_openai.requests) == 3


def test_an_unreachable_provider_is_retried_then_fails() -> None:
    kit = kit_with(OpenAIProvider("sk-test", base_url="http://127.0.0.1:9/v1", timeout=2), RetryPolicy.fast(retries=1))
    result = one(kit)
    assert result.status == "failed"
    assert [a.error.name for a in result.steps("r")[0].attempts if a.error] == ["AIProviderError", "AIProviderError"]


def test_the_local_provider_is_deterministic_and_labelled() -> None:
    kit = kit_with(LocalProvider())
    first, second = one(kit), one(kit)
    assert first.state["r"]["content"] == second.state["r"]["content"]
    assert LOCAL_LABEL in first.state["r"]["content"]
    assert first.state["r"]["provider"] == "local"


def test_infer_needs_messages() -> None:
    kit = WorkflowKit(ai=LocalProvider())

    @kit.action(kind="bad")
    async def bad(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return await ctx.step.ai.infer("x", messages=[])

    result = run_workflow(kit, workflow([action("b", "bad")], [edge("$source", "b")]), EVENT)
    assert result.error is not None and "messages" in result.error["message"]


def test_the_provider_comes_from_the_environment() -> None:
    local = provider_from_environment({})
    assert isinstance(local, LocalProvider)
    chosen = provider_from_environment(
        {"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "WORKFLOW_KIT_AI_MODEL": "m-1"}
    )
    assert isinstance(chosen, OpenAIProvider)
    assert chosen.model == "m-1" and chosen.base_url == "http://127.0.0.1:1/v1"


def test_retry_after_parsing() -> None:
    from datetime import UTC, datetime, timedelta

    assert retry_after({"retry-after": "3"}) == timedelta(seconds=3)
    assert retry_after({"retry-after-ms": "150"}) == timedelta(milliseconds=150)
    assert retry_after({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}) == datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    assert retry_after({}) is None
    assert retry_after({"retry-after": "soon"}) is None


async def test_an_ai_step_is_durable_in_the_runtime(
    fake_openai: FakeOpenAI, database_url: str, clock: VirtualClock
) -> None:
    fake_openai.script += [
        (429, {"retry-after": "30"}, {"error": {"message": "later"}}),
        (200, {}, completion("stored")),
    ]
    kit = WorkflowKit(
        database_url=database_url,
        clock=clock,
        ai=OpenAIProvider("sk-test", base_url=fake_openai.base_url),
        retry_policy=RetryPolicy(jitter_ms=0),
    )

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        answer = await ctx.step.ai.infer("ask", messages=MESSAGES)
        await ctx.step.sleep("after", "1h")
        return str(answer["content"])

    kit.workflows.create_sync(
        "acme", name="Ask", trigger="post/review", workflow=workflow([action("a", "ask")], [edge("$source", "a")])
    )
    try:
        async with kit.worker(poll_ms=20) as worker:
            await kit.send("acme", EVENT)
            await worker.idle()
            [run] = await kit.runs.list("acme")
            assert run.status == RunStatus.SLEEPING  # backing off until the provider's 30 s
            clock.advance_to(clock.now_ms() + 30_000)
            await worker.idle()
            clock.advance_to(clock.now_ms() + 3_600_000)
            await worker.idle()
            done = await kit.runs.get("acme", run.id)
        assert done.status == RunStatus.COMPLETED
        assert done.output == {"a": "stored"}
        assert len(fake_openai.requests) == 2  # the recorded answer was replayed, not asked again
    finally:
        kit.close()


def test_the_kit_takes_its_provider_from_the_environment_and_a_call_may_name_its_model(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("WORKFLOW_KIT_AI_MODEL", "model-from-env")
    kit = WorkflowKit()
    assert isinstance(kit.ai, OpenAIProvider)

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        default = await ctx.step.ai.infer("default-model", messages=MESSAGES)
        named = await ctx.step.ai.infer("named-model", model="model-named", messages=MESSAGES)
        return {"default": default["content"], "named": named["model"]}

    result = run_workflow(kit, workflow([action("a", "ask")], [edge("$source", "a")]), EVENT)
    assert result.status == "completed", result.error
    assert [r["body"]["model"] for r in fake_openai.requests] == ["model-from-env", "model-named"]
    assert {r["auth"] for r in fake_openai.requests} == {"Bearer sk-from-env"}
    assert result.state["a"] == {"default": "echo: Teh text.", "named": "model-named"}


def test_a_rate_limit_without_retry_after_is_retried_with_the_step_backoff(fake_openai: FakeOpenAI) -> None:
    fake_openai.script += [(429, {}, {"error": {"message": "slow down"}})] * 2
    result = one(kit_with(OpenAIProvider("sk-test", base_url=fake_openai.base_url)))
    assert result.state["r"]["content"] == "echo: Teh text."
    attempts = result.steps("r")[0].attempts
    assert [a.error is not None for a in attempts] == [True, True, False]
    assert "429" in attempts[0].error.message  # type: ignore[union-attr]
    assert [b.started_at - a.started_at for a, b in itertools.pairwise(attempts)] == [15_000, 30_000]
