"""Issue 6, "AI actions": ctx.step.ai.infer through the openai client against a local OpenAI-compatible server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from workflow_kit import ActionContext, ActionContextSync, RetryPolicy, WorkflowKit
from workflow_kit.testing import run_workflow

from .fake_openai import FakeOpenAI, Reply, fake_openai

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]


def one_action(kind: str) -> dict[str, Any]:
    return {"actions": [{"id": "a", "kind": kind}], "edges": [{"from": "$source", "to": "a"}]}


@pytest.fixture
def server() -> Any:
    with fake_openai() as state:
        yield state


@pytest.fixture
def env(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-acceptance")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("WORKFLOW_KIT_AI_MODEL", "model-from-env")
    return server


def kit_with(tmp_path: Path, **kwargs: Any) -> WorkflowKit:
    return WorkflowKit(database_url=f"sqlite:///{tmp_path / 'kit.db'}", **kwargs)


def test_configuration_from_environment(env: FakeOpenAI, tmp_path: Path) -> None:
    kit = kit_with(tmp_path)
    assert kit.ai.name != "local"

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        default = await ctx.step.ai.infer("default-model", messages=MESSAGES)
        named = await ctx.step.ai.infer("named-model", model="model-named", messages=MESSAGES)
        return {"default": default, "named": named}

    result = run_workflow(kit, one_action("ask"), retry_policy=RetryPolicy.fast())
    assert result.status == "completed", result.error
    calls = env.chat_calls()
    assert [c["body"]["model"] for c in calls] == ["model-from-env", "model-named"]
    assert all(c["auth"] == "Bearer sk-acceptance" for c in calls)
    assert calls[0]["body"]["messages"] == MESSAGES
    out = result.state["a"]
    assert out["default"]["content"] == "echo: Hello there"
    assert out["named"]["model"] == "model-named"
    steps = {s.key: s for s in result.steps("a")}
    assert steps["default-model"].status == "completed"
    assert steps["default-model"].kind.startswith("ai")


def test_sync_handler_infer(env: FakeOpenAI, tmp_path: Path) -> None:
    kit = kit_with(tmp_path)

    @kit.action(kind="ask_sync")
    def ask_sync(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        return str(ctx.step.ai.infer("q", model="m-sync", messages=MESSAGES)["content"])

    result = run_workflow(kit, one_action("ask_sync"), retry_policy=RetryPolicy.fast())
    assert result.status == "completed", result.error
    assert result.state["a"] == "echo: Hello there"
    assert [c["body"]["model"] for c in env.chat_calls()] == ["m-sync"]


def test_infer_is_memoized_when_the_handler_retries(env: FakeOpenAI, tmp_path: Path) -> None:
    kit = kit_with(tmp_path)
    failures = {"n": 0}

    @kit.action(kind="ask_then_fail")
    async def ask_then_fail(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        answer = await ctx.step.ai.infer("ask", model="m", messages=MESSAGES)

        def flaky() -> str:
            failures["n"] += 1
            if failures["n"] < 3:
                raise RuntimeError("not yet")
            return "ok"

        await ctx.step.run("flaky", flaky)
        return str(answer["content"])

    result = run_workflow(kit, one_action("ask_then_fail"), retry_policy=RetryPolicy.fast())
    assert result.status == "completed", result.error
    assert failures["n"] == 3
    assert len(env.chat_calls()) == 1  # recorded once, replayed on every later attempt


def test_429_with_retry_after_reschedules_at_that_time(env: FakeOpenAI, tmp_path: Path) -> None:
    env.script = [Reply(429, {"retry-after": "7"}, "slow down")]
    kit = kit_with(tmp_path)

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return str((await ctx.step.ai.infer("ask", model="m", messages=MESSAGES))["content"])

    result = run_workflow(kit, one_action("ask"))  # default policy: backoff 15 s + jitter unless told otherwise
    assert result.status == "completed", result.error
    assert result.state["a"] == "echo: Hello there"
    assert len(env.chat_calls()) == 2
    [step] = result.steps("a")
    assert len(step.attempts) == 2
    first, second = step.attempts
    assert first.error is not None and first.error.name == "RetryAfterError", first.error
    assert "429" in first.error.message
    gap = second.started_at - first.ended_at
    assert 6_900 <= gap < 15_000, gap  # at the provider's time, not the default backoff


def test_429_with_retry_after_http_date_and_ms(env: FakeOpenAI, tmp_path: Path) -> None:
    env.script = [Reply(429, {"retry-after-ms": "2500"})]
    kit = kit_with(tmp_path)

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return str((await ctx.step.ai.infer("ask", model="m", messages=MESSAGES))["content"])

    result = run_workflow(kit, one_action("ask"))
    assert result.status == "completed", result.error
    first, second = result.steps("a")[0].attempts
    assert 2_400 <= second.started_at - first.ended_at < 15_000


def test_429_without_retry_after_is_retried(env: FakeOpenAI, tmp_path: Path) -> None:
    env.script = [Reply(429), Reply(429)]
    kit = kit_with(tmp_path)

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return str((await ctx.step.ai.infer("ask", model="m", messages=MESSAGES))["content"])

    result = run_workflow(kit, one_action("ask"), retry_policy=RetryPolicy.fast())
    assert result.status == "completed", result.error
    assert len(env.chat_calls()) == 3


def test_500_is_retried(env: FakeOpenAI, tmp_path: Path) -> None:
    env.script = [Reply(500, {}, "boom"), Reply(503)]
    kit = kit_with(tmp_path)

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return str((await ctx.step.ai.infer("ask", model="m", messages=MESSAGES))["content"])

    result = run_workflow(kit, one_action("ask"), retry_policy=RetryPolicy.fast())
    assert result.status == "completed", result.error
    assert len(env.chat_calls()) == 3
    [step] = result.steps("a")
    assert [a.error is not None for a in step.attempts] == [True, True, False]
    assert "500" in step.attempts[0].error.message  # type: ignore[union-attr]


def test_500_forever_gives_up_with_a_step_error(env: FakeOpenAI, tmp_path: Path) -> None:
    env.script = [Reply(500) for _ in range(10)]
    kit = kit_with(tmp_path)

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return str((await ctx.step.ai.infer("ask", model="m", messages=MESSAGES))["content"])

    result = run_workflow(kit, one_action("ask"), retry_policy=RetryPolicy.fast(retries=2))
    assert result.status == "failed"
    assert len(env.chat_calls()) == 3
    assert result.error is not None


def test_400_is_not_retried(env: FakeOpenAI, tmp_path: Path) -> None:
    env.script = [Reply(400, {}, "bad request")]
    kit = kit_with(tmp_path)

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return str((await ctx.step.ai.infer("ask", model="m", messages=MESSAGES))["content"])

    result = run_workflow(kit, one_action("ask"), retry_policy=RetryPolicy.fast())
    assert result.status == "failed"
    assert len(env.chat_calls()) == 1


async def test_durable_run_429_then_memoized_across_a_sleep(env: FakeOpenAI, tmp_path: Path) -> None:
    env.script = [Reply(429, {"retry-after": "1"}), Reply(200, {}, "the answer")]
    kit = kit_with(tmp_path, retry_policy=RetryPolicy.fast())

    @kit.action(kind="ask_and_sleep")
    async def ask_and_sleep(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        answer = await ctx.step.ai.infer("ask", model="m", messages=MESSAGES)
        await ctx.step.sleep("nap", "1s")  # the handler replays after the sleep: the answer must not be asked again
        return str(answer["content"])

    kit.workflows.create_sync("t1", name="ai", trigger={"event": "app/ask"}, workflow=one_action("ask_and_sleep"))
    started = time.monotonic()
    async with kit.worker():
        [event_id] = await kit.send("t1", {"name": "app/ask", "data": {}})
        [run] = await kit.runs.list("t1", event_id=event_id)
        run = await kit.runs.wait("t1", run.id, timeout=30)
    elapsed = time.monotonic() - started
    assert run.status.value == "completed", run
    assert run.output == {"a": "the answer"}
    assert len(env.chat_calls()) == 2
    assert elapsed >= 1.9  # 1 s retry-after (not the fast policy's 1 ms) + 1 s sleep


def test_without_a_key_the_local_provider_is_labelled_and_deterministic(
    server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    kit = kit_with(tmp_path)
    assert kit.ai.name == "local"

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        return await ctx.step.ai.infer("ask", model="whatever", messages=MESSAGES)

    first = run_workflow(kit, one_action("ask"))
    second = run_workflow(kit, one_action("ask"))
    assert first.status == "completed", first.error
    assert first.state["a"]["content"] == second.state["a"]["content"]
    text = str(first.state["a"]["content"]).lower()
    assert "local" in text and "openai_api_key" in text  # clearly labelled
    assert first.state["a"]["provider"] == "local"
    assert server.requests == []  # offline: no HTTP without a key


def test_infer_rejects_bad_messages(env: FakeOpenAI, tmp_path: Path) -> None:
    kit = kit_with(tmp_path)

    @kit.action(kind="ask")
    async def ask(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return await ctx.step.ai.infer("ask", model="m", messages=[])

    result = run_workflow(kit, one_action("ask"), retry_policy=RetryPolicy.fast())
    assert result.status == "failed"
    assert env.chat_calls() == []


def test_seed_actions_against_the_local_server(env: FakeOpenAI, tmp_path: Path) -> None:
    """The blog AI actions go through the configured provider (real HTTP)."""
    from seeds import blog

    env.script = [Reply(200, {}, "## Contents\n- A\n\n# A\nrevised"), Reply(200, {}, "tweet one\ntweet two")]
    kit = kit_with(tmp_path)
    store = blog.register(kit)
    store.insert_missing("t1", blog.SEED_POSTS)
    toc = run_workflow(
        kit,
        {
            "actions": [{"id": "toc", "kind": "add_toc", "inputs": {"post_id": "!ref($.event.data.id)"}}],
            "edges": [{"from": "$source", "to": "toc"}],
        },
        {"name": "blog-post.updated", "data": {"id": 1}},
        tenant="t1",
    )
    assert toc.status == "completed", toc.error
    assert toc.state["toc"]["markdown"].startswith("## Contents")
    assert toc.state["toc"]["ai"] != "local"
    tweets = run_workflow(
        kit,
        {
            "actions": [{"id": "tw", "kind": "generate_tweet_posts", "inputs": {"post_id": 1}}],
            "edges": [{"from": "$source", "to": "tw"}],
        },
        tenant="t1",
    )
    assert tweets.status == "completed", tweets.error
    assert tweets.state["tw"]["posts"] == ["tweet one", "tweet two"]
    assert len(env.chat_calls()) == 2
    assert store.get("t1", 1).markdown_ai_revision.startswith("## Contents")  # type: ignore[union-attr]
