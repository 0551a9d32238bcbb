"""Receiving events (``kit.send``) on both databases: storing, matching triggers (names, wildcards,
``if``, several triggers per workflow), starting runs of the published version, deduplication by id,
tenants, and malformed events."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from helpers import action, edge, workflow

from bench.plans import explain
from workflow_kit import ActionContextSync, WorkflowKit
from workflow_kit.events import EventError
from workflow_kit.runtime.lifecycle.events_in import triggers_statement
from workflow_kit.runtime.models import Run, RunStatus, WorkflowRecord
from workflow_kit.runtime.rules.triggers import patterns_for
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.worker.loop import Worker
from workflow_kit.timeutil import VirtualClock

TENANT = "acme"
OTHER = "globex"
DAY_MS = 86_400_000
LIMIT = 512 * 1024


@pytest.fixture(autouse=True)
def _actions(kit: WorkflowKit) -> None:
    @kit.action(kind="echo")
    def echo(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return inputs.get("value")


def echo(value: Any = "!ref($.event.data)") -> dict[str, Any]:
    """A one-action workflow whose output is ``{"e": value}`` (by default the event's data)."""
    return workflow([action("e", "echo", value=value)], [edge("$source", "e")])


def create(kit: WorkflowKit, trigger: Any, tenant: str = TENANT, **options: Any) -> WorkflowRecord:
    options.setdefault("name", f"on {trigger}")
    options.setdefault("workflow", echo())
    return kit.workflows.create_sync(tenant, trigger=trigger, **options)


def stored_events(kit: WorkflowKit, tenant: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(schema.events)
    if tenant is not None:
        query = query.where(schema.events.c.tenant == tenant)
    with kit.db.read() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


async def runs_of(kit: WorkflowKit, tenant: str = TENANT, workflow_id: str | None = None) -> list[Run]:
    return await kit.runs.list(tenant, workflow_id=workflow_id)


async def started_workflows(kit: WorkflowKit, tenant: str = TENANT) -> list[str]:
    return sorted(run.workflow_id for run in await runs_of(kit, tenant))


# --- storing and starting ----------------------------------------------------------------------


async def test_send_stores_the_event_and_starts_one_run(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    record = create(kit, "app/user.created")
    ids = await kit.send(TENANT, {"name": "app/user.created", "data": {"user": "u1"}})
    assert len(ids) == 1
    [event_id] = ids

    [row] = stored_events(kit)
    assert row["id"] == event_id
    assert row["tenant"] == TENANT
    assert row["name"] == "app/user.created"
    assert row["payload"] == {"name": "app/user.created", "data": {"user": "u1"}, "ts": clock.now_ms()}
    assert row["duplicate"] is False
    assert row["key"] is None
    assert row["received_at"] == clock.now_ms()

    [run] = await runs_of(kit)
    assert run.workflow_id == record.id
    assert run.version == 1
    assert run.tenant == TENANT
    assert run.event == row["payload"]

    await worker.idle()
    done = await kit.runs.get(TENANT, run.id)
    assert done.status == RunStatus.COMPLETED
    assert done.output == {"e": {"user": "u1"}}


async def test_an_event_nothing_listens_to_is_stored_and_starts_nothing(kit: WorkflowKit) -> None:
    create(kit, "app/user.created")
    [event_id] = await kit.send(TENANT, {"name": "app/user.deleted"})
    assert [row["id"] for row in stored_events(kit)] == [event_id]
    assert stored_events(kit)[0]["payload"]["data"] == {}
    assert await runs_of(kit) == []


async def test_one_event_starts_every_matching_workflow(kit: WorkflowKit, worker: Worker) -> None:
    first = create(kit, "app/order.paid", name="first")
    second = create(kit, "app/order.paid", name="second")
    third = create(kit, "app/order.*", name="third")
    create(kit, "app/order.refunded", name="unrelated")

    await kit.send(TENANT, {"name": "app/order.paid", "data": {"total": 5}})
    assert await started_workflows(kit) == sorted([first.id, second.id, third.id])
    for record in (first, second, third):
        [run] = await runs_of(kit, workflow_id=record.id)
        assert run.event["data"] == {"total": 5}

    await worker.idle()
    runs = await runs_of(kit)
    assert {r.status for r in runs} == {RunStatus.COMPLETED}
    assert len({r.id for r in runs}) == 3


async def test_send_sync_starts_runs_too(kit: WorkflowKit) -> None:
    record = create(kit, "app/ping")
    [event_id] = kit.send_sync(TENANT, {"name": "app/ping", "data": {"n": 1}})
    [run] = await runs_of(kit)
    assert run.workflow_id == record.id
    assert [row["id"] for row in stored_events(kit)] == [event_id]


async def test_send_sync_from_another_thread_while_a_worker_runs(kit: WorkflowKit, worker: Worker) -> None:
    """Code that is not async (a thread of the host) sends while the worker of the same kit runs: no
    deadlock on the database, and the run completes."""
    create(kit, "app/ping")
    ids = await asyncio.wait_for(asyncio.to_thread(kit.send_sync, TENANT, {"name": "app/ping", "data": {"n": 2}}), 10)
    assert len(ids) == 1
    await worker.idle()
    [run] = await runs_of(kit)
    assert run.status == RunStatus.COMPLETED and run.output == {"e": {"n": 2}}


# --- wildcards ---------------------------------------------------------------------------------


async def test_wildcard_triggers(kit: WorkflowKit) -> None:
    matching = [
        create(kit, "app/*"),
        create(kit, "app/user.*"),
        create(kit, "app/user.created"),
    ]
    create(kit, "other/*")
    create(kit, "app/user.updated")
    create(kit, "app/users.*")
    create(kit, "app/user.created.*")
    create(kit, "app/user")

    await kit.send(TENANT, {"name": "app/user.created", "data": {}})
    assert await started_workflows(kit) == sorted(r.id for r in matching)


@pytest.mark.parametrize(
    ("trigger", "name", "starts"),
    [
        ("app/*", "app/user.created", True),
        ("app/*", "app/x", True),
        ("app/*", "app/user/deep.thing", True),
        ("app/user.*", "app/user.created", True),
        ("app/user.*", "app/user.created.v2", True),
        ("app/user.*", "app/user", False),
        ("app/user.*", "app/username.x", False),
        ("other/*", "app/user.created", False),
        ("app/*", "application/x", False),
        ("app/*", "APP/x", False),
        ("app/user.created", "app/user.created", True),
        ("app/user.created", "app/user.created.v2", False),
    ],
)
async def test_trigger_name_matching(kit: WorkflowKit, trigger: str, name: str, starts: bool) -> None:
    record = create(kit, trigger)
    await kit.send(TENANT, {"name": name})
    assert await started_workflows(kit) == ([record.id] if starts else [])


# --- trigger conditions ------------------------------------------------------------------------


async def test_trigger_if_true_false_and_erroring(kit: WorkflowKit) -> None:
    pro = create(kit, {"event": "app/signup", "if": "event.data.plan == 'pro'"}, name="pro")
    free = create(kit, {"event": "app/signup", "if": "event.data.plan == 'free'"}, name="free")
    big = create(kit, {"event": "app/signup", "if": "event.data.seats > 10"}, name="big")
    unconditional = create(kit, "app/signup", name="always")

    # `seats` is missing: the erroring condition does not match, and the others are unaffected.
    await kit.send(TENANT, {"name": "app/signup", "data": {"plan": "pro"}})
    assert await started_workflows(kit) == sorted([pro.id, unconditional.id])

    await kit.send(TENANT, {"name": "app/signup", "data": {"plan": "free", "seats": 50}})
    assert len(await runs_of(kit, workflow_id=free.id)) == 1
    assert len(await runs_of(kit, workflow_id=big.id)) == 1
    assert len(await runs_of(kit, workflow_id=pro.id)) == 1
    assert len(await runs_of(kit, workflow_id=unconditional.id)) == 2

    # A type mismatch is an error for this event too: no match, no exception for the sender.
    await kit.send(TENANT, {"name": "app/signup", "data": {"plan": 7, "seats": "many"}})
    assert len(await runs_of(kit, workflow_id=big.id)) == 1
    assert len(await runs_of(kit, workflow_id=unconditional.id)) == 3
    assert len(stored_events(kit)) == 3


async def test_trigger_if_with_an_integer_beyond_64_bits_in_the_event(kit: WorkflowKit) -> None:
    # CEL integers are 64-bit. A field the condition does not read is not converted; one it reads
    # makes the condition an error (no match). Neither may fail the send.
    plan = create(kit, {"event": "app/signup", "if": "event.data.plan == 'pro'"}, name="plan")
    account = create(kit, {"event": "app/signup", "if": "event.data.account > 0"}, name="account")
    await kit.send(TENANT, {"name": "app/signup", "data": {"plan": "pro", "account": 2**64}})
    assert await started_workflows(kit) == [plan.id]
    assert await runs_of(kit, workflow_id=account.id) == []


async def test_trigger_if_sees_the_whole_event(kit: WorkflowKit) -> None:
    record = create(kit, {"event": "app/*", "if": "event.name == 'app/b' && event.id == 'k3' && event.ts == 5"})
    await kit.send(
        TENANT,
        [
            {"name": "app/a", "id": "k3", "ts": 5},  # not app/b
            {"name": "app/b", "id": "k2", "ts": 5},  # not k3
            {"name": "app/b", "id": "k4"},  # ts is now, not 5
            {"name": "app/b", "id": "k5", "ts": 5},  # not k3
        ],
    )
    assert await runs_of(kit) == []
    await kit.send(TENANT, {"name": "app/b", "id": "k3", "ts": 5})  # k3 was seen, as app/a: a duplicate
    assert await runs_of(kit) == []
    await kit.send(OTHER, {"name": "app/b", "id": "k3", "ts": 5})  # another tenant: not this workflow
    assert await runs_of(kit) == []
    kit.workflows.update_sync(TENANT, record.id, trigger={"event": "app/*", "if": "event.id == 'k6' && event.ts == 5"})
    await kit.send(TENANT, {"name": "app/c", "id": "k6", "ts": 5})
    [run] = await runs_of(kit)
    assert run.workflow_id == record.id
    assert run.event == {"name": "app/c", "data": {}, "id": "k6", "ts": 5}


async def test_a_trigger_change_applies_to_the_next_event(kit: WorkflowKit) -> None:
    record = create(kit, "app/old")
    kit.workflows.update_sync(TENANT, record.id, trigger={"event": "app/new", "if": "event.data.ok"})
    await kit.send(TENANT, [{"name": "app/old"}, {"name": "app/new", "data": {"ok": False}}])
    assert await runs_of(kit) == []
    await kit.send(TENANT, {"name": "app/new", "data": {"ok": True}})
    [run] = await runs_of(kit)
    assert run.workflow_id == record.id
    assert run.version == 1


# --- several triggers --------------------------------------------------------------------------


def which() -> dict[str, Any]:
    """A one-action workflow whose output is ``{"w": ctx.trigger}``."""
    return workflow([action("w", "which")], [edge("$source", "w")])


async def test_any_trigger_of_a_workflow_starts_it_and_the_run_knows_which(kit: WorkflowKit, worker: Worker) -> None:
    @kit.action(kind="which")
    def which_trigger(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return ctx.trigger

    orders = {"event": "shop/order.created", "if": "event.data.total > 100"}
    record = kit.workflows.create_sync(
        TENANT, name="Big orders or refunds", triggers=[orders, "shop/refund.*"], workflow=which()
    )
    await kit.send(TENANT, {"name": "shop/order.created", "data": {"total": 5}})  # too small: no run
    await kit.send(TENANT, {"name": "shop/refund.issued", "data": {}})
    await kit.send(TENANT, {"name": "shop/order.created", "data": {"total": 500}})
    await worker.idle()
    runs = sorted(await runs_of(kit, workflow_id=record.id), key=lambda r: r.event["name"])
    assert [(r.event["name"], r.trigger) for r in runs] == [
        ("shop/order.created", {"index": 0, **orders}),
        ("shop/refund.issued", {"index": 1, "event": "shop/refund.*"}),
    ]
    done = [await kit.runs.get(TENANT, r.id) for r in runs]
    assert [(r.status, r.output) for r in done] == [
        (RunStatus.COMPLETED, {"w": {"index": 0, **orders}}),  # ctx.trigger
        (RunStatus.COMPLETED, {"w": {"index": 1, "event": "shop/refund.*"}}),
    ]


async def test_an_event_several_triggers_match_starts_one_run_for_the_first_that_matches(kit: WorkflowKit) -> None:
    triggers = [
        {"event": "app/signup", "if": "event.data.plan == 'pro'"},
        "app/*",
        {"event": "app/signup", "if": "event.data.seats > 0"},
        "app/signup",
    ]
    record = kit.workflows.create_sync(TENANT, name="Signups", triggers=triggers, workflow=echo())
    other = create(kit, "app/signup")
    await kit.send(TENANT, {"name": "app/signup", "data": {"plan": "pro", "seats": 3}})
    await kit.send(TENANT, {"name": "app/signup", "data": {"plan": "free", "seats": 3}})
    runs = await runs_of(kit, workflow_id=record.id)
    by_plan = {r.event["data"]["plan"]: r.trigger for r in runs}  # one run each, for the first trigger matching
    assert by_plan == {"pro": {"index": 0, **triggers[0]}, "free": {"index": 1, "event": "app/*"}}
    assert len(await runs_of(kit, workflow_id=other.id)) == 2  # other workflows start as before


async def test_a_removed_trigger_starts_nothing_more(kit: WorkflowKit) -> None:
    record = kit.workflows.create_sync(TENANT, name="Two", triggers=["app/a", "app/b"], workflow=echo())
    kit.workflows.update_sync(TENANT, record.id, triggers=["app/b", "app/c"])
    for name in ("app/a", "app/b", "app/c"):
        await kit.send(TENANT, {"name": name, "data": {}})
    runs = sorted(await runs_of(kit, workflow_id=record.id), key=lambda r: r.event["name"])
    assert [(r.event["name"], r.trigger) for r in runs] == [
        ("app/b", {"index": 0, "event": "app/b"}),
        ("app/c", {"index": 1, "event": "app/c"}),
    ]
    kit.workflows.disable_sync(TENANT, record.id)
    await kit.send(TENANT, {"name": "app/b", "data": {}})
    assert len(await runs_of(kit, workflow_id=record.id)) == 2


async def test_a_debounced_run_takes_the_trigger_of_its_latest_event(kit: WorkflowKit) -> None:
    record = kit.workflows.create_sync(
        TENANT,
        name="Debounced",
        triggers=["app/a", "app/b"],
        workflow=echo(),
        settings={"debounce": {"period": "10s"}},
    )
    await kit.send(TENANT, {"name": "app/a", "data": {}})
    await kit.send(TENANT, {"name": "app/b", "data": {}})
    [run] = await runs_of(kit, workflow_id=record.id)
    assert (run.event["name"], run.trigger) == ("app/b", {"index": 1, "event": "app/b"})


async def test_a_run_no_trigger_started_has_none(kit: WorkflowKit, worker: Worker) -> None:
    record = create(kit, "app/x")
    snapshot = await kit.workflows.snapshot(TENANT, record.id)
    run_id = await kit.runs.start(TENANT, record.id, snapshot.id, {"name": "app/x", "data": {}})
    await worker.idle()
    assert (await kit.runs.get(TENANT, run_id)).trigger is None


# --- what does not start -----------------------------------------------------------------------


async def test_disabled_and_unpublished_workflows_start_nothing(kit: WorkflowKit) -> None:
    disabled = create(kit, "app/go", enabled=False, name="disabled")
    draft = create(kit, "app/go", publish=False, name="draft")
    turned_off = create(kit, "app/go", name="turned off")
    kit.workflows.disable_sync(TENANT, turned_off.id)

    await kit.send(TENANT, {"name": "app/go"})
    assert await runs_of(kit) == []
    assert len(stored_events(kit)) == 1

    kit.workflows.enable_sync(TENANT, disabled.id)
    kit.workflows.publish_sync(TENANT, draft.id)  # published but still disabled
    await kit.send(TENANT, {"name": "app/go"})
    assert await started_workflows(kit) == [disabled.id]

    kit.workflows.enable_sync(TENANT, draft.id)
    kit.workflows.enable_sync(TENANT, turned_off.id)
    await kit.send(TENANT, {"name": "app/go"})
    assert len(await runs_of(kit, workflow_id=draft.id)) == 1
    assert len(await runs_of(kit, workflow_id=turned_off.id)) == 1
    assert len(await runs_of(kit, workflow_id=disabled.id)) == 2


async def test_a_deleted_workflow_starts_nothing(kit: WorkflowKit) -> None:
    record = create(kit, "app/go")
    kit.workflows.delete_sync(TENANT, record.id)
    await kit.send(TENANT, {"name": "app/go"})
    assert await runs_of(kit) == []


async def test_another_tenants_event_never_starts_a_workflow(kit: WorkflowKit) -> None:
    mine = create(kit, "app/go", TENANT)
    create(kit, "app/*", TENANT)
    await kit.send(OTHER, {"name": "app/go", "data": {"x": 1}})
    assert await runs_of(kit, TENANT) == []
    assert await runs_of(kit, OTHER) == []
    assert [row["tenant"] for row in stored_events(kit)] == [OTHER]

    theirs = create(kit, "app/go", OTHER)
    await kit.send(OTHER, {"name": "app/go"})
    assert await started_workflows(kit, OTHER) == [theirs.id]
    assert await runs_of(kit, TENANT) == []
    await kit.send(TENANT, {"name": "app/go"})
    assert mine.id in await started_workflows(kit, TENANT)
    assert await started_workflows(kit, OTHER) == [theirs.id]


# --- deduplication -----------------------------------------------------------------------------


async def test_an_event_id_seen_within_24_hours_is_stored_as_duplicate(kit: WorkflowKit, clock: VirtualClock) -> None:
    record = create(kit, "app/order.paid")
    [first] = await kit.send(TENANT, {"name": "app/order.paid", "id": "order-1", "data": {"n": 1}})
    clock.advance(timedelta(hours=23, minutes=59))
    [second] = await kit.send(TENANT, {"name": "app/order.paid", "id": "order-1", "data": {"n": 2}})
    assert second != first

    rows = {row["id"]: row for row in stored_events(kit)}
    assert set(rows) == {first, second}
    assert rows[first]["duplicate"] is False
    assert rows[second]["duplicate"] is True
    assert rows[first]["key"] == rows[second]["key"] == "order-1"
    assert rows[second]["payload"]["data"] == {"n": 2}

    [run] = await runs_of(kit)
    assert run.workflow_id == record.id
    assert run.event["data"] == {"n": 1}

    # A different id is a different event.
    await kit.send(TENANT, {"name": "app/order.paid", "id": "order-2"})
    assert len(await runs_of(kit)) == 2


async def test_the_same_id_twice_in_one_list_starts_one_run(kit: WorkflowKit) -> None:
    create(kit, "app/go")
    ids = await kit.send(TENANT, [{"name": "app/go", "id": "k"}, {"name": "app/go", "id": "k"}])
    assert len(set(ids)) == 2
    rows = {row["id"]: row["duplicate"] for row in stored_events(kit)}
    assert rows == {ids[0]: False, ids[1]: True}
    assert len(await runs_of(kit)) == 1


async def test_an_event_id_starts_runs_again_after_24_hours(kit: WorkflowKit, clock: VirtualClock) -> None:
    create(kit, "app/go")
    start = clock.now_ms()
    await kit.send(TENANT, {"name": "app/go", "id": "daily"})
    clock.advance_to(start + DAY_MS - 1)
    await kit.send(TENANT, {"name": "app/go", "id": "daily"})
    assert len(await runs_of(kit)) == 1

    clock.advance_to(start + DAY_MS + 60_000)
    [again] = await kit.send(TENANT, {"name": "app/go", "id": "daily", "data": {"round": 2}})
    runs = await runs_of(kit)
    assert len(runs) == 2
    assert runs[0].event["data"] == {"round": 2}
    rows = {row["id"]: row["duplicate"] for row in stored_events(kit)}
    assert rows[again] is False
    assert sorted(rows.values()) == [False, False, True]

    # The window restarts from the event that was accepted.
    clock.advance(timedelta(hours=1))
    await kit.send(TENANT, {"name": "app/go", "id": "daily"})
    assert len(await runs_of(kit)) == 2


async def test_deduplication_is_per_tenant(kit: WorkflowKit) -> None:
    mine = create(kit, "app/go", TENANT)
    theirs = create(kit, "app/go", OTHER)
    [a] = await kit.send(TENANT, {"name": "app/go", "id": "shared"})
    [b] = await kit.send(OTHER, {"name": "app/go", "id": "shared"})
    assert await started_workflows(kit, TENANT) == [mine.id]
    assert await started_workflows(kit, OTHER) == [theirs.id]
    rows = {row["id"]: row["duplicate"] for row in stored_events(kit)}
    assert rows == {a: False, b: False}

    await kit.send(OTHER, {"name": "app/go", "id": "shared"})
    assert len(await runs_of(kit, OTHER)) == 1
    assert len(await runs_of(kit, TENANT)) == 1


# --- lists -------------------------------------------------------------------------------------


async def test_sending_a_list(kit: WorkflowKit, worker: Worker) -> None:
    create(kit, "app/item")
    ids = await kit.send(TENANT, [{"name": "app/item", "data": {"i": i}} for i in range(3)] + [{"name": "app/x"}])
    assert len(ids) == 4
    assert len(set(ids)) == 4
    rows = {row["id"]: row for row in stored_events(kit)}
    assert set(rows) == set(ids)
    assert [rows[i]["payload"]["name"] for i in ids] == ["app/item"] * 3 + ["app/x"]
    assert [rows[i]["payload"]["data"] for i in ids[:3]] == [{"i": 0}, {"i": 1}, {"i": 2}]

    runs = await runs_of(kit)
    assert sorted(r.event["data"]["i"] for r in runs) == [0, 1, 2]
    await worker.idle()
    outputs = sorted(r.output["e"]["i"] for r in await runs_of(kit))
    assert outputs == [0, 1, 2]


async def test_sending_an_empty_list(kit: WorkflowKit) -> None:
    create(kit, "app/item")
    assert await kit.send(TENANT, []) == []
    assert stored_events(kit) == []
    assert await runs_of(kit) == []


# --- malformed events --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"data": {"x": 1}}, "name"),
        ({"name": "", "data": {}}, "name"),
        ({"name": 5}, "name"),
        ({"name": "app/go", "data": [1, 2]}, "data"),
        ({"name": "app/go", "data": "text"}, "data"),
        ({"name": "app/go", "extra": 1}, "extra"),
        ({"name": "app/go", "id": 12}, "id"),
        ({"name": "app/go", "ts": -5}, "ts"),
        ({"name": "app/go", "data": {"when": object()}}, "data.when"),
    ],
)
async def test_a_malformed_event_raises_and_stores_nothing(kit: WorkflowKit, event: Any, field: str) -> None:
    create(kit, "app/go")
    with pytest.raises(EventError) as info:
        await kit.send(TENANT, event)
    assert info.value.path.endswith(field)
    assert info.value.code == "invalid_event"
    assert stored_events(kit) == []
    assert await runs_of(kit) == []


@pytest.mark.parametrize("events", ["app/go", 42, None, ["app/go"]])
async def test_something_that_is_not_an_event_raises(kit: WorkflowKit, events: Any) -> None:
    create(kit, "app/go")
    with pytest.raises(EventError) as info:
        await kit.send(TENANT, events)
    assert info.value.path
    assert stored_events(kit) == []
    assert await runs_of(kit) == []


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"data": {}}, "events[1].name"),
        ({"name": "app/go", "data": [1]}, "events[1].data"),
        ({"name": "app/go", "unknown": True}, "events[1].unknown"),
    ],
)
async def test_one_bad_event_in_a_list_stores_nothing_of_the_list(kit: WorkflowKit, bad: Any, path: str) -> None:
    create(kit, "app/go")
    good = {"name": "app/go", "id": "good-1", "data": {"ok": True}}
    with pytest.raises(EventError) as info:
        await kit.send(TENANT, [good, bad, {"name": "app/go"}])
    assert info.value.path == path
    assert stored_events(kit) == []
    assert await runs_of(kit) == []

    # Nothing was remembered for deduplication either: the good event goes through on its own.
    await kit.send(TENANT, good)
    assert len(await runs_of(kit)) == 1
    assert [row["duplicate"] for row in stored_events(kit)] == [False]


