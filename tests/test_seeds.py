"""The demo's blog CMS: its actions, seed data and workflows, through the real runtime on both databases; and
the demo page's API, served as `make demo` serves it, with an OpenAI-compatible server standing in for OpenAI."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_openai import FakeOpenAI, completion, fake_openai_server

from seeds.app import DEMO_TENANT, seed
from seeds.blog import POSTS, SEED_POSTS, BlogLocalAI, BlogStore, publish_workflow, register, review_workflow
from workflow_kit import RetryPolicy, WorkflowKit
from workflow_kit.ai import LOCAL_LABEL
from workflow_kit.runtime.models import RunStatus
from workflow_kit.runtime.worker.loop import Worker
from workflow_kit.testing import run_workflow
from workflow_kit.timeutil import VirtualClock

ROOT = Path(__file__).parent.parent


@pytest.fixture
def blog_kit(database_url: str, clock: VirtualClock) -> Iterator[tuple[WorkflowKit, BlogStore]]:
    kit = WorkflowKit(database_url=database_url, clock=clock, ai=BlogLocalAI())
    store = register(kit)
    yield kit, store
    POSTS.drop(kit.db.engine, checkfirst=True)  # the shared test PostgreSQL keeps no demo table
    kit.close()


def test_the_seed_workflows_are_valid() -> None:
    kit = WorkflowKit(ai=BlogLocalAI())
    register(kit)
    assert kit.validate(review_workflow()) == []
    assert kit.validate(publish_workflow()) == []


def test_the_blog_events_are_declared_with_examples_of_seeded_posts() -> None:
    kit = WorkflowKit(ai=BlogLocalAI())
    register(kit)
    declared = {entry["name"]: entry for entry in kit.public_event_types()}
    assert set(declared) == {"blog-post.updated", "blog-post.published", "blog-post.approve-ai-suggestions"}
    seeded = {post["id"] for post in SEED_POSTS}
    for entry in declared.values():
        assert entry["examples"] and entry["description"]
        assert {example["id"] for example in entry["examples"]} <= seeded
    # the review workflow's trigger filter holds for the first example of its event
    assert declared["blog-post.updated"]["examples"][0]["status"] == "under review"
    # the blog's actions write to posts: they have side effects
    assert all(entry["side_effects"] for entry in kit.public_actions() if not entry["kind"].startswith("builtin:"))


def test_seeding_is_idempotent(blog_kit: tuple[WorkflowKit, BlogStore]) -> None:
    kit, store = blog_kit
    assert seed(kit) == {"posts": 3, "workflows": 2}
    assert seed(kit) == {"posts": 0, "workflows": 0}
    assert [p.id for p in store.all(DEMO_TENANT)] == [1, 2, 3]
    records = kit.workflows.list_sync(DEMO_TENANT)
    assert sorted(r.name for r in records) == ["When a blog post is moved to review", "When a blog post is published"]
    assert all(r.enabled and r.published_version == 1 for r in records)


def test_seeds_racing_keep_one_workflow_of_each_name(blog_kit: tuple[WorkflowKit, BlogStore]) -> None:
    kit, _ = blog_kit
    seed(kit)
    review, published = sorted(kit.workflows.list_sync(DEMO_TENANT), key=lambda r: r.name)
    # What another seed running at the same moment leaves: a second review workflow, and no publish one.
    twin = kit.workflows.create_sync(DEMO_TENANT, name=review.name, trigger="blog-post.updated", workflow=review.draft)
    kit.workflows.delete_sync(DEMO_TENANT, published.id)
    assert seed(kit)["workflows"] == 1
    names = sorted((r.name, r.id) for r in kit.workflows.list_sync(DEMO_TENANT))
    assert [name for name, _ in names] == [review.name, published.name]
    assert review.id in {workflow_id for _, workflow_id in names} and twin.id not in {i for _, i in names}


async def run_until(kit: WorkflowKit, worker: Worker, status: RunStatus, event_id: str) -> str:
    await worker.idle()
    [run] = await kit.runs.list(DEMO_TENANT, event_id=event_id)
    assert run.status == status, (run.status, run.error)
    return run.id


async def test_moving_a_post_to_review_waits_for_approval_then_applies(
    blog_kit: tuple[WorkflowKit, BlogStore], clock: VirtualClock
) -> None:
    kit, store = blog_kit
    seed(kit)
    async with kit.worker(poll_ms=20) as worker:
        store.update(DEMO_TENANT, 1, status="under review")
        [event_id] = await kit.send(
            DEMO_TENANT, {"name": "blog-post.updated", "data": {"id": 1, "status": "under review"}}
        )
        run_id = await run_until(kit, worker, RunStatus.WAITING, event_id)
        pending = store.get(DEMO_TENANT, 1)
        assert pending.markdown_ai_revision is not None
        assert pending.markdown_ai_revision.splitlines()[1] == "## Contents"  # the table of contents...
        assert "The steps receive" in pending.markdown_ai_revision  # ...and the grammar fixes
        assert "Teh steps" in pending.markdown  # not applied before the approval

        # Another post's approval does not count.
        await kit.send(DEMO_TENANT, {"name": "blog-post.approve-ai-suggestions", "data": {"id": 2}})
        await worker.idle()
        assert (await kit.runs.get(DEMO_TENANT, run_id)).status == RunStatus.WAITING

        await kit.send(DEMO_TENANT, {"name": "blog-post.approve-ai-suggestions", "data": {"id": 1}})
        await worker.idle()
        run = await kit.runs.get(DEMO_TENANT, run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.output["approval"] == {"post_id": 1, "approved": True, "applied": True}
    applied = store.get(DEMO_TENANT, 1)
    assert applied.markdown.startswith(f"<!-- {LOCAL_LABEL} -->\n## Contents\n- Why durable?")
    assert applied.markdown_ai_revision is None
    steps = {a.id: [s.key for s in a.steps] for a in run.actions}
    assert steps == {
        "toc": ["load-blog-post", "add-toc-to-article", "save-ai-revision"],
        "grammar": ["load-blog-post", "get-ai-grammar-fixes", "save-ai-revision"],
        "approval": ["wait-for-ai-suggestion-approval", "apply-changes"],
    }


async def test_without_approval_the_suggestions_are_discarded_after_a_day(
    blog_kit: tuple[WorkflowKit, BlogStore], clock: VirtualClock
) -> None:
    kit, store = blog_kit
    seed(kit)
    async with kit.worker(poll_ms=20) as worker:
        [event_id] = await kit.send(
            DEMO_TENANT, {"name": "blog-post.updated", "data": {"id": 3, "status": "under review"}}
        )
        run_id = await run_until(kit, worker, RunStatus.WAITING, event_id)
        clock.advance_to(clock.now_ms() + 86_400_000)
        await worker.idle()
        run = await kit.runs.get(DEMO_TENANT, run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.output["approval"] == {"post_id": 3, "approved": False, "applied": False}
    post = store.get(DEMO_TENANT, 3)
    assert post.markdown_ai_revision is None and "definately" in post.markdown


async def test_a_draft_status_change_does_not_start_the_review(blog_kit: tuple[WorkflowKit, BlogStore]) -> None:
    kit, _ = blog_kit
    seed(kit)
    async with kit.worker(poll_ms=20) as worker:
        await kit.send(DEMO_TENANT, {"name": "blog-post.updated", "data": {"id": 1, "status": "draft"}})
        await worker.idle()
    assert await kit.runs.list(DEMO_TENANT) == []


async def test_publishing_writes_social_posts_in_parallel(blog_kit: tuple[WorkflowKit, BlogStore]) -> None:
    kit, store = blog_kit
    seed(kit)
    async with kit.worker(poll_ms=20) as worker:
        [event_id] = await kit.send(DEMO_TENANT, {"name": "blog-post.published", "data": {"id": 2}})
        run_id = await run_until(kit, worker, RunStatus.COMPLETED, event_id)
    run = await kit.runs.get(DEMO_TENANT, run_id)
    assert len(run.output["linkedin"]["posts"]) == 2
    assert len(run.output["twitter"]["posts"]) == 3
    recommendations = store.get(DEMO_TENANT, 2).ai_publishing_recommendations
    assert recommendations is not None and set(recommendations) == {"linkedin", "twitter"}
    assert all(LOCAL_LABEL in line for line in recommendations["twitter"])


def test_workflow_kit_seed_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI")}
    env["WORKFLOW_KIT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'seed.db'}"
    command = [sys.executable, "-m", "workflow_kit.cli", "seed", "--app", "seeds.app:kit"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert "seeded: {'posts': 3, 'workflows': 2}" in first.stdout
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert "seeded: {'posts': 0, 'workflows': 0}" in again.stdout


# -- the action pack ---------------------------------------------------------------------------------

PACK = {
    "Add a Table of Contents",
    "Perform a grammar review",
    "Apply changes after approval",
    "Apply changes",
    "Generate LinkedIn posts",
    "Generate Twitter posts",
}


def kind_named(kit: WorkflowKit, name: str) -> str:
    return str(next(a["kind"] for a in kit.public_actions() if a["name"] == name))


def test_the_action_pack_has_six_actions_with_typed_schemas(blog_kit: tuple[WorkflowKit, BlogStore]) -> None:
    kit, _ = blog_kit
    actions = {a["name"]: a for a in kit.public_actions() if not a["kind"].startswith("builtin:")}
    assert set(actions) == PACK
    for name, entry in actions.items():
        assert entry["inputs"]["properties"]["post_id"]["type"] == "integer", name
        assert entry["outputs"]["type"] == "object" and entry["outputs"]["properties"], name
    assert "timeout" in actions["Apply changes after approval"]["inputs"]["properties"]
    wrong = {
        "actions": [{"id": "toc", "kind": kind_named(kit, "Add a Table of Contents"), "inputs": {"post_id": "one"}}],
        "edges": [{"from": "$source", "to": "toc"}],
    }
    assert [(p.code, p.path) for p in kit.validate(wrong)] == [("invalid_input", "actions[0].inputs.post_id")]


@pytest.mark.parametrize(
    "name", ["Add a Table of Contents", "Perform a grammar review", "Generate LinkedIn posts", "Generate Twitter posts"]
)
def test_the_ai_actions_work_in_durable_sub_steps(blog_kit: tuple[WorkflowKit, BlogStore], name: str) -> None:
    kit, store = blog_kit
    store.insert_missing("t1", SEED_POSTS)
    workflow = {
        "actions": [{"id": "x", "kind": kind_named(kit, name), "inputs": {"post_id": 1}}],
        "edges": [{"from": "$source", "to": "x"}],
    }
    result = run_workflow(kit, workflow, tenant="t1", retry_policy=RetryPolicy.fast())
    assert result.status == "completed", result.error
    steps = result.steps("x")
    assert len(steps) >= 2 and all(s.status == "completed" for s in steps), [(s.key, s.status) for s in steps]
    assert [s.kind for s in steps if s.kind.startswith("ai")] != [], [(s.key, s.kind) for s in steps]


def test_the_approval_waits_for_the_post_its_inputs_name(blog_kit: tuple[WorkflowKit, BlogStore]) -> None:
    """Whatever started the run: the approval is the one for the post in the action's inputs."""
    kit, store = blog_kit
    store.insert_missing("t1", SEED_POSTS)
    approval = kind_named(kit, "Apply changes after approval")
    workflow = {
        "actions": [{"id": "ok", "kind": approval, "inputs": {"post_id": 3, "timeout": "1h"}}],
        "edges": [{"from": "$source", "to": "ok"}],
    }
    other = [{"name": "blog-post.approve-ai-suggestions", "data": {"id": 2}}]
    this = [{"name": "blog-post.approve-ai-suggestions", "data": {"id": 3}}]
    assert (
        run_workflow(kit, workflow, {"name": "app/other", "data": {}}, tenant="t1", events=other).state["ok"][
            "approved"
        ]
        is False
    )
    assert (
        run_workflow(kit, workflow, {"name": "app/other", "data": {}}, tenant="t1", events=this).state["ok"]["approved"]
        is True
    )


