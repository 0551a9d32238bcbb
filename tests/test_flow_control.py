"""Flow control (runtime/lifecycle/flow.py, rules/admission.py and the worker): each workflow setting
enforced, on SQLite and PostgreSQL, with the virtual clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from helpers import action, edge, workflow

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.runtime.models import Run, RunStatus
from workflow_kit.runtime.rules.admission import debounce_due, fair_share, gcra
from workflow_kit.runtime.worker.journal import RunJournalStore
from workflow_kit.runtime.worker.loop import Worker
from workflow_kit.timeutil import VirtualClock

TENANT = "acme"
S = 1000


@pytest.fixture(autouse=True)
def executed(kit: WorkflowKit) -> list[Any]:
    """The data of each run's event, in the order the runs executed their first step."""
    order: list[Any] = []

    @kit.action(kind="record")
    async def record(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        order.append(ctx.event["data"])
        return {"data": ctx.event["data"], "events": [e["data"] for e in ctx.events]}

    return order


ONE_STEP = workflow([action("r", "record")], [edge("$source", "r")])
SLEEPY = workflow(
    [action("r", "record"), action("nap", "builtin:sleep", duration="1h")],
    [edge("$source", "r"), edge("r", "nap")],
)


def create(kit: WorkflowKit, settings: dict[str, Any], definition: dict[str, Any] = ONE_STEP) -> str:
    return kit.workflows.create_sync(TENANT, name="flow", trigger="app/go", workflow=definition, settings=settings).id


async def send(kit: WorkflowKit, *data: dict[str, Any]) -> list[str]:
    return await kit.send(TENANT, [{"name": "app/go", "data": d} for d in data])


async def runs(kit: WorkflowKit) -> list[Run]:
    """In the order they started (those not started last, by creation)."""
    found = await kit.runs.list(TENANT, limit=500)
    return sorted(found, key=lambda r: (r.started_at is None, r.started_at or r.created_at, r.created_at))


async def statuses(kit: WorkflowKit) -> list[str]:
    """Sorted: runs started by one send have no order among themselves until they start."""
    return sorted(run.status.value for run in await runs(kit))


def output_of(run: Run) -> Any:
    """The output of the run's `record` action (a finished run's output holds it too)."""
    if isinstance(run.output, dict):
        return run.output["r"]
    raise AssertionError(f"run {run.id} has not finished: {run.status}")


async def recorded(kit: WorkflowKit, run: Run) -> Any:
    """What the run's `record` action returned, finished or not."""
    [found] = [a for a in (await kit.runs.get(TENANT, run.id)).actions if a.id == "r"]
    return found.output


# -- pure decisions ---------------------------------------------------------------------------------------


def test_gcra_spreads_units_and_allows_bursts() -> None:
    tat: int | None = None
    starts = []
    for _ in range(4):  # 1 per 10 s, no burst: 0, 10, 20, 30 s
        start, tat = gcra(tat, 0, 10 * S, 0)
        starts.append(start)
    assert starts == [0, 10 * S, 20 * S, 30 * S]
    tat, starts = None, []
    for _ in range(4):  # a burst of 3, then the steady rate
        start, tat = gcra(tat, 0, 10 * S, 20 * S)
        starts.append(start)
    assert starts == [0, 0, 0, 10 * S]
    assert gcra(tat, 100 * S, 10 * S, 20 * S) == (100 * S, 110 * S)  # idle long enough: conforms again


def test_debounce_due() -> None:
    assert debounce_due(now=50, first_at=0, period=30, timeout=None) == 80
    assert debounce_due(now=50, first_at=0, period=30, timeout=60) == 60


# -- idempotency, rate limit --------------------------------------------------------------------------------


async def test_idempotency_one_run_per_key_per_day(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"idempotency": "event.data.order"})
    await send(kit, {"order": 1}, {"order": 1}, {"order": 2})
    await worker.idle()
    assert sorted(output_of(r)["data"]["order"] for r in await runs(kit)) == [1, 2]
    clock.advance(timedelta(hours=23))
    await send(kit, {"order": 1})
    assert len(await runs(kit)) == 2
    clock.advance(timedelta(hours=1, seconds=1))
    await send(kit, {"order": 1})
    await worker.idle()
    assert len(await runs(kit)) == 3
    assert len(kit.events.list_sync(TENANT, name="app/go", limit=100)) == 5  # every event is stored


