"""The kit's side of the runtime benchmark: 10-step no-op workflows, one configuration per process.

    python -m bench.kit_side --db-url URL --mode throughput --runs 300 --concurrency 1|20
    python -m bench.kit_side --db-url URL --mode latency --events 200 [--load]

The same measurements as `bench.dbos_side` (DBOS Transact), printed as one JSON line on stdout, so
`bench.compare` can put them side by side. The workflow is ten `noop` actions in a chain: every
action is a durable step whose output is committed before the next one starts.

Databases (always fresh):
- ``sqlite:///FILE`` (FILE must not exist): the kit's default, WAL with ``synchronous=FULL``;
  ``?synchronous=normal`` in the URL trades the last commits on power loss for speed.
- ``postgresql+psycopg://...``: a database ``kit_bench_<pid>_<n>`` is created on that server for this
  process and dropped at the end.

Throughput: `--runs` events are received first (each starts a run), then one in-process worker with
`--concurrency` drains them; the clock covers the drain (receiving is not counted, as for DBOS's
queue). Latency: the time from just before ``kit.send`` to the first action's body starting, with an
in-process worker (the embedded default). Idle: each event is sent once the previous run finished.
`--load`: a closed loop keeps 10 other runs in flight meanwhile, as `bench.dbos_side` does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.events import MAX_EVENTS_PER_SEND

STEPS = 10
LOAD_IN_FLIGHT = 10
LOAD = -1
TENANT = "bench"


class Marks:
    """What the action bodies report to the measuring coroutine."""

    def __init__(self) -> None:
        self.first_step: dict[int, float] = {}
        self.finished: dict[int, asyncio.Event] = {}
        self.load_done = 0
        self.load_slot = asyncio.Event()


def build_kit(url: str, marks: Marks) -> WorkflowKit:
    kit = WorkflowKit(database_url=url)

    @kit.action(kind="noop")
    async def noop(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        n = ctx.event["data"].get("n")
        if n is None:
            return
        if ctx.action.id == "s0" and n != LOAD:
            marks.first_step.setdefault(n, time.perf_counter())
        if ctx.action.id == f"s{STEPS - 1}":
            if n == LOAD:
                marks.load_done += 1
                marks.load_slot.set()
            elif n in marks.finished:
                marks.finished[n].set()

    ids = [f"s{i}" for i in range(STEPS)]
    definition = {
        "actions": [{"id": i, "kind": "noop"} for i in ids],
        "edges": [{"from": a, "to": b} for a, b in zip(["$source", *ids], ids, strict=False)],
    }
    kit.workflows.create_sync(TENANT, name="ten no-op steps", trigger="bench/go", workflow=definition)
    return kit


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A database nobody used: a new SQLite file, or a new PostgreSQL database dropped afterwards."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1].split("?", 1)[0]
        if os.path.exists(path):
            raise SystemExit(f"{path} exists: give a new file")
        yield url
        return
    server = sa.make_url(url)
    name = f"kit_bench_{os.getpid()}_{random.randrange(10**6)}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def storage_settings(kit: WorkflowKit) -> dict[str, Any]:
    """What the kit's own connections run with: the journal mode and synchronous level, or PostgreSQL's
    durability settings."""
    with kit.db.engine.connect() as conn:
        if kit.db.engine.dialect.name == "sqlite":
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
            return {
                "journal_mode": conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
                "synchronous": names.get(int(sync or 0), sync),
            }
        keys = ("server_version", "fsync", "synchronous_commit", "full_page_writes")
        return {key: conn.exec_driver_sql(f"SHOW {key}").scalar() for key in keys}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def throughput(url: str, runs: int, concurrency: int) -> dict[str, Any]:
    kit = build_kit(url, Marks())
    try:
        for start in range(0, runs, MAX_EVENTS_PER_SEND):
            count = min(MAX_EVENTS_PER_SEND, runs - start)
            await kit.send(TENANT, [{"name": "bench/go", "data": {}} for _ in range(count)])
        cpu, started = _cpu(), time.perf_counter()
        async with kit.worker(concurrency=concurrency, poll_ms=100) as worker:
            await worker.idle(timeout=900)
        seconds = time.perf_counter() - started
        cpu = _cpu() - cpu
        with kit.db.engine.connect() as conn:
            done = conn.exec_driver_sql("SELECT count(*) FROM wk_runs WHERE status = 'completed'").scalar()
        if done != runs:
            raise SystemExit(f"only {done} of {runs} runs completed")
        writer = kit.db.writer
        return {
            "mode": "throughput",
            "concurrency": concurrency,
            "runs": runs,
            "steps": runs * STEPS,
            "seconds": seconds,
            "steps_per_s": runs * STEPS / seconds,
            "runs_per_s": runs / seconds,
            "cpu_us_per_step": cpu / (runs * STEPS) * 1e6,
            "commits": writer.batches,
            "writes_per_commit": writer.jobs / max(writer.batches, 1),
            "settings": storage_settings(kit),
        }
    finally:
        kit.close()


async def latency(url: str, events: int, load: bool, time_limit: float) -> dict[str, Any]:
    marks = Marks()
    kit = build_kit(url, marks)
    samples: list[float] = []
    try:
        async with kit.worker(concurrency=32, poll_ms=1_000) as worker, _load(kit, marks, load) as in_flight:
            deadline = time.perf_counter() + time_limit
            for n in range(events):
                if time.perf_counter() > deadline:
                    break
                if not load:
                    await worker.idle(timeout=60)
                await asyncio.sleep(random.uniform(0, 0.01))
                marks.finished[n] = asyncio.Event()
                sent = time.perf_counter()
                await kit.send(TENANT, {"name": "bench/go", "data": {"n": n}})
                await asyncio.wait_for(marks.finished[n].wait(), timeout=60)
                samples.append((marks.first_step[n] - sent) * 1000)
            load_rate = in_flight()
    finally:
        kit.close()
    samples.sort()
    return {
        "mode": "latency",
        "load": load,
        "samples": len(samples),
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "load_runs_per_s": load_rate,
    }


@contextlib.asynccontextmanager
async def _load(kit: WorkflowKit, marks: Marks, enabled: bool) -> AsyncIterator[Any]:
    """Keep LOAD_IN_FLIGHT background runs going (a closed loop); yields a function giving their rate."""
    if not enabled:
        yield lambda: None
        return
    stop = asyncio.Event()
    started = time.perf_counter()

    async def feed() -> None:
        sent = 0
        while not stop.is_set():
            while sent - marks.load_done < LOAD_IN_FLIGHT:
                await kit.send(TENANT, {"name": "bench/go", "data": {"n": LOAD}})
                sent += 1
            marks.load_slot.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(marks.load_slot.wait(), timeout=0.5)

    task = asyncio.create_task(feed())
    await asyncio.sleep(0.5)  # let the load reach its steady state
    try:
        yield lambda: marks.load_done / (time.perf_counter() - started)
    finally:
        stop.set()
        await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--mode", choices=["throughput", "latency"], required=True)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    with fresh_database(args.db_url) as url:
        if args.mode == "throughput":
            result = asyncio.run(throughput(url, args.runs, args.concurrency))
        else:
            result = asyncio.run(latency(url, args.events, args.load, args.time_limit))
    result = {"system": "kit", "db_url": args.db_url.split("@")[-1], **result}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