def test_the_blog_actions_go_through_the_configured_provider(database_url: str, clock: VirtualClock) -> None:
    from workflow_kit.ai import OpenAIProvider

    with fake_openai_server() as ai:
        ai.script += [
            (200, {}, completion("## Contents\n- A\n\n# A\nrevised")),
            (200, {}, completion("tweet one\ntweet two")),
        ]
        kit = WorkflowKit(database_url=database_url, clock=clock, ai=OpenAIProvider("sk-test", base_url=ai.base_url))
        store = register(kit)
        try:
            store.insert_missing("t1", SEED_POSTS)
            toc = {
                "actions": [{"id": "toc", "kind": "add_toc", "inputs": {"post_id": "!ref($.event.data.id)"}}],
                "edges": [{"from": "$source", "to": "toc"}],
            }
            done = run_workflow(kit, toc, {"name": "blog-post.updated", "data": {"id": 1}}, tenant="t1")
            assert done.status == "completed", done.error
            assert done.state["toc"]["markdown"].startswith("## Contents") and done.state["toc"]["ai"] != "local"
            tweets = {
                "actions": [{"id": "tw", "kind": "generate_tweet_posts", "inputs": {"post_id": 1}}],
                "edges": [{"from": "$source", "to": "tw"}],
            }
            done = run_workflow(kit, tweets, tenant="t1")
            assert done.status == "completed", done.error
            assert done.state["tw"]["posts"] == ["tweet one", "tweet two"]
            assert len(ai.requests) == 2
            revision = store.get("t1", 1).markdown_ai_revision
            assert revision is not None and revision.startswith("## Contents")
        finally:
            POSTS.drop(kit.db.engine, checkfirst=True)
            kit.close()


