"""Fairness between tenants: one tenant floods the queue, another's runs still start at once.

    scripts/with-postgres .venv/bin/python -m bench.fairness [--flood 5000] [--probes 20]

For each database (a fresh SQLite file; PostgreSQL when WORKFLOW_KIT_TEST_POSTGRES_URL is set): tenant
``flood`` sends `--flood` events at once (each starts a one-step run); while one in-process worker
(concurrency 20) drains them, tenant ``quiet`` sends `--probes` events, one every 50 ms, and the time
from ``kit.send`` to its run's step starting is measured. The same probes are measured on an idle
worker for comparison, and how long the flood took to drain.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from workflow_kit import ActionContext, WorkflowKit
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flood", type=int, default=5000)
    parser.add_argument("--probes", type=int, default=20)
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


if __name__ == "__main__":
    asyncio.run(main())
