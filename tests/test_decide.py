"""Deciding received events before their write transaction (`runtime/lifecycle/decide.py`), on both
databases: one tenant's costly conditions do not slow another tenant's events, no expression a tenant
controls is evaluated in the writer's transaction, and what changed between the decision and the write
is re-checked."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from helpers import action, edge, workflow

from workflow_kit import ActionContextSync, WorkflowKit, expressions
from workflow_kit.runtime.lifecycle.decide import DecideFirst, decide
from workflow_kit.runtime.lifecycle.effects import Context
from workflow_kit.runtime.lifecycle.settle import receive, receive_at_once
from workflow_kit.runtime.storage.writer import WriteJob
from workflow_kit.runtime.worker.loop import Worker

A, B = "tenant-a", "tenant-b"


@pytest.fixture(autouse=True)
def _actions(kit: WorkflowKit) -> None:
    @kit.action(kind="noop")
    def noop(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        return None


def one_step() -> dict[str, Any]:
    return workflow([action("n", "noop")], [edge("$source", "n")])


async def start_waiting_for_approval(kit: WorkflowKit, worker: Worker) -> None:
    """Tenant A's run waits for "app/approved" whose ``id`` is 7 (a wait with a condition)."""
    waiting = workflow(
        [action("w", "builtin:wait_for_event", event="app/approved", timeout="1d", **{"if": "async.data.id == 7"})],
        [edge("$source", "w")],
    )
    kit.workflows.create_sync(A, name="waits", trigger="app/start", workflow=waiting)
    await kit.send(A, {"name": "app/start", "data": {}})
    await worker.idle()


HELD = "event.data.n > 0"
"""Tenant A's condition: its evaluation waits at a gate in the test below."""


def test_a_tenants_condition_being_evaluated_holds_up_no_other_tenant(kit: WorkflowKit) -> None:
    """The scenario of issue 20 (a tenant's costly filter), made exact: tenant A's condition is held in
    the middle of its evaluation; meanwhile tenant B's events, and A's own events that reach no
    condition, are received and start their runs. Then A's evaluation ends and its event starts its
    run. (How long B waits under a real flood is measured by bench/fairness.py.)"""
    kit.workflows.create_sync(A, name="costly", trigger={"event": "app/flood", "if": HELD}, workflow=one_step())
    kit.workflows.create_sync(A, name="plain", trigger="app/plain", workflow=one_step())
    kit.workflows.create_sync(B, name="orders", trigger="app/order", workflow=one_step())
    inside, release = threading.Event(), threading.Event()
    original = expressions._evaluate

    def gated(source: Any, scope: expressions.Activation) -> Any:
        if getattr(source, "source", source) == HELD:
            inside.set()
            assert release.wait(timeout=60), "the test never opened the gate"
        return original(source, scope)

    expressions._evaluate = gated  # type: ignore[assignment]
    try:
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(kit.send_sync, A, {"name": "app/flood", "data": {"n": 1}})
            assert inside.wait(timeout=60), "tenant A's condition was never evaluated"
            kit.send_sync(B, [{"name": "app/order", "data": {"n": n}} for n in range(3)])
            kit.send_sync(A, {"name": "app/plain", "data": {}})
            assert not held.done(), "tenant A's send ended while its condition was held"
            assert len(kit.runs.list_sync(B)) == 3 and len(kit.runs.list_sync(A)) == 1
            release.set()
            held.result(timeout=60)
    finally:
        release.set()
        expressions._evaluate = original  # type: ignore[assignment]
    assert len(kit.runs.list_sync(A)) == 2


@pytest.fixture
def evaluated_in() -> Iterator[list[str]]:
    """The names of the threads that evaluate expressions (cached results are not evaluations)."""
    names: list[str] = []
    original = expressions._evaluate

    def spy(source: Any, scope: expressions.Activation) -> Any:
        names.append(threading.current_thread().name)
        return original(source, scope)

    expressions._evaluate = spy  # type: ignore[assignment]
    yield names
    expressions._evaluate = original  # type: ignore[assignment]


async def test_no_expression_of_a_tenant_runs_in_the_write_transaction(
    kit: WorkflowKit, worker: Worker, evaluated_in: list[str]
) -> None:
    """Trigger conditions, flow-control keys and priorities, and wait conditions are all evaluated
    before the writer's transaction, never in its threads."""
    await start_waiting_for_approval(kit, worker)
    settings = {
        "singleton": {"key": "event.data.id", "mode": "skip"},
        "concurrency": [{"limit": 2, "key": "event.data.id"}],
        "priority": {"run": "event.data.id * 2"},
        "throttle": {"limit": 10, "period": "1m", "key": "event.data.id"},
    }
    trigger = {"event": "app/approved", "if": "event.data.id > 5"}
    kit.workflows.create_sync(A, name="controlled", trigger=trigger, workflow=one_step(), settings=settings)
    evaluated_in.clear()

    await kit.send(A, [{"name": "app/approved", "data": {"id": 7}}, {"name": "app/approved", "data": {"id": 3}}])
    await worker.idle()

    assert evaluated_in, "nothing was evaluated: the test proves nothing"
    assert not [name for name in evaluated_in if name.startswith("workflow-kit-writer")], evaluated_in
    statuses = sorted(run.status.value for run in await kit.runs.list(A))
    assert statuses == ["completed", "completed"]  # the wait resolved (id 7), and one run started (id 7 > 5)


