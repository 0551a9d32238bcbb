"""The durable runtime executing workflows, on both databases: every step kind, the builtin actions,
retries, version pinning, the determinism guard, system events, durability across workers,
concurrency and limits. Everything goes through the real worker and database; time is virtual."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from helpers import action, edge, workflow

from workflow_kit import (
    ActionContext,
    ActionContextSync,
    NonRetriableError,
    RetryAfterError,
    StepError,
    WorkflowKit,
)
from workflow_kit.records import ActionStatus, StepStatus
from workflow_kit.retry import RetryPolicy
from workflow_kit.runtime.lifecycle.settle import MAX_SYSTEM_DEPTH
from workflow_kit.runtime.models import Run, RunStatus
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.worker.loop import Worker
from workflow_kit.timeutil import VirtualClock

TENANT = "acme"
SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
ONE_ACTION = workflow([action("a", "work")], [edge("$source", "a")])
T = TypeVar("T")


# -- helpers ---------------------------------------------------------------------------------------


async def runs_of(kit: WorkflowKit, workflow_id: str, tenant: str = TENANT) -> list[Run]:
    """The runs of one workflow, oldest first, each with its timeline."""
    listed = await kit.runs.list(tenant, workflow_id=workflow_id)
    runs = [await kit.runs.get(tenant, r.id) for r in listed]
    return sorted(runs, key=lambda r: (r.created_at, r.id))


async def only_run(kit: WorkflowKit, workflow_id: str, tenant: str = TENANT) -> Run:
    runs = await runs_of(kit, workflow_id, tenant)
    assert len(runs) == 1, [(r.id, r.status) for r in runs]
    return runs[0]


async def close_kit(kit: WorkflowKit) -> None:
    """Close a kit made in the test, once the threads of its stopped workers gave their connections
    back (`Worker.stop` does not wait for them: see test_a_stopped_worker_holds_no_database_connection)."""
    if "db" in kit.__dict__:
        for _ in range(200):
            if kit.db.engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.01)
    kit.close()


async def settle(worker: Worker, clock: VirtualClock, *, within_ms: int = 1_000, rounds: int = 100) -> None:
    """Idle, moving the virtual clock to whatever is due within `within_ms` (e.g. 1 ms retry backoffs),
    but never past a longer timer."""
    for _ in range(rounds):
        await worker.idle()
        due = await asyncio.to_thread(worker.store.next_due)
        if due is None or due > clock.now_ms() + within_ms:
            return
        clock.advance_to(due)
    raise AssertionError(f"the worker kept finding due runs after {rounds} rounds")


def counted(calls: list[str], name: str, value: T) -> Callable[[], T]:
    """A step body that notes each real execution of itself in `calls`."""

    def body() -> T:
        calls.append(name)
        return value

    return body


def steps_of(run: Run, action_id: str = "a") -> list[Any]:
    record = run.action(action_id)
    assert record is not None, f"no action {action_id!r} in the timeline"
    return record.steps


def events_named(kit: WorkflowKit, name: str) -> list[dict[str, Any]]:
    with kit.db.read() as conn:
        rows = conn.execute(sa.select(schema.events).where(schema.events.c.name == name)).mappings().all()
    return [dict(r) for r in rows]


def run_event_id(kit: WorkflowKit, run_id: str) -> str | None:
    with kit.db.read() as conn:
        value: str | None = conn.execute(sa.select(schema.runs.c.event_id).where(schema.runs.c.id == run_id)).scalar()
    return value


# -- step kinds ------------------------------------------------------------------------------------


async def test_run_steps_are_memoized_across_a_sleep(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    calls: list[str] = []

    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        first = ctx.step.run("load", counted(calls, "load", {"id": 7}))
        ctx.step.sleep("nap", "1h")
        second = ctx.step.run("save", counted(calls, "save", first["id"] + 1))
        return {"first": first, "second": second}

    wf = kit.workflows.create_sync(TENANT, name="Memo", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x", "data": {}})
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.SLEEPING
    assert calls == ["load"]
    assert [(s.key, s.kind, s.status) for s in steps_of(run)] == [
        ("load", "run", StepStatus.COMPLETED),
        ("nap", "sleep", StepStatus.SLEEPING),
    ]
    assert steps_of(run)[0].output == {"id": 7}

    clock.advance(timedelta(hours=1))
    await worker.idle()
    run = await kit.runs.get(TENANT, run.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert calls == ["load", "save"]  # "load" replayed from its record, not re-run
    assert run.output == {"a": {"first": {"id": 7}, "second": 8}}
    assert [(s.key, s.kind, s.status) for s in steps_of(run)] == [
        ("load", "run", StepStatus.COMPLETED),
        ("nap", "sleep", StepStatus.COMPLETED),
        ("save", "run", StepStatus.COMPLETED),
    ]
    assert [len(s.attempts) for s in steps_of(run) if s.kind == "run"] == [1, 1]


async def test_async_handler_steps_are_memoized(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    calls: list[str] = []

    async def fetch(n: int) -> int:
        calls.append("fetch")
        return n * 2

    @kit.action(kind="work")
    async def work(ctx: ActionContext, inputs: dict[str, Any]) -> int:
        doubled: int = await ctx.step.run("fetch", fetch, 21)
        await ctx.step.sleep("nap", timedelta(minutes=5))
        plain: int = await ctx.step.run("plain", counted(calls, "plain", 1))
        return doubled + plain

    wf = kit.workflows.create_sync(TENANT, name="Async", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    assert (await only_run(kit, wf.id)).status == RunStatus.SLEEPING
    clock.advance(timedelta(minutes=5))
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"a": 43}
    assert calls == ["fetch", "plain"]


async def test_sleep_parks_the_run_until_the_clock_passes(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    start = clock.now_ms()

    @kit.action(kind="work")
    async def work(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        await ctx.step.sleep("nap", "2h")
        return "awake"

    wf = kit.workflows.create_sync(TENANT, name="Sleeper", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.SLEEPING
    [nap] = steps_of(run)
    assert (nap.kind, nap.status, nap.wake_at) == ("sleep", StepStatus.SLEEPING, start + 2 * HOUR)
    assert run.action("a").status == ActionStatus.SLEEPING  # type: ignore[union-attr]

    clock.advance_to(start + 2 * HOUR - 1)
    await worker.idle()
    assert (await kit.runs.get(TENANT, run.id)).status == RunStatus.SLEEPING

    clock.advance_to(start + 2 * HOUR)
    await worker.idle()
    run = await kit.runs.get(TENANT, run.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"a": "awake"}
    assert steps_of(run)[0].status == StepStatus.COMPLETED
    assert run.ended_at == start + 2 * HOUR


async def test_sleep_until_wakes_at_the_given_time(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    noon = clock.now_ms() + 3 * HOUR  # the clock starts at 2026-03-01 09:00 UTC

    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        ctx.step.sleep_until("noon", "2026-03-01T12:00:00Z")
        ctx.step.sleep_until("past", "2026-01-01T00:00:00Z")  # already passed: no wait
        return "lunch"

    wf = kit.workflows.create_sync(TENANT, name="Noon", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.SLEEPING
    [step] = steps_of(run)
    assert (step.kind, step.status, step.wake_at) == ("sleep_until", StepStatus.SLEEPING, noon)

    clock.advance_to(noon - 1)
    await worker.idle()
    assert (await kit.runs.get(TENANT, run.id)).status == RunStatus.SLEEPING

    clock.advance_to(noon)
    await worker.idle()
    run = await kit.runs.get(TENANT, run.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"a": "lunch"}
    assert [(s.key, s.status) for s in steps_of(run)] == [
        ("noon", StepStatus.COMPLETED),
        ("past", StepStatus.COMPLETED),
    ]


def register_approver(kit: WorkflowKit, calls: list[str]) -> None:
    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        ctx.step.run("before", lambda: calls.append("before"))
        got = ctx.step.wait_for_event(
            "approval", event="app/approved", if_exp="async.data.id == event.data.id", timeout="1d"
        )
        return {"got": got}


async def test_wait_for_event_resumes_with_the_matching_event(kit: WorkflowKit, worker: Worker) -> None:
    calls: list[str] = []
    register_approver(kit, calls)
    wf = kit.workflows.create_sync(TENANT, name="Approval", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x", "data": {"id": 7}})
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.WAITING
    wait = steps_of(run)[1]
    assert (wait.key, wait.kind, wait.status) == ("approval", "wait_for_event", StepStatus.WAITING)
    assert wait.wait is not None and wait.wait.event == "app/approved"

    await kit.send(TENANT, {"name": "app/approved", "data": {"id": 8}})  # another id: no match
    await kit.send(TENANT, {"name": "app/other", "data": {"id": 7}})  # another name: no match
    await worker.idle()
    assert (await kit.runs.get(TENANT, run.id)).status == RunStatus.WAITING

    await kit.send(TENANT, {"name": "app/approved", "data": {"id": 7, "by": "Ann"}})
    await worker.idle()
    run = await kit.runs.get(TENANT, run.id)
    assert run.status == RunStatus.COMPLETED, run.error
    got = run.output["a"]["got"]
    assert got["name"] == "app/approved"
    assert got["data"] == {"id": 7, "by": "Ann"}
    assert steps_of(run)[1].status == StepStatus.COMPLETED
    assert steps_of(run)[1].output == got
    assert calls == ["before"]  # the step before the wait was not re-run on resuming


async def test_wait_for_event_ignores_an_event_sent_before_the_wait(kit: WorkflowKit, worker: Worker) -> None:
    calls: list[str] = []
    register_approver(kit, calls)
    wf = kit.workflows.create_sync(TENANT, name="Approval", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/approved", "data": {"id": 7, "early": True}})
    await kit.send(TENANT, {"name": "app/x", "data": {"id": 7}})
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.WAITING  # the earlier approval does not count

    await kit.send(TENANT, {"name": "app/approved", "data": {"id": 7, "early": False}})
    await worker.idle()
    run = await kit.runs.get(TENANT, run.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output["a"]["got"]["data"] == {"id": 7, "early": False}


async def test_wait_for_event_times_out_to_none(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    start = clock.now_ms()
    calls: list[str] = []
    register_approver(kit, calls)
    wf = kit.workflows.create_sync(TENANT, name="Approval", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x", "data": {"id": 7}})
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.WAITING
    assert steps_of(run)[1].wake_at == start + DAY

    clock.advance_to(start + DAY - 1)
    await worker.idle()
    assert (await kit.runs.get(TENANT, run.id)).status == RunStatus.WAITING

    clock.advance_to(start + DAY)
    await worker.idle()
    run = await kit.runs.get(TENANT, run.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"a": {"got": None}}
    assert run.ended_at == start + DAY

    await kit.send(TENANT, {"name": "app/approved", "data": {"id": 7}})  # too late: changes nothing
    await worker.idle()
    run = await kit.runs.get(TENANT, run.id)
    assert run.status == RunStatus.COMPLETED
    assert run.output == {"a": {"got": None}}


def register_echo(kit: WorkflowKit) -> None:
    @kit.action(kind="echo")
    def echo(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        return dict(ctx.event)


async def test_send_event_starts_another_workflow_once(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> list[str]:
        ids = ctx.step.send_event("notify", {"name": "app/ping", "data": {"n": 1}})
        ctx.step.sleep("after", "1m")  # forces a replay: the event must not be sent again
        return ids

    register_echo(kit)
    sender = kit.workflows.create_sync(TENANT, name="Sender", trigger="app/x", workflow=ONE_ACTION)
    receiver = kit.workflows.create_sync(
        TENANT, name="Receiver", trigger="app/ping", workflow=workflow([action("e", "echo")], [edge("$source", "e")])
    )
    elsewhere = kit.workflows.create_sync(
        "other-tenant",
        name="Receiver",
        trigger="app/ping",
        workflow=workflow([action("e", "echo")], [edge("$source", "e")]),
    )
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    assert (await only_run(kit, sender.id)).status == RunStatus.SLEEPING
    received = await only_run(kit, receiver.id)
    assert received.status == RunStatus.COMPLETED, received.error
    assert received.output["e"]["name"] == "app/ping"
    assert received.output["e"]["data"] == {"n": 1}

    clock.advance(timedelta(minutes=1))
    await worker.idle()
    run = await only_run(kit, sender.id)
    assert run.status == RunStatus.COMPLETED, run.error
    ids = run.output["a"]
    assert len(ids) == 1
    assert ids[0] == run_event_id(kit, received.id)  # the ids returned are those of the events sent
    assert [e["id"] for e in events_named(kit, "app/ping")] == ids  # sent once, not again on replay
    assert len(await runs_of(kit, receiver.id)) == 1
    assert await kit.runs.list("other-tenant", workflow_id=elsewhere.id) == []  # only the same tenant
    [notify, _] = steps_of(run)
    assert (notify.key, notify.kind, notify.status, notify.output) == ("notify", "send_event", "completed", ids)


def register_doubler(kit: WorkflowKit) -> None:
    @kit.action(kind="double")
    def double(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
        return int(ctx.step.run("double", lambda: inputs["n"] * 2))


CHILD = workflow([action("d", "double", n="!ref($.event.data.n)")], [edge("$source", "d")])


async def test_invoke_returns_the_child_runs_output(kit: WorkflowKit, worker: Worker) -> None:
    register_doubler(kit)
    child = kit.workflows.create_sync(TENANT, name="Child", trigger="app/child", workflow=CHILD)

    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        result = ctx.step.invoke("call", workflow_id=child.id, data={"n": ctx.event["data"]["n"]})
        return {"child": result}

    parent = kit.workflows.create_sync(TENANT, name="Parent", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x", "data": {"n": 21}})
    await worker.idle()
    run = await only_run(kit, parent.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"a": {"child": {"d": 42}}}  # the child's output: {action id: output}
    [call] = steps_of(run)
    assert (call.key, call.kind, call.status, call.output) == ("call", "invoke", StepStatus.COMPLETED, {"d": 42})

    child_run = await only_run(kit, child.id)
    assert child_run.status == RunStatus.COMPLETED
    assert child_run.parent_run_id == run.id
    assert child_run.event["name"] == "workflow/invoked"
    assert child_run.event["data"] == {"n": 21}
    assert child_run.output == {"d": 42}


async def test_invoke_child_failure_raises_step_error_in_the_parent(kit: WorkflowKit, worker: Worker) -> None:
    @kit.action(kind="breaks")
    def breaks(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise NonRetriableError("child broke")

    child = kit.workflows.create_sync(
        TENANT, name="Child", trigger="app/child", workflow=workflow([action("b", "breaks")], [edge("$source", "b")])
    )
    caught: list[StepError] = []

    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        try:
            return ctx.step.invoke("call", workflow_id=child.id, data={})
        except StepError as exc:
            caught.append(exc)
            raise

    parent = kit.workflows.create_sync(TENANT, name="Parent", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    child_run = await only_run(kit, child.id)
    assert child_run.status == RunStatus.FAILED
    run = await only_run(kit, parent.id)
    assert run.status == RunStatus.FAILED
    assert caught and caught[-1].step_id == "call"
    assert "child broke" in caught[-1].message
    assert run.error is not None
    assert run.error["action"] == "a" and run.error["step"] == "call"
    assert "child broke" in run.error["message"]
    assert steps_of(run)[0].status == StepStatus.FAILED


async def test_invoke_of_a_missing_workflow_fails_the_run(kit: WorkflowKit, worker: Worker) -> None:
    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return ctx.step.invoke("call", workflow_id="no-such-workflow", data={})

    wf = kit.workflows.create_sync(TENANT, name="Parent", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.FAILED, (run.status, [(s.key, s.status, s.error) for s in steps_of(run)])
    assert run.error is not None
    assert "no-such-workflow" in run.error["message"]
    assert run.error["action"] == "a" and run.error["step"] == "call"


async def test_invoke_timeout_fails_the_parent(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    start = clock.now_ms()
    child = kit.workflows.create_sync(
        TENANT,
        name="Slow child",
        trigger="app/child",
        workflow=workflow([action("nap", "builtin:sleep", duration="1d")], [edge("$source", "nap")]),
    )

    @kit.action(kind="work")
    async def work(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return await ctx.step.invoke("call", workflow_id=child.id, timeout="1h")

    parent = kit.workflows.create_sync(TENANT, name="Parent", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    run = await only_run(kit, parent.id)
    assert run.status == RunStatus.WAITING
    assert (await only_run(kit, child.id)).status == RunStatus.SLEEPING

    clock.advance_to(start + HOUR)
    await worker.idle()
    run = await kit.runs.get(TENANT, run.id)
    assert run.status == RunStatus.FAILED
    assert run.error is not None and "timed out" in run.error["message"]
    assert run.error["action"] == "a" and run.error["step"] == "call"

    clock.advance_to(start + DAY)  # the child finishing later does not revive the parent
    await worker.idle()
    assert (await only_run(kit, child.id)).status == RunStatus.COMPLETED
    assert (await kit.runs.get(TENANT, run.id)).status == RunStatus.FAILED


# -- builtin actions -------------------------------------------------------------------------------


def register_mark(kit: WorkflowKit) -> None:
    @kit.action(kind="mark")
    def mark(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        return ctx.action.id


async def test_builtin_sleep(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    start = clock.now_ms()
    register_mark(kit)
    wf = kit.workflows.create_sync(
        TENANT,
        name="Nap",
        trigger="app/x",
        workflow=workflow(
            [action("nap", "builtin:sleep", duration="1h"), action("after", "mark")],
            [edge("$source", "nap"), edge("nap", "after")],
        ),
    )
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.SLEEPING
    assert steps_of(run, "nap")[0].wake_at == start + HOUR
    assert run.action("after").status == ActionStatus.PENDING  # type: ignore[union-attr]

    clock.advance_to(start + HOUR - 1)
    await worker.idle()
    assert (await kit.runs.get(TENANT, run.id)).status == RunStatus.SLEEPING
    clock.advance_to(start + HOUR)
    await worker.idle()
    run = await kit.runs.get(TENANT, run.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"nap": None, "after": "after"}


async def test_builtin_sleep_until_a_time_from_the_event(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    start = clock.now_ms()
    wf = kit.workflows.create_sync(
        TENANT,
        name="Until",
        trigger="app/x",
        workflow=workflow(
            [action("until", "builtin:sleep_until", until="!ref($.event.data.at)")], [edge("$source", "until")]
        ),
    )
    await kit.send(TENANT, {"name": "app/x", "data": {"at": "2026-03-02T09:00:00Z"}})  # start + 1 day
    await kit.send(TENANT, {"name": "app/x", "data": {"at": start + 2 * DAY}})  # epoch ms
    await worker.idle()
    by_day = await runs_of(kit, wf.id)
    assert [r.status for r in by_day] == [RunStatus.SLEEPING, RunStatus.SLEEPING]
    wakes = {r.id: steps_of(r, "until")[0].wake_at for r in by_day}
    assert sorted(wakes.values()) == [start + DAY, start + 2 * DAY]
    first = next(run_id for run_id, at in wakes.items() if at == start + DAY)
    second = next(run_id for run_id, at in wakes.items() if at == start + 2 * DAY)

    clock.advance_to(start + DAY)
    await worker.idle()
    assert (await kit.runs.get(TENANT, first)).status == RunStatus.COMPLETED
    assert (await kit.runs.get(TENANT, second)).status == RunStatus.SLEEPING
    clock.advance_to(start + 2 * DAY)
    await worker.idle()
    assert (await kit.runs.get(TENANT, second)).status == RunStatus.COMPLETED


def approval_workflow() -> dict[str, Any]:
    return workflow(
        [
            action(
                "w",
                "builtin:wait_for_event",
                event="app/approved",
                timeout="1d",
                **{"if": "async.data.id == event.data.id"},
            ),
            action("got", "mark"),
            action("late", "mark"),
        ],
        [
            edge("$source", "w"),
            edge("w", "got", {"type": "if", "ref": "!ref($.output)"}, name="Received"),
            edge("w", "late", {"type": "else", "ref": "!ref($.output)"}, name="Timed out"),
        ],
    )


async def test_builtin_wait_for_event_follows_the_received_edge(kit: WorkflowKit, worker: Worker) -> None:
    register_mark(kit)
    wf = kit.workflows.create_sync(TENANT, name="Approve", trigger="app/x", workflow=approval_workflow())
    await kit.send(TENANT, {"name": "app/x", "data": {"id": 1}})
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.WAITING

    await kit.send(TENANT, {"name": "app/approved", "data": {"id": 2}})
    await worker.idle()
    assert (await kit.runs.get(TENANT, run.id)).status == RunStatus.WAITING

    await kit.send(TENANT, {"name": "app/approved", "data": {"id": 1, "ok": True}})
    await worker.idle()
    run = await kit.runs.get(TENANT, run.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output["w"]["name"] == "app/approved"
    assert run.output["w"]["data"] == {"id": 1, "ok": True}
    assert run.output["got"] == "got"
    assert "late" not in run.output
    assert run.action("late").status == ActionStatus.SKIPPED  # type: ignore[union-attr]


async def test_builtin_wait_for_event_follows_the_timed_out_edge(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    register_mark(kit)
    wf = kit.workflows.create_sync(TENANT, name="Approve", trigger="app/x", workflow=approval_workflow())
    await kit.send(TENANT, {"name": "app/x", "data": {"id": 1}})
    await worker.idle()
    assert (await only_run(kit, wf.id)).status == RunStatus.WAITING
    clock.advance(timedelta(days=1))
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"w": None, "late": "late"}
    assert run.action("got").status == ActionStatus.SKIPPED  # type: ignore[union-attr]


async def test_builtin_send_event(kit: WorkflowKit, worker: Worker) -> None:
    register_echo(kit)
    sender = kit.workflows.create_sync(
        TENANT,
        name="Sender",
        trigger="app/x",
        workflow=workflow(
            [action("send", "builtin:send_event", name="app/ping", data={"id": "!ref($.event.data.id)"})],
            [edge("$source", "send")],
        ),
    )
    receiver = kit.workflows.create_sync(
        TENANT, name="Receiver", trigger="app/ping", workflow=workflow([action("e", "echo")], [edge("$source", "e")])
    )
    await kit.send(TENANT, {"name": "app/x", "data": {"id": 7}})
    await worker.idle()
    run = await only_run(kit, sender.id)
    assert run.status == RunStatus.COMPLETED, run.error
    [sent_id] = run.output["send"]["ids"]
    received = await only_run(kit, receiver.id)
    assert received.status == RunStatus.COMPLETED
    assert received.output["e"]["data"] == {"id": 7}
    assert run_event_id(kit, received.id) == sent_id


async def test_builtin_invoke(kit: WorkflowKit, worker: Worker) -> None:
    register_doubler(kit)
    child = kit.workflows.create_sync(TENANT, name="Child", trigger="app/child", workflow=CHILD)
    parent = kit.workflows.create_sync(
        TENANT,
        name="Parent",
        trigger="app/x",
        workflow=workflow(
            [action("call", "builtin:invoke", workflow_id=child.id, data={"n": "!ref($.event.data.n)"})],
            [edge("$source", "call")],
        ),
    )
    await kit.send(TENANT, {"name": "app/x", "data": {"n": 5}})
    await worker.idle()
    run = await only_run(kit, parent.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"call": {"d": 10}}
    child_run = await only_run(kit, child.id)
    assert child_run.parent_run_id == run.id
    assert child_run.event["data"] == {"n": 5}


async def test_builtin_if_follows_the_branch(kit: WorkflowKit, worker: Worker) -> None:
    register_mark(kit)
    wf = kit.workflows.create_sync(
        TENANT,
        name="Branch",
        trigger="app/x",
        workflow=workflow(
            [
                action("cond", "builtin:if", condition="event.data.amount > 100"),
                action("big", "mark"),
                action("small", "mark"),
            ],
            [
                edge("$source", "cond"),
                edge("cond", "big", {"type": "if", "ref": "!ref($.output.result)"}, name="True"),
                edge("cond", "small", {"type": "else", "ref": "!ref($.output.result)"}, name="False"),
            ],
        ),
    )
    await kit.send(TENANT, {"name": "app/x", "data": {"amount": 500}})
    await kit.send(TENANT, {"name": "app/x", "data": {"amount": 5}})
    await worker.idle()
    runs = await runs_of(kit, wf.id)
    outputs = {r.event["data"]["amount"]: (r.status, r.output) for r in runs}
    assert outputs == {
        500: (RunStatus.COMPLETED, {"cond": {"result": True}, "big": "big"}),
        5: (RunStatus.COMPLETED, {"cond": {"result": False}, "small": "small"}),
    }


# -- retries ---------------------------------------------------------------------------------------


async def test_a_failing_step_retries_with_its_own_counter(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    failures = {"first": 2, "second": 3}
    attempts_seen: list[int] = []

    def flaky(name: str) -> str:
        if failures[name]:
            failures[name] -= 1
            raise TimeoutError(f"{name} timed out")
        return name

    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> list[str]:
        attempts_seen.append(ctx.attempt)
        return [ctx.step.run("first", flaky, "first"), ctx.step.run("second", flaky, "second")]

    wf = kit.workflows.create_sync(TENANT, name="Flaky", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await settle(worker, clock)
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"a": ["first", "second"]}
    first, second = steps_of(run)
    assert (first.status, second.status) == (StepStatus.COMPLETED, StepStatus.COMPLETED)
    assert [a.error.name if a.error else None for a in first.attempts] == ["TimeoutError", "TimeoutError", None]
    assert [a.error.name if a.error else None for a in second.attempts] == [
        "TimeoutError",
        "TimeoutError",
        "TimeoutError",
        None,
    ]
    assert first.attempts[0].error is not None and first.attempts[0].error.message == "first timed out"
    assert attempts_seen == [0, 1, 2, 1, 2, 3]  # ctx.attempt follows the step being retried
    assert len(run.action("a").attempts) == 1  # type: ignore[union-attr]  # the action itself never failed


async def test_an_exhausted_step_fails_the_run(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.run("charge", lambda: 1 / 0)

    wf = kit.workflows.create_sync(TENANT, name="Broken", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await settle(worker, clock)
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.FAILED
    assert run.error == {"name": "ZeroDivisionError", "message": "division by zero", "action": "a", "step": "charge"}
    [charge] = steps_of(run)
    assert charge.status == StepStatus.FAILED
    assert len(charge.attempts) == 5  # 1 + 4 retries
    assert all(a.error is not None and a.error.name == "ZeroDivisionError" for a in charge.attempts)
    record = run.action("a")
    assert record is not None and record.status == ActionStatus.FAILED
    assert len(record.attempts) == 1  # StepError is not retried at the action level


async def test_non_retriable_error_fails_at_once(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    def refuse() -> None:
        raise NonRetriableError("card declined")

    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.run("charge", refuse)

    wf = kit.workflows.create_sync(TENANT, name="Pay", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await settle(worker, clock)
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.FAILED
    assert run.error == {"name": "NonRetriableError", "message": "card declined", "action": "a", "step": "charge"}
    assert len(steps_of(run)[0].attempts) == 1


async def test_retry_after_error_reschedules_at_its_time(kit: WorkflowKit, clock: VirtualClock) -> None:
    start = clock.now_ms()
    kit2 = WorkflowKit(database_url=kit.database_url, retry_policy=RetryPolicy(jitter_ms=0), clock=clock)
    tries: list[int] = []

    @kit2.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        def call() -> str:
            tries.append(clock.now_ms())
            if len(tries) == 1:
                raise RetryAfterError("rate limited", timedelta(seconds=90))
            return "ok"

        return str(ctx.step.run("call", call))

    try:
        wf = kit2.workflows.create_sync(TENANT, name="Limited", trigger="app/x", workflow=ONE_ACTION)
        async with kit2.worker(poll_ms=50) as w:
            await kit2.send(TENANT, {"name": "app/x"})
            await w.idle()
            run = await only_run(kit2, wf.id)
            assert run.status == RunStatus.SLEEPING
            [step] = steps_of(run)
            assert (step.status, step.wake_at) == (StepStatus.RETRYING, start + 90 * SECOND)

            clock.advance_to(start + 90 * SECOND - 1)
            await w.idle()
            assert len(tries) == 1

            clock.advance_to(start + 90 * SECOND)
            await w.idle()
            run = await kit2.runs.get(TENANT, run.id)
            assert run.status == RunStatus.COMPLETED, run.error
            assert run.output == {"a": "ok"}
            first, second = steps_of(run)[0].attempts
            assert first.error is not None and first.error.name == "RetryAfterError"
            assert second.started_at - first.started_at == 90 * SECOND
            assert tries == [start, start + 90 * SECOND]
    finally:
        await close_kit(kit2)


async def test_workflow_setting_retries_zero_gives_one_attempt(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.run("flaky", lambda: 1 / 0)

    @kit.action(kind="raw")
    def raw(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise ValueError("handler failed")

    in_step = kit.workflows.create_sync(
        TENANT, name="Step", trigger="app/x", workflow=ONE_ACTION, settings={"retries": 0}
    )
    in_handler = kit.workflows.create_sync(
        TENANT,
        name="Handler",
        trigger="app/x",
        workflow=workflow([action("r", "raw")], [edge("$source", "r")]),
        settings={"retries": 0},
    )
    await kit.send(TENANT, {"name": "app/x"})
    await settle(worker, clock)
    run = await only_run(kit, in_step.id)
    assert run.status == RunStatus.FAILED
    assert run.error is not None and run.error["step"] == "flaky"
    assert len(steps_of(run)[0].attempts) == 1
    run = await only_run(kit, in_handler.id)
    assert run.status == RunStatus.FAILED
    assert run.error == {"name": "ValueError", "message": "handler failed", "action": "r"}
    assert len(run.action("r").attempts) == 1  # type: ignore[union-attr]


async def test_default_backoff_schedule_on_the_virtual_clock(kit: WorkflowKit, clock: VirtualClock) -> None:
    start = clock.now_ms()
    kit2 = WorkflowKit(database_url=kit.database_url, retry_policy=RetryPolicy(jitter_ms=0), clock=clock)
    tries: list[int] = []

    def fail() -> None:
        tries.append(clock.now_ms())
        raise ConnectionError("down")

    @kit2.action(kind="work")
    async def work(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        await ctx.step.run("call", fail)

    try:
        wf = kit2.workflows.create_sync(TENANT, name="Backoff", trigger="app/x", workflow=ONE_ACTION)
        async with kit2.worker(poll_ms=50) as w:
            await kit2.send(TENANT, {"name": "app/x"})
            await w.idle()
            expected = [start]
            for backoff in (15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE):
                run = await only_run(kit2, wf.id)
                assert run.status == RunStatus.SLEEPING
                [step] = steps_of(run)
                assert step.status == StepStatus.RETRYING
                assert step.wake_at == expected[-1] + backoff
                clock.advance_to(expected[-1] + backoff - 1)
                await w.idle()
                assert tries == expected  # not retried early
                clock.advance_to(expected[-1] + backoff)
                await w.idle()
                expected.append(expected[-1] + backoff)
                assert tries == expected
            run = await only_run(kit2, wf.id)
            assert run.status == RunStatus.FAILED
            assert run.error == {"name": "ConnectionError", "message": "down", "action": "a", "step": "call"}
            assert [a.started_at for a in steps_of(run)[0].attempts] == [
                start,
                start + 15 * SECOND,
                start + 45 * SECOND,
                start + 105 * SECOND,
                start + 225 * SECOND,
            ]
    finally:
        await close_kit(kit2)


# -- versions and determinism ----------------------------------------------------------------------


async def test_an_in_flight_run_keeps_its_version(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    @kit.action(kind="tag")
    def tag(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        return str(inputs["label"])

    v1 = workflow(
        [action("nap", "builtin:sleep", duration="1h"), action("first", "tag", label="v1")],
        [edge("$source", "nap"), edge("nap", "first")],
    )
    v2 = workflow([action("second", "tag", label="v2")], [edge("$source", "second")])
    wf = kit.workflows.create_sync(TENANT, name="Versioned", trigger="app/x", workflow=v1)
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    old = await only_run(kit, wf.id)
    assert (old.status, old.version) == (RunStatus.SLEEPING, 1)

    assert kit.workflows.update_sync(TENANT, wf.id, workflow=v2, publish=True).published_version == 2
    clock.advance(timedelta(hours=1))
    await worker.idle()
    old = await kit.runs.get(TENANT, old.id)
    assert old.status == RunStatus.COMPLETED, old.error
    assert old.version == 1
    assert old.output == {"nap": None, "first": "v1"}
    assert [a.id for a in old.actions] == ["nap", "first"]

    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    new = next(r for r in await runs_of(kit, wf.id) if r.id != old.id)
    assert new.status == RunStatus.COMPLETED, new.error
    assert new.version == 2
    assert new.output == {"second": "v2"}


async def test_changed_step_ids_on_replay_fail_with_non_determinism_error(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    invocations: list[int] = []

    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        invocations.append(1)
        ctx.step.run("first" if len(invocations) == 1 else "renamed", lambda: 1)
        ctx.step.sleep("nap", "1m")

    wf = kit.workflows.create_sync(TENANT, name="Fickle", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    assert (await only_run(kit, wf.id)).status == RunStatus.SLEEPING
    clock.advance(timedelta(minutes=1))
    await worker.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.FAILED
    assert run.error is not None
    assert run.error["name"] == "NonDeterminismError"
    assert run.error["action"] == "a"
    assert "'renamed'" in run.error["message"] and "'first'" in run.error["message"]
    assert len(invocations) == 2


# -- system events ---------------------------------------------------------------------------------


async def test_a_failed_run_emits_run_failed(kit: WorkflowKit, worker: Worker) -> None:
    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise NonRetriableError("boom")

    register_echo(kit)
    failing = kit.workflows.create_sync(TENANT, name="Fails", trigger="app/x", workflow=ONE_ACTION)
    alert = kit.workflows.create_sync(
        TENANT,
        name="Alert",
        trigger="workflow/run.failed",
        workflow=workflow([action("e", "echo")], [edge("$source", "e")]),
    )
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    failed = await only_run(kit, failing.id)
    assert failed.status == RunStatus.FAILED
    notice = await only_run(kit, alert.id)
    assert notice.status == RunStatus.COMPLETED, notice.error
    assert notice.event["name"] == "workflow/run.failed"
    data = notice.event["data"]
    assert data["run_id"] == failed.id
    assert data["workflow_id"] == failing.id
    assert data["error"] == {"name": "NonRetriableError", "message": "boom", "action": "a"}
    assert notice.output["e"]["data"]["run_id"] == failed.id


async def test_a_completed_run_emits_run_completed(kit: WorkflowKit, worker: Worker) -> None:
    register_mark(kit)
    register_echo(kit)
    done = kit.workflows.create_sync(
        TENANT, name="Done", trigger="app/x", workflow=workflow([action("m", "mark")], [edge("$source", "m")])
    )
    audit = kit.workflows.create_sync(
        TENANT,
        name="Audit",
        trigger={"event": "workflow/run.completed", "if": f"event.data.workflow_id == '{done.id}'"},
        workflow=workflow([action("e", "echo")], [edge("$source", "e")]),
    )
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    completed = await only_run(kit, done.id)
    assert completed.status == RunStatus.COMPLETED
    entry = await only_run(kit, audit.id)
    assert entry.status == RunStatus.COMPLETED, entry.error
    assert entry.event["name"] == "workflow/run.completed"
    assert entry.event["data"]["run_id"] == completed.id
    assert entry.event["data"]["workflow_id"] == done.id
    assert "error" not in entry.event["data"]
    assert await kit.runs.list("other-tenant") == []


async def test_chains_of_system_events_go_ten_links_deep_then_stop(kit: WorkflowKit, worker: Worker) -> None:
    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise NonRetriableError("boom")

    register_echo(kit)
    echo_one = workflow([action("e", "echo")], [edge("$source", "e")])
    chain = [kit.workflows.create_sync(TENANT, name="w0", trigger="app/chain", workflow=echo_one)]
    for n in range(1, 6):  # each link reacts to the end of the one before
        trigger = {"event": "workflow/run.completed", "if": f"event.data.workflow_id == '{chain[-1].id}'"}
        chain.append(kit.workflows.create_sync(TENANT, name=f"w{n}", trigger=trigger, workflow=echo_one))
    # A workflow that fails on every failure, its own included: a loop the depth guard ends.
    failing = kit.workflows.create_sync(TENANT, name="Fails", trigger="app/x", workflow=ONE_ACTION)
    looping = kit.workflows.create_sync(TENANT, name="Loops", trigger="workflow/run.failed", workflow=ONE_ACTION)
    await kit.send(TENANT, [{"name": "app/chain"}, {"name": "app/x"}])
    await worker.idle()
    for link in chain:
        assert [r.status for r in await kit.runs.list(TENANT, workflow_id=link.id)] == [RunStatus.COMPLETED]
    loops = await kit.runs.list(TENANT, workflow_id=looping.id)
    assert len(loops) == MAX_SYSTEM_DEPTH  # one per link after the first failure, then no more events
    assert {r.status for r in loops} == {RunStatus.FAILED}
    assert len(await kit.runs.list(TENANT, workflow_id=failing.id)) == 1


async def test_a_run_waiting_for_another_runs_end_resumes_when_it_completes(kit: WorkflowKit, worker: Worker) -> None:
    """System events are received like any other: a wait for ``workflow/run.completed`` is resolved by
    the end of the run it matches, not by the other runs that complete meanwhile."""
    register_mark(kit)
    chain_of_one = workflow([action("m", "mark")], [edge("$source", "m")])
    kit.workflows.create_sync(TENANT, name="Other", trigger="app/x", workflow=chain_of_one)
    later = kit.workflows.create_sync(TENANT, name="Later", trigger="app/late", workflow=chain_of_one)

    @kit.action(kind="follow")
    async def follow(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        condition = "async.data.trigger == event.data.trigger"
        return await ctx.step.wait_for_event("ended", event="workflow/run.completed", if_exp=condition, timeout="1d")

    following = workflow([action("f", "follow")], [edge("$source", "f")])
    follower = kit.workflows.create_sync(TENANT, name="Follower", trigger="app/follow", workflow=following)
    await kit.send(TENANT, {"name": "app/follow", "data": {"trigger": "app/late"}})
    await worker.idle()
    waiting = await only_run(kit, follower.id)
    assert waiting.status == RunStatus.WAITING
    await kit.send(TENANT, {"name": "app/x"})  # another run completes: not the one waited for
    await worker.idle()
    assert (await kit.runs.get(TENANT, waiting.id)).status == RunStatus.WAITING

    await kit.send(TENANT, {"name": "app/late"})
    await worker.idle()
    ended = await only_run(kit, later.id)
    resumed = await kit.runs.get(TENANT, waiting.id)
    assert resumed.status == RunStatus.COMPLETED, resumed.error
    got = resumed.output["f"]
    assert got["name"] == "workflow/run.completed"
    assert got["data"]["run_id"] == ended.id and got["data"]["workflow_id"] == later.id


# -- durability and concurrency --------------------------------------------------------------------


async def test_a_parked_run_is_finished_by_a_fresh_kit_and_worker(kit: WorkflowKit, clock: VirtualClock) -> None:
    def register(target: WorkflowKit, calls: list[str]) -> None:
        @target.action(kind="work")
        def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
            loaded = ctx.step.run("load", counted(calls, "load", {"id": ctx.event["data"]["id"]}))
            ctx.step.sleep("nap", "1h")
            saved = ctx.step.run("save", counted(calls, "save", loaded["id"] + 1))
            return {"loaded": loaded, "saved": saved}

    first_calls: list[str] = []
    register(kit, first_calls)
    wf = kit.workflows.create_sync(TENANT, name="Durable", trigger="app/x", workflow=ONE_ACTION)
    async with kit.worker(poll_ms=50) as w1:
        await kit.send(TENANT, {"name": "app/x", "data": {"id": 41}})
        await w1.idle()
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.SLEEPING
    assert first_calls == ["load"]

    clock.advance(timedelta(hours=1))
    second_calls: list[str] = []
    kit2 = WorkflowKit(database_url=kit.database_url, clock=clock)
    register(kit2, second_calls)
    try:
        async with kit2.worker(poll_ms=50) as w2:
            await w2.idle()
        run = await kit2.runs.get(TENANT, run.id)
        assert run.status == RunStatus.COMPLETED, run.error
        assert run.output == {"a": {"loaded": {"id": 41}, "saved": 42}}
        assert second_calls == ["save"]  # "load" came from the database, not recomputed
        assert first_calls == ["load"]
    finally:
        await close_kit(kit2)


async def test_independent_async_branches_run_concurrently(kit: WorkflowKit, worker: Worker) -> None:
    meeting = asyncio.Barrier(2)

    @kit.action(kind="meet")
    async def meet(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        async def body() -> str:
            try:
                async with asyncio.timeout(10):  # run one after the other, the first would wait here alone
                    await meeting.wait()
            except TimeoutError:
                return "alone"
            return ctx.action.id

        return str(await ctx.step.run("meet", body))

    wf = kit.workflows.create_sync(
        TENANT,
        name="Parallel",
        trigger="app/x",
        workflow=workflow([action("l", "meet"), action("r", "meet")], [edge("$source", "l"), edge("$source", "r")]),
    )
    await worker.idle()  # the worker is up and idle before the stopwatch starts
    began = time.perf_counter()
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    elapsed = time.perf_counter() - began
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"l": "l", "r": "r"}, "the two step bodies were not executing at the same time"
    # End to end (send, claim, two steps, finish) on a loaded CI machine: generous.
    assert elapsed < 1.5, f"two branches that meet took {elapsed:.3f} s through the worker"


# -- limits ----------------------------------------------------------------------------------------


async def test_a_step_output_over_4_mb_fails_the_run(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.run("big", lambda: "x" * (4 * 1024 * 1024 + 1))

    wf = kit.workflows.create_sync(TENANT, name="Huge", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await settle(worker, clock)
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.FAILED
    assert run.error is not None
    assert run.error["name"] == "LimitExceededError"
    assert "4 MB" in run.error["message"] and "'big'" in run.error["message"]
    assert run.error["action"] == "a" and run.error["step"] == "big"
    [big] = steps_of(run)
    assert big.status == StepStatus.FAILED and big.output is None
    assert len(big.attempts) == 1  # a limit is not retried


async def test_a_stopped_worker_holds_no_database_connection(kit: WorkflowKit) -> None:
    """``async with kit.worker(): ...`` then ``kit.close()`` must not leak a connection; a stopped
    worker must not leave a thread using the database. (The group-commit writer keeps one connection
    while it has work and gives it back to the pool once idle.)"""
    pool = kit.db.engine.pool
    try:
        for _ in range(10):
            async with kit.worker(poll_ms=50) as w:
                await w.idle()
            deadline = asyncio.get_running_loop().time() + 2
            while pool.checkedout() and asyncio.get_running_loop().time() < deadline:  # type: ignore[attr-defined]
                await asyncio.sleep(0.01)
            assert pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await close_kit(kit)


# -- handled step errors, retry settings and backoff, system events, limits, invoke timeouts ----------


async def test_invoke_of_another_tenants_workflow_fails_and_starts_nothing_there(
    kit: WorkflowKit, worker: Worker
) -> None:
    register_doubler(kit)
    theirs = kit.workflows.create_sync("other-tenant", name="Child", trigger="app/child", workflow=CHILD)

    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return ctx.step.invoke("call", workflow_id=theirs.id, data={"n": 1})

    mine = kit.workflows.create_sync(TENANT, name="Parent", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    run = await only_run(kit, mine.id)
    assert run.status == RunStatus.FAILED
    assert run.error is not None and run.error["step"] == "call" and theirs.id in run.error["message"]
    assert await kit.runs.list("other-tenant") == []


async def test_a_step_error_caught_by_the_handler_lets_the_run_complete(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    """The exhausted step's StepError is replayed from its record into the handler, which handles it."""
    bodies: list[int] = []

    def broken() -> None:
        bodies.append(1)
        raise ValueError("kaput")

    @kit.action(kind="work")
    async def work(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, str]:
        try:
            await ctx.step.run("b", broken)
        except StepError as exc:
            return {"caught": exc.message}
        return {"caught": "nothing"}

    wf = kit.workflows.create_sync(TENANT, name="Careful", trigger="app/x", workflow=ONE_ACTION)
    await kit.send(TENANT, {"name": "app/x"})
    await settle(worker, clock)
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"a": {"caught": "kaput"}}
    assert len(bodies) == 5  # 1 + the default 4 retries
    [step] = steps_of(run)
    assert step.status == StepStatus.FAILED and len(step.attempts) == 5


