"""A for-each loop at scale: items per second and the worker's peak memory at 100, 1,000 and 10,000 items.

    .venv/bin/python -m bench.loops [--sizes 100,1000,10000] [--repeat 3] [--db-url sqlite:///...]

Each measurement is its own process on a fresh SQLite file (the kit's default, WAL with
``synchronous=FULL``; pass ``--synchronous normal`` to compare): one workflow, one event carrying the
list of N items, a for-each whose body is one no-op action per item (a durable action of the run: its
record is committed before the next item starts), drained by one in-process worker. Printed: the
drain's wall time, items/s, and the process's peak RSS (``ru_maxrss``) before the run and after it.
Linear time means items/s stays flat as N grows; flat memory means peak RSS grows far slower than N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TENANT = "bench"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _measure(url: str, size: int, concurrency: int) -> dict[str, Any]:
    from workflow_kit import ActionContextSync, WorkflowKit
    from workflow_kit.runtime.models import RunStatus

    kit = WorkflowKit(database_url=url)

    @kit.action(kind="noop")
    def noop(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return inputs.get("n")

    body = {"actions": [{"id": "x", "kind": "noop", "inputs": {"n": "!ref($.index)"}}],
            "edges": [{"from": "$source", "to": "x"}], "result": "x"}  # fmt: skip
    loop = {"id": "each", "kind": "builtin:for_each", "inputs": {"items": "!ref($.event.data.items)",
            "concurrency": concurrency}, "body": body}  # fmt: skip
    flow = {"actions": [loop], "edges": [{"from": "$source", "to": "each"}]}
    kit.workflows.create_sync(TENANT, name="Loop", trigger="bench/loop", workflow=flow)
    await kit.send(TENANT, {"name": "bench/loop", "data": {"items": list(range(size))}})
    before = _peak_mb()
    started = time.perf_counter()
    async with kit.worker(concurrency=1, poll_ms=50) as worker:
        await worker.idle(timeout=3600)
    elapsed = time.perf_counter() - started
    peak = _peak_mb()  # before reading the run back (its timeline holds every iteration)
    [run] = await kit.runs.list(TENANT)
    done = await kit.runs.get(TENANT, run.id)
    assert done.status == RunStatus.COMPLETED, done.error
    assert done.output is not None and done.output["each"] == list(range(size))
    kit.close()
    return {"items": size, "seconds": round(elapsed, 3), "items_per_s": round(size / elapsed, 1),
            "rss_before_mb": round(before, 1), "rss_peak_mb": round(peak, 1)}  # fmt: skip


def _child(args: argparse.Namespace) -> None:
    print(json.dumps(asyncio.run(_measure(args.db_url, args.size, args.concurrency))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--synchronous", default="full", choices=["full", "normal"])
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.size is not None:
        _child(args)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.repeat):
            for size in sizes:  # the rounds interleave the sizes
                url = f"sqlite:///{Path(folder) / f'loop-{size}-{round_}.db'}?synchronous={args.synchronous}"
                command = [sys.executable, "-m", "bench.loops", "--size", str(size), "--db-url", url,
                           "--concurrency", str(args.concurrency)]  # fmt: skip
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                results[size].append(json.loads(out.strip().splitlines()[-1]))
    print(f"{'items':>7} {'items/s (median)':>17} {'seconds':>8} {'peak RSS MB':>12} {'RSS before':>11}")
    for size, runs in results.items():
        rate = statistics.median(r["items_per_s"] for r in runs)
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = statistics.median(r["rss_peak_mb"] for r in runs)
        before = statistics.median(r["rss_before_mb"] for r in runs)
        print(f"{size:>7} {rate:>17,.1f} {seconds:>8.2f} {peak:>12.1f} {before:>11.1f}")


if __name__ == "__main__":
    main()
