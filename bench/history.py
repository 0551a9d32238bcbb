"""The runs and events views at scale: list filters, an event's runs and the 24 h chart through the API, and
a bulk cancel while another tenant's runs keep starting at once.

    scripts/with-postgres .venv/bin/python -m bench.history [--runs 1000000] [--cancel 100000]

For each database (a fresh SQLite file; PostgreSQL when WORKFLOW_KIT_TEST_POSTGRES_URL is set): `--runs`
runs of `--tenants` tenants are inserted straight into the tables (spread over 30 days; 70% completed,
20% failed, 5% cancelled, 5% sleeping; one in ten a test run; one event per ten runs), then ANALYZEd.
Through the editor API (an in-process Litestar test client), `--samples` requests of each kind, each for a
random tenant: p50 and p99 in ms. Then tenant ``t0`` gets `--cancel` sleeping runs more and cancels them in
bulk with one worker running, while tenant ``quiet`` sends `--probes` events (one every 50 ms) whose time
from `send` to the run's first step is measured (p50, p99), and how long the bulk cancel took.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.events import new_id
from workflow_kit.runtime.storage import schema

from .kit_side import fresh_database

SECRET = "bench-secret-cLmNnVPFI0uSgCdmWgBcMMrfzVMUTWy6"
KEY = "bench-server-key-" + "y" * 16
DAY = 86_400_000
CHUNK = 5_000
ONE_STEP = {"actions": [{"id": "m", "kind": "mark"}], "edges": [{"from": "$source", "to": "m"}]}
STATUSES = ["completed"] * 14 + ["failed"] * 4 + ["cancelled", "sleeping"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def insert_runs(kit: WorkflowKit, tenants: dict[str, tuple[str, str]], count: int, now: int, status: str | None = None,
                tenant: str | None = None) -> None:  # fmt: skip
    """`count` runs (and one event per ten) straight into the tables, in chunks of `CHUNK`."""
    rng = random.Random(count)
    names = sorted(tenants)
    R, E = schema.runs, schema.events
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        runs, events = [], []
        event_id = ""
        for n in range(size):
            owner = tenant or names[rng.randrange(len(names))]
            workflow_id, version_id = tenants[owner]
            created = now - rng.randrange(30 * DAY) if status is None else now - rng.randrange(DAY)
            if n % 10 == 0 or tenant is not None:
                event_id = new_id(created)
                events.append({"id": event_id, "tenant": owner, "name": "bench/go", "payload": {"name": "bench/go",
                               "data": {"n": n}}, "key": None, "duplicate": False, "received_at": created})  # fmt: skip
            state = status or STATUSES[rng.randrange(len(STATUSES))]
            ended = None if state == "sleeping" else created + rng.randrange(1, 60_000)
            runs.append({
                "id": new_id(created), "tenant": owner, "workflow_id": workflow_id, "version_id": version_id,
                "version_number": None if rng.random() < 0.1 else 1, "event_id": event_id,
                "event": {"name": "bench/go", "data": {"n": n}}, "status": state, "output": None, "error": None,
                "created_at": created, "started_at": created, "ended_at": ended, "updated_at": ended or created,
                "due_at": now + 10 * DAY if state == "sleeping" else None, "lease_owner": None, "claim_seq": 1,
                "wake_requested": False, "system_depth": 0,
            })  # fmt: skip
        with kit.db.write() as conn:
            if events:
                conn.execute(E.insert(), events)
            conn.execute(R.insert(), runs)
        done += size
    with kit.db.engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()


def timed(call: Callable[[], Any], samples: int) -> tuple[float, float]:
    latencies = []
    for _ in range(samples):
        begun = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - begun) * 1000)
    return statistics.median(latencies), percentile(latencies, 99)


def api_latencies(
    kit: WorkflowKit, tenants: dict[str, tuple[str, str]], samples: int, now: int
) -> dict[str, tuple[float, float]]:
    from litestar.testing import TestClient

    from editor_api import create_app

    rng = random.Random(7)
    names = sorted(tenants)

    def headers() -> tuple[dict[str, str], str]:
        tenant = names[rng.randrange(len(names))]
        return {"Authorization": f"Bearer {KEY}", "X-Workflow-Kit-Tenant": tenant}, tenant

    results: dict[str, tuple[float, float]] = {}
    with TestClient(create_app(kit, server_keys=[KEY])) as client:

        def get(path: str, params: Any = None) -> Callable[[], Any]:
            def call() -> Any:
                head, tenant = headers()
                concrete = path.replace("{workflow}", tenants[tenant][0])
                if "{event}" in concrete:
                    with kit.db.read() as conn:  # an event of the tenant (not timed apart: a cheap lookup)
                        event = conn.execute(
                            sa.select(schema.events.c.id)
                            .where(schema.events.c.tenant == tenant)
                            .limit(1)
                            .offset(rng.randrange(10))
                        ).scalar()
                    concrete = concrete.replace("{event}", str(event))
                given = params(tenant) if callable(params) else params
                response = client.get(concrete, headers=head, params=given)
                assert response.status_code == 200, response.text
                return response.json()

            return call

        def second_page() -> Any:
            head, _ = headers()
            first = client.get("/api/runs", headers=head, params={"limit": 50}).json()
            return client.get("/api/runs", headers=head, params={"limit": 50, "cursor": first["next_cursor"]})

        cases: dict[str, Callable[[], Any]] = {
            "runs, newest 50": get("/api/runs", {"limit": 50}),
            "runs of a workflow": get("/api/runs", lambda t: {"workflow_id": tenants[t][0]}),
            "runs, status failed": get("/api/runs", {"status": "failed"}),
            "runs, failed or cancelled": get("/api/runs", [("status", "failed"), ("status", "cancelled")]),
            "runs, sleeping (rare)": get("/api/runs", {"status": "sleeping"}),
            "runs, yesterday": get("/api/runs", {"since": now - 2 * DAY, "until": now - DAY}),
            "runs, test runs": get("/api/runs", {"test": "true"}),
            "runs, workflow+failed+yesterday": get(
                "/api/runs",
                lambda t: {
                    "workflow_id": tenants[t][0],
                    "status": "failed",
                    "since": now - 2 * DAY,
                    "until": now - DAY,
                },
            ),
            "an event's runs": get("/api/events/{event}/runs"),
            "runs, page 2 (cursor, 2 requests)": second_page,
            "events, newest 50 with runs": get("/api/events", {"limit": 50}),
            "chart, 24 h": get("/api/workflows/{workflow}/stats", {"range": "24h"}),
            "chart, 7 d": get("/api/workflows/{workflow}/stats", {"range": "7d"}),
        }
        for label, call in cases.items():
            call()  # warm
            results[label] = timed(call, samples)
    return results


def probe_marks(kit: WorkflowKit) -> dict[int, float]:
    """Registers the action ``mark``: when each probe's run (``data.probe``) started its first step."""
    started: dict[int, float] = {}

    @kit.action(kind="mark")
    async def mark(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        probe = ctx.event["data"].get("probe")
        if probe is not None:
            started.setdefault(probe, time.perf_counter())

    return started


async def probe_until(
    kit: WorkflowKit,
    tenant: str,
    started: dict[int, float],
    done: Callable[[], Awaitable[bool]],
    probes: int,
    gap: float,
) -> tuple[list[float], float]:
    """Send `tenant` an event every `gap` s, timing each to its run's first step (ms), until `done()`
    holds and at least `probes` were sent; the latencies, and the seconds until `done()` held."""
    latencies: list[float] = []
    begun = time.perf_counter()
    took: float | None = None
    n = 0
    while took is None or n < probes:
        sent = time.perf_counter()
        await kit.send(tenant, {"name": "bench/go", "data": {"probe": n}})
        while n not in started:
            await asyncio.sleep(0.0005)
        latencies.append((started[n] - sent) * 1000)
        n += 1
        await asyncio.sleep(gap)
        if took is None and await done():
            took = time.perf_counter() - begun
    assert took is not None
    return latencies, took


async def bulk_cancel(kit: WorkflowKit, cancel: int, probes: int) -> dict[str, float]:
    started = probe_marks(kit)
    async with kit.worker(concurrency=20, poll_ms=100):
        operation = await kit.runs.bulk_cancel("t0", status="sleeping")
        current = operation

        async def completed() -> bool:
            nonlocal current
            current = await kit.runs.operation("t0", operation.id)
            return current.state == "completed"

        latencies, took = await probe_until(kit, "quiet", started, completed, probes, 0.05)
    return {
        "cancelled": float(current.done),
        "took_s": took,
        "probe_p50": statistics.median(latencies),
        "probe_p99": percentile(latencies, 99),
        "probes": float(len(latencies)),
    }


async def measure(url: str, args: argparse.Namespace) -> None:
    kit = WorkflowKit(database_url=url, secret=SECRET)

    @kit.action(kind="mark")
    async def mark(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        return None

    now = kit.clock.now_ms()
    tenants: dict[str, tuple[str, str]] = {}
    try:
        for n in range(args.tenants):
            record = await kit.workflows.create(f"t{n}", name="one step", trigger="bench/none", workflow=ONE_STEP)
            [version] = await kit.workflows.versions(f"t{n}", record.id)
            tenants[f"t{n}"] = (record.id, version.id)
        await kit.workflows.create("quiet", name="one step", trigger="bench/go", workflow=ONE_STEP)
        begun = time.perf_counter()
        insert_runs(kit, tenants, args.runs, now)
        print(f"  inserted {args.runs:,} runs in {time.perf_counter() - begun:.0f} s")
        latencies = await asyncio.to_thread(api_latencies, kit, tenants, args.samples, now)
        for label, (p50, p99) in latencies.items():
            print(f"  {label:36} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
        insert_runs(kit, {"t0": tenants["t0"]}, args.cancel, kit.clock.now_ms(), status="sleeping", tenant="t0")
    finally:
        kit.close()
    kit = WorkflowKit(database_url=url, secret=SECRET)
    try:
        r = await bulk_cancel(kit, args.cancel, args.probes)
    finally:
        kit.close()
    print(
        f"  bulk cancel of {r['cancelled']:,.0f} runs took {r['took_s']:.1f} s; meanwhile the quiet tenant's event"
        f" -> first step p50 {r['probe_p50']:.1f} ms, p99 {r['probe_p99']:.1f} ms ({r['probes']:.0f} probes)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--cancel", type=int, default=2_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--probes", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    with tempfile.TemporaryDirectory(prefix="wk-history-") as tmp:
        urls = [("SQLite", f"sqlite:///{Path(tmp) / 'history.sqlite'}")]
        if os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL"):
            urls.append(("PostgreSQL", os.environ["WORKFLOW_KIT_TEST_POSTGRES_URL"]))
        for label, server in urls:
            print(f"{label}:")
            with fresh_database(server) as url:
                await measure(url, args)


if __name__ == "__main__":
    asyncio.run(main())