async def test_rate_limit_drops_events_over_the_limit(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"rate_limit": {"limit": 2, "period": "1m", "key": "event.data.user"}})
    await send(kit, {"user": "a", "n": 1}, {"user": "a", "n": 2}, {"user": "a", "n": 3}, {"user": "b", "n": 4})
    await worker.idle()
    assert sorted(output_of(r)["data"]["n"] for r in await runs(kit)) == [1, 2, 4]
    clock.advance(timedelta(seconds=30))  # one unit back every 30 s
    await send(kit, {"user": "a", "n": 5}, {"user": "a", "n": 6})
    await worker.idle()
    assert sorted(output_of(r)["data"]["n"] for r in await runs(kit)) == [1, 2, 4, 5]
    assert len(kit.events.list_sync(TENANT, name="app/go", limit=100)) == 6


# -- throttle, priority ----------------------------------------------------------------------------------------


async def test_throttle_delays_runs_in_order(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"throttle": {"limit": 1, "period": "10s"}})
    await send(kit, {"n": 1}, {"n": 2}, {"n": 3})
    await worker.idle()
    assert await statuses(kit) == ["completed", "queued", "queued"]
    clock.advance(timedelta(seconds=10))
    await worker.idle()
    assert await statuses(kit) == ["completed", "completed", "queued"]
    clock.advance(timedelta(seconds=10))
    await worker.idle()
    done = await runs(kit)
    assert [output_of(r)["data"]["n"] for r in done] == [1, 2, 3]
    assert [r.started_at for r in done] == [done[0].started_at + i * 10 * S for i in range(3)]


async def test_throttle_burst(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"throttle": {"limit": 1, "period": "10s", "burst": 2}})
    await send(kit, {"n": 1}, {"n": 2}, {"n": 3})
    await worker.idle()
    assert await statuses(kit) == ["completed", "completed", "queued"]


async def test_priority_orders_the_queue(kit: WorkflowKit, clock: VirtualClock, executed: list[Any]) -> None:
    create(kit, {"priority": {"run": "event.data.n == 3 ? 60 : (event.data.n == 2 ? -60 : 0)"}})
    await send(kit, {"n": 1}, {"n": 2}, {"n": 3})
    async with kit.worker(concurrency=1, poll_ms=50) as worker:
        await worker.idle()
        assert executed == [{"n": 3}, {"n": 1}]  # 3 is 60 s ahead; 2 waits 60 s
        clock.advance(timedelta(seconds=60))
        await worker.idle()
    assert executed == [{"n": 3}, {"n": 1}, {"n": 2}]


# -- debounce, batches -----------------------------------------------------------------------------------------


async def test_debounce_starts_once_with_the_last_event(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"debounce": {"period": "30s", "key": "event.data.doc"}})
    await send(kit, {"doc": 1, "v": 1})
    clock.advance(timedelta(seconds=20))
    await send(kit, {"doc": 1, "v": 2}, {"doc": 2, "v": 1})
    await worker.idle()
    assert await statuses(kit) == ["queued", "queued"]
    clock.advance(timedelta(seconds=29))
    await worker.idle()
    assert await statuses(kit) == ["queued", "queued"]
    clock.advance(timedelta(seconds=1))
    await worker.idle()
    assert sorted(output_of(r)["data"]["v"] for r in await runs(kit)) == [1, 2]
    [doc1] = [r for r in await runs(kit) if output_of(r)["data"]["doc"] == 1]
    assert output_of(doc1)["data"] == {"doc": 1, "v": 2}
    await send(kit, {"doc": 1, "v": 3})  # after the run started: a new debounced run
    clock.advance(timedelta(seconds=30))
    await worker.idle()
    assert len(await runs(kit)) == 3


