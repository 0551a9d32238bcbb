"""Runtime throughput and latency: 10-step no-op workflows through a real worker and database.

    scripts/with-postgres .venv/bin/python -m bench.runtime [--runs 300] [--repeat 3]

Runs on SQLite (a temporary WAL database, synchronous=FULL, the default) and, when
WORKFLOW_KIT_TEST_POSTGRES_URL is set (scripts/with-postgres sets it), on PostgreSQL. Reports the
median of `--repeat` rounds of:
- throughput: `--runs` runs queued, then one in-process worker drains them, with concurrency 1
  (sequential) and 20: steps/s and runs/s;
- latency: on an idle worker (each event sent once the previous run finished), the time from
  `kit.send` to the first action's handler starting: p50 and p99.
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
from workflow_kit.runtime.db import Database

STEPS = 10


def build_kit(url: str, marks: dict[int, float]) -> WorkflowKit:
    kit = WorkflowKit(database_url=url)

    @kit.action(kind="noop")
    async def noop(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        if ctx.action.id == "s0" and "n" in ctx.event["data"]:
            marks.setdefault(ctx.event["data"]["n"], time.perf_counter())

    ids = [f"s{i}" for i in range(STEPS)]
    wf = {
        "actions": [{"id": i, "kind": "noop"} for i in ids],
        "edges": [{"from": a, "to": b} for a, b in zip(["$source", *ids], ids, strict=False)],
    }
    kit.workflows.create("bench", name="ten no-op steps", trigger="bench/go", workflow=wf)
    return kit


async def throughput(url: str, runs: int, concurrency: int) -> tuple[float, float]:
    kit = build_kit(url, {})
    try:
        await kit.send("bench", [{"name": "bench/go", "data": {}} for _ in range(runs)])
        started = time.perf_counter()
        async with kit.worker(concurrency=concurrency, poll_ms=100) as worker:
            await worker.idle(timeout=600)
        elapsed = time.perf_counter() - started
        done = await kit.runs.list("bench", status="completed", limit=runs)
        assert len(done) == runs, f"only {len(done)} of {runs} runs completed"
        return runs * STEPS / elapsed, runs / elapsed
    finally:
        kit.close()


async def latency(url: str, events: int) -> tuple[float, float]:
    marks: dict[int, float] = {}
    kit = build_kit(url, marks)
    samples = []
    try:
        async with kit.worker(concurrency=20, poll_ms=1_000) as worker:
            for n in range(events):
                await worker.idle(timeout=600)  # an idle system: the previous run has finished
                sent = time.perf_counter()
                await kit.send("bench", {"name": "bench/go", "data": {"n": n}})
                while n not in marks:
                    await asyncio.sleep(0.0002)
                samples.append((marks[n] - sent) * 1000)
    finally:
        kit.close()
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def fresh(kind: str, folder: Path, round_no: int) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'bench-{round_no}.db'}"
    url = os.environ["WORKFLOW_KIT_TEST_POSTGRES_URL"]
    db = Database(url)
    db.truncate_all()
    db.dispose()
    return url


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgres"] if os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL") else [])
    print(f"{STEPS}-step no-op workflows; {args.runs} runs per round; medians of {args.repeat} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind in kinds:
            seq, conc, lat = [], [], []
            for round_no in range(args.repeat):
                seq.append(await throughput(fresh(kind, folder, round_no * 3), args.runs, 1))
                conc.append(await throughput(fresh(kind, folder, round_no * 3 + 1), args.runs, 20))
                lat.append(await latency(fresh(kind, folder, round_no * 3 + 2), args.events))
            print(f"{kind}:")
            for label, rounds in (("sequential", seq), ("20 concurrent", conc)):
                steps = statistics.median(s for s, _ in rounds)
                runs_per_s = statistics.median(r for _, r in rounds)
                print(f"  {label:<14} {steps:8.0f} steps/s {runs_per_s:7.1f} runs/s")
            p50 = statistics.median(p for p, _ in lat)
            p99 = statistics.median(p for _, p in lat)
            print(f"  event -> first step: p50 {p50:6.2f} ms, p99 {p99:6.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
