"""The demo's blog CMS: its actions, seed data and workflows, through the real runtime on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from seeds.app import DEMO_TENANT, seed
from seeds.blog import POSTS, BlogLocalAI, BlogStore, publish_workflow, register, review_workflow
from workflow_kit import WorkflowKit
from workflow_kit.ai import LOCAL_LABEL
from workflow_kit.runtime.models import RunStatus
from workflow_kit.runtime.worker.loop import Worker
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