async def test_debounce_timeout_caps_the_delay(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"debounce": {"period": "30s", "timeout": "1m"}})
    for v in range(5):  # an event every 20 s would push the start back forever
        await send(kit, {"v": v})
        await worker.idle()
        clock.advance(timedelta(seconds=20))
    await worker.idle()
    first = (await runs(kit))[0]
    assert first.status == RunStatus.COMPLETED and output_of(first)["data"] == {"v": 3}
    assert first.started_at == first.created_at + 60 * S


async def test_batches_start_when_full_or_on_timeout(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"batch_events": {"max_size": 3, "timeout": "10s"}})
    await send(kit, {"n": 1}, {"n": 2}, {"n": 3}, {"n": 4})
    await worker.idle()
    [full, partial] = await runs(kit)
    assert full.status == RunStatus.COMPLETED
    assert output_of(full) == {"data": {"n": 1}, "events": [{"n": 1}, {"n": 2}, {"n": 3}]}
    assert partial.status == RunStatus.QUEUED
    clock.advance(timedelta(seconds=10))
    await worker.idle()
    [_, partial] = await runs(kit)
    assert output_of(partial)["events"] == [{"n": 4}]


# -- singleton, cancellation, timeouts -------------------------------------------------------------------------


async def test_singleton_skip(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"singleton": {"key": "event.data.user", "mode": "skip"}}, SLEEPY)
    await send(kit, {"user": "a", "n": 1})
    await worker.idle()
    await send(kit, {"user": "a", "n": 2}, {"user": "b", "n": 3})  # the first sleeps: still active
    await worker.idle()
    assert sorted([(await recorded(kit, r))["data"]["n"] for r in await runs(kit)]) == [1, 3]
    clock.advance(timedelta(hours=1))
    await worker.idle()
    await send(kit, {"user": "a", "n": 4})
    await worker.idle()
    assert sorted([(await recorded(kit, r))["data"]["n"] for r in await runs(kit)]) == [1, 3, 4]


async def test_singleton_cancel(kit: WorkflowKit, worker: Worker) -> None:
    create(kit, {"singleton": {"mode": "cancel"}}, SLEEPY)
    await send(kit, {"n": 1})
    await worker.idle()
    await send(kit, {"n": 2})
    await worker.idle()
    by_n = {(await recorded(kit, run))["data"]["n"]: run for run in await runs(kit)}
    assert by_n[1].status == RunStatus.CANCELLED and by_n[1].error is not None
    assert by_n[2].status == RunStatus.SLEEPING


async def test_cancel_on_a_matching_event(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"cancel_on": [{"event": "app/stop", "if_exp": "async.data.user == event.data.user"}]}, SLEEPY)
    await kit.send(TENANT, {"name": "app/stop", "data": {"user": "a"}})  # before the run: does not count
    await send(kit, {"user": "a"}, {"user": "b"})
    await worker.idle()
    await kit.send(TENANT, {"name": "app/stop", "data": {"user": "a"}})
    await worker.idle()
    by_user = {(await recorded(kit, run))["data"]["user"]: run for run in await runs(kit)}
    a, b = by_user["a"], by_user["b"]
    assert (a.status, b.status) == (RunStatus.CANCELLED, RunStatus.SLEEPING)
    assert a.error is not None and "app/stop" in a.error["message"]
    assert not any(action.id == "nap" and action.status.value == "completed" for action in a.actions)
    clock.advance(timedelta(hours=1))
    await worker.idle()
    assert (await kit.runs.get(TENANT, b.id)).status == RunStatus.COMPLETED


async def test_cancel_on_timeout_ends_the_window(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"cancel_on": [{"event": "app/stop", "timeout": "10m"}]}, SLEEPY)
    await send(kit, {})
    await worker.idle()
    clock.advance(timedelta(minutes=11))
    await kit.send(TENANT, {"name": "app/stop", "data": {}})
    await worker.idle()
    assert await statuses(kit) == ["sleeping"]


