"""Scale of waiting: many sleeping runs and many runs waiting for events, on one worker.

    scripts/with-postgres .venv/bin/python -m bench.waiting [--sleeping 100000] [--waiting 10000]

For each database (a fresh SQLite file; PostgreSQL when WORKFLOW_KIT_TEST_POSTGRES_URL is set):
1. `--sleeping` runs each start, take one step, then sleep until a time spread evenly over `--spread`
   seconds, starting `--lead` seconds after the last one parked. The worker's resident memory is read
   while they sleep and while they wake; for every run, the lateness of its wake-up (the step after the
   sleep starting, minus the time it was due) is recorded: p50, p99, max.
2. `--waiting` runs each open a ``wait_for_event`` for ``doc/approved`` with
   ``async.data.doc == event.data.doc``; then `--probes` matching events are sent one at a time and the
   time ``kit.send`` takes is measured, with the waits open and, for comparison, on an empty database.
   The plan of the lookup is printed (it must use the ``ix_wk_waits_open`` index).
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

import sqlalchemy as sa

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.storage.db import Database

TENANT = "bench"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def build_kit(url: str, woke: dict[int, float], *, create: bool = True) -> WorkflowKit:
    kit = WorkflowKit(database_url=url)

    @kit.action(kind="nap")
    async def nap(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        await ctx.step.run("before", lambda: None)
        await ctx.step.sleep_until("nap", int(ctx.event["data"]["due"]))
        woke.setdefault(int(ctx.event["data"]["n"]), time.time())

    @kit.action(kind="await_approval")
    async def await_approval(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return await ctx.step.wait_for_event(
            "approval", event="doc/approved", if_exp="async.data.doc == event.data.doc", timeout="7d"
        )

    for kind, trigger in (("nap", "bench/nap"), ("await_approval", "doc/submitted")) if create else ():
        kit.workflows.create_sync(
            TENANT,
            name=kind,
            trigger=trigger,
            workflow={"actions": [{"id": "a", "kind": kind}], "edges": [{"from": "$source", "to": "a"}]},
        )
    return kit


async def send_many(kit: WorkflowKit, events: list[dict[str, Any]], page: int = 1_000) -> None:
    for start in range(0, len(events), page):
        await kit.send(TENANT, events[start : start + page])


async def parked(kit: WorkflowKit, status: str, count: int, timeout: float) -> float:
    """Wait until `count` runs have `status`; returns the seconds it took."""
    started = time.perf_counter()
    query = sa.select(sa.func.count()).select_from(schema.runs).where(schema.runs.c.status == status)
    while True:
        with kit.db.read() as conn:
            if conn.execute(query).scalar_one() >= count:
                return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"fewer than {count} runs {status} after {timeout} s")
        await asyncio.sleep(0.5)


async def sleeping(url: str, count: int, spread: float, lead: float) -> None:
    woke: dict[int, float] = {}
    kit = build_kit(url, woke)
    try:
        async with kit.worker(concurrency=64, poll_ms=1_000):
            before = rss_mb()
            # Every run sleeps until a time spread over `spread` seconds, starting `lead` seconds after
            # the time all of them should have parked by (a generous estimate; checked below).
            estimate = max(30.0, count / 300)  # runs parked per second, with room to spare on 2 cores
            base = time.time() + estimate + lead
            due = [base + spread * i / count for i in range(count)]
            events = [{"name": "bench/nap", "data": {"n": i, "due": int(due[i] * 1000)}} for i in range(count)]
            started = time.perf_counter()
            await send_many(kit, events)
            sent_s = time.perf_counter() - started
            parked_s = await parked(kit, "sleeping", count, timeout=estimate + lead - 1)
            rss_parked = rss_mb()
            print(f"  {count} events received in {sent_s:.1f} s; all runs parked {parked_s:.1f} s later")
            print(f"  worker RSS: {before:.0f} MB before, {rss_parked:.0f} MB with {count} runs asleep")
            samples = []
            while len(woke) < count and time.time() < base + spread + 60:
                await asyncio.sleep(1.0)
                samples.append(rss_mb())
            late = sorted(woke[i] - due[i] for i in woke)
            print(
                f"  woke {len(woke)}/{count}; lateness p50 {statistics.median(late) * 1000:.0f} ms, "
                f"p99 {late[int(len(late) * 0.99)] * 1000:.0f} ms, max {late[-1] * 1000:.0f} ms"
            )
            print(f"  worker RSS while waking: max {max(samples):.0f} MB, last {samples[-1]:.0f} MB")
    finally:
        kit.close()


async def waiting(url: str, count: int, probes: int) -> None:
    empty = await _probe(url, 0, probes, fresh=True)
    loaded = await _probe(url, count, probes, fresh=False)
    print(f"  kit.send of a matching event: p50 {empty:.2f} ms with no waits, {loaded:.2f} ms with {count} open")


async def _probe(url: str, count: int, probes: int, fresh: bool) -> float:
    woke: dict[int, float] = {}
    kit = build_kit(url, woke, create=fresh)
    try:
        if count:
            async with kit.worker(concurrency=64, poll_ms=1_000):
                await send_many(kit, [{"name": "doc/submitted", "data": {"doc": d}} for d in range(count)])
                took = await parked(kit, "waiting", count, timeout=600)
            print(f"  {count} runs waiting for an event ({took:.1f} s to park them)")
            _print_plan(kit)
        times = []
        for probe in range(probes):
            doc = (probe * 7919) % max(count, 1) if count else 10**9 + probe
            started = time.perf_counter()
            await kit.send(TENANT, {"name": "doc/approved", "data": {"doc": doc}})
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)
    finally:
        kit.close()


def _print_plan(kit: WorkflowKit) -> None:
    from bench.plans import wait_lookup_plan

    with kit.db.read() as conn:
        plan = wait_lookup_plan(conn, TENANT, {"name": "doc/approved", "data": {"doc": 1}}, kit.clock.now_ms())
    print("  lookup plan: " + plan)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sleeping", type=int, default=100_000)
    parser.add_argument("--spread", type=float, default=120.0, help="seconds over which the sleepers wake")
    parser.add_argument("--lead", type=float, default=10.0)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgres"] if os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL") else [])
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            if args.only and kind != args.only:
                continue
            print(f"{kind}:")
            for part in ("sleeping", "waiting"):
                url = _fresh(kind, Path(tmp), part)
                if part == "sleeping" and args.sleeping:
                    await sleeping(url, args.sleeping, args.spread, args.lead)
                elif part == "waiting" and args.waiting:
                    await waiting(url, args.waiting, args.probes)


def _fresh(kind: str, folder: Path, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'{name}.db'}"
    url = os.environ["WORKFLOW_KIT_TEST_POSTGRES_URL"]
    db = Database(url)
    db.truncate_all()
    db.dispose()
    return url


if __name__ == "__main__":
    asyncio.run(main())