def test_a_workflow_disabled_between_the_decision_and_the_write_starts_nothing(kit: WorkflowKit) -> None:
    record = kit.workflows.create_sync(A, name="x", trigger={"event": "app/x", "if": "true"}, workflow=one_step())
    ctx = Context(kit.db.dialect, kit._settings)
    now = kit.clock.now_ms()
    events = [{"name": "app/x", "data": {}, "ts": now}]
    with kit.db.read() as conn:
        decided = decide(ctx, conn, A, events, now)
    kit.workflows.disable_sync(A, record.id)
    received = kit.db.writer.run(WriteJob(apply=lambda conn: receive(ctx, conn, A, events, now, decided=decided)))
    assert received.run_ids == [] and len(received.event_ids) == 1
    assert kit.runs.list_sync(A) == []


def test_a_workflow_published_between_the_decision_and_the_write_starts_nothing_for_it(kit: WorkflowKit) -> None:
    """An event is received when it is decided: a workflow enabled after that was not listening yet."""
    ctx = Context(kit.db.dialect, kit._settings)
    now = kit.clock.now_ms()
    events = [{"name": "app/x", "data": {}, "ts": now}]
    with kit.db.read() as conn:
        decided = decide(ctx, conn, A, events, now)
    kit.workflows.create_sync(A, name="x", trigger="app/x", workflow=one_step())
    received = kit.db.writer.run(WriteJob(apply=lambda conn: receive(ctx, conn, A, events, now, decided=decided)))
    assert received.run_ids == []
    kit.send_sync(A, {"name": "app/x", "data": {}})
    assert len(kit.runs.list_sync(A)) == 1


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tenants whose events were decided before their transaction, one entry per decision."""
    from workflow_kit.runtime.lifecycle import decide as module
    from workflow_kit.runtime.worker import journal

    tenants: list[str] = []
    original = module.decide

    def spy(ctx: Context, conn: Any, tenant: str, *args: Any, **kwargs: Any) -> Any:
        tenants.append(tenant)
        return original(ctx, conn, tenant, *args, **kwargs)

    monkeypatch.setattr(module, "decide", spy)  # the kit's sends look it up when they decide
    monkeypatch.setattr(journal, "decide", spy)  # a worker's steps' sends hold it from their import
    return tenants


def test_events_that_reach_no_expression_are_received_at_once(kit: WorkflowKit, decisions: list[str]) -> None:
    """A trigger without a condition, no flow-control key, no wait with a condition: nothing to decide,
    so the events go to the writer at once (no read before it)."""
    kit.workflows.create_sync(A, name="plain", trigger="app/plain", workflow=one_step())
    kit.send_sync(A, [{"name": "app/plain", "data": {"n": n}} for n in range(3)])
    assert decisions == []
    assert len(kit.runs.list_sync(A)) == 3


def test_events_that_reach_a_condition_are_decided_first_and_so_are_their_tenants_next_ones(
    kit: WorkflowKit, decisions: list[str], evaluated_in: list[str]
) -> None:
    """Received at once, the first event meets a trigger's condition: that write is undone before the
    condition is evaluated, and the event is decided first and received once. The tenant's next events
    are decided first without trying; another tenant's still go at once."""
    kit.workflows.create_sync(
        A, name="big", trigger={"event": "app/order", "if": "event.data.n > 5"}, workflow=one_step()
    )
    kit.workflows.create_sync(B, name="plain", trigger="app/order", workflow=one_step())

    first = kit.send_sync(A, [{"name": "app/order", "data": {"n": 9}}, {"name": "app/order", "data": {"n": 1}}])
    assert decisions == [A]
    assert [event.id for event in kit.events.list_sync(A)] == list(reversed(first))  # each received once
    assert len(kit.runs.list_sync(A)) == 1  # n > 5 for one of them
    assert evaluated_in and not [name for name in evaluated_in if name.startswith("workflow-kit-writer")]

    kit.send_sync(A, {"name": "app/order", "data": {"n": 7}})
    kit.send_sync(B, {"name": "app/order", "data": {"n": 7}})
    assert decisions == [A, A]
    assert len(kit.runs.list_sync(A)) == 2 and len(kit.runs.list_sync(B)) == 1


