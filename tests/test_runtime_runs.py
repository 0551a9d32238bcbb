"""``kit.runs`` on both databases: list, get (the timeline), cancel, rerun, start, and tenant isolation."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from conftest import START
from helpers import action, chain, count_selects, edge, workflow

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.errors import NonRetriableError
from workflow_kit.runtime.models import NotFoundError, Run, RunBrief, RunStatus, RunSummary
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.stores.runs import RerunError
from workflow_kit.runtime.worker.loop import Worker
from workflow_kit.timeutil import VirtualClock, to_ms

T0 = to_ms(START)
TENANT = "acme"


async def settle(kit: WorkflowKit, worker: Worker) -> None:
    """`worker.idle()`, repeated while a run is still marked running: idle() can return in the moment between
    the worker claiming a run (its due time moves into the future) and registering it as executing."""
    for _ in range(100):
        await worker.idle()
        if not await kit.runs.list(TENANT, status="running"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("a run stayed running")


async def finish(kit: WorkflowKit, worker: Worker, clock: VirtualClock, run_id: str, tenant: str = TENANT) -> Run:
    """Let the worker drive a run to its end, moving the clock past each (millisecond) retry backoff."""
    for _ in range(40):
        await settle(kit, worker)
        run = await kit.runs.get(tenant, run_id)
        if run.status.terminal:
            return run
        clock.advance(timedelta(seconds=1))
    raise AssertionError(f"run {run_id} did not end: {run.status}")


def register_noop(kit: WorkflowKit) -> None:
    @kit.action(kind="noop")
    async def noop(ctx: ActionContext) -> str:
        return "done"


async def only_run(kit: WorkflowKit, tenant: str = TENANT, workflow_id: str | None = None) -> Run:
    [run] = await kit.runs.list(tenant, workflow_id)
    return run


# -- list ------------------------------------------------------------------------------------------


async def test_list_is_newest_first_by_creation(kit: WorkflowKit, clock: VirtualClock) -> None:
    register_noop(kit)
    kit.workflows.create_sync(TENANT, name="Noop", trigger="app/x", workflow=chain("a"))
    for n in range(3):
        await kit.send(TENANT, {"name": "app/x", "data": {"n": n}})
        clock.advance(timedelta(seconds=1))
    runs = await kit.runs.list(TENANT)
    assert [r.event["data"]["n"] for r in runs] == [2, 1, 0]
    assert [r.created_at for r in runs] == [T0 + 2000, T0 + 1000, T0]
    assert all(r.status == RunStatus.QUEUED for r in runs)


async def test_list_is_newest_first_within_one_millisecond(kit: WorkflowKit) -> None:
    register_noop(kit)
    kit.workflows.create_sync(TENANT, name="Noop", trigger="app/x", workflow=chain("a"))
    for n in range(20):  # the virtual clock stands still: every run is created in the same millisecond
        await kit.send(TENANT, {"name": "app/x", "data": {"n": n}})
    runs = await kit.runs.list(TENANT)
    assert {r.created_at for r in runs} == {T0}
    assert [r.event["data"]["n"] for r in runs] == list(reversed(range(20)))


async def test_list_filters_by_workflow_and_status(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    @kit.action(kind="ok")
    async def ok(ctx: ActionContext) -> str:
        return "fine"

    @kit.action(kind="broken")
    async def broken(ctx: ActionContext) -> str:
        raise NonRetriableError("nope")

    good = kit.workflows.create_sync(TENANT, name="Good", trigger="app/good", workflow=chain("a", kind="ok"))
    bad = kit.workflows.create_sync(TENANT, name="Bad", trigger="app/bad", workflow=chain("a", kind="broken"))
    await kit.send(TENANT, {"name": "app/good"})
    clock.advance(timedelta(seconds=1))
    await kit.send(TENANT, {"name": "app/bad"})
    clock.advance(timedelta(seconds=1))
    await kit.send(TENANT, {"name": "app/good"})
    await settle(kit, worker)

    everything = await kit.runs.list(TENANT)
    assert len(everything) == 3
    goods = await kit.runs.list(TENANT, workflow_id=good.id)
    assert [r.created_at for r in goods] == [T0 + 2000, T0]
    assert {r.workflow_id for r in goods} == {good.id}
    [bad_run] = await kit.runs.list(TENANT, workflow_id=bad.id)
    assert bad_run.status == RunStatus.FAILED

    completed = await kit.runs.list(TENANT, status=RunStatus.COMPLETED)
    assert [r.id for r in completed] == [r.id for r in goods]
    assert [r.id for r in await kit.runs.list(TENANT, status="failed")] == [bad_run.id]
    assert await kit.runs.list(TENANT, workflow_id=good.id, status="failed") == []
    assert await kit.runs.list(TENANT, status="cancelled") == []
    assert await kit.runs.list(TENANT, workflow_id="no-such-workflow") == []


async def test_list_since_until_is_half_open(kit: WorkflowKit, clock: VirtualClock) -> None:
    register_noop(kit)
    kit.workflows.create_sync(TENANT, name="Noop", trigger="app/x", workflow=chain("a"))
    for n in range(3):
        await kit.send(TENANT, {"name": "app/x", "data": {"n": n}})
        clock.advance(timedelta(seconds=1))

    async def ns(**window: int) -> list[int]:
        return [r.event["data"]["n"] for r in await kit.runs.list(TENANT, **window)]

    assert await ns(since=T0 + 1000) == [2, 1]
    assert await ns(until=T0 + 2000) == [1, 0]
    assert await ns(since=T0 + 1000, until=T0 + 2000) == [1]
    assert await ns(since=T0 + 1, until=T0 + 1000) == []
    assert await ns(since=T0 + 3000) == []


async def test_list_pages_with_limit_and_offset(kit: WorkflowKit, clock: VirtualClock) -> None:
    register_noop(kit)
    kit.workflows.create_sync(TENANT, name="Noop", trigger="app/x", workflow=chain("a"))
    for n in range(5):
        await kit.send(TENANT, {"name": "app/x", "data": {"n": n}})
        clock.advance(timedelta(milliseconds=10))

    async def page(offset: int) -> list[int]:
        return [r.event["data"]["n"] for r in await kit.runs.list(TENANT, limit=2, offset=offset)]

    assert await page(0) == [4, 3]
    assert await page(2) == [2, 1]
    assert await page(4) == [0]
    assert await page(5) == []
    assert [r.event["data"]["n"] for r in await kit.runs.list(TENANT)] == [4, 3, 2, 1, 0]


# -- summaries (the list of workflows) ------------------------------------------------------------


def register_maybe(kit: WorkflowKit) -> None:
    """``maybe`` fails when the event says so; ``late`` sleeps for days, then fails."""

    @kit.action(kind="maybe")
    async def maybe(ctx: ActionContext) -> str:
        if ctx.event["data"].get("fail"):
            raise NonRetriableError("asked to fail")
        return "fine"

    @kit.action(kind="late")
    async def late(ctx: ActionContext) -> str:
        await ctx.step.sleep("wait", "3d")
        raise NonRetriableError("failed after days")


async def run_to_end(kit: WorkflowKit, worker: Worker, clock: VirtualClock, event: dict[str, Any]) -> Run:
    [event_id] = await kit.send(TENANT, event)
    [run] = await kit.runs.list(TENANT, event_id=event_id)
    return await finish(kit, worker, clock, run.id)


async def test_a_summary_has_the_newest_run_and_counts_recent_failures(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    register_maybe(kit)
    record = kit.workflows.create_sync(TENANT, name="Maybe", trigger="app/x", workflow=chain("a", kind="maybe"))
    quiet = kit.workflows.create_sync(TENANT, name="Quiet", trigger="app/never", workflow=chain("a", kind="maybe"))
    completed = await run_to_end(kit, worker, clock, {"name": "app/x", "data": {}})
    clock.advance(timedelta(seconds=1))
    failed = await run_to_end(kit, worker, clock, {"name": "app/x", "data": {"fail": True}})
    assert (completed.status, failed.status) == (RunStatus.COMPLETED, RunStatus.FAILED)

    summaries = await kit.runs.summaries(TENANT, [record.id, quiet.id, "01NOSUCHWORKFLOW"])
    assert summaries[record.id] == RunSummary(
        last_run=RunBrief(
            id=failed.id, status=RunStatus.FAILED, created_at=failed.created_at, ended_at=failed.ended_at
        ),
        failures_24h=1,
    )
    assert summaries[quiet.id] == RunSummary(last_run=None, failures_24h=0)
    assert summaries["01NOSUCHWORKFLOW"] == RunSummary()
    assert await kit.runs.summaries(TENANT, []) == {}

    # The newest run counts whatever its state or version: a test run of the draft (which the running
    # worker may have taken already).
    snapshot = kit.workflows.snapshot_sync(TENANT, record.id)
    clock.advance(timedelta(seconds=1))
    test_run = await kit.runs.start(TENANT, record.id, snapshot.id, {"name": "app/x"})
    [summary] = (await kit.runs.summaries(TENANT, [record.id])).values()
    assert summary.last_run is not None
    assert (summary.last_run.id, summary.last_run.created_at) == (test_run, clock.now_ms())
    assert summary.last_run.status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.COMPLETED)
    assert summary.failures_24h == 1


async def test_a_failure_counts_for_24_hours_after_it_ended(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    register_maybe(kit)
    record = kit.workflows.create_sync(TENANT, name="Maybe", trigger="app/x", workflow=chain("a", kind="maybe"))
    old = await run_to_end(kit, worker, clock, {"name": "app/x", "data": {"fail": True}})
    clock.advance(timedelta(hours=12))
    recent = await run_to_end(kit, worker, clock, {"name": "app/x", "data": {"fail": True}})

    async def failures() -> int:
        return (await kit.runs.summaries(TENANT, [record.id]))[record.id].failures_24h

    assert await failures() == 2
    assert old.ended_at is not None
    clock.advance_to(old.ended_at + 24 * 3_600_000)  # exactly 24 hours later: still within the day
    assert await failures() == 2
    clock.advance(timedelta(milliseconds=1))
    assert await failures() == 1
    clock.advance(timedelta(hours=12))
    assert await failures() == 0
    # The newest run stays the newest, however old.
    summary = (await kit.runs.summaries(TENANT, [record.id]))[record.id]
    assert summary.last_run is not None and summary.last_run.id == recent.id


async def test_a_run_that_started_days_ago_and_failed_now_is_a_recent_failure(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    register_maybe(kit)
    record = kit.workflows.create_sync(TENANT, name="Late", trigger="app/late", workflow=chain("a", kind="late"))
    await kit.send(TENANT, {"name": "app/late"})
    await settle(kit, worker)
    run = await only_run(kit)
    assert run.status == RunStatus.SLEEPING
    clock.advance(timedelta(days=3))
    ended = await finish(kit, worker, clock, run.id)
    assert ended.status == RunStatus.FAILED
    assert ended.ended_at is not None and ended.ended_at - ended.created_at >= 3 * 86_400_000
    summary = (await kit.runs.summaries(TENANT, [record.id]))[record.id]
    assert summary.failures_24h == 1


async def test_another_tenants_runs_are_never_in_a_summary(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    register_maybe(kit)
    mine = kit.workflows.create_sync(TENANT, name="Mine", trigger="app/x", workflow=chain("a", kind="maybe"))
    theirs = kit.workflows.create_sync("globex", name="Theirs", trigger="app/x", workflow=chain("a", kind="maybe"))
    mine_run = await run_to_end(kit, worker, clock, {"name": "app/x", "data": {"fail": True}})
    [event_id] = await kit.send("globex", {"name": "app/x", "data": {"fail": True}})
    [their_run] = await kit.runs.list("globex", event_id=event_id)
    assert (await finish(kit, worker, clock, their_run.id, tenant="globex")).status == RunStatus.FAILED

    # A run of another tenant filed under my workflow's id (no API makes one, but the query must not count it).
    with kit.db.write() as conn:
        conn.execute(
            sa.insert(schema.runs).values(
                id="01FOREIGNRUN",
                tenant="globex",
                workflow_id=mine.id,
                version_id=mine_run.version_id,
                event={"name": "app/x", "data": {}},
                status="failed",
                created_at=clock.now_ms() + 5,
                ended_at=clock.now_ms() + 5,
                updated_at=clock.now_ms() + 5,
            )
        )

    summaries = await kit.runs.summaries(TENANT, [mine.id, theirs.id])
    assert summaries[mine.id].failures_24h == 1
    assert summaries[mine.id].last_run is not None and summaries[mine.id].last_run.id == mine_run.id
    assert summaries[theirs.id] == RunSummary()  # their workflow, seen by me: nothing
    assert (await kit.runs.summaries("globex", [theirs.id]))[theirs.id].failures_24h == 1
    with pytest.raises(ValueError, match="tenant"):
        await kit.runs.summaries("", [mine.id])


async def test_summaries_of_a_page_take_two_queries(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    register_maybe(kit)
    ids = []
    for n in range(5):
        record = kit.workflows.create_sync(TENANT, name=f"w{n}", trigger=f"app/{n}", workflow=chain("a", kind="maybe"))
        ids.append(record.id)
        await run_to_end(kit, worker, clock, {"name": f"app/{n}", "data": {"fail": n % 2 == 0}})
    with count_selects(kit) as selects:
        summaries = await kit.runs.summaries(TENANT, ids)
    # (the worker's look for bulk operations may fall in between: not the summaries' doing)
    assert len([s for s in selects if "wk_operations" not in s]) == 2
    assert [summaries[i].failures_24h for i in ids] == [1, 0, 1, 0, 1]
    assert all(summaries[i].last_run is not None for i in ids)


# -- get: the timeline -----------------------------------------------------------------------------


async def test_get_returns_the_timeline_in_workflow_order(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    never_ran: list[str] = []

    @kit.action(kind="double")
    async def double(ctx: ActionContext, inputs: dict[str, Any]) -> int:
        def compute() -> int:
            clock.advance(timedelta(seconds=3))  # the step takes 3 s
            return int(inputs["x"]) * 2

        return int(await ctx.step.run("compute", compute))

    @kit.action(kind="explode")
    async def explode(ctx: ActionContext, inputs: dict[str, Any]) -> int:
        raise NonRetriableError(f"cannot use {inputs['v']}")

    @kit.action(kind="never")
    async def never(ctx: ActionContext) -> str:
        never_ran.append("c")
        return "unreachable"

    wf = workflow(
        [
            action("a", "double", x="!ref($.event.data.x)"),
            action("b", "explode", v="!ref($.state.a)", label="got !ref($.state.a)"),
            action("c", "never"),
        ],
        [edge("$source", "a"), edge("a", "b"), edge("b", "c")],
    )
    record = kit.workflows.create_sync(TENANT, name="Timeline", trigger="app/x", workflow=wf)
    await kit.send(TENANT, {"name": "app/x", "data": {"x": 21}})
    await settle(kit, worker)
    run = await kit.runs.get(TENANT, (await only_run(kit)).id)

    assert run.status == RunStatus.FAILED
    assert run.workflow_id == record.id
    assert run.version == 1
    assert run.error == {"name": "NonRetriableError", "message": "cannot use 42", "action": "b"}
    assert run.output is None
    assert (run.created_at, run.started_at, run.ended_at) == (T0, T0, T0 + 3000)
    assert [a.id for a in run.actions] == ["a", "b", "c"]
    assert never_ran == []

    a, b, c = run.actions
    assert a.status == "completed"
    assert a.inputs == {"x": 21}
    assert a.output == 42
    assert a.error is None
    assert (a.started_at, a.ended_at) == (T0, T0 + 3000)
    [a_attempt] = a.attempts
    assert (a_attempt.started_at, a_attempt.ended_at, a_attempt.error) == (T0, T0 + 3000, None)
    [compute] = a.steps
    assert (compute.key, compute.kind, compute.status, compute.output, compute.error) == (
        "compute",
        "run",
        "completed",
        42,
        None,
    )
    [step_attempt] = compute.attempts
    assert (step_attempt.started_at, step_attempt.ended_at, step_attempt.error) == (T0, T0 + 3000, None)

    assert b.status == "failed"
    assert b.inputs == {"v": 42, "label": "got 42"}
    assert b.output is None
    assert b.error is not None
    assert (b.error.name, b.error.message) == ("NonRetriableError", "cannot use 42")
    assert (b.started_at, b.ended_at) == (T0 + 3000, T0 + 3000)
    [b_attempt] = b.attempts
    assert b_attempt.error is not None
    assert b_attempt.error.message == "cannot use 42"
    assert b.steps == []

    assert c.status == "pending"
    assert (c.inputs, c.output, c.error, c.started_at, c.ended_at) == (None, None, None, None, None)
    assert c.attempts == []
    assert c.steps == []


async def test_get_shows_step_attempts_with_their_errors_after_retries(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    calls: list[int] = []
    seen_attempts: list[int] = []

    @kit.action(kind="flaky")
    async def flaky(ctx: ActionContext) -> str:
        seen_attempts.append(ctx.attempt)

        def fetch() -> str:
            calls.append(len(calls) + 1)
            if len(calls) < 3:
                raise RuntimeError(f"try {len(calls)} failed")
            return "ok"

        return str(await ctx.step.run("fetch", fetch))

    kit.workflows.create_sync(TENANT, name="Flaky", trigger="app/x", workflow=chain("f", kind="flaky"))
    await kit.send(TENANT, {"name": "app/x"})
    run = await finish(kit, worker, clock, (await only_run(kit)).id)

    assert run.status == RunStatus.COMPLETED
    assert run.output == {"f": "ok"}
    assert calls == [1, 2, 3]
    assert seen_attempts == [0, 1, 2]
    [f] = run.actions
    assert f.status == "completed"
    assert f.output == "ok"
    [fetch] = f.steps
    assert fetch.status == "completed"
    assert fetch.output == "ok"
    assert len(fetch.attempts) == 3
    first, second, third = fetch.attempts
    assert first.error is not None and second.error is not None
    assert (first.error.name, first.error.message) == ("RuntimeError", "try 1 failed")
    assert (second.error.name, second.error.message) == ("RuntimeError", "try 2 failed")
    assert third.error is None
    assert first.started_at <= second.started_at <= third.started_at
    assert second.started_at > first.ended_at  # the retry waited for its backoff


async def test_completed_step_keeps_no_error_after_retries(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    """A step that failed, then succeeded, is completed without an error (its failures are in its attempts),
    as an action that succeeds after a failure is."""
    calls: list[int] = []

    @kit.action(kind="flaky")
    async def flaky(ctx: ActionContext) -> str:
        def fetch() -> str:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("first try failed")
            return "ok"

        return str(await ctx.step.run("fetch", fetch))

    kit.workflows.create_sync(TENANT, name="Flaky", trigger="app/x", workflow=chain("f", kind="flaky"))
    await kit.send(TENANT, {"name": "app/x"})
    run = await finish(kit, worker, clock, (await only_run(kit)).id)
    [fetch] = run.actions[0].steps
    assert fetch.status == "completed"
    assert [a.error is None for a in fetch.attempts] == [False, True]
    assert fetch.error is None


async def test_get_shows_action_attempts_after_a_handler_retry(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    calls: list[int] = []

    @kit.action(kind="shaky")
    async def shaky(ctx: ActionContext) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("flaked")
        return "steady"

    kit.workflows.create_sync(TENANT, name="Shaky", trigger="app/x", workflow=chain("s", kind="shaky"))
    await kit.send(TENANT, {"name": "app/x"})
    run = await finish(kit, worker, clock, (await only_run(kit)).id)

    assert run.status == RunStatus.COMPLETED
    [s] = run.actions
    assert (s.status, s.output, s.error) == ("completed", "steady", None)
    assert len(s.attempts) == 2
    assert s.attempts[0].error is not None
    assert (s.attempts[0].error.name, s.attempts[0].error.message) == ("ValueError", "flaked")
    assert s.attempts[1].error is None
    assert len(calls) == 2


async def test_get_unknown_run_is_not_found(kit: WorkflowKit) -> None:
    with pytest.raises(NotFoundError):
        await kit.runs.get(TENANT, "01NOSUCHRUN")


# -- cancel ----------------------------------------------------------------------------------------


async def test_cancel_a_sleeping_run_stops_it(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    before: list[int] = []
    after: list[int] = []

    @kit.action(kind="nap")
    async def nap(ctx: ActionContext) -> str:
        await ctx.step.run("before", lambda: before.append(1))
        await ctx.step.sleep("zz", "1h")
        after.append(1)
        await ctx.step.run("after", lambda: after.append(2))
        return "woke"

    kit.workflows.create_sync(TENANT, name="Nap", trigger="app/x", workflow=chain("n", "m", kind="nap"))
    await kit.send(TENANT, {"name": "app/x"})
    await settle(kit, worker)
    run = await only_run(kit)
    assert run.status == RunStatus.SLEEPING

    clock.advance(timedelta(minutes=10))
    cancelled = await kit.runs.cancel(TENANT, run.id)
    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.ended_at == T0 + 600_000
    assert cancelled.error is not None and cancelled.error["name"] == "Cancelled"
    assert cancelled.output is None

    clock.advance(timedelta(hours=2))
    await settle(kit, worker)
    final = await kit.runs.get(TENANT, run.id)
    assert final.status == RunStatus.CANCELLED
    assert final.ended_at == T0 + 600_000
    assert before == [1]
    assert after == []
    n, m = final.actions
    assert [s.key for s in n.steps] == ["before", "zz"]
    assert n.steps[1].status == "sleeping"
    assert n.status != "completed"
    assert m.status == "pending"
    assert [r.id for r in await kit.runs.list(TENANT, status="cancelled")] == [run.id]


async def test_cancel_a_waiting_run_ignores_a_later_matching_event(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    resumed: list[Any] = []

    @kit.action(kind="approval")
    async def approval(ctx: ActionContext) -> str:
        got = await ctx.step.wait_for_event("approve", event="app/approved", timeout="1d")
        resumed.append(got)
        await ctx.step.run("notify", lambda: resumed.append("notified"))
        return "approved"

    kit.workflows.create_sync(TENANT, name="Approval", trigger="app/requested", workflow=chain("w", kind="approval"))
    await kit.send(TENANT, {"name": "app/requested"})
    await settle(kit, worker)
    run = await only_run(kit)
    assert run.status == RunStatus.WAITING

    assert (await kit.runs.cancel(TENANT, run.id)).status == RunStatus.CANCELLED
    await kit.send(TENANT, {"name": "app/approved", "data": {"ok": True}})
    await settle(kit, worker)
    assert resumed == []
    final = await kit.runs.get(TENANT, run.id)
    assert final.status == RunStatus.CANCELLED
    [wait] = final.actions[0].steps
    assert wait.key == "approve"
    assert wait.status != "completed"
    assert wait.output is None

    clock.advance(timedelta(days=2))  # past the wait's timeout too
    await settle(kit, worker)
    assert resumed == []
    assert (await kit.runs.get(TENANT, run.id)).status == RunStatus.CANCELLED
    assert len(await kit.runs.list(TENANT)) == 1


async def test_cancel_while_a_step_is_executing(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()
    body_finished: list[int] = []
    later: list[str] = []

    @kit.action(kind="slow")
    async def slow(ctx: ActionContext) -> str:
        async def first() -> str:
            entered.set()
            await release.wait()
            body_finished.append(1)
            return "first done"

        await ctx.step.run("first", first)
        await ctx.step.run("second", lambda: later.append("second"))
        return "all done"

    @kit.action(kind="next")
    async def next_action(ctx: ActionContext) -> str:
        later.append("next")
        return "next"

    wf = workflow([action("s", "slow"), action("t", "next")], [edge("$source", "s"), edge("s", "t")])
    kit.workflows.create_sync(TENANT, name="Slow", trigger="app/x", workflow=wf)
    await kit.send(TENANT, {"name": "app/x"})
    await asyncio.wait_for(entered.wait(), timeout=10)
    run = await only_run(kit)
    assert run.status == RunStatus.RUNNING

    cancelled = await kit.runs.cancel(TENANT, run.id)
    assert cancelled.status == RunStatus.CANCELLED
    release.set()
    await settle(kit, worker)

    assert body_finished == [1]  # the executing step was allowed to finish ...
    assert later == []  # ... but nothing after it ran
    final = await kit.runs.get(TENANT, run.id)
    assert final.status == RunStatus.CANCELLED
    assert final.output is None
    s, t = final.actions
    assert all(step.status != "completed" for step in s.steps)  # its result was not recorded
    assert s.status != "completed"
    assert t.status == "pending"

    clock.advance(timedelta(hours=1))
    await settle(kit, worker)
    assert later == []
    assert (await kit.runs.get(TENANT, run.id)).status == RunStatus.CANCELLED


async def test_cancel_a_queued_run_before_any_worker_claims_it(kit: WorkflowKit) -> None:
    ran: list[int] = []

    @kit.action(kind="work")
    async def work(ctx: ActionContext) -> str:
        ran.append(1)
        return "worked"

    kit.workflows.create_sync(TENANT, name="Work", trigger="app/x", workflow=chain("w", kind="work"))
    await kit.send(TENANT, {"name": "app/x"})
    run = await only_run(kit)
    assert run.status == RunStatus.QUEUED
    cancelled = await kit.runs.cancel(TENANT, run.id)
    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.started_at is None
    assert [a.status for a in cancelled.actions] == ["pending"]

    async with kit.worker(poll_ms=50, lease_ms=5_000) as worker:
        await settle(kit, worker)
    assert ran == []
    assert (await kit.runs.get(TENANT, run.id)).status == RunStatus.CANCELLED


async def test_cancelling_a_completed_run_changes_nothing(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    heard: list[dict[str, Any]] = []

    @kit.action(kind="ok")
    async def ok(ctx: ActionContext) -> str:
        return "fine"

    @kit.action(kind="hear")
    async def hear(ctx: ActionContext) -> str:
        heard.append(ctx.event["data"])
        return "heard"

    kit.workflows.create_sync(TENANT, name="Ok", trigger="app/x", workflow=chain("a", kind="ok"))
    listener = kit.workflows.create_sync(
        TENANT, name="Listener", trigger="workflow/run.cancelled", workflow=chain("h", kind="hear")
    )
    await kit.send(TENANT, {"name": "app/x"})
    await settle(kit, worker)
    run = await only_run(kit)
    before = await kit.runs.get(TENANT, run.id)
    assert before.status == RunStatus.COMPLETED

    clock.advance(timedelta(minutes=5))
    returned = await kit.runs.cancel(TENANT, run.id)
    await settle(kit, worker)
    after = await kit.runs.get(TENANT, run.id)

    assert returned == before
    assert after == before
    assert after.status == RunStatus.COMPLETED
    assert after.output == {"a": "fine"}
    assert after.error is None
    assert await kit.runs.list(TENANT, workflow_id=listener.id) == []
    assert heard == []


async def test_cancelling_a_failed_run_dismisses_it_and_causes_nothing(kit: WorkflowKit, worker: Worker) -> None:
    """An operator gives up on a failed run: it becomes cancelled, keeping its failure and its steps; no
    ``workflow/run.cancelled`` is sent (its end was announced when it failed); cancelling it again changes
    nothing."""

    @kit.action(kind="broken")
    async def broken(ctx: ActionContext) -> str:
        raise NonRetriableError("nope")

    kit.workflows.create_sync(TENANT, name="Bad", trigger="app/x", workflow=chain("a", kind="broken"))
    kit.workflows.create_sync(TENANT, name="Ears", trigger="workflow/run.cancelled", workflow=chain("a", kind="broken"))
    await kit.send(TENANT, {"name": "app/x"})
    await settle(kit, worker)
    run = await only_run(kit)
    before = await kit.runs.get(TENANT, run.id)
    assert before.status == RunStatus.FAILED and before.error is not None
    after = await kit.runs.cancel(TENANT, run.id)
    assert after.status == RunStatus.CANCELLED
    assert after.error == {
        "name": "Cancelled",
        "message": "the run was cancelled after it failed: " + before.error["message"],
        "cause": before.error,
    }
    assert msgspec.structs.replace(after, status=before.status, error=before.error) == before
    await settle(kit, worker)
    assert [r.id for r in await kit.runs.list(TENANT)] == [run.id]  # nothing heard of a second end
    assert await kit.runs.cancel(TENANT, run.id) == after


async def test_run_cancelled_event_starts_a_listening_workflow(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    heard: list[dict[str, Any]] = []

    @kit.action(kind="nap")
    async def nap(ctx: ActionContext) -> str:
        await ctx.step.sleep("zz", "1h")
        return "woke"

    @kit.action(kind="hear")
    async def hear(ctx: ActionContext) -> str:
        heard.append(ctx.event)
        return "heard"

    sleepy = kit.workflows.create_sync(TENANT, name="Nap", trigger="app/x", workflow=chain("n", kind="nap"))
    listener = kit.workflows.create_sync(
        TENANT, name="Listener", trigger="workflow/run.cancelled", workflow=chain("h", kind="hear")
    )
    await kit.send(TENANT, {"name": "app/x"})
    await settle(kit, worker)
    run = await only_run(kit, workflow_id=sleepy.id)
    assert await kit.runs.list(TENANT, workflow_id=listener.id) == []

    await kit.runs.cancel(TENANT, run.id)
    await settle(kit, worker)

    listened = await only_run(kit, workflow_id=listener.id)
    assert listened.status == RunStatus.COMPLETED
    assert listened.event["name"] == "workflow/run.cancelled"
    [event] = heard
    assert event["name"] == "workflow/run.cancelled"
    assert event["data"]["run_id"] == run.id
    assert event["data"]["workflow_id"] == sleepy.id
    assert event["data"]["status"] == "cancelled"
    assert event["data"]["trigger"] == "app/x"

    await kit.runs.cancel(TENANT, run.id)  # cancelling it again emits nothing more
    await settle(kit, worker)
    assert len(await kit.runs.list(TENANT, workflow_id=listener.id)) == 1
    assert len(heard) == 1


# -- rerun -----------------------------------------------------------------------------------------


async def test_rerun_from_the_failed_step_keeps_completed_work(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    calls = {"a": 0, "a.step": 0, "b1": 0, "b2": 0}
    fail = {"b2": True}

    @kit.action(kind="first")
    async def first(ctx: ActionContext, inputs: dict[str, Any]) -> int:
        calls["a"] += 1

        def load() -> int:
            calls["a.step"] += 1
            return int(inputs["x"]) + 1

        return int(await ctx.step.run("load", load))

    @kit.action(kind="second")
    async def second(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        def b1() -> int:
            calls["b1"] += 1
            return int(inputs["prev"]) * 10

        def b2() -> str:
            calls["b2"] += 1
            if fail["b2"]:
                raise NonRetriableError("b2 is down")
            return "b2 ok"

        one = await ctx.step.run("b1", b1)
        two = await ctx.step.run("b2", b2)
        return {"one": one, "two": two}

    wf = workflow(
        [action("a", "first", x="!ref($.event.data.x)"), action("b", "second", prev="!ref($.state.a)")],
        [edge("$source", "a"), edge("a", "b")],
    )
    kit.workflows.create_sync(TENANT, name="AB", trigger="app/x", workflow=wf)
    await kit.send(TENANT, {"name": "app/x", "data": {"x": 1}})
    await settle(kit, worker)
    original = await kit.runs.get(TENANT, (await only_run(kit)).id)
    assert original.status == RunStatus.FAILED
    assert original.error is not None and original.error["action"] == "b"
    assert calls == {"a": 1, "a.step": 1, "b1": 1, "b2": 1}

    fail["b2"] = False
    clock.advance(timedelta(minutes=1))
    new_id = await kit.runs.rerun(TENANT, original.id)
    assert new_id != original.id
    await settle(kit, worker)
    rerun = await kit.runs.get(TENANT, new_id)

    assert rerun.status == RunStatus.COMPLETED
    assert rerun.rerun_of == original.id
    assert rerun.version_id == original.version_id
    assert rerun.event == original.event
    assert rerun.output == {"a": 2, "b": {"one": 20, "two": "b2 ok"}}
    assert calls == {"a": 1, "a.step": 1, "b1": 1, "b2": 2}
    a, b = rerun.actions
    assert (a.status, a.output) == ("completed", 2)
    assert b.status == "completed"
    assert b.inputs == {"prev": 2}
    assert [(s.key, s.status) for s in b.steps] == [("b1", "completed"), ("b2", "completed")]
    assert b.steps[1].attempts[-1].error is None

    assert (await kit.runs.get(TENANT, original.id)).status == RunStatus.FAILED  # the original is untouched
    assert [r.id for r in await kit.runs.list(TENANT)] == [new_id, original.id]


async def test_rerun_from_the_failed_step_gives_the_failed_action_fresh_retries(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    """The resumed action starts a new attempt series: the original run's failed attempts neither use up
    the rerun's retries nor show in the rerun's timeline."""
    calls = {"prep": 0, "handler": 0}
    attempts_seen: list[int] = []

    @kit.action(kind="picky", retries=1)
    async def picky(ctx: ActionContext) -> str:
        await ctx.step.run("prep", lambda: calls.__setitem__("prep", calls["prep"] + 1))
        calls["handler"] += 1
        attempts_seen.append(ctx.attempt)
        if calls["handler"] in (1, 2, 3):  # both attempts of the original run, and the rerun's first
            raise RuntimeError(f"flake {calls['handler']}")
        return "done"

    kit.workflows.create_sync(TENANT, name="Picky", trigger="app/x", workflow=chain("p", kind="picky"))
    await kit.send(TENANT, {"name": "app/x"})
    original = await finish(kit, worker, clock, (await only_run(kit)).id)
    assert original.status == RunStatus.FAILED
    assert len(original.actions[0].attempts) == 2
    assert attempts_seen == [0, 1]

    new_id = await kit.runs.rerun(TENANT, original.id)
    rerun = await finish(kit, worker, clock, new_id)
    assert rerun.status == RunStatus.COMPLETED, rerun.error
    assert calls == {"prep": 1, "handler": 4}
    assert attempts_seen == [0, 1, 0, 1]
    [p] = rerun.actions
    assert [a.error is None for a in p.attempts] == [False, True]
    assert p.attempts[0].error is not None and p.attempts[0].error.message == "flake 3"


async def test_rerun_of_a_cancelled_run_resumes_where_it_stopped(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    calls = {"prep": 0, "after": 0}

    @kit.action(kind="nap")
    async def nap(ctx: ActionContext) -> str:
        await ctx.step.run("prep", lambda: calls.__setitem__("prep", calls["prep"] + 1))
        await ctx.step.sleep("zz", "1h")
        await ctx.step.run("after", lambda: calls.__setitem__("after", calls["after"] + 1))
        return "woke"

    kit.workflows.create_sync(TENANT, name="Nap", trigger="app/x", workflow=chain("n", kind="nap"))
    await kit.send(TENANT, {"name": "app/x"})
    await settle(kit, worker)
    original = await only_run(kit)
    await kit.runs.cancel(TENANT, original.id)

    new_id = await kit.runs.rerun(TENANT, original.id)
    await settle(kit, worker)
    assert (await kit.runs.get(TENANT, new_id)).status == RunStatus.SLEEPING
    clock.advance(timedelta(hours=2))
    await settle(kit, worker)
    rerun = await kit.runs.get(TENANT, new_id)
    assert rerun.status == RunStatus.COMPLETED
    assert rerun.rerun_of == original.id
    assert calls == {"prep": 1, "after": 1}
    assert (await kit.runs.get(TENANT, original.id)).status == RunStatus.CANCELLED


async def test_rerun_from_scratch_uses_the_latest_published_version(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    calls = {"one": 0, "one.step": 0, "two": 0}
    fail = {"one": True}

    @kit.action(kind="one")
    async def one(ctx: ActionContext) -> str:
        calls["one"] += 1

        def body() -> str:
            calls["one.step"] += 1
            return "one"

        out = str(await ctx.step.run("s", body))
        if fail["one"]:
            raise NonRetriableError("one failed")
        return out

    @kit.action(kind="two")
    async def two(ctx: ActionContext) -> str:
        calls["two"] += 1
        return "two"

    record = kit.workflows.create_sync(TENANT, name="Versions", trigger="app/x", workflow=chain("a", kind="one"))
    await kit.send(TENANT, {"name": "app/x", "data": {"k": "v"}})
    await settle(kit, worker)
    original = await only_run(kit)
    assert original.status == RunStatus.FAILED
    assert original.version == 1

    v2 = workflow(
        [action("a", "one"), action("b", "two")],
        [edge("$source", "a"), edge("a", "b")],
    )
    kit.workflows.update_sync(TENANT, record.id, workflow=v2, publish=True)
    fail["one"] = False
    clock.advance(timedelta(seconds=1))
    new_id = await kit.runs.rerun(TENANT, original.id, from_failed_step=False)
    await settle(kit, worker)
    rerun = await kit.runs.get(TENANT, new_id)

    assert rerun.status == RunStatus.COMPLETED
    assert rerun.version == 2
    assert rerun.version_id != original.version_id
    assert rerun.rerun_of == original.id
    assert rerun.event == original.event
    assert [a.id for a in rerun.actions] == ["a", "b"]
    assert rerun.output == {"a": "one", "b": "two"}
    assert calls == {"one": 2, "one.step": 2, "two": 1}  # everything executed again


async def test_rerun_from_failed_step_of_a_completed_run_raises(kit: WorkflowKit, worker: Worker) -> None:
    @kit.action(kind="ok")
    async def ok(ctx: ActionContext) -> str:
        return "fine"

    kit.workflows.create_sync(TENANT, name="Ok", trigger="app/x", workflow=chain("a", kind="ok"))
    await kit.send(TENANT, {"name": "app/x"})
    await settle(kit, worker)
    run = await only_run(kit)
    assert run.status == RunStatus.COMPLETED
    with pytest.raises(RerunError):
        await kit.runs.rerun(TENANT, run.id, from_failed_step=True)
    assert [r.id for r in await kit.runs.list(TENANT)] == [run.id]


async def test_rerun_unknown_run_is_not_found(kit: WorkflowKit) -> None:
    with pytest.raises(NotFoundError):
        await kit.runs.rerun(TENANT, "01NOSUCHRUN")
    with pytest.raises(NotFoundError):
        await kit.runs.rerun(TENANT, "01NOSUCHRUN", from_failed_step=False)
    with pytest.raises(NotFoundError):
        await kit.runs.cancel(TENANT, "01NOSUCHRUN")


# -- start -----------------------------------------------------------------------------------------


async def test_start_runs_the_given_version(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    @kit.action(kind="one")
    async def one(ctx: ActionContext) -> str:
        return f"one:{ctx.event['data']['n']}"

    @kit.action(kind="two")
    async def two(ctx: ActionContext) -> str:
        return "two"

    record = kit.workflows.create_sync(TENANT, name="V", trigger="app/x", workflow=chain("a", kind="one"))
    kit.workflows.update_sync(TENANT, record.id, workflow=chain("a", "b", kind="two"), publish=True)
    [_v2, v1] = kit.workflows.versions_sync(TENANT, record.id)
    assert v1.number == 1

    run_id = await kit.runs.start(TENANT, record.id, v1.id, {"name": "app/manual", "data": {"n": 7}})
    await settle(kit, worker)
    run = await kit.runs.get(TENANT, run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.version == 1
    assert run.version_id == v1.id
    assert run.event["name"] == "app/manual"
    assert run.output == {"a": "one:7"}
    assert [a.id for a in run.actions] == ["a"]

    with pytest.raises(NotFoundError):
        await kit.runs.start(TENANT, record.id, "01NOSUCHVERSION", {"name": "app/manual"})


# -- tenants ---------------------------------------------------------------------------------------


async def test_another_tenant_cannot_see_or_touch_a_run(kit: WorkflowKit) -> None:
    register_noop(kit)
    record = kit.workflows.create_sync("tenant-a", name="Noop", trigger="app/x", workflow=chain("a"))
    await kit.send("tenant-a", {"name": "app/x"})
    [run] = await kit.runs.list("tenant-a")
    version_id = run.version_id

    assert await kit.runs.list("tenant-b") == []
    assert await kit.runs.list("tenant-b", workflow_id=record.id) == []
    assert await kit.runs.list("tenant-b", status="queued") == []
    with pytest.raises(NotFoundError):
        await kit.runs.get("tenant-b", run.id)
    with pytest.raises(NotFoundError):
        await kit.runs.cancel("tenant-b", run.id)
    with pytest.raises(NotFoundError):
        await kit.runs.rerun("tenant-b", run.id)
    with pytest.raises(NotFoundError):
        await kit.runs.rerun("tenant-b", run.id, from_failed_step=False)
    with pytest.raises(NotFoundError):
        await kit.runs.start("tenant-b", record.id, version_id, {"name": "app/x"})

    # tenant A's run is untouched and no run was created anywhere
    assert (await kit.runs.get("tenant-a", run.id)).status == RunStatus.QUEUED
    assert [r.id for r in await kit.runs.list("tenant-a")] == [run.id]
    assert await kit.runs.list("tenant-b") == []

    # and a cancelled, rerunnable run of A is still not B's to rerun
    assert (await kit.runs.cancel("tenant-a", run.id)).status == RunStatus.CANCELLED
    with pytest.raises(NotFoundError):
        await kit.runs.rerun("tenant-b", run.id)
    assert await kit.runs.list("tenant-b") == []
    assert [r.id for r in await kit.runs.list("tenant-a")] == [run.id]