async def test_start_timeout_cancels_a_run_left_in_the_queue(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    create(kit, {"throttle": {"limit": 1, "period": "1m"}, "timeouts": {"start": "30s"}})
    await send(kit, {"n": 1}, {"n": 2})
    await worker.idle()
    clock.advance(timedelta(minutes=1))
    await worker.idle()
    first, second = await runs(kit)
    assert first.status == RunStatus.COMPLETED
    assert second.status == RunStatus.CANCELLED and second.error is not None
    assert "start timeout" in second.error["message"]


async def test_finish_timeout_cancels_a_sleeping_run(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    create(kit, {"timeouts": {"finish": "10m"}}, SLEEPY)
    await send(kit, {})
    await worker.idle()
    assert await statuses(kit) == ["sleeping"]
    clock.advance(timedelta(minutes=10))
    await worker.idle()
    [run] = await runs(kit)
    assert run.status == RunStatus.CANCELLED and run.error is not None
    assert "finish timeout" in run.error["message"]


# -- concurrency --------------------------------------------------------------------------------------------


PROBE_TENANT = "probe-co"


class Gate:
    """An action that holds every run inside its step until opened; notes how many were inside at once.
    Also a workflow of another tenant, with no flow control, to `probe` the worker with."""

    def __init__(self, kit: WorkflowKit) -> None:
        self.kit = kit
        self.open = asyncio.Event()
        self.inside = 0
        self.most = 0
        self.entered: list[Any] = []

        @kit.action(kind="gate")
        async def gate(ctx: ActionContext, inputs: dict[str, Any]) -> None:
            self.entered.append(ctx.event["data"])
            self.inside += 1
            self.most = max(self.most, self.inside)
            try:
                await self.open.wait()
            finally:
                self.inside -= 1

        @kit.action(kind="probe")
        async def probe(ctx: ActionContext, inputs: dict[str, Any]) -> None:
            return None

        probing = workflow([action("p", "probe")], [edge("$source", "p")])
        kit.workflows.create_sync(PROBE_TENANT, name="probe", trigger="app/probe", workflow=probing)

    async def probe(self) -> None:
        """Start a run of the probe workflow and wait until it has completed: the worker has claimed runs
        since, with slots free. So a run it has not started by now was held back (by the limit under
        test), not merely not reached yet."""
        [event_id] = await self.kit.send(PROBE_TENANT, {"name": "app/probe", "data": {}})
        [run] = await self.kit.runs.list(PROBE_TENANT, event_id=event_id)
        assert (await self.kit.runs.wait(PROBE_TENANT, run.id, timeout=30)).status == RunStatus.COMPLETED

    async def until_inside(self, count: int) -> None:
        for _ in range(500):
            if self.inside >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.inside} runs inside the gate, expected {count}")


GATED = workflow([action("g", "gate")], [edge("$source", "g")])
GATED_THEN_SLEEP = workflow(
    [action("g", "gate"), action("nap", "builtin:sleep", duration="1h"), action("r", "record")],
    [edge("$source", "g"), edge("g", "nap"), edge("nap", "r")],
)


async def test_concurrency_limit_counts_executing_runs(kit: WorkflowKit) -> None:
    gate = Gate(kit)
    create(kit, {"concurrency": [{"limit": 2}]}, GATED)
    await send(kit, *({"n": n} for n in range(5)))
    async with kit.worker(concurrency=10, poll_ms=50) as worker:
        await gate.until_inside(2)
        await gate.probe()  # the worker has room for 10: it still starts only 2
        assert gate.inside == 2
        assert await statuses(kit) == ["queued"] * 3 + ["running"] * 2
        gate.open.set()
        await worker.idle()
    assert gate.most == 2
    assert await statuses(kit) == ["completed"] * 5


async def test_concurrency_per_key_and_fifo(kit: WorkflowKit, clock: VirtualClock) -> None:
    gate = Gate(kit)
    create(kit, {"concurrency": [{"limit": 1, "key": "event.data.user"}]}, GATED)
    for n, user in enumerate(["a", "a", "b", "a"]):
        await send(kit, {"n": n, "user": user})
        clock.advance(timedelta(milliseconds=1))
    async with kit.worker(concurrency=10, poll_ms=50) as worker:
        await gate.until_inside(2)  # one run of a, one of b
        await gate.probe()
        assert sorted(e["user"] for e in gate.entered) == ["a", "b"]
        assert await statuses(kit) == ["queued"] * 2 + ["running"] * 2
        gate.open.set()
        await worker.idle()
    assert [e["n"] for e in gate.entered if e["user"] == "a"] == [0, 1, 3]  # first in, first out
    assert await statuses(kit) == ["completed"] * 4


async def test_sleeping_runs_give_their_slot_back(kit: WorkflowKit, clock: VirtualClock, executed: list[Any]) -> None:
    gate = Gate(kit)
    gate.open.set()
    create(kit, {"concurrency": [{"limit": 1}]}, GATED_THEN_SLEEP)
    await send(kit, {"n": 1}, {"n": 2}, {"n": 3})
    async with kit.worker(concurrency=10, poll_ms=50) as worker:
        await worker.idle()
        assert await statuses(kit) == ["sleeping"] * 3  # each ran its step, then slept without its slot
        clock.advance(timedelta(hours=1))
        await worker.idle()
    assert await statuses(kit) == ["completed"] * 3
    assert len(executed) == 3


async def test_a_tenant_wide_limit_is_shared_by_workflows(kit: WorkflowKit) -> None:
    gate = Gate(kit)
    shared = {"concurrency": [{"limit": 1, "key": "'openai'", "scope": "tenant"}]}
    kit.workflows.create_sync(TENANT, name="one", trigger="app/one", workflow=GATED, settings=shared)
    kit.workflows.create_sync(TENANT, name="two", trigger="app/two", workflow=GATED, settings=shared)
    await kit.send(TENANT, [{"name": "app/one", "data": {"w": 1}}, {"name": "app/two", "data": {"w": 2}}])
    async with kit.worker(concurrency=10, poll_ms=50) as worker:
        await gate.until_inside(1)
        await gate.probe()
        assert gate.inside == 1
        assert await statuses(kit) == ["queued", "running"]
        gate.open.set()
        await worker.idle()
    assert gate.most == 1
    assert await statuses(kit) == ["completed"] * 2


async def test_a_cancelled_run_frees_its_slot(kit: WorkflowKit) -> None:
    gate = Gate(kit)
    create(kit, {"concurrency": [{"limit": 1}]}, GATED)
    await send(kit, {"n": 1}, {"n": 2})
    async with kit.worker(concurrency=10, poll_ms=50) as worker:
        await gate.until_inside(1)
        [running] = [r for r in await runs(kit) if r.status == RunStatus.RUNNING]
        await kit.runs.cancel(TENANT, running.id)
        await gate.until_inside(2)  # the blocked run started (the cancelled one's step is still inside)
        gate.open.set()
        await worker.idle()
    assert await statuses(kit) == ["cancelled", "completed"]


# -- fairness -----------------------------------------------------------------------------------------------


def test_fair_share_takes_tenants_in_turn() -> None:
    @dataclass
    class Due:
        id: str
        tenant: str

    due = [Due(f"a{i}", "a") for i in range(6)] + [Due("b0", "b"), Due("c0", "c"), Due("b1", "b")]
    assert [row.id for row in fair_share(due, 5)] == ["a0", "b0", "c0", "a1", "b1"]
    assert [row.id for row in fair_share(due[:3], 5)] == ["a0", "a1", "a2"]
    # a worker's claims take turns: after a run of "a", the next tenant's turn comes first
    assert [row.id for row in fair_share(due, 1)] == ["a0"]
    assert [row.id for row in fair_share(due, 1, after="a")] == ["b0"]
    assert [row.id for row in fair_share(due, 3, after="b")] == ["c0", "a0", "b0"]
    assert [row.id for row in fair_share(due, 2, after="c")] == ["a0", "b0"]
    assert [row.id for row in fair_share(due, 1, after="gone")] == ["a0"]  # not among them: from the first


def flood_then_quiet(kit: WorkflowKit, clock: VirtualClock, floods: int) -> list[str]:
    """Tenant "flood" sends `floods` events (each starts a one-step run), then, a second later, "quiet"
    one. Returns the list each run's step adds its tenant to when it runs."""
    order: list[str] = []

    @kit.action(kind="note")
    async def note(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        order.append(ctx.event["data"]["who"])

    noted = workflow([action("n", "note")], [edge("$source", "n")])
    for tenant in ("flood", "quiet"):
        kit.workflows.create_sync(tenant, name="w", trigger="app/go", workflow=noted)
    kit.send_sync("flood", [{"name": "app/go", "data": {"who": "flood"}} for _ in range(floods)])
    clock.advance(timedelta(seconds=1))
    kit.send_sync("quiet", {"name": "app/go", "data": {"who": "quiet"}})
    return order


async def test_a_flood_from_one_tenant_does_not_starve_another(kit: WorkflowKit, clock: VirtualClock) -> None:
    """A worker with two free slots claims the quiet tenant's run with the flood's first, though 200 of
    the flood's runs were due before it. (The claims, not the order the runs' steps then run in: a
    tenant's first run also loads its workflow, which may take a loaded machine longer than the flood's
    next runs.)"""
    flood_then_quiet(kit, clock, 200)
    store = RunJournalStore(kit.db, kit._settings)
    batch = await store.claim("test-worker", 2, 60_000, clock.now_ms())
    assert sorted(run.row.tenant for run in batch.runs) == ["flood", "quiet"]


async def test_a_worker_taking_one_run_at_a_time_takes_tenants_in_turn(kit: WorkflowKit, clock: VirtualClock) -> None:
    """With one slot, every claim takes one run: the quiet tenant's run, due after the flood's 30, is
    the second one run, not the 31st (one slot: the steps run in the order the runs were claimed)."""
    order = flood_then_quiet(kit, clock, 30)
    async with kit.worker(concurrency=1, poll_ms=50) as worker:
        await worker.idle()
    assert order[:2] == ["flood", "quiet"], order
    assert len(order) == 31


async def test_runs_no_event_started_keep_concurrency_and_cancel_on(kit: WorkflowKit) -> None:
    gate = Gate(kit)
    settings = {"concurrency": [{"limit": 1}], "cancel_on": [{"event": "app/stop"}], "idempotency": "'always'"}
    workflow_id = create(kit, settings, GATED)
    version_id = kit.workflows.versions_sync(TENANT, workflow_id)[0].id
    first = await kit.runs.start(TENANT, workflow_id, version_id, {"name": "app/test", "data": {"n": 1}})
    second = await kit.runs.start(TENANT, workflow_id, version_id, {"name": "app/test", "data": {"n": 2}})
    async with kit.worker(concurrency=10, poll_ms=50) as worker:
        await gate.until_inside(1)
        await gate.probe()
        assert gate.inside == 1  # the limit holds for test runs; idempotency (about events) does not apply
        assert await statuses(kit) == ["queued", "running"]
        await kit.send(TENANT, {"name": "app/stop", "data": {}})
        gate.open.set()
        await worker.idle()
    found = {run.id: run.status for run in await runs(kit)}
    assert found == {first: RunStatus.CANCELLED, second: RunStatus.CANCELLED}  # both were cancelled by app/stop


async def test_keys_keep_batches_and_throttles_apart(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    batched = kit.workflows.create_sync(
        TENANT,
        name="batched",
        trigger="app/batch",
        workflow=ONE_STEP,
        settings={"batch_events": {"max_size": 2, "timeout": "10s", "key": "event.data.user"}},
    )
    throttled = kit.workflows.create_sync(
        TENANT,
        name="throttled",
        trigger="app/throttle",
        workflow=ONE_STEP,
        settings={"throttle": {"limit": 1, "period": "1m", "key": "event.data.user"}},
    )
    users = ["a", "b", "a", "b", "a"]
    await kit.send(TENANT, [{"name": "app/batch", "data": {"user": u, "n": n}} for n, u in enumerate(users)])
    await kit.send(TENANT, [{"name": "app/throttle", "data": {"user": u, "n": n}} for n, u in enumerate(users)])
    await worker.idle()
    batches = [output_of(r)["events"] for r in await kit.runs.list(TENANT, workflow_id=batched.id, status="completed")]
    assert sorted(batches, key=str) == [
        [{"user": "a", "n": 0}, {"user": "a", "n": 2}],
        [{"user": "b", "n": 1}, {"user": "b", "n": 3}],
    ]
    started = await kit.runs.list(TENANT, workflow_id=throttled.id, status="completed")
    assert sorted(output_of(r)["data"]["user"] for r in started) == ["a", "b"]  # one per user now, the rest later