def _blob_event(size: int, now: int) -> dict[str, Any]:
    """An event whose stored JSON (with ``ts`` filled in) is exactly `size` bytes."""
    event: dict[str, Any] = {"name": "app/big", "data": {"blob": ""}, "ts": now}
    overhead = len(msgspec.json.encode(event))
    event["data"]["blob"] = "x" * (size - overhead)
    assert len(msgspec.json.encode(event)) == size
    return event


async def test_the_512_kb_limit(kit: WorkflowKit, clock: VirtualClock) -> None:
    create(kit, "app/big")
    at_limit = _blob_event(LIMIT, clock.now_ms())
    over = _blob_event(LIMIT + 1, clock.now_ms())

    with pytest.raises(EventError, match="512") as info:
        await kit.send(TENANT, over)
    assert info.value.path == "events"
    with pytest.raises(EventError) as info:
        await kit.send(TENANT, [{"name": "app/big"}, over])
    assert info.value.path == "events[1]"
    assert stored_events(kit) == []
    assert await runs_of(kit) == []

    [event_id] = await kit.send(TENANT, at_limit)
    [row] = stored_events(kit)
    assert row["id"] == event_id
    assert len(row["payload"]["data"]["blob"]) == len(at_limit["data"]["blob"])
    [run] = await runs_of(kit)
    assert run.event["data"]["blob"] == at_limit["data"]["blob"]


