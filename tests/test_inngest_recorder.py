"""Runs on Inngest in the kit's own tables (`workflow_kit.inngest.recorder`): driven through the test double
of Inngest's executor, they show in the editor API as embedded runs do (the same statuses, the same
per-action outputs), a replay records nothing twice, cancelling through the API ends the run on the
executor's side, events sent to Inngest are in the events list with the runs they started, and no
embedded worker ever claims such a run. On SQLite and PostgreSQL (the `kit` fixture)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import SECRET
from inngest_harness import TENANT, Harness
from litestar.testing import AsyncTestClient
from test_conformance import CASES, _definition

from editor_api import create_app
from workflow_kit import ActionContext, NonRetriableError, WorkflowKit
from workflow_kit.runtime.lifecycle import runs as lifecycle_runs
from workflow_kit.runtime.storage import schema
from workflow_kit.timeutil import VirtualClock

CHOSEN = ("02-diamond", "18-fail-midway", "42-error-edge", "40-for-each-basic")
DIFFERENTIAL = [p for p in CASES if p.stem in CHOSEN]


@pytest.fixture
async def api(kit: WorkflowKit) -> AsyncIterator[AsyncTestClient[Any]]:
    kit.secret = SECRET
    async with AsyncTestClient(create_app(kit)) as client:
        client.headers["Authorization"] = f"Bearer {kit.editor_token(TENANT, 'ann')}"
        yield client


async def publish(kit: WorkflowKit, workflow: dict[str, Any], trigger: str = "go") -> str:
    record = await kit.workflows.create(TENANT, name="W", workflow=workflow, triggers=[trigger])
    return record.id


def shape(run: dict[str, Any]) -> dict[str, Any]:
    """What must be equal between a run on Inngest and the same run embedded."""
    return {
        "status": run["status"],
        "error": (run.get("error") or {}).get("message"),
        "actions": [
            (a["id"], a["status"], a.get("output"), (a.get("error") or {}).get("message"), len(a["attempts"]))
            for a in run["actions"]
        ],
        "steps": [
            [(s["key"], s["kind"], s["status"], s.get("output"), len(s["attempts"])) for s in a["steps"]]
            for a in run["actions"]
        ],
    }


async def embedded_run(
    kit: WorkflowKit, worker: Any, clock: VirtualClock, workflow_id: str, event: dict[str, Any]
) -> str:
    """Run the published version on the embedded runtime, time passing as its retries and sleeps ask."""
    record = await kit.workflows.get(TENANT, workflow_id)
    version = await kit.workflows.version(TENANT, workflow_id, record.published_version or 0)
    run_id = await kit.runs.start(TENANT, workflow_id, version.id, event)
    await worker.idle()
    while not (await kit.runs.get(TENANT, run_id)).status.terminal:
        clock.advance(timedelta(minutes=1))
        kit.notify()
        await worker.idle()
    return run_id


@pytest.mark.parametrize("path", DIFFERENTIAL, ids=[p.stem for p in DIFFERENTIAL])
async def test_a_run_on_inngest_shows_in_the_api_as_the_same_run_embedded(
    kit: WorkflowKit, worker: Any, clock: VirtualClock, api: AsyncTestClient[Any], path: Path
) -> None:
    case = json.loads(path.read_text())
    for spec in case["actions"]:
        kit.register(_definition(spec, []))
    workflow_id = await publish(kit, case["workflow"])
    embedded_id = await embedded_run(kit, worker, clock, workflow_id, case["event"])

    harness = Harness(kit, store=True, record=True)
    await harness.backend.start(TENANT, workflow_id, case["event"])
    (ended,) = await harness.executor.run_queued()
    await harness.close()
    assert ended.status == case["expect"]["status"]

    listed = (await api.get("/api/runs", params={"workflow_id": workflow_id})).json()["items"]
    assert len(listed) == 2
    on_inngest = next(run for run in listed if run["id"] != embedded_id)
    assert on_inngest["status"] == case["expect"]["status"]
    embedded = (await api.get(f"/api/runs/{embedded_id}")).json()
    remote = (await api.get(f"/api/runs/{on_inngest['id']}")).json()
    assert shape(remote) == shape(embedded)
    assert remote["version"] == embedded["version"] == 1
    assert remote["event"]["data"] == embedded["event"]["data"]
    for action, same in zip(remote["actions"], embedded["actions"], strict=True):
        assert action["inputs"] == same["inputs"], action["id"]
        assert len(action["attempts"]) == len(same["attempts"]), action["id"]
        if action["status"] in ("completed", "failed"):
            assert action["started_at"] <= action["ended_at"]


async def test_a_replayed_request_records_nothing_twice_and_retries_are_attempts(kit: WorkflowKit) -> None:
    tries: list[int] = []

    @kit.action(kind="flaky")
    async def flaky(ctx: ActionContext, inputs: dict[str, Any]) -> int:
        tries.append(ctx.attempt)
        if ctx.attempt < 2:
            raise RuntimeError(f"not yet ({ctx.attempt})")
        return 7

    workflow = {
        "name": "w",
        "actions": [
            {"id": "flaky", "kind": "flaky", "inputs": {}},
            {"id": "nap", "kind": "builtin:sleep", "inputs": {"duration": "1h"}},
        ],
        "edges": [{"from": "$source", "to": "flaky"}, {"from": "flaky", "to": "nap"}],
    }
    workflow_id = await publish(kit, workflow)
    harness = Harness(kit, store=True, record=True)
    await harness.backend.start(TENANT, workflow_id, {"name": "go"})
    (ended,) = await harness.executor.run_queued()
    assert ended.status == "completed"
    assert harness.executor.posts > 4  # every request replayed the run from the top
    (listed,) = await kit.runs.list(TENANT)
    run = await kit.runs.get(TENANT, listed.id)
    assert run.status == "completed" and run.output == {"flaky": 7, "nap": None}
    flaky_record, nap = run.actions
    assert (flaky_record.status, flaky_record.output, nap.status) == ("completed", 7, "completed")
    assert [a.error.message if a.error else None for a in flaky_record.attempts] == [
        "not yet (0)",
        "not yet (1)",
        None,
    ]
    with kit.db.read() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(schema.run_actions)).scalar()
        remote = conn.execute(sa.select(schema.runs.c.runs_on, schema.runs.c.remote_id)).one()
    assert rows == 2
    assert remote == ("inngest", ended.run_id)
    await harness.close()


async def test_cancel_through_the_api_ends_the_run_on_inngest(kit: WorkflowKit, api: AsyncTestClient[Any]) -> None:
    harness = Harness(kit, store=True, record=True)
    cancelled: list[int] = []

    @kit.action(kind="cancel-me")
    async def cancel_me(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        async def cancel() -> int:  # the editor's cancel, while the run waits on Inngest
            (run,) = (await api.get("/api/runs")).json()["items"]
            answer = await api.post(f"/api/runs/{run['id']}/cancel")
            cancelled.append(answer.status_code)
            return answer.status_code

        await ctx.step.run("cancel", cancel)

    workflow = {
        "name": "w",
        "actions": [
            {"id": "wait", "kind": "builtin:wait_for_event", "inputs": {"event": "never", "timeout": "1d"}},
            {"id": "poke", "kind": "cancel-me", "inputs": {}},
            {"id": "after", "kind": "builtin:sleep", "inputs": {"duration": "1m"}},
        ],
        "edges": [
            {"from": "$source", "to": "wait"},
            {"from": "$source", "to": "poke"},
            {"from": "wait", "to": "after"},
        ],
    }
    workflow_id = await publish(kit, workflow)
    await harness.backend.start(TENANT, workflow_id, {"name": "go"})
    (ended,) = await harness.executor.run_queued()
    assert cancelled == [200]
    assert ended.status == "cancelled"  # Inngest's cancel option matched the kit's cancel event
    (run,) = (await api.get("/api/runs")).json()["items"]
    assert run["status"] == "cancelled"
    detail = (await api.get(f"/api/runs/{run['id']}")).json()
    statuses = {a["id"]: a["status"] for a in detail["actions"]}
    # as embedded: the step that was executing when the run was cancelled finished, unrecorded
    assert statuses == {"wait": "waiting", "poke": "running", "after": "pending"}
    await harness.close()


async def test_events_sent_to_inngest_are_listed_with_the_runs_they_started(
    kit: WorkflowKit, worker: Any, api: AsyncTestClient[Any]
) -> None:
    @kit.action(kind="hello")
    async def hello(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return f"hello {ctx.event['data']['name']}"

    workflow = {
        "name": "w",
        "actions": [{"id": "hi", "kind": "hello", "inputs": {}}],
        "edges": [{"from": "$source", "to": "hi"}],
    }
    await publish(kit, workflow, "user/created")
    harness = Harness(kit, store=True, record=True)
    harness.backend.take_events()
    sent = await api.post("/api/events", json={"name": "user/created", "data": {"name": "ann"}, "id": "u-1"})
    again = await api.post("/api/events", json={"name": "user/created", "data": {"name": "ann"}, "id": "u-1"})
    assert sent.status_code == again.status_code == 202, sent.text
    events = (await api.get("/api/events")).json()["items"]
    assert [e["name"] for e in events] == ["user/created", "user/created"]
    (queued,) = (await api.get("/api/runs")).json()["items"]
    assert queued["status"] == "queued"  # asked of Inngest, not started yet
    await worker.idle()
    with kit.db.read() as conn:
        row = conn.execute(sa.select(schema.runs.c.claim_seq, schema.runs.c.lease_owner, schema.runs.c.due_at)).one()
    assert row == (0, None, None)  # the embedded worker never claimed it
    with kit.db.write() as conn:  # nor can any: the claim itself refuses a run on Inngest
        assert (
            lifecycle_runs.claim(conn, kit.db.dialect, [queued["id"]], "a-worker", kit.clock.now_ms() + 60_000, 0) == []
        )

    (ended,) = await harness.executor.run_queued()  # the repeat was dropped: one run
    assert ended.output == {"hi": "hello ann"}
    (run,) = (await api.get("/api/runs")).json()["items"]
    assert run["status"] == "completed"
    first = next(e for e in events if e["id"] == run["event_id"])
    links = (await api.get(f"/api/events/{first['id']}/runs")).json()
    assert [r["id"] for r in links["started"]] == [run["id"]]
    await harness.close()


async def test_rerun_bulk_cancel_and_bulk_replay_of_runs_on_inngest_go_to_inngest(
    kit: WorkflowKit, worker: Any, api: AsyncTestClient[Any]
) -> None:
    @kit.action(kind="picky")
    async def picky(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        if ctx.event["data"].get("fail"):
            raise NonRetriableError("not this one")
        return "fine"

    workflow = {
        "name": "w",
        "actions": [{"id": "p", "kind": "picky", "inputs": {}}],
        "edges": [{"from": "$source", "to": "p"}],
    }
    workflow_id = await publish(kit, workflow)
    harness = Harness(kit, store=True, record=True)
    await harness.backend.start(TENANT, workflow_id, {"name": "go", "data": {"fail": True}})
    (failed,) = await harness.executor.run_queued()
    assert failed.status == "failed"
    (original,) = (await api.get("/api/runs")).json()["items"]
    assert original["status"] == "failed"

    rerun = await api.post(f"/api/runs/{original['id']}/rerun")
    assert rerun.status_code == 201, rerun.text
    (again,) = await harness.executor.run_queued()  # a new run request reached Inngest
    assert again.status == "failed"
    second = (await api.get(f"/api/runs/{rerun.json()['run_id']}")).json()
    assert (second["status"], second["rerun_of"]) == ("failed", original["id"])

    await harness.backend.start(TENANT, workflow_id, {"name": "go", "data": {"fail": False}})
    queued = [r for r in (await api.get("/api/runs")).json()["items"] if r["status"] == "queued"]
    assert len(queued) == 1
    operation = (await api.post("/api/runs/bulk-cancel", json={"workflow_id": workflow_id})).json()
    await until(lambda: any(e["name"] == "workflow-kit/run.cancel.requested" for e in harness.executor.inbox))
    assert (await api.get(f"/api/operations/{operation['id']}")).json()["done"] == 1
    (cancelled,) = await harness.executor.run_queued()
    assert cancelled.status == "cancelled"  # on Inngest too
    assert (await api.get(f"/api/runs/{queued[0]['id']}")).json()["status"] == "cancelled"

    replay = (
        await api.post("/api/runs/bulk-replay", json={"workflow_id": workflow_id, "status": ["cancelled"]})
    ).json()
    await until(lambda: bool(harness.executor.queued))
    (replayed,) = await harness.executor.run_queued()
    assert replayed.status == "completed" and replayed.output == {"p": "fine"}
    assert (await api.get(f"/api/operations/{replay['id']}")).json()["done"] == 1
    runs = (await api.get("/api/runs")).json()["items"]
    assert sorted(r["status"] for r in runs) == ["cancelled", "completed", "failed", "failed"]
    await harness.close()


async def until(holds: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll (the workers work bulk operations in the background) until `holds`, with a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not holds():
        assert loop.time() < deadline, "still not"
        await asyncio.sleep(0.02)


async def test_a_run_inngest_cancels_by_a_cancel_on_setting_shows_cancelled(kit: WorkflowKit) -> None:
    harness = Harness(kit, store=True, record=True)

    @kit.action(kind="call-off")
    async def call_off(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        await ctx.step.run("send", lambda: harness.backend.send(TENANT, {"name": "order/cancelled"}))

    workflow = {
        "name": "w",
        "actions": [
            {"id": "wait", "kind": "builtin:wait_for_event", "inputs": {"event": "never", "timeout": "1d"}},
            {"id": "off", "kind": "call-off", "inputs": {}},
        ],
        "edges": [{"from": "$source", "to": "wait"}, {"from": "$source", "to": "off"}],
    }
    record = await kit.workflows.create(
        TENANT, name="W", workflow=workflow, triggers=["go"], settings={"cancel_on": [{"event": "order/cancelled"}]}
    )
    await harness.backend.dedicate_published(TENANT)
    await harness.backend.send(TENANT, {"name": "go"})
    (ended,) = await harness.executor.run_queued()
    assert ended.status == "cancelled"  # by the workflow's own cancel option, on Inngest
    (run,) = await kit.runs.list(TENANT, workflow_id=record.id)
    assert run.status == "cancelled"  # recorded from Inngest's inngest/function.cancelled
    await harness.close()


async def test_a_run_inngest_may_drop_is_recorded_when_it_starts_with_its_event(
    kit: WorkflowKit, api: AsyncTestClient[Any]
) -> None:
    @kit.action(kind="hello")
    async def hello(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return "hello"

    workflow = {
        "name": "w",
        "actions": [{"id": "hi", "kind": "hello", "inputs": {}}],
        "edges": [{"from": "$source", "to": "hi"}],
    }
    settings = {"rate_limit": {"limit": 1, "period": "1m"}}  # Inngest skips the requests over the limit
    await kit.workflows.create(TENANT, name="W", workflow=workflow, triggers=["go"], settings=settings)
    harness = Harness(kit, store=True, record=True)
    await harness.backend.dedicate_published(TENANT)
    await harness.backend.send(TENANT, {"name": "go"})
    assert (await api.get("/api/runs")).json()["items"] == []  # nothing queued that may never start
    (event,) = (await api.get("/api/events")).json()["items"]
    (ended,) = await harness.executor.run_queued()
    assert ended.status == "completed"
    (run,) = (await api.get("/api/runs")).json()["items"]
    assert (run["id"], run["status"], run["event_id"]) == (ended.run_id, "completed", event["id"])
    await harness.close()


async def test_a_run_inngest_holds_shows_sleeping_then_waiting_between_requests(kit: WorkflowKit) -> None:
    @kit.action(kind="hello")
    async def hello(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        return "hello"

    workflow = {
        "name": "w",
        "actions": [
            {"id": "nap", "kind": "builtin:sleep", "inputs": {"duration": "1h"}},
            {"id": "wait", "kind": "builtin:wait_for_event", "inputs": {"event": "never", "timeout": "1h"}},
            {"id": "hi", "kind": "hello", "inputs": {}},
        ],
        "edges": [{"from": "$source", "to": "nap"}, {"from": "nap", "to": "wait"}, {"from": "wait", "to": "hi"}],
    }
    workflow_id = await publish(kit, workflow)
    harness = Harness(kit, store=True, record=True)
    seen: list[tuple[str, tuple[str, ...]]] = []

    async def look() -> None:
        runs = await kit.runs.list(TENANT)
        if runs:
            run = await kit.runs.get(TENANT, runs[0].id)
            seen.append((run.status.value, tuple(a.status.value for a in run.actions)))

    harness.executor.before_request = look
    await harness.backend.start(TENANT, workflow_id, {"name": "go"})
    (ended,) = await harness.executor.run_queued()
    assert ended.status == "completed"
    assert list(dict.fromkeys(seen)) == [  # what the run view showed before each of Inngest's requests
        ("queued", ("pending", "pending", "pending")),
        ("sleeping", ("sleeping", "pending", "pending")),
        ("waiting", ("completed", "waiting", "pending")),
        ("running", ("completed", "completed", "running")),
    ]
    (run,) = await kit.runs.list(TENANT)
    assert run.status == "completed"
    await harness.close()


async def test_a_handlers_sub_steps_show_as_the_same_run_embedded(
    kit: WorkflowKit, worker: Any, clock: VirtualClock, api: AsyncTestClient[Any]
) -> None:
    tries: list[int] = []

    def charge() -> str:
        tries.append(1)
        if len(tries) % 2:  # every other call fails: one retry per run
            raise RuntimeError("declined")
        return "charged"

    @kit.action(kind="pay")
    async def pay(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
        first = await ctx.step.run("quote", lambda: 42)
        await ctx.step.sleep("pause", "1m")
        paid = await ctx.step.run("charge", charge)
        again = await ctx.step.run("quote", lambda: 43)
        return {"first": first, "paid": paid, "again": again}

    workflow = {
        "name": "w",
        "actions": [
            {"id": "pay", "kind": "pay", "inputs": {}},
            {"id": "nap", "kind": "builtin:sleep", "inputs": {"duration": "1m"}},
        ],
        "edges": [{"from": "$source", "to": "pay"}, {"from": "pay", "to": "nap"}],
    }
    workflow_id = await publish(kit, workflow)
    embedded_id = await embedded_run(kit, worker, clock, workflow_id, {"name": "go"})
    harness = Harness(kit, store=True, record=True)
    await harness.backend.start(TENANT, workflow_id, {"name": "go"})
    (ended,) = await harness.executor.run_queued()
    assert ended.status == "completed"
    embedded = (await api.get(f"/api/runs/{embedded_id}")).json()
    (remote_id,) = [r["id"] for r in (await api.get("/api/runs")).json()["items"] if r["id"] != embedded_id]
    remote = (await api.get(f"/api/runs/{remote_id}")).json()
    assert shape(remote) == shape(embedded)
    assert shape(remote)["steps"] == [
        [
            ("quote", "run", "completed", 42, 1),
            ("pause", "sleep", "completed", None, 0),
            ("charge", "run", "completed", "charged", 2),
            ("quote:1", "run", "completed", 43, 1),
        ],
        [("sleep", "sleep", "completed", None, 0)],  # the builtin's own step
    ]
    await harness.close()
