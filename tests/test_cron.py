"""Cron triggers: checking a schedule, its ticks (time zones, daylight saving time), and firing them
through the real workers on both databases: one run per tick (of each schedule, for a workflow with
several), with several workers, across restarts (missed ticks: the latest one fires once), never for a
disabled or unpublished workflow. Time is virtual,
except in the test with worker processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from apps import cron_app
from conftest import START, Api, postgres_url
from helpers import action, edge, workflow

from bench.plans import explain
from workflow_kit import ActionContextSync, WorkflowKit
from workflow_kit.errors import WorkflowValidationError
from workflow_kit.retry import RetryPolicy
from workflow_kit.runtime.lifecycle.schedules import NEXT_TICK
from workflow_kit.runtime.models import Run, RunStatus, WorkflowRecord
from workflow_kit.runtime.rules.cron import TIMER_EVENT, CronError, CronSchedule
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.storage.db import Database
from workflow_kit.runtime.storage.direct import Direct
from workflow_kit.timeutil import VirtualClock, iso, to_ms

TENANT = "acme"
MINUTE = 60_000
HOUR = 60 * MINUTE
ONE_ACTION = workflow([action("t", "tick")], [edge("$source", "t")])
TESTS = Path(__file__).parent
START_MS = to_ms(START)


def at(*parts: int) -> int:
    """Epoch milliseconds of a UTC time."""
    return to_ms(datetime(*parts, tzinfo=UTC))  # type: ignore[misc]


def make_kit(database_url: str, clock: VirtualClock, **options: Any) -> WorkflowKit:
    kit = WorkflowKit(database_url=database_url, retry_policy=RetryPolicy.fast(), clock=clock, **options)

    @kit.action(kind="tick")
    def tick(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"event": ctx.event}

    return kit


@pytest.fixture
def kit(database_url: str, clock: VirtualClock) -> Iterator[WorkflowKit]:
    kit = make_kit(database_url, clock)
    yield kit
    kit.close()


def scheduled(kit: WorkflowKit, cron: str, **options: Any) -> WorkflowRecord:
    return kit.workflows.create_sync(TENANT, name="Scheduled", trigger={"cron": cron}, workflow=ONE_ACTION, **options)


async def runs_of(kit: WorkflowKit, workflow_id: str) -> list[Run]:
    """Oldest first."""
    listed = await kit.runs.list(TENANT, workflow_id=workflow_id)
    return sorted(listed, key=lambda r: (r.created_at, r.id))


async def ticks_of(kit: WorkflowKit, workflow_id: str) -> list[str]:
    """The ``scheduled_at`` of each run of the workflow, oldest first."""
    return [run.event["data"]["scheduled_at"] for run in await runs_of(kit, workflow_id)]


def next_tick(kit: WorkflowKit, workflow_id: str) -> int | None:
    return kit.workflows.get_sync(TENANT, workflow_id).next_tick_at


async def close_kit(kit: WorkflowKit) -> None:
    for _ in range(200):  # the threads of stopped workers give their connections back
        if "db" not in kit.__dict__ or kit.db.engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.01)
    kit.close()


# -- schedules, without a database --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "after", "ticks"),
    [
        ("0 12 * * 5", at(2026, 3, 1, 9), [at(2026, 3, 6, 12), at(2026, 3, 13, 12)]),
        ("TZ=Europe/Paris 0 12 * * 5", at(2026, 3, 1, 9), [at(2026, 3, 6, 11), at(2026, 3, 13, 11)]),
        ("CRON_TZ=America/New_York */30 9 * * MON-FRI", at(2026, 3, 2), [at(2026, 3, 2, 14), at(2026, 3, 2, 14, 30)]),
        ("  0   12 * * 5 ", at(2026, 3, 6, 12), [at(2026, 3, 13, 12)]),  # strictly after; spaces don't matter
        # Paris springs forward on 29 March 2026 (02:00 -> 03:00): noon stays noon, in UTC an hour earlier ...
        ("TZ=Europe/Paris 0 12 * * *", at(2026, 3, 28), [at(2026, 3, 28, 11), at(2026, 3, 29, 10)]),
        # ... and 02:30, which does not exist that night, ticks when the clocks jump (03:00 CEST).
        ("TZ=Europe/Paris 30 2 * * *", at(2026, 3, 28),
         [at(2026, 3, 28, 1, 30), at(2026, 3, 29, 1), at(2026, 3, 30, 0, 30)]),
        # It falls back on 25 October (03:00 -> 02:00): 02:30 happens twice and ticks once, at its first pass ...
        ("TZ=Europe/Paris 30 2 * * *", at(2026, 10, 24),
         [at(2026, 10, 24, 0, 30), at(2026, 10, 25, 0, 30), at(2026, 10, 26, 1, 30)]),
        # ... while an hourly schedule also ticks in the repeated hour, a real hour.
        ("TZ=Europe/Paris 0 * * * *", at(2026, 10, 24, 23, 30),
         [at(2026, 10, 25, 0), at(2026, 10, 25, 1), at(2026, 10, 25, 2)]),
        # Every minute of 02:xx ticks through the first pass only, then the next night.
        ("TZ=Europe/Paris * 2 * * *", at(2026, 10, 25, 0, 58), [at(2026, 10, 25, 0, 59), at(2026, 10, 26, 1)]),
        ("0 0 L * *", at(2026, 2, 1), [at(2026, 2, 28), at(2026, 3, 31)]),
    ],
)  # fmt: skip
def test_ticks(cron: str, after: int, ticks: list[int]) -> None:
    schedule = CronSchedule.parse(cron)
    found = []
    for _ in ticks:
        after = schedule.next_after(after)
        found.append(after)
    assert [iso(t) for t in found] == [iso(t) for t in ticks]


def test_the_latest_tick_skips_the_second_pass_of_a_repeated_hour() -> None:
    daily = CronSchedule.parse("TZ=Europe/Paris 30 2 * * *")
    assert iso(daily.latest_until(at(2026, 10, 25, 2))) == iso(at(2026, 10, 25, 0, 30))
    assert daily.latest_until(at(2026, 10, 25, 0, 30)) == at(2026, 10, 25, 0, 30)  # at or before
    every_minute = CronSchedule.parse("TZ=Europe/Paris * 2 * * *")
    assert iso(every_minute.latest_until(at(2026, 10, 25, 1, 30))) == iso(at(2026, 10, 25, 0, 59))
    every_second = CronSchedule.parse("TZ=Europe/Paris * * 2 * * *", allow_seconds=True)
    assert every_second.next_after(at(2026, 10, 25, 0, 59, 59)) == at(2026, 10, 26, 1)
    assert every_second.latest_until(at(2026, 10, 25, 1, 59, 59)) == at(2026, 10, 25, 0, 59, 59)
    hourly = CronSchedule.parse("TZ=Europe/Paris 0 * * * *")
    assert iso(hourly.latest_until(at(2026, 10, 25, 1, 59))) == iso(at(2026, 10, 25, 1))


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("", "a cron expression is required"),
        ("0 25 * * *", "the hour field '25' is not valid (0-23"),
        ("61 * * * *", "the minute field '61'"),
        ("0 0 0 * *", "the day of month field '0'"),
        ("0 0 * 13 *", "the month field '13'"),
        ("0 0 * * 8", "the day of week field '8'"),
        ("*/0 * * * *", "the minute field '*/0'"),
        ("0 12 * *", "expected 5 fields"),
        ("0 12 * * 5 2027", "expected 5 fields"),
        ("*/5 * * * * *", "expected 5 fields"),
        ("@hourly", "write the fields, e.g. '0 * * * *'"),
        ("H 12 * * *", "random (R) and hashed (H) values are not supported"),
        ("0 0 30 2 *", "never ticks"),
        ("TZ=Europe/Pari 0 12 * * 5", "unknown time zone 'Europe/Pari': did you mean Europe/Paris?"),
        ("TZ=Nowhere/Atall 0 12 * * 5", "unknown time zone 'Nowhere/Atall'"),
        ("TZ= 0 12 * * 5", "needs a time zone name"),
        ("TZ=Europe/Paris", "the fields are missing"),
        ("0 12 * * 5 " + " " * 300, None),  # trailing spaces are not counted ...
        ("0,1,2,3,4,5,6,7,8,9 " * 13 + "* * * *", "longer than 255 characters"),  # ... the text is
    ],
)
def test_invalid_schedules_say_what_is_wrong(cron: str, message: str | None) -> None:
    if message is None:
        assert CronSchedule.parse(cron).text == "0 12 * * 5"
        return
    with pytest.raises(CronError) as info:
        CronSchedule.parse(cron)
    assert message in str(info.value)


def test_a_seconds_field_only_when_allowed() -> None:
    every_10s = CronSchedule.parse("*/10 * * * * *", allow_seconds=True)
    assert every_10s.next_after(at(2026, 3, 1, 9) + 1) == at(2026, 3, 1, 9, 0, 10)
    with pytest.raises(CronError):
        CronSchedule.parse("*/10 * * * * *")


# -- saving a cron trigger ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "path", "message"),
    [
        ({"cron": "0 25 * * *"}, "trigger.cron", "the hour field '25'"),
        ({"cron": "TZ=Mars/Olympus 0 12 * * 5"}, "trigger.cron", "unknown time zone"),
        ({"cron": "x" * 256}, "trigger.cron", "longer than 255 characters"),
        ({"cron": 5}, "trigger.cron", "expected a cron expression"),
        ({"cron": "0 12 * * 5", "event": "app/x"}, "trigger", "an event or a cron schedule, not both"),
        ({"cron": "0 12 * * 5", "if": "true"}, "trigger.if", "a cron trigger has no condition"),
    ],
)
def test_a_bad_cron_trigger_is_refused_with_its_path(kit: WorkflowKit, trigger: Any, path: str, message: str) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.create_sync(TENANT, name="Bad", trigger=trigger, workflow=ONE_ACTION)
    assert [(p.code, p.path) for p in info.value.problems][:1] == [("invalid_trigger", path)]
    assert message in info.value.problems[0].message
    assert kit.workflows.list_sync(TENANT) == []


def test_a_cron_trigger_is_stored_normalized_and_versioned(kit: WorkflowKit) -> None:
    record = scheduled(kit, "  TZ=Europe/Paris   0 12 * * 5 ")
    assert record.trigger.cron == "TZ=Europe/Paris 0 12 * * 5"
    assert (record.trigger.event, record.trigger.if_) == (None, None)
    assert record.next_tick_at == at(2026, 3, 6, 11)
    [version] = kit.workflows.versions_sync(TENANT, record.id)
    assert version.trigger.cron == "TZ=Europe/Paris 0 12 * * 5"


def test_a_kit_with_cron_seconds_accepts_six_fields(database_url: str, clock: VirtualClock) -> None:
    kit = make_kit(database_url, clock, cron_seconds=True)
    try:
        record = scheduled(kit, "*/10 * * * * *")
        assert record.next_tick_at == START_MS + 10_000
    finally:
        kit.close()


# -- firing ---------------------------------------------------------------------------------------------


async def test_a_tick_starts_one_run_with_the_timer_event(kit: WorkflowKit, clock: VirtualClock) -> None:
    async with kit.worker(poll_ms=50) as worker:
        record = scheduled(kit, "0 12 * * 5")  # START is Sunday 1 March 2026, 09:00 UTC
        friday_noon = at(2026, 3, 6, 12)
        assert record.next_tick_at == friday_noon
        clock.advance_to(friday_noon - 1)
        await worker.idle()
        assert await runs_of(kit, record.id) == []

        clock.advance_to(friday_noon + 250)
        await worker.idle()
        [run] = await runs_of(kit, record.id)
        expected = {
            "name": TIMER_EVENT,
            "data": {
                "cron": "0 12 * * 5",
                "scheduled_at": "2026-03-06T12:00:00Z",
                "fire_at": "2026-03-06T12:00:00.250Z",
            },
            "id": "2026-03-06T12:00:00Z",
            "ts": friday_noon + 250,
        }
        done = await kit.runs.get(TENANT, run.id)
        assert done.status == RunStatus.COMPLETED, done.error
        assert done.event == expected
        assert done.output == {"t": {"event": expected}}  # the action's ctx.event is the timer event
        assert next_tick(kit, record.id) == at(2026, 3, 13, 12)
        [stored] = kit.events.list_sync(TENANT, name=TIMER_EVENT)
        assert stored.event == expected

        # Nothing more at the same time; and a timer event sent by anyone starts no cron workflow.
        await kit.send(TENANT, {"name": TIMER_EVENT, "data": {}})
        await worker.idle()
        assert [r.id for r in await runs_of(kit, record.id)] == [run.id]


async def test_a_time_zone_keeps_the_wall_clock_time_across_a_dst_change(kit: WorkflowKit, clock: VirtualClock) -> None:
    clock.advance_to(at(2026, 3, 27, 9))
    async with kit.worker(poll_ms=50) as worker:
        record = scheduled(kit, "TZ=Europe/Paris 0 12 * * *")
        for _ in range(4):
            tick = next_tick(kit, record.id)
            assert tick is not None
            clock.advance_to(tick)
            await worker.idle()
    assert await ticks_of(kit, record.id) == [
        "2026-03-27T11:00:00Z",  # noon in Paris, UTC+1
        "2026-03-28T11:00:00Z",
        "2026-03-29T10:00:00Z",  # noon in Paris, UTC+2 from that night
        "2026-03-30T10:00:00Z",
    ]


async def test_only_published_and_enabled_cron_workflows_tick(kit: WorkflowKit, clock: VirtualClock) -> None:
    async with kit.worker(poll_ms=50) as worker:
        draft = scheduled(kit, "*/5 * * * *", publish=False)
        off = scheduled(kit, "*/5 * * * *", enabled=False)
        on = scheduled(kit, "*/5 * * * *")
        assert (draft.next_tick_at, off.next_tick_at, on.next_tick_at) == (None, None, START_MS + 5 * MINUTE)
        for minutes in (5, 10):
            clock.advance_to(START_MS + minutes * MINUTE)
            await worker.idle()
        assert await ticks_of(kit, on.id) == ["2026-03-01T09:05:00Z", "2026-03-01T09:10:00Z"]
        assert await runs_of(kit, draft.id) == await runs_of(kit, off.id) == []

        # Disabled, it stops ticking; enabled again, it ticks from then on (the ticks in between never fire).
        assert kit.workflows.disable_sync(TENANT, on.id).next_tick_at is None
        clock.advance_to(START_MS + 22 * MINUTE)
        await worker.idle()
        assert kit.workflows.enable_sync(TENANT, on.id).next_tick_at == START_MS + 25 * MINUTE
        assert kit.workflows.enable_sync(TENANT, off.id).next_tick_at == START_MS + 25 * MINUTE
        kit.workflows.publish_sync(TENANT, draft.id)
        assert next_tick(kit, draft.id) is None  # published, still not enabled
        assert kit.workflows.enable_sync(TENANT, draft.id).next_tick_at == START_MS + 25 * MINUTE
        clock.advance_to(START_MS + 25 * MINUTE)
        await worker.idle()
    assert await ticks_of(kit, on.id) == ["2026-03-01T09:05:00Z", "2026-03-01T09:10:00Z", "2026-03-01T09:25:00Z"]
    assert await ticks_of(kit, off.id) == await ticks_of(kit, draft.id) == ["2026-03-01T09:25:00Z"]


async def test_editing_the_schedule_moves_the_next_tick(kit: WorkflowKit, clock: VirtualClock) -> None:
    async with kit.worker(poll_ms=50) as worker:
        record = scheduled(kit, "0 12 * * 5")
        assert kit.workflows.update_sync(TENANT, record.id, name="Renamed").next_tick_at == at(2026, 3, 6, 12)
        moved = kit.workflows.update_sync(TENANT, record.id, trigger={"cron": "0 8 * * 2"})
        assert moved.next_tick_at == at(2026, 3, 3, 8)
        same = kit.workflows.update_sync(TENANT, record.id, trigger={"cron": " 0  8 * * 2"})
        assert (same.trigger.cron, same.next_tick_at) == ("0 8 * * 2", at(2026, 3, 3, 8))

        clock.advance_to(at(2026, 3, 3, 8))
        await worker.idle()
        clock.advance_to(at(2026, 3, 6, 12))  # the old schedule's tick: nothing
        await worker.idle()
        [run] = await runs_of(kit, record.id)
        assert run.event["data"]["cron"] == "0 8 * * 2"
        assert next_tick(kit, record.id) == at(2026, 3, 10, 8)

        # An event trigger has no ticks; back to a schedule, it ticks from now.
        assert kit.workflows.update_sync(TENANT, record.id, trigger="app/go").next_tick_at is None
        clock.advance_to(at(2026, 3, 10, 8))
        await worker.idle()
        await kit.send(TENANT, {"name": "app/go", "data": {}})
        await worker.idle()
        runs = await runs_of(kit, record.id)
        assert [r.event["name"] for r in runs] == [TIMER_EVENT, "app/go"]
        back = kit.workflows.update_sync(TENANT, record.id, trigger={"cron": "0 8 * * 2"})
        assert back.next_tick_at == at(2026, 3, 17, 8)


async def test_each_cron_trigger_ticks_on_its_own_schedule(kit: WorkflowKit, clock: VirtualClock) -> None:
    triggers = [{"cron": "0 12 * * 5"}, "app/go", {"cron": "0 9 * * *"}]
    async with kit.worker(poll_ms=50) as worker:
        record = kit.workflows.create_sync(TENANT, name="Twice", triggers=triggers, workflow=ONE_ACTION)
        assert record.next_tick_at == at(2026, 3, 2, 9)  # the earliest of its schedules
        for day in range(2, 7):
            clock.advance_to(at(2026, 3, day, 12))
            await worker.idle()
        await kit.send(TENANT, {"name": "app/go", "data": {}})
        await worker.idle()
        runs = await runs_of(kit, record.id)
        fired = Counter((run.trigger or {}).get("index") for run in runs)
        assert fired == {2: 5, 0: 1, 1: 1}  # every day at 9:00 from Monday to Friday, Friday noon, the event
        friday = [r for r in runs if r.trigger == {"index": 0, "cron": "0 12 * * 5"}]
        assert [r.event["data"]["scheduled_at"] for r in friday] == ["2026-03-06T12:00:00Z"]
        done = await kit.runs.get(TENANT, friday[0].id)
        assert (done.status, done.event["data"]["cron"]) == (RunStatus.COMPLETED, "0 12 * * 5")
        assert next_tick(kit, record.id) == at(2026, 3, 7, 9)


async def test_editing_the_triggers_keeps_the_ticks_of_the_schedules_kept(
    kit: WorkflowKit, clock: VirtualClock
) -> None:
    record = kit.workflows.create_sync(TENANT, name="Weekly", trigger={"cron": "0 12 * * 5"}, workflow=ONE_ACTION)
    clock.advance_to(at(2026, 3, 6, 12) + 30 * MINUTE)  # past Friday's tick, not fired yet (no worker)
    # Another schedule added before it, and an event: the kept schedule, moved in the list, keeps its due tick.
    edited = kit.workflows.update_sync(
        TENANT, record.id, triggers=[{"cron": "0 13 * * *"}, "app/go", {"cron": "0 12 * * 5"}]
    )
    assert edited.next_tick_at == at(2026, 3, 6, 12)
    async with kit.worker(poll_ms=50) as worker:
        await worker.idle()
        [run] = await runs_of(kit, record.id)
        assert run.trigger == {"index": 2, "cron": "0 12 * * 5"}
        assert next_tick(kit, record.id) == at(2026, 3, 6, 13)  # the new schedule's first tick after the edit
        # A schedule removed stops ticking; disabled, none ticks.
        kit.workflows.update_sync(TENANT, record.id, triggers=["app/go", {"cron": "0 12 * * 5"}])
        assert next_tick(kit, record.id) == at(2026, 3, 13, 12)
        kit.workflows.disable_sync(TENANT, record.id)
        assert next_tick(kit, record.id) is None
        clock.advance_to(at(2026, 3, 14))
        await worker.idle()
    assert len(await runs_of(kit, record.id)) == 1


async def test_after_a_restart_the_latest_missed_tick_fires_once(database_url: str, clock: VirtualClock) -> None:
    first = make_kit(database_url, clock)
    record = scheduled(first, "0 * * * *")
    async with first.worker(poll_ms=50) as worker:
        clock.advance_to(at(2026, 3, 1, 10))
        await worker.idle()
    await close_kit(first)

    # Every worker is down from 10:00 to 14:30: the ticks of 11:00, 12:00, 13:00 and 14:00 pass.
    clock.advance_to(at(2026, 3, 1, 14, 30))
    second = make_kit(database_url, clock)
    try:
        async with second.worker(poll_ms=50) as worker:
            await worker.idle()
            runs = await runs_of(second, record.id)
            assert [r.event["data"]["scheduled_at"] for r in runs] == ["2026-03-01T10:00:00Z", "2026-03-01T14:00:00Z"]
            assert runs[1].event["data"]["fire_at"] == "2026-03-01T14:30:00.000Z"
            assert next_tick(second, record.id) == at(2026, 3, 1, 15)
            clock.advance_to(at(2026, 3, 1, 15))
            await worker.idle()
        assert (await ticks_of(second, record.id))[2:] == ["2026-03-01T15:00:00Z"]
    finally:
        await close_kit(second)


async def test_several_workers_fire_each_tick_once(database_url: str, clock: VirtualClock) -> None:
    # Two kits on one database (two writers and connection pools, as two processes have), two workers each.
    kits = [make_kit(database_url, clock) for _ in range(2)]
    record = scheduled(kits[0], "* * * * *")
    workers = [kit.worker(poll_ms=20, name=f"w{i}.{j}") for i, kit in enumerate(kits) for j in range(2)]
    try:
        for worker in workers:
            worker.start()
        for minute in range(1, 11):
            clock.advance_to(START_MS + minute * MINUTE)
            for kit in kits:
                kit.notify()  # every worker wakes at once and goes for the tick
            for worker in workers:
                await worker.idle()
    finally:
        for worker in workers:
            await worker.stop()
        for kit in kits:
            await close_kit(kit)
    check = make_kit(database_url, clock)
    try:
        ticks = await ticks_of(check, record.id)
    finally:
        check.close()
    assert ticks == [iso(START_MS + m * MINUTE).replace(".000Z", "Z") for m in range(1, 11)]


async def test_several_workers_fire_each_tick_of_each_schedule_once(database_url: str, clock: VirtualClock) -> None:
    kits = [make_kit(database_url, clock) for _ in range(2)]
    triggers = [{"cron": "* * * * *"}, {"cron": "*/2 * * * *"}, {"cron": "*/3 * * * *"}]
    record = kits[0].workflows.create_sync(TENANT, name="Three", triggers=triggers, workflow=ONE_ACTION)
    workers = [kit.worker(poll_ms=20, name=f"w{i}.{j}") for i, kit in enumerate(kits) for j in range(2)]
    try:
        for worker in workers:
            worker.start()
        for minute in range(1, 7):
            clock.advance_to(START_MS + minute * MINUTE)
            for kit in kits:
                kit.notify()
            for worker in workers:
                await worker.idle()
    finally:
        for worker in workers:
            await worker.stop()
        for kit in kits:
            await close_kit(kit)
    check = make_kit(database_url, clock)
    try:
        runs = await runs_of(check, record.id)
    finally:
        check.close()
    ticks = Counter(((run.trigger or {}).get("index"), run.event["data"]["scheduled_at"]) for run in runs)
    assert set(ticks.values()) == {1}  # each tick of each schedule once
    assert Counter(index for index, _ in ticks) == {0: 6, 1: 3, 2: 2}


async def test_a_stored_schedule_that_no_longer_works_stops_ticking_and_blocks_nothing(
    kit: WorkflowKit, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    record = scheduled(kit, "TZ=Europe/Paris 0 * * * *")
    events = kit.workflows.create_sync(TENANT, name="On events", trigger="app/go", workflow=ONE_ACTION)
    with kit.db.write() as conn:  # as if the time zone had left the system's database since
        conn.execute(
            schema.triggers.update()
            .where(schema.triggers.c.workflow_id == record.id)
            .values(cron="TZ=Gone/Away 0 * * * *")
        )
    clock.advance_to(at(2026, 3, 1, 10))
    async with kit.worker(poll_ms=50) as worker:
        await kit.send(TENANT, {"name": "app/go", "data": {}})
        await worker.idle()
    assert next_tick(kit, record.id) is None
    assert await runs_of(kit, record.id) == []
    assert [r.status for r in await runs_of(kit, events.id)] == [RunStatus.COMPLETED]
    assert "no longer works" in caplog.text


# -- the editor API -------------------------------------------------------------------------------------


def test_the_api_saves_a_cron_trigger_and_shows_its_next_tick(api: Api) -> None:
    body = {"name": "Weekly", "trigger": {"cron": "TZ=Europe/Paris 0 12 * * 5"}, "workflow": ECHO_WORKFLOW}
    created = api.client.post("/api/workflows", headers=api.headers(), json=body)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["trigger"] == {"cron": "TZ=Europe/Paris 0 12 * * 5"}
    assert record["next_tick_at"] is None  # a draft does not tick
    url = f"/api/workflows/{record['id']}"
    assert api.client.post(f"{url}/publish", headers=api.headers()).status_code == 201
    enabled = api.client.post(f"{url}/enable", headers=api.headers()).json()
    assert enabled["next_tick_at"] > api.kit.clock.now_ms()
    assert datetime.fromtimestamp(enabled["next_tick_at"] / 1000, UTC).strftime("%M:%S") == "00:00"

    bad = api.client.put(url, headers=api.headers(), json={"trigger": {"cron": "0 12 * * fri 2026"}})
    assert bad.status_code == 422
    assert [(p["code"], p["path"]) for p in bad.json()["problems"]] == [("invalid_trigger", "trigger.cron")]

    test_run = api.client.post(f"{url}/test", headers=api.headers())
    assert test_run.status_code == 201, test_run.text
    run = api.client.get(f"/api/runs/{test_run.json()['run_id']}", headers=api.headers()).json()
    assert run["event"]["name"] == TIMER_EVENT
    assert run["event"]["data"]["cron"] == "TZ=Europe/Paris 0 12 * * 5"


ECHO_WORKFLOW = {
    "actions": [{"id": "e", "kind": "echo", "inputs": {"x": 1}}],
    "edges": [{"from": "$source", "to": "e"}],
}


# -- worker processes on PostgreSQL, with a real clock ----------------------------------------------------

WINDOW_S = 6


@pytest.mark.slow
def test_worker_processes_fire_each_tick_once(tmp_path: Path) -> None:
    """Three ``workflow-kit worker`` processes and a schedule that ticks every second: each tick starts
    exactly one run."""
    url = postgres_url()
    db = Database(url)
    db.truncate_all()
    db.dispose()
    kit = WorkflowKit(database_url=url, cron_seconds=True)
    definition = cron_app.kit.registry.get("cron_tick")
    assert definition is not None
    kit.register(definition)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path])}
    command = [sys.executable, "-m", "workflow_kit.cli", "worker", "--app", "apps.cron_app:kit",
               "--database-url", url, "--concurrency", "4", "--poll-ms", "1000"]  # fmt: skip
    logs = [tmp_path / f"worker-{i}.log" for i in range(3)]
    processes = []
    for log in logs:
        with log.open("wb") as out:
            processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=out))
    try:
        wait_for(lambda: listening(kit) >= len(processes), "the workers to listen")
        record = kit.workflows.create_sync(
            TENANT,
            name="Every second",
            trigger={"cron": "* * * * * *"},
            workflow={"actions": [{"id": "t", "kind": "cron_tick"}], "edges": [{"from": "$source", "to": "t"}]},
        )
        time.sleep(WINDOW_S)  # real time: the schedule ticks every second of it, in three processes
        kit.workflows.disable_sync(TENANT, record.id)
        wait_for(lambda: open_runs(kit) == 0, "the runs to complete")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)
    try:
        with kit.db.read() as conn:
            rows = conn.execute(sa.select(schema.runs.c.event, schema.runs.c.status, schema.runs.c.output)).all()
            timer_events = conn.execute(
                sa.select(sa.func.count()).select_from(schema.events).where(schema.events.c.name == TIMER_EVENT)
            ).scalar()
    finally:
        kit.close()
    output = "".join(log.read_text() for log in logs)
    assert "Traceback" not in output and "ERROR" not in output, output[-5000:]
    ticks = Counter(row.event["data"]["scheduled_at"] for row in rows)
    assert ticks.most_common(1)[0][1] == 1, [t for t, n in ticks.items() if n > 1]  # no tick ran twice
    assert {row.status for row in rows} == {"completed"}
    assert timer_events == len(rows)
    seconds = sorted(int(datetime.fromisoformat(t).timestamp()) for t in ticks)
    missed = set(range(seconds[0], seconds[-1] + 1)) - set(seconds)
    pids = Counter(row.output["t"]["pid"] for row in rows)
    print(f"\n{len(rows)} runs for {len(rows)} ticks over {seconds[-1] - seconds[0] + 1} s, none missed: "
          f"{not missed}; runs per worker process: {sorted(pids.values())}")  # fmt: skip
    assert not missed, sorted(missed)
    assert len(rows) >= WINDOW_S - 1


def listening(kit: WorkflowKit) -> int:
    """Worker processes listening for due runs (their LISTEN connection is up: they are ready)."""
    with kit.db.read() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            ).scalar_one()
        )


def open_runs(kit: WorkflowKit) -> int:
    with kit.db.read() as conn:
        query = sa.select(sa.func.count()).where(schema.runs.c.status.not_in(("completed", "failed", "cancelled")))
        return int(conn.execute(query).scalar_one())


def wait_for(condition: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_workers_find_the_next_tick_through_the_index(kit: WorkflowKit) -> None:
    rows = [
        {"workflow_id": f"w{i}", "position": 0, "tenant": TENANT, "cron": "0 9 * * *", "next_tick_at": i}
        for i in range(2_000)
    ]
    with kit.db.write() as conn:
        conn.execute(schema.triggers.insert(), rows)
        conn.exec_driver_sql("ANALYZE" if kit.db.dialect == "sqlite" else "ANALYZE wk_triggers")
        plan = explain(conn, Direct(sa.select(NEXT_TICK)), {})
    assert "ix_wk_triggers_next_tick" in plan, plan
    assert "SCAN wk_triggers " not in plan + " " and "Seq Scan" not in plan, plan