async def test_an_event_that_reaches_a_wait_with_a_condition_is_decided_first(
    kit: WorkflowKit, worker: Worker, decisions: list[str], evaluated_in: list[str]
) -> None:
    await start_waiting_for_approval(kit, worker)
    assert decisions == []

    await kit.send(A, [{"name": "app/approved", "data": {"id": 3}}, {"name": "app/approved", "data": {"id": 7}}])
    await worker.idle()
    assert decisions == [A]
    assert not [name for name in evaluated_in if name.startswith("workflow-kit-writer")], evaluated_in
    (run,) = await kit.runs.list(A)
    assert run.status.value == "completed"
    received = [event.name for event in await kit.events.list(A) if not event.name.startswith("workflow/")]
    assert sorted(received) == ["app/approved", "app/approved", "app/start"]  # once each


async def test_an_undone_write_among_others_in_one_batch_loses_none_of_theirs(kit: WorkflowKit) -> None:
    """Tenant A's events need deciding, B's do not; sent together, they share the writer's batches: A's
    first try writes nothing and fails nothing else, and every event is received once."""
    kit.workflows.create_sync(
        A, name="big", trigger={"event": "app/order", "if": "event.data.n > 5"}, workflow=one_step()
    )
    kit.workflows.create_sync(B, name="plain", trigger="app/order", workflow=one_step())
    sends = [kit.send(B, {"name": "app/order", "data": {"n": n}}) for n in range(10)]
    sends.insert(5, kit.send(A, [{"name": "app/order", "data": {"n": n}} for n in range(4, 8)]))
    await asyncio.gather(*sends)
    assert len(await kit.events.list(B)) == 10 and len(await kit.runs.list(B)) == 10
    assert len(await kit.events.list(A)) == 4 and len(await kit.runs.list(A)) == 2


def test_a_tenant_is_decided_first_for_a_while_and_few_are_remembered() -> None:
    first = DecideFirst(hold_ms=1000, size=2)
    assert not first("a", 0)
    first.needed("a", 0)
    assert first("a", 999) and not first("a", 1000) and not first("a", 1500)
    first.needed("a", 2000)
    first.needed("b", 2000)
    first.needed("c", 2000)  # the least recently needed ("a") is forgotten
    assert [first(t, 2500) for t in "abc"] == [False, True, True]


async def test_a_steps_events_go_at_once_unless_they_reach_an_expression(
    kit: WorkflowKit, worker: Worker, decisions: list[str], evaluated_in: list[str]
) -> None:
    """A ``send_event`` step's events take the same way as `kit.send`'s: at once while they reach no
    expression, decided first once they meet a trigger's condition."""
    sender = workflow([action("s", "builtin:send_event", name="app/next", data={"n": 2})], [edge("$source", "s")])
    kit.workflows.create_sync(A, name="sender", trigger="app/go", workflow=sender)
    kit.workflows.create_sync(A, name="next", trigger="app/next", workflow=one_step())
    await kit.send(A, {"name": "app/go", "data": {}})
    await worker.idle()
    assert decisions == []
    assert sorted(run.status.value for run in await kit.runs.list(A)) == ["completed", "completed"]

    kit.workflows.create_sync(
        A, name="picky", trigger={"event": "app/next", "if": "event.data.n > 1"}, workflow=one_step()
    )
    await kit.send(A, {"name": "app/go", "data": {}})
    await worker.idle()
    assert decisions == [A]  # the step's event, after its undone try
    assert not [name for name in evaluated_in if name.startswith("workflow-kit-writer")], evaluated_in
    assert len(await kit.runs.list(A)) == 5  # the second sender, its event's "next" and "picky"


def test_giving_up_writes_nothing_and_leaves_the_shared_transaction_as_it_was(kit: WorkflowKit) -> None:
    """Receiving at once gives up on A's events, the second of which meets a condition, before writing
    anything of them (not even the first, which meets none); B's writes before and after, in the same
    transaction, stay."""
    kit.workflows.create_sync(A, name="big", trigger={"event": "app/x", "if": "event.data.n > 5"}, workflow=one_step())
    kit.workflows.create_sync(A, name="plain", trigger="app/y", workflow=one_step())
    kit.workflows.create_sync(B, name="plain", trigger="app/x", workflow=one_step())
    ctx = Context(kit.db.dialect, kit._settings)
    now = kit.clock.now_ms()
    a_events = [{"name": "app/y", "data": {}, "ts": now}, {"name": "app/x", "data": {"n": 9}, "ts": now}]
    b_event = [{"name": "app/x", "data": {"n": 1}, "ts": now}]

    def together(conn: Any) -> list[Any]:
        return [receive_at_once(ctx, conn, *args, now) for args in ((B, b_event), (A, a_events), (B, b_event))]

    first, gave_up, last = kit.db.writer.run(WriteJob(apply=together))
    assert gave_up is None and first.run_ids and last.run_ids
    assert kit.events.list_sync(A) == [] and kit.runs.list_sync(A) == []
    assert len(kit.events.list_sync(B)) == 2 and len(kit.runs.list_sync(B)) == 2
