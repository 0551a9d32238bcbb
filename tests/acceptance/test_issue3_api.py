"""Issue 3, storage and the Python API: workflows, events (size, dedupe), triggers (wildcards, `if`), runs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from workflow_kit import ActionContext, EventError, WorkflowKit, WorkflowValidationError
from workflow_kit.timeutil import VirtualClock

from .issue3_support import chain, fresh_database, make_kit, runs_of, settle, status, wait_status

T = "tenant-a"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(1_767_225_600_000)


@pytest.fixture
def kit(url: str, clock: VirtualClock) -> Iterator[WorkflowKit]:
    k = make_kit(url, clock=clock)

    @k.action(kind="echo", name="Echo")
    async def echo(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"name": ctx.event["name"], "data": ctx.event["data"]}

    yield k
    k.close()


ECHO = chain({"id": "e", "kind": "echo"})


def test_default_database_url_is_a_sqlite_file_in_wal_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORKFLOW_KIT_DATABASE_URL", raising=False)
    kit = WorkflowKit()
    try:
        assert kit.database_url == "sqlite:///workflow-kit.db"
        record = kit.workflows.create_sync(
            T,
            name="w",
            trigger="app/x",
            workflow=chain({"id": "s", "kind": "builtin:sleep", "inputs": {"duration": "1s"}}),
        )
        assert record.id
        assert (tmp_path / "workflow-kit.db").exists()
    finally:
        kit.close()
    with sqlite3.connect(tmp_path / "workflow-kit.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"


def test_new_database_gets_tables_on_first_use_and_records_roundtrip(kit: WorkflowKit) -> None:
    record = kit.workflows.create_sync(
        T,
        name="Review",
        description="d",
        trigger={"event": "blog-post.updated", "if": "event.data.status == 'review'"},
        workflow=ECHO,
    )
    assert record.id
    assert record.tenant == T and record.name == "Review" and record.description == "d"
    assert record.enabled is True
    got = kit.workflows.get_sync(T, record.id)
    assert got.id == record.id
    assert got.trigger.event == "blog-post.updated"
    assert got.trigger.if_ == "event.data.status == 'review'"
    bare = kit.workflows.create_sync(T, name="Bare", trigger="app/bare", workflow=ECHO)
    assert kit.workflows.get_sync(T, bare.id).trigger.event == "app/bare"
    ids = {w.id for w in kit.workflows.list_sync(T)}
    assert ids == {record.id, bare.id}
    assert kit.workflows.list_sync("tenant-b") == []
    with pytest.raises(Exception) as info:
        kit.workflows.get_sync("tenant-b", record.id)
    assert type(info.value).__name__ == "NotFoundError"


async def test_send_starts_matching_enabled_workflows_and_returns_ids(kit: WorkflowKit) -> None:
    w1 = kit.workflows.create_sync(T, name="one", trigger="app/user.signup", workflow=ECHO)
    w2 = kit.workflows.create_sync(T, name="two", trigger="app/user.signup", workflow=ECHO)
    other = kit.workflows.create_sync(T, name="other", trigger="app/other", workflow=ECHO)
    async with kit.worker(poll_ms=50):
        ids = await kit.send(T, {"name": "app/user.signup", "data": {"id": 1}})
        assert isinstance(ids, list) and len(ids) == 1 and isinstance(ids[0], str)
        runs = await runs_of(kit, T, count=2)
        assert {r.workflow_id for r in runs} == {w1.id, w2.id}
        for r in runs:
            done = await wait_status(kit, T, r.id)
            assert status(done) == "completed"
            assert done.output == {"e": {"name": "app/user.signup", "data": {"id": 1}}}
    assert await kit.runs.list(T, workflow_id=other.id) == []


def test_send_sync_many_events(kit: WorkflowKit) -> None:
    kit.workflows.create_sync(T, name="one", trigger="app/a", workflow=ECHO)
    ids = kit.send_sync(T, [{"name": "app/a", "data": {"n": 1}}, {"name": "app/a", "data": {"n": 2}}])
    assert len(ids) == 2 and len(set(ids)) == 2


async def test_runs_are_queued_without_a_worker_and_list_is_newest_first(kit: WorkflowKit, clock: VirtualClock) -> None:
    w = kit.workflows.create_sync(T, name="one", trigger="app/a", workflow=ECHO)
    first = await kit.send(T, {"name": "app/a", "data": {"n": 1}})
    clock.advance(timedelta(seconds=1))
    await kit.send(T, {"name": "app/a", "data": {"n": 2}})
    runs = await kit.runs.list(T)
    assert [status(r) for r in runs] == ["queued", "queued"]
    assert [r.event["data"]["n"] for r in runs] == [2, 1]
    assert first
    assert [r.id for r in await kit.runs.list(T, workflow_id=w.id, status="queued")] == [r.id for r in runs]
    assert await kit.runs.list(T, status="completed") == []
    assert await kit.runs.list("tenant-b") == []
    with pytest.raises(Exception) as info:
        await kit.runs.get("tenant-b", runs[0].id)
    assert type(info.value).__name__ == "NotFoundError"


async def test_disable_and_enable(kit: WorkflowKit) -> None:
    w = kit.workflows.create_sync(T, name="one", trigger="app/a", workflow=ECHO)
    assert kit.workflows.disable_sync(T, w.id).enabled is False
    await kit.send(T, {"name": "app/a", "data": {}})
    assert await kit.runs.list(T) == []
    assert kit.workflows.enable_sync(T, w.id).enabled is True
    await kit.send(T, {"name": "app/a", "data": {}})
    assert len(await kit.runs.list(T)) == 1


async def test_update_and_publish_make_a_new_version(kit: WorkflowKit, clock: VirtualClock) -> None:
    w = kit.workflows.create_sync(T, name="one", trigger="app/a", workflow=ECHO)
    two = chain({"id": "e", "kind": "echo"}, {"id": "f", "kind": "echo"})
    kit.workflows.update_sync(T, w.id, workflow=two)
    async with kit.worker(poll_ms=50):
        await kit.send(T, {"name": "app/a", "data": {}})
        [r1] = await runs_of(kit, T)
        assert set((await wait_status(kit, T, r1.id)).output) == {"e"}  # the draft is not live
        kit.workflows.publish_sync(T, w.id)
        clock.advance(timedelta(seconds=1))
        await kit.send(T, {"name": "app/a", "data": {}})
        runs = await runs_of(kit, T, count=2)
        newest = runs[0]
        assert newest.id != r1.id
        assert set((await wait_status(kit, T, newest.id)).output) == {"e", "f"}


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("app/*", ["app/user.created", "app/blog.post.published"], ["apps/x", "other/app", "app"]),
        ("app/user.*", ["app/user.created", "app/user.updated"], ["app/users.created", "app/blog.created"]),
        ("app/blog.post.*", ["app/blog.post.published"], ["app/blog.created"]),
    ],
)
async def test_trigger_wildcards(kit: WorkflowKit, pattern: str, matches: list[str], misses: list[str]) -> None:
    w = kit.workflows.create_sync(T, name="w", trigger=pattern, workflow=ECHO)
    for name in misses:
        await kit.send(T, {"name": name, "data": {}})
    assert await kit.runs.list(T, workflow_id=w.id) == []
    for name in matches:
        await kit.send(T, {"name": name, "data": {}})
    runs = await kit.runs.list(T, workflow_id=w.id)
    assert sorted(r.event["name"] for r in runs) == sorted(matches)


@pytest.mark.parametrize("bad", ["app/user.update*", "app/blog.*.published"])
def test_unsupported_wildcards_are_refused(kit: WorkflowKit, bad: str) -> None:
    with pytest.raises(Exception) as info:
        kit.workflows.create_sync(T, name="w", trigger=bad, workflow=ECHO)
    assert "trigger" in str(info.value).lower() or "wildcard" in str(info.value).lower()


async def test_trigger_if(kit: WorkflowKit) -> None:
    w = kit.workflows.create_sync(
        T, name="w", trigger={"event": "blog-post.updated", "if": "event.data.status == 'review'"}, workflow=ECHO
    )
    await kit.send(T, {"name": "blog-post.updated", "data": {"status": "draft"}})
    await kit.send(T, {"name": "blog-post.updated", "data": {}})
    assert await kit.runs.list(T, workflow_id=w.id) == []
    await kit.send(T, {"name": "blog-post.updated", "data": {"status": "review"}})
    [run] = await kit.runs.list(T, workflow_id=w.id)
    assert run.event["data"] == {"status": "review"}


def test_trigger_if_with_a_bad_cel_expression_is_refused(kit: WorkflowKit) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.create_sync(T, name="w", trigger={"event": "a/b", "if": "event.data.x =="}, workflow=ECHO)
    assert "trigger" in str(info.value)


async def test_event_size_limit_512kb(kit: WorkflowKit) -> None:
    kit.workflows.create_sync(T, name="w", trigger="app/big", workflow=ECHO)
    ok = {"name": "app/big", "data": {"s": "x" * 400_000}}
    assert len(await kit.send(T, ok)) == 1
    too_big = {"name": "app/big", "data": {"s": "x" * (600 * 1024)}}
    with pytest.raises(EventError) as info:
        await kit.send(T, too_big)
    text = str(info.value).lower()
    assert "512" in text or "too large" in text or "size" in text
    assert len(await kit.runs.list(T)) == 1  # the big one started nothing
    with pytest.raises(EventError):
        kit.send_sync(T, too_big)


async def test_event_fields_are_kept(kit: WorkflowKit) -> None:
    kit.workflows.create_sync(T, name="w", trigger="app/f", workflow=ECHO)
    await kit.send(T, {"name": "app/f", "data": {"a": 1}, "id": "evt-1", "ts": 1_767_225_000_000, "v": "2024-01-14.1"})
    [run] = await kit.runs.list(T)
    assert run.event["name"] == "app/f" and run.event["data"] == {"a": 1}
    assert run.event.get("id") == "evt-1"
    assert run.event.get("ts") == 1_767_225_000_000
    assert run.event.get("v") == "2024-01-14.1"


@pytest.mark.parametrize("bad", [{"data": {}}, {"name": "", "data": {}}, {"name": "a/b", "data": [1]}, "nope"])
async def test_malformed_events_are_refused(kit: WorkflowKit, bad: Any) -> None:
    with pytest.raises(EventError):
        await kit.send(T, bad)


async def test_event_id_dedupes_for_24_hours(kit: WorkflowKit, clock: VirtualClock) -> None:
    w = kit.workflows.create_sync(T, name="w", trigger="app/d", workflow=ECHO)
    ids1 = await kit.send(T, {"name": "app/d", "data": {"n": 1}, "id": "dup"})
    clock.advance(timedelta(hours=23))
    ids2 = await kit.send(T, {"name": "app/d", "data": {"n": 2}, "id": "dup"})
    assert len(await kit.runs.list(T, workflow_id=w.id)) == 1
    # the duplicate is stored nonetheless
    assert len(kit.events.list_sync(T)) == 2
    assert ids1 and ids2
    clock.advance(timedelta(hours=1, seconds=1))
    await kit.send(T, {"name": "app/d", "data": {"n": 3}, "id": "dup"})
    runs = await kit.runs.list(T, workflow_id=w.id)
    assert sorted(r.event["data"]["n"] for r in runs) == [1, 3]


async def test_event_id_dedupe_is_across_names(kit: WorkflowKit) -> None:
    a = kit.workflows.create_sync(T, name="a", trigger="app/one", workflow=ECHO)
    b = kit.workflows.create_sync(T, name="b", trigger="app/two", workflow=ECHO)
    await kit.send(T, {"name": "app/one", "data": {}, "id": "same"})
    await kit.send(T, {"name": "app/two", "data": {}, "id": "same"})
    assert len(await kit.runs.list(T, workflow_id=a.id)) == 1
    # Inngest: the id is global across event names; either way the first one ran
    assert len(await kit.runs.list(T, workflow_id=b.id)) in (0, 1)


async def test_event_id_dedupe_is_per_tenant(kit: WorkflowKit) -> None:
    a = kit.workflows.create_sync(T, name="a", trigger="app/one", workflow=ECHO)
    b = kit.workflows.create_sync("tenant-b", name="b", trigger="app/one", workflow=ECHO)
    await kit.send(T, {"name": "app/one", "data": {}, "id": "same"})
    await kit.send("tenant-b", {"name": "app/one", "data": {}, "id": "same"})
    assert len(await kit.runs.list(T, workflow_id=a.id)) == 1
    assert len(await kit.runs.list("tenant-b", workflow_id=b.id)) == 1


async def test_run_get_has_timeline_with_attempts_timings_outputs(kit: WorkflowKit) -> None:
    @kit.action(kind="twostep", name="Two steps")
    async def twostep(ctx: ActionContext, inputs: dict[str, Any]) -> int:
        a = await ctx.step.run("a", lambda: 1)
        b = await ctx.step.run("b", lambda: 2)
        return int(a) + int(b)

    kit.workflows.create_sync(
        T, name="w", trigger="app/t", workflow=chain({"id": "e", "kind": "echo"}, {"id": "t", "kind": "twostep"})
    )
    async with kit.worker(poll_ms=50):
        await kit.send(T, {"name": "app/t", "data": {"x": 1}})
        [run] = await runs_of(kit, T)
        run = await wait_status(kit, T, run.id)
    assert status(run) == "completed"
    assert run.output == {"e": {"name": "app/t", "data": {"x": 1}}, "t": 3}
    assert run.error is None
    assert run.started_at is not None and run.ended_at is not None
    assert [a.id for a in run.actions] == ["e", "t"]
    t = run.actions[1]
    assert str(t.status) in ("completed", "ActionStatus.COMPLETED")
    assert t.output == 3
    assert len(t.attempts) == 1 and t.started_at is not None and t.ended_at is not None
    assert [s.key for s in t.steps] == ["a", "b"]
    assert [s.output for s in t.steps] == [1, 2]
    assert all(len(s.attempts) == 1 for s in t.steps)
    await settle(0)


async def test_runs_list_newest_first_within_one_millisecond(kit: WorkflowKit) -> None:
    kit.workflows.create_sync(T, name="one", trigger="app/a", workflow=ECHO)
    for n in range(20):  # the virtual clock does not move: all in one millisecond
        await kit.send(T, {"name": "app/a", "data": {"n": n}})
    runs = await kit.runs.list(T)
    assert [r.event["data"]["n"] for r in runs] == list(reversed(range(20)))