async def test_a_long_event_id_is_refused_cleanly_or_deduplicated(kit: WorkflowKit) -> None:
    """No length limit is documented for ``id``: a long one is either refused as a malformed event
    (nothing stored) or received and deduplicated like any other, the same on every database."""
    create(kit, "app/go")
    event = {"name": "app/go", "id": "k" * 300}
    try:
        [first] = await kit.send(TENANT, event)
    except EventError as exc:
        assert exc.path.endswith("id")
        assert stored_events(kit) == []
        assert await runs_of(kit) == []
        return
    [second] = await kit.send(TENANT, event)
    rows = {row["id"]: row for row in stored_events(kit)}
    assert rows[first]["duplicate"] is False
    assert rows[second]["duplicate"] is True
    assert rows[first]["key"] == "k" * 300
    assert len(await runs_of(kit)) == 1


async def test_a_nul_character_in_data_is_refused_cleanly_or_stored(kit: WorkflowKit) -> None:
    """``"\\u0000"`` is valid JSON: the event is either received intact or refused as malformed (with
    nothing stored), never a database error."""
    create(kit, "app/go")
    event = {"name": "app/go", "data": {"s": "a\x00b"}}
    try:
        [event_id] = await kit.send(TENANT, event)
    except EventError as exc:
        assert exc.path.startswith("events")
        assert stored_events(kit) == []
        assert await runs_of(kit) == []
        return
    [row] = stored_events(kit)
    assert row["id"] == event_id
    assert row["payload"]["data"] == {"s": "a\x00b"}
    [run] = await runs_of(kit)
    assert run.event["data"] == {"s": "a\x00b"}