@pytest.mark.parametrize("retries", [2, 20])
async def test_the_workflow_setting_retries_gives_that_many_retries(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock, retries: int
) -> None:
    bodies: list[int] = []

    @kit.action(kind="work")
    def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        ctx.step.run("flaky", lambda: bodies.append(1) or 1 / 0)

    wf = kit.workflows.create_sync(
        TENANT, name="Retries", trigger="app/x", workflow=ONE_ACTION, settings={"retries": retries}
    )
    await kit.send(TENANT, {"name": "app/x"})
    await settle(worker, clock)
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.FAILED
    assert len(bodies) == retries + 1
    assert len(steps_of(run)[0].attempts) == retries + 1


async def test_a_handler_retry_runs_no_earlier_action_again(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    calls: list[str] = []

    @kit.action(kind="first")
    def first(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        calls.append("first")
        return "one"

    @kit.action(kind="shaky")
    def shaky(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
        calls.append("shaky")
        if calls.count("shaky") <= 2:
            raise RuntimeError(f"attempt {calls.count('shaky')} failed")
        return calls.count("shaky")

    wf = kit.workflows.create_sync(
        TENANT,
        name="Shaky",
        trigger="app/x",
        workflow=workflow([action("f", "first"), action("s", "shaky")], [edge("$source", "f"), edge("f", "s")]),
    )
    await kit.send(TENANT, {"name": "app/x"})
    await settle(worker, clock)
    run = await only_run(kit, wf.id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output == {"f": "one", "s": 3}
    assert calls == ["first", "shaky", "shaky", "shaky"]
    assert len(run.action("s").attempts) == 3  # type: ignore[union-attr]


async def test_the_default_backoff_grows_to_two_hours_with_jitter(kit: WorkflowKit, clock: VirtualClock) -> None:
    """Inngest's schedule, 12 retries deep: each wait is the schedule's step plus up to 30 s of jitter,
    and from the tenth retry on it stays at two hours."""
    kit2 = WorkflowKit(database_url=kit.database_url, retry_policy=RetryPolicy(), clock=clock)
    tries: list[int] = []

    @kit2.action(kind="work")
    async def work(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        await ctx.step.run("call", lambda: tries.append(clock.now_ms()) or 1 / 0)

    schedule = [15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200, 7200, 7200]
    try:
        wf = kit2.workflows.create_sync(
            TENANT, name="Backoff", trigger="app/x", workflow=ONE_ACTION, settings={"retries": len(schedule)}
        )
        async with kit2.worker(poll_ms=50) as w:
            await kit2.send(TENANT, {"name": "app/x"})
            jitters = []
            for number, base in enumerate(schedule, start=1):
                await w.idle()
                assert len(tries) == number
                [step] = steps_of(await only_run(kit2, wf.id))
                assert step.status == StepStatus.RETRYING and step.wake_at is not None
                wait = step.wake_at - clock.now_ms()
                assert base * SECOND <= wait <= base * SECOND + 30 * SECOND, (number, wait)
                jitters.append(wait - base * SECOND)
                clock.advance_to(step.wake_at)
            await w.idle()
            run = await only_run(kit2, wf.id)
        assert run.status == RunStatus.FAILED
        assert len(tries) == len(schedule) + 1
        assert len(set(jitters)) > 1  # random, not a constant
    finally:
        await close_kit(kit2)


async def test_system_events_reach_only_the_runs_tenant(kit: WorkflowKit, worker: Worker) -> None:
    register_mark(kit)
    register_echo(kit)
    mark_one = workflow([action("m", "mark")], [edge("$source", "m")])
    done = kit.workflows.create_sync(TENANT, name="Done", trigger="app/x", workflow=mark_one)
    own = kit.workflows.create_sync("spy-tenant", name="Own", trigger="app/x", workflow=mark_one)
    # the spy listens to the end of both: its own tenant's workflow (the control) and the other's
    spy = kit.workflows.create_sync(
        "spy-tenant",
        name="Spy",
        trigger={"event": "workflow/run.completed", "if": f"event.data.workflow_id in ['{done.id}', '{own.id}']"},
        workflow=workflow([action("e", "echo")], [edge("$source", "e")]),
    )
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    assert (await only_run(kit, done.id)).status == RunStatus.COMPLETED
    assert await kit.runs.list("spy-tenant", workflow_id=spy.id) == []
    await kit.send("spy-tenant", {"name": "app/x"})
    await worker.idle()
    [seen] = await kit.runs.list("spy-tenant", workflow_id=spy.id)
    assert seen.event["data"]["workflow_id"] == own.id


async def test_an_action_output_over_4_mb_fails_the_run_and_a_3_mb_step_output_is_kept(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    @kit.action(kind="huge")
    def huge(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        return "x" * (4 * 1024 * 1024 + 100)

    @kit.action(kind="large")
    def large(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
        return len(ctx.step.run("big", lambda: "x" * (3 * 1024 * 1024)))

    too_big = kit.workflows.create_sync(
        TENANT, name="Huge", trigger="app/x", workflow=workflow([action("h", "huge")], [edge("$source", "h")])
    )
    fine = kit.workflows.create_sync(
        TENANT, name="Large", trigger="app/x", workflow=workflow([action("l", "large")], [edge("$source", "l")])
    )
    await kit.send(TENANT, {"name": "app/x"})
    await settle(worker, clock)
    failed = await only_run(kit, too_big.id)
    assert failed.status == RunStatus.FAILED
    assert failed.error is not None and "4 MB" in failed.error["message"] and failed.error["action"] == "h"
    kept = await only_run(kit, fine.id)
    assert kept.status == RunStatus.COMPLETED, kept.error
    assert kept.output == {"l": 3 * 1024 * 1024}
    assert len(steps_of(kept, "l")[0].output) == 3 * 1024 * 1024


async def test_1000_steps_are_allowed_and_the_limit_counts_the_whole_run(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    @kit.action(kind="many")
    async def many(ctx: ActionContext, inputs: dict[str, Any]) -> int:
        for i in range(int(ctx.event["data"]["n"])):
            await ctx.step.run(f"s{i}", lambda i=i: i)
        return int(ctx.event["data"]["n"])

    one = kit.workflows.create_sync(
        TENANT, name="One", trigger="app/one", workflow=workflow([action("a", "many")], [edge("$source", "a")])
    )
    two = kit.workflows.create_sync(
        TENANT,
        name="Two",
        trigger="app/two",
        workflow=workflow([action("a", "many"), action("b", "many")], [edge("$source", "a"), edge("a", "b")]),
    )
    await kit.send(TENANT, [{"name": "app/one", "data": {"n": 1000}}, {"name": "app/two", "data": {"n": 600}}])
    await settle(worker, clock)
    allowed = await only_run(kit, one.id)
    assert allowed.status == RunStatus.COMPLETED, allowed.error
    assert allowed.output == {"a": 1000}
    over = await only_run(kit, two.id)
    assert over.status == RunStatus.FAILED
    assert over.error is not None and "1000 steps" in over.error["message"] and over.error["action"] == "b"


async def test_builtin_invoke_with_a_timeout_fails_when_the_child_takes_longer(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    start = clock.now_ms()
    child = kit.workflows.create_sync(
        TENANT,
        name="Slow child",
        trigger="app/child",
        workflow=workflow([action("nap", "builtin:sleep", duration="1h")], [edge("$source", "nap")]),
    )
    parent = kit.workflows.create_sync(
        TENANT,
        name="Parent",
        trigger="app/x",
        workflow=workflow(
            [action("call", "builtin:invoke", workflow_id=child.id, timeout="1m")], [edge("$source", "call")]
        ),
    )
    await kit.send(TENANT, {"name": "app/x"})
    await worker.idle()
    assert (await only_run(kit, parent.id)).status == RunStatus.WAITING
    clock.advance_to(start + MINUTE)
    await worker.idle()
    run = await only_run(kit, parent.id)
    assert run.status == RunStatus.FAILED
    assert run.error is not None and run.error["action"] == "call" and "timed out" in run.error["message"]