# -- the demo page's API, served as `make demo` serves it, with an OpenAI-compatible server ------------


@dataclass
class Demo:
    base: str
    output: Path
    ai: FakeOpenAI
    token: str

    def call(self, method: str, path: str, token: str | None = None) -> httpx.Response:
        token = self.token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.request(method, self.base + path, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("demo")
    with fake_openai_server() as ai:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WORKFLOW_KIT_"))}
        env.update(
            WORKFLOW_KIT_DATABASE_URL=f"sqlite:///{folder / 'demo.db'}",
            OPENAI_API_KEY="sk-demo-test",
            OPENAI_BASE_URL=ai.base_url,
            WORKFLOW_KIT_AI_MODEL="demo-model-x",
        )
        cli = [sys.executable, "-m", "workflow_kit.cli"]
        subprocess.run([*cli, "seed", "--app", "seeds.app:kit"], cwd=ROOT, env=env, check=True, timeout=120)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        output = folder / "serve.log"
        with output.open("wb") as log:
            command = [*cli, "serve", "--app", "seeds.app:kit", "--demo", "--host", "127.0.0.1", "--port", str(port)]
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, output.read_text()
                assert time.monotonic() < deadline, output.read_text()
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                time.sleep(0.1)
            token = httpx.post(f"{base}/api/demo/token", timeout=10).json()["token"]
            yield Demo(base, output, ai, token)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def run_reaching(demo: Demo, event_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        runs = demo.call("GET", f"/api/runs?event_id={event_id}").json()["items"]
        if runs and runs[0]["status"] == status:
            return dict(runs[0])
        assert not runs or runs[0]["status"] not in {"completed", "failed", "cancelled"} - {status}, runs
        assert time.monotonic() < deadline, runs
        time.sleep(0.1)


def test_with_a_key_the_demo_names_its_provider_and_model(demo: Demo) -> None:
    assert "no OPENAI_API_KEY" not in demo.output.read_text()
    info = demo.call("GET", "/api/demo/info").json()
    assert (info["ai_provider"], info["ai_model"], info["tenant"]) == ("openai", "demo-model-x", "demo")


def test_the_demo_page_s_buttons_send_the_real_events_and_its_ai_calls_go_to_the_server(demo: Demo) -> None:
    reviewed = demo.call("POST", "/api/demo/posts/2/review")
    assert reviewed.status_code == 202, reviewed.text
    event = demo.call("GET", f"/api/events/{reviewed.json()['event_id']}").json()["event"]
    assert (event["name"], event["data"]) == ("blog-post.updated", {"id": 2, "status": "under review"})
    run = run_reaching(demo, reviewed.json()["event_id"], "waiting")
    calls = [r for r in demo.ai.requests if r["path"].endswith("/chat/completions")]
    assert len(calls) == 2 and {c["body"]["model"] for c in calls} == {"demo-model-x"}, calls
    assert {c["auth"] for c in calls} == {"Bearer sk-demo-test"}

    approved = demo.call("POST", "/api/demo/posts/2/approve")
    assert approved.status_code == 202, approved.text
    event = demo.call("GET", f"/api/events/{approved.json()['event_id']}").json()["event"]
    assert (event["name"], event["data"]) == ("blog-post.approve-ai-suggestions", {"id": 2})
    run_reaching(demo, reviewed.json()["event_id"], "completed")
    [post] = [p for p in demo.call("GET", "/api/demo/posts").json() if p["id"] == 2]
    assert post["markdown"].startswith("echo:")  # the server's answer, applied
    assert demo.call("GET", f"/api/runs/{run['id']}").json()["status"] == "completed"

    published = demo.call("POST", "/api/demo/posts/3/publish")
    assert published.status_code == 202, published.text
    event = demo.call("GET", f"/api/events/{published.json()['event_id']}").json()["event"]
    assert (event["name"], event["data"]) == ("blog-post.published", {"id": 3, "status": "published"})


@pytest.mark.parametrize("button", ["review", "publish", "approve"])
def test_the_demo_api_says_404_for_a_post_that_is_not_there(demo: Demo, button: str) -> None:
    response = demo.call("POST", f"/api/demo/posts/999/{button}")
    assert response.status_code == 404 and response.json()["code"] == "not_found", response.text


def test_the_demo_api_needs_a_token(demo: Demo) -> None:
    assert demo.call("GET", "/api/demo/posts", token="").status_code == 401
    assert demo.call("POST", "/api/demo/posts/1/review", token="not-a-token").status_code == 401
    assert demo.call("GET", "/api/demo/posts").status_code == 200  # the control