async def test_bad_tenant_strings_raise_value_error(kit: WorkflowKit) -> None:
    create(kit, "app/go")
    for tenant in ["", "   ", "t" * 129, None]:
        with pytest.raises(ValueError, match="tenant"):
            await kit.send(tenant, {"name": "app/go"})  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="tenant"):
            kit.send_sync(tenant, {"name": "app/go"})  # type: ignore[arg-type]
    assert stored_events(kit) == []
    assert await runs_of(kit) == []


# --- the run's event and version ---------------------------------------------------------------


async def test_a_run_carries_its_event_and_version(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    record = create(kit, "app/user.created", workflow=echo("!ref($.event.data.email)"))
    event = {"name": "app/user.created", "data": {"email": "a@b.c", "n": [1, 2]}, "id": "u-1", "ts": 1234, "v": "2"}
    [event_id] = await kit.send(TENANT, event)
    [run] = await runs_of(kit)
    assert run.workflow_id == record.id
    assert run.version == 1
    assert run.version_id == kit.workflows.version_sync(TENANT, record.id, 1).id
    assert run.event == event
    assert run.event["data"] == {"email": "a@b.c", "n": [1, 2]}
    assert stored_events(kit)[0]["id"] == event_id

    await worker.idle()
    done = await kit.runs.get(TENANT, run.id)
    assert done.status == RunStatus.COMPLETED
    assert done.output == {"e": "a@b.c"}
    assert done.event == event


async def test_new_events_run_the_newly_published_version(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock
) -> None:
    record = create(kit, "app/go", workflow=echo("first"))
    await kit.send(TENANT, {"name": "app/go", "data": {"n": 1}})
    await worker.idle()

    # A draft edit does not change what new events run ...
    kit.workflows.update_sync(TENANT, record.id, workflow=echo("second"))
    clock.advance(timedelta(seconds=1))
    await kit.send(TENANT, {"name": "app/go", "data": {"n": 2}})
    await worker.idle()

    # ... publishing it does.
    updated = kit.workflows.update_sync(TENANT, record.id, workflow=echo("third"), publish=True)
    assert updated.published_version == 2
    clock.advance(timedelta(seconds=1))
    await kit.send(TENANT, {"name": "app/go", "data": {"n": 3}})
    await worker.idle()

    runs = await runs_of(kit)  # newest first
    assert [r.event["data"]["n"] for r in runs] == [3, 2, 1]
    assert [r.version for r in runs] == [2, 1, 1]
    assert [r.output for r in runs] == [{"e": "third"}, {"e": "first"}, {"e": "first"}]
    assert {r.status for r in runs} == {RunStatus.COMPLETED}
    assert runs[0].version_id == kit.workflows.version_sync(TENANT, record.id, 2).id


async def test_a_run_in_flight_keeps_its_version(kit: WorkflowKit, worker: Worker, clock: VirtualClock) -> None:
    record = create(
        kit,
        "app/go",
        workflow=workflow(
            [action("z", "builtin:sleep", duration="1h"), action("e", "echo", value="v1")],
            [edge("$source", "z"), edge("z", "e")],
        ),
    )
    await kit.send(TENANT, {"name": "app/go"})
    await worker.idle()
    [sleeping] = await runs_of(kit)
    assert sleeping.status == RunStatus.SLEEPING

    kit.workflows.update_sync(TENANT, record.id, workflow=echo("v2"), publish=True)
    clock.advance(timedelta(hours=2))
    await worker.idle()
    done = await kit.runs.get(TENANT, sleeping.id)
    assert done.status == RunStatus.COMPLETED
    assert done.version == 1
    assert done.output["e"] == "v1"


async def test_concurrent_sends_of_one_event_id_start_one_run(kit: WorkflowKit) -> None:
    import asyncio as aio

    @kit.action(kind="noop_concurrent")
    def noop_concurrent(ctx: Any, inputs: dict[str, Any]) -> None:
        return None

    kit.workflows.create_sync(
        "acme",
        name="Once",
        trigger="once/go",
        workflow={"actions": [{"id": "n", "kind": "noop_concurrent"}], "edges": [{"from": "$source", "to": "n"}]},
    )
    event = {"name": "once/go", "id": "order-7", "data": {}}
    results = await aio.gather(*(kit.send("acme", event) for _ in range(8)))
    assert len({ids[0] for ids in results}) == 8  # every copy is stored, with its own id
    runs = await kit.runs.list("acme")
    assert len(runs) == 1


# --- finding the triggers ----------------------------------------------------------------------


async def test_an_events_triggers_are_found_through_the_index_however_many_there_are(kit: WorkflowKit) -> None:
    count = 2_000  # workflows, each with its published version and a trigger
    common = {"tenant": TENANT, "settings": {}, "created_at": 0}
    workflows = [
        {**common, "id": f"w{i}", "name": "w", "triggers": [], "enabled": True, "draft": {}, "published_version": 1}
        | {"updated_at": 0}
        for i in range(count)
    ]
    versions = [
        {**common, "id": f"v{i}", "workflow_id": f"w{i}", "number": 1, "definition": {}, "triggers": []}
        for i in range(count)
    ]
    triggers = [{"workflow_id": f"w{i}", "position": 0, "tenant": TENANT, "event": f"app/e{i}"} for i in range(count)]
    with kit.db.write() as conn:
        conn.execute(schema.workflows.insert(), workflows)
        conn.execute(schema.workflow_versions.insert(), versions)
        conn.execute(schema.triggers.insert(), triggers)
        for table in ("wk_workflows", "wk_workflow_versions", "wk_triggers"):
            conn.exec_driver_sql(f"ANALYZE {table}")
        params = {"tenant": TENANT, "patterns": patterns_for("app/e42")}
        plan = explain(conn, triggers_statement(kit.db.dialect), params)
    assert "ix_wk_triggers_event" in plan, plan
    assert "SCAN wk_triggers" not in plan and "Seq Scan on wk_triggers" not in plan, plan
