"""Fairness between tenants: one tenant floods the queue, another's runs still start at once.

    scripts/with-postgres .venv/bin/python -m bench.fairness [--flood 5000] [--probes 20]

For each database (a fresh SQLite file; PostgreSQL when WORKFLOW_KIT_TEST_POSTGRES_URL is set): tenant
``flood`` sends `--flood` events at once (each starts a one-step run); while one in-process worker
(concurrency 20) drains them, tenant ``quiet`` sends `--probes` events, one every 50 ms, and the time
from ``kit.send`` to its run's step starting is measured. The same probes are measured on an idle
worker for comparison, and how long the flood took to drain.

Then costly filters (issue 20's scenario): tenant ``costly`` has three workflows whose trigger's ``if``
takes about 0.1 s of CPU per event, and sends `--costly` events at once from another thread; meanwhile
tenant ``quiet`` sends `--probes` events one after another, and the time each ``kit.send_sync`` takes is
measured, beside the same sends with nothing else going on. (tests/test_decide.py checks exactly that a
condition being evaluated holds up no other tenant; this measures how long they wait under real load.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from workflow_kit import ActionContext, ActionContextSync, WorkflowKit
from workflow_kit.events import MAX_EVENTS_PER_SEND

from .kit_side import fresh_database


async def measure(url: str, flood: int, probes: int) -> dict[str, float]:
    started: dict[int, float] = {}
    flooded = 0
    kit = WorkflowKit(database_url=url)

    @kit.action(kind="mark")
    async def mark(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        nonlocal flooded
        probe = ctx.event["data"].get("probe")
        if probe is None:
            flooded += 1
        else:
            started.setdefault(probe, time.perf_counter())

    one_step = {"actions": [{"id": "m", "kind": "mark"}], "edges": [{"from": "$source", "to": "m"}]}
    for tenant in ("flood", "quiet"):
        await kit.workflows.create(tenant, name="one step", trigger="bench/go", workflow=one_step)

    async def probe_latencies(first: int) -> list[float]:
        latencies = []
        for n in range(first, first + probes):
            sent = time.perf_counter()
            await kit.send("quiet", {"name": "bench/go", "data": {"probe": n}})
            while n not in started:
                await asyncio.sleep(0.0005)
            latencies.append((started[n] - sent) * 1000)
            await asyncio.sleep(0.05)
        return latencies

    try:
        async with kit.worker(concurrency=20, poll_ms=100) as worker:
            idle = await probe_latencies(0)
            await worker.idle()
            begun = time.perf_counter()
            for start in range(0, flood, MAX_EVENTS_PER_SEND):
                count = min(MAX_EVENTS_PER_SEND, flood - start)
                await kit.send("flood", [{"name": "bench/go", "data": {}} for _ in range(count)])
            during = await probe_latencies(probes)
            backlog = flood - flooded
            while flooded < flood:
                await asyncio.sleep(0.01)
            drained = time.perf_counter() - begun
    finally:
        kit.close()
    return {
        "idle_p50": statistics.median(idle),
        "flood_p50": statistics.median(during),
        "flood_max": max(during),
        "backlog_after_probes": backlog,
        "drain_s": drained,
    }


COSTLY = "event.data.xs.all(x, event.data.xs.all(y, x + y >= 0))"
"""A filter whose cost grows with the square of the event's list: about 0.1 s for ``range(10)``."""


def measure_costly(url: str, costly: int, probes: int) -> dict[str, float]:
    """The quiet tenant's ``send_sync`` times (ms), idle and while the costly tenant's events are decided."""
    kit = WorkflowKit(database_url=url)

    @kit.action(kind="nothing")
    def nothing(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        return None

    one_step = {"actions": [{"id": "n", "kind": "nothing"}], "edges": [{"from": "$source", "to": "n"}]}
    try:
        for number in range(3):
            trigger = {"event": "bench/flood", "if": COSTLY}
            kit.workflows.create_sync("costly", name=f"costly {number}", trigger=trigger, workflow=one_step)
        kit.workflows.create_sync("quiet", name="orders", trigger="bench/order", workflow=one_step)

        def sends() -> list[float]:
            latencies = []
            for n in range(probes):
                sent = time.perf_counter()
                kit.send_sync("quiet", {"name": "bench/order", "data": {"n": n}})
                latencies.append((time.perf_counter() - sent) * 1000)
            return latencies

        idle = sends()
        flooding = threading.Event()

        def flood() -> None:
            flooding.set()
            with contextlib.suppress(Exception):  # refused over its budget: what the quiet tenant sees counts
                kit.send_sync("costly", [{"name": "bench/flood", "data": {"xs": list(range(10))}}] * costly)

        flooder = threading.Thread(target=flood)
        flooder.start()
        flooding.wait()
        during = sends()
        overlapped = flooder.is_alive()
        flooder.join()
    finally:
        kit.close()
    ordered = sorted(during)
    return {
        "idle_p50": statistics.median(idle),
        "costly_p50": statistics.median(during),
        "costly_p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "overlapped": float(overlapped),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flood", type=int, default=5000)
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--costly", type=int, default=10, help="events of the tenant with costly filters")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wk-fair-") as tmp:
        urls = [("SQLite", f"sqlite:///{Path(tmp) / 'fair.sqlite'}")]
        if os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL"):
            urls.append(("PostgreSQL", os.environ["WORKFLOW_KIT_TEST_POSTGRES_URL"]))
        for label, server in urls:
            with fresh_database(server) as url:
                r = await measure(url, args.flood, args.probes)
            print(
                f"{label}: the quiet tenant's event -> step p50 {r['idle_p50']:.1f} ms idle, "
                f"{r['flood_p50']:.1f} ms (max {r['flood_max']:.1f}) during a flood of {args.flood} runs "
                f"({r['backlog_after_probes']:.0f} still queued after the probes; drained in {r['drain_s']:.1f} s)"
            )
            with fresh_database(server.replace("fair.sqlite", "costly.sqlite")) as url:  # PostgreSQL: a new database
                c = await asyncio.to_thread(measure_costly, url, args.costly, args.probes)
            print(
                f"{label}: the quiet tenant's send p50 {c['idle_p50']:.1f} ms idle, {c['costly_p50']:.1f} ms "
                f"(p99 {c['costly_p99']:.1f}) while {args.costly} events of a tenant with costly filters are decided"
                + ("" if c["overlapped"] else " (the costly sends ended first: make them costlier)")
            )


if __name__ == "__main__":
    asyncio.run(main())
