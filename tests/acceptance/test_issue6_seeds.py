"""Issue 6, "seeds/": the blog action pack, the seed data and `workflow-kit seed`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workflow_kit import RetryPolicy, WorkflowKit
from workflow_kit.testing import run_workflow

from .issue3_support import fresh_database

ROOT = Path(__file__).resolve().parents[2]
NAMES = {
    "Add a Table of Contents",
    "Perform a grammar review",
    "Apply changes after approval",
    "Apply changes",
    "Generate LinkedIn posts",
    "Generate Twitter posts",
}
REVIEW = "When a blog post is moved to review"
PUBLISHED = "When a blog post is published"


def cli_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHONPATH"] = str(ROOT)
    env["WORKFLOW_KIT_DATABASE_URL"] = database_url
    return env


def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from workflow_kit.cli import main; raise SystemExit(main())", *args],
        cwd=ROOT,
        env=cli_env(database_url),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def blog_kit(tmp_path: Path) -> tuple[WorkflowKit, Any]:
    from seeds import blog

    kit = WorkflowKit(database_url=f"sqlite:///{tmp_path / 'blog.db'}", ai=blog.BlogLocalAI())
    return kit, blog.register(kit)


def test_the_action_pack_has_the_six_actions_with_typed_schemas(tmp_path: Path) -> None:
    kit, _ = blog_kit(tmp_path)
    actions = {a["name"]: a for a in kit.public_actions() if not a["kind"].startswith("builtin:")}
    assert set(actions) == NAMES
    for name, action in actions.items():
        inputs, outputs = action["inputs"], action["outputs"]
        assert inputs.get("type") == "object" and inputs.get("properties"), name
        assert "post_id" in inputs["properties"], name
        assert inputs["properties"]["post_id"].get("type") == "integer", name
        assert outputs.get("type") == "object" and outputs.get("properties"), name
    approval = actions["Apply changes after approval"]
    assert "timeout" in approval["inputs"]["properties"]


def test_typed_inputs_are_validated(tmp_path: Path) -> None:
    kit, _ = blog_kit(tmp_path)
    kind = next(a["kind"] for a in kit.public_actions() if a["name"] == "Add a Table of Contents")
    problems = kit.validate(
        {
            "actions": [{"id": "toc", "kind": kind, "inputs": {"post_id": "not a number"}}],
            "edges": [{"from": "$source", "to": "toc"}],
        }
    )
    assert problems, "a string post_id must be refused for an integer input"
    assert any("post_id" in str(p.path) for p in problems), problems


def kind_of(kit: WorkflowKit, name: str) -> str:
    return str(next(a["kind"] for a in kit.public_actions() if a["name"] == name))


@pytest.mark.parametrize("name", sorted(NAMES - {"Apply changes after approval", "Apply changes"}))
def test_ai_actions_use_durable_sub_steps(tmp_path: Path, name: str) -> None:
    kit, store = blog_kit(tmp_path)
    from seeds import blog

    store.insert_missing("t1", blog.SEED_POSTS)
    workflow = {
        "actions": [{"id": "x", "kind": kind_of(kit, name), "inputs": {"post_id": 1}}],
        "edges": [{"from": "$source", "to": "x"}],
    }
    result = run_workflow(kit, workflow, tenant="t1", retry_policy=RetryPolicy.fast())
    assert result.status == "completed", result.error
    steps = result.steps("x")
    assert len(steps) >= 2, [s.key for s in steps]
    assert any(s.kind.startswith("ai") for s in steps), [(s.key, s.kind) for s in steps]
    assert all(s.status == "completed" for s in steps)


def test_approval_waits_then_applies_and_times_out(tmp_path: Path) -> None:
    kit, store = blog_kit(tmp_path)
    from seeds import blog

    store.insert_missing("t1", blog.SEED_POSTS)
    toc, grammar, approval = (
        kind_of(kit, n) for n in ("Add a Table of Contents", "Perform a grammar review", "Apply changes after approval")
    )
    workflow = {
        "actions": [
            {"id": "toc", "kind": toc, "inputs": {"post_id": "!ref($.event.data.id)"}},
            {"id": "grammar", "kind": grammar, "inputs": {"post_id": "!ref($.event.data.id)"}},
            {"id": "ok", "kind": approval, "inputs": {"post_id": "!ref($.event.data.id)", "timeout": "1h"}},
        ],
        "edges": [{"from": "$source", "to": "toc"}, {"from": "toc", "to": "grammar"}, {"from": "grammar", "to": "ok"}],
    }
    before = store.get("t1", 1).markdown
    trigger = {"name": "blog-post.updated", "data": {"id": 1, "status": "under review"}}
    approved = run_workflow(
        kit, workflow, trigger, tenant="t1", events=[{"name": "blog-post.approve-ai-suggestions", "data": {"id": 1}}]
    )
    assert approved.status == "completed", approved.error
    assert any(s.kind == "wait_for_event" or "wait" in s.kind for s in approved.steps("ok"))
    after = store.get("t1", 1)
    assert after.markdown != before
    assert "Teh" not in after.markdown and "recieve" not in after.markdown
    assert after.markdown_ai_revision is None

    timed_out = run_workflow(kit, workflow, {"name": "blog-post.updated", "data": {"id": 2}}, tenant="t1")
    assert timed_out.status == "completed", timed_out.error
    assert store.get("t1", 2).markdown == blog.SEED_POSTS[1]["markdown"]  # not applied without approval
    assert timed_out.state["ok"]["approved"] is False


def test_approval_matches_the_post_of_its_inputs(tmp_path: Path) -> None:
    """The action's input names the post; an approval for that post should be taken whatever the trigger."""
    kit, store = blog_kit(tmp_path)
    from seeds import blog

    store.insert_missing("t1", blog.SEED_POSTS)
    workflow = {
        "actions": [{"id": "ok", "kind": kind_of(kit, "Apply changes after approval"), "inputs": {"post_id": 3}}],
        "edges": [{"from": "$source", "to": "ok"}],
    }
    result = run_workflow(
        kit,
        workflow,
        {"name": "app/other", "data": {}},
        tenant="t1",
        events=[{"name": "blog-post.approve-ai-suggestions", "data": {"id": 3}}],
    )
    assert result.status == "completed", result.error
    assert result.state["ok"]["approved"] is True


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of its own (the shared test PostgreSQL must not keep the demo's table)."""
    yield from fresh_database(request.param, tmp_path)


def test_seed_cli_is_idempotent(url: str) -> None:
    for _ in range(2):
        done = cli("seed", "--app", "seeds.app:kit", database_url=url)
        assert done.returncode == 0, done.stderr
    kit = WorkflowKit(database_url=url)
    try:
        from seeds import blog

        records = kit.workflows.list_sync("demo", limit=100)
        by_name = {r.name: r for r in records}
        assert len(records) == 2, [r.name for r in records]
        assert set(by_name) == {REVIEW, PUBLISHED}
        assert by_name[REVIEW].trigger.event == "blog-post.updated"
        assert by_name[PUBLISHED].trigger.event == "blog-post.published"
        assert all(r.enabled and r.published_version == 1 for r in records)
        posts = blog.BlogStore(kit).all("demo")
        assert len(posts) == 3
        assert len({p.title for p in posts}) == 3
    finally:
        kit.close()


def test_seeded_workflows_run_end_to_end(tmp_path: Path) -> None:
    import asyncio

    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    done = cli("seed", "--app", "seeds.app:kit", database_url=url)
    assert done.returncode == 0, done.stderr
    from seeds import blog

    kit = WorkflowKit(database_url=url, ai=blog.BlogLocalAI())
    store = blog.register(kit)

    async def scenario() -> None:
        async with kit.worker():
            [updated] = await kit.send(
                "demo", {"name": "blog-post.updated", "data": {"id": 1, "status": "under review"}}
            )
            [run] = await kit.runs.list("demo", event_id=updated)
            deadline = time.monotonic() + 20
            while (run := await kit.runs.get("demo", run.id)).status.value != "waiting":
                assert time.monotonic() < deadline, run.status
                assert not run.status.terminal, run
                await asyncio.sleep(0.1)
            assert store.get("demo", 1).markdown_ai_revision
            await kit.send("demo", {"name": "blog-post.approve-ai-suggestions", "data": {"id": 1}})
            run = await kit.runs.wait("demo", run.id, timeout=20)
            assert run.status.value == "completed", run
            [published] = await kit.send("demo", {"name": "blog-post.published", "data": {"id": 1}})
            [prun] = await kit.runs.list("demo", event_id=published)
            prun = await kit.runs.wait("demo", prun.id, timeout=20)
            assert prun.status.value == "completed", prun

    before = store.get("demo", 1).markdown
    asyncio.run(scenario())
    after = store.get("demo", 1)
    assert after.markdown != before and "Contents" in after.markdown
    recs = after.ai_publishing_recommendations or {}
    assert recs.get("linkedin") and recs.get("twitter"), recs
