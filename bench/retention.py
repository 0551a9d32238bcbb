"""Retention at scale: the workers delete `--runs` expired runs (each with an action and a step, one event
per ten runs) while another tenant's runs keep starting, whose time from `send` to the first step is
measured; and the database's size before and after.

    scripts/with-postgres .venv/bin/python -m bench.retention [--runs 1000000] [--probes 200]

For each database (a fresh SQLite file; PostgreSQL when WORKFLOW_KIT_TEST_POSTGRES_URL is set): the
expired history is inserted straight into the tables (ended 40 days ago: past the default 30 days), then
ANALYZEd. One worker (concurrency 20) starts, and deletes it in small batches (lifecycle/retention.py);
meanwhile tenant ``live`` sends an event every 20 ms whose run's first step is timed (p50, p99), until
every expired run is gone. Sizes: the database before, after the deletion (the space is free for reuse
but the file keeps it), and after ``VACUUM`` (SQLite: the file shrinks; PostgreSQL: ``VACUUM`` makes the
space reusable, the size reported is the database's). A new SQLite file is in ``auto_vacuum=INCREMENTAL``
mode (the kit makes it so) and the workers give freed pages back as they delete; ``--sqlite-auto-vacuum
none`` makes the file in the old mode, to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from workflow_kit import WorkflowKit
from workflow_kit.events import new_id
from workflow_kit.runtime.storage import schema

from .history import percentile, probe_marks, probe_until
from .kit_side import fresh_database

DAY = 86_400_000
CHUNK = 5_000
ONE_STEP = {"actions": [{"id": "m", "kind": "mark"}], "edges": [{"from": "$source", "to": "m"}]}


def insert_expired(kit: WorkflowKit, workflow_id: str, version_id: str, count: int, now: int) -> None:
    """`count` ended runs whose time is up, each with one action and one step, and an event per ten."""
    R, A, S, E = schema.runs, schema.run_actions, schema.run_steps, schema.events
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        runs: list[dict[str, Any]] = []
        actions: list[dict[str, Any]] = []
        steps: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for n in range(size):
            ended = now - 40 * DAY + (done + n)  # oldest first, each a millisecond apart
            run_id = new_id(ended)
            if n % 10 == 0:
                events.append({"id": new_id(ended), "tenant": "old", "name": "bench/go",
                               "payload": {"name": "bench/go"}, "key": None, "duplicate": False,
                               "received_at": ended, "expires_at": ended + 30 * DAY})  # fmt: skip
            runs.append({
                "id": run_id, "tenant": "old", "workflow_id": workflow_id, "version_id": version_id,
                "version_number": 1, "event_id": None, "event": {"name": "bench/go", "data": {"n": n}},
                "status": "completed", "output": {"m": None}, "error": None, "created_at": ended - 50,
                "started_at": ended - 40, "ended_at": ended, "updated_at": ended, "due_at": None,
                "lease_owner": None, "claim_seq": 1, "wake_requested": False, "system_depth": 0,
                "expires_at": ended + 30 * DAY,
            })  # fmt: skip
            actions.append({"run_id": run_id, "action_id": "m", "status": "completed", "inputs": {}, "output": None,
                            "error": None, "attempts": [], "started_at": ended - 40, "ended_at": ended,
                            "wake_at": None})  # fmt: skip
            steps.append({"run_id": run_id, "action_id": "m", "position": 0, "key": "s", "kind": "run",
                          "status": "completed", "output": "x" * 200, "error": None, "attempts": [],
                          "wake_at": None, "wait": None, "invoke": None})  # fmt: skip
        with kit.db.write() as conn:
            conn.execute(E.insert(), events)
            conn.execute(R.insert(), runs)
            conn.execute(A.insert(), actions)
            conn.execute(S.insert(), steps)
        done += size
    with kit.db.engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()


def size_mb(kit: WorkflowKit) -> float:
    with kit.db.engine.connect() as conn:
        if kit.db.dialect == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            page = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            return float(pages * page) / 1e6
        return float(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()) / 1e6


def vacuum(kit: WorkflowKit) -> None:
    """VACUUM outside any transaction: on SQLite through a plain connection of its own (the kit's
    connections begin their transactions themselves)."""
    if kit.db.dialect == "sqlite":
        path = kit.db.engine.url.database
        kit.db.dispose()
        with contextlib.closing(sqlite3.connect(str(path), isolation_level=None)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
        return
    with kit.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM")


def expired_left(kit: WorkflowKit) -> bool:
    """Whether any expired run is left (through the tenant's index: no count of a million rows)."""
    with kit.db.read() as conn:
        return (
            conn.execute(sa.select(schema.runs.c.id).where(schema.runs.c.tenant == "old").limit(1)).first() is not None
        )


def without_auto_vacuum(url: str) -> None:
    """Make the SQLite file without auto-vacuum (a table first: the kit's pragma then changes nothing)."""
    path = sa.make_url(url).database
    with contextlib.closing(sqlite3.connect(str(path), isolation_level=None)) as conn:
        conn.execute("PRAGMA auto_vacuum=NONE")
        conn.execute("CREATE TABLE bench_made_without_auto_vacuum (x INTEGER)")


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    if url.startswith("sqlite") and args.sqlite_auto_vacuum == "none":
        without_auto_vacuum(url)
    kit = WorkflowKit(database_url=url)
    started = probe_marks(kit)
    try:
        record = await kit.workflows.create("old", name="old", trigger="bench/none", workflow=ONE_STEP)
        [version] = await kit.workflows.versions("old", record.id)
        await kit.workflows.create("live", name="live", trigger="bench/go", workflow=ONE_STEP)
        begun = time.perf_counter()
        insert_expired(kit, record.id, version.id, args.runs, kit.clock.now_ms())
        inserted_s = time.perf_counter() - begun
        before = size_mb(kit)
        async with kit.worker(concurrency=20, poll_ms=100, retention_every_ms=1000):

            async def gone() -> bool:
                return not await asyncio.to_thread(expired_left, kit)

            latencies, took = await probe_until(kit, "live", started, gone, args.probes, 0.02)
        after = size_mb(kit)
        vacuum(kit)
        vacuumed = size_mb(kit)
    finally:
        kit.close()
    return {
        "runs": args.runs,
        "inserted_s": inserted_s,
        "deleted_s": took,
        "probe_p50": statistics.median(latencies),
        "probe_p99": percentile(latencies, 99),
        "probes": len(latencies),
        "size_before_mb": before,
        "size_after_mb": after,
        "size_vacuumed_mb": vacuumed,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=200, help="live events sent at least (more while deleting)")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one database only")
    parser.add_argument("--sqlite-auto-vacuum", choices=["incremental", "none"], default="incremental")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wk-retention-") as tmp:
        urls = [("SQLite", f"sqlite:///{Path(tmp) / 'retention.sqlite'}")]
        if os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL"):
            urls.append(("PostgreSQL", os.environ["WORKFLOW_KIT_TEST_POSTGRES_URL"]))
        for label, server in urls:
            if args.only and args.only not in label.lower():
                continue
            with fresh_database(server) as url:
                r = await measure(url, args)
            print(
                f"{label}: {r['runs']:,} expired runs (inserted in {r['inserted_s']:.0f} s) deleted in"
                f" {r['deleted_s']:.1f} s ({r['runs'] / max(r['deleted_s'], 1e-9):,.0f} runs/s); meanwhile the live"
                f" tenant's event -> first step p50 {r['probe_p50']:.1f} ms, p99 {r['probe_p99']:.1f} ms"
                f" ({r['probes']} probes); size {r['size_before_mb']:.0f} MB before, {r['size_after_mb']:.0f} MB"
                f" after deleting, {r['size_vacuumed_mb']:.0f} MB after VACUUM"
            )


if __name__ == "__main__":
    asyncio.run(main())
