"""DBOS Transact's side of the runtime benchmark: 10-step no-op workflows, one configuration per process.

    python -m bench.dbos_side --db-url URL --mode throughput --runs 300 --concurrency 1|20 [--via threads|queue]
    python -m bench.dbos_side --db-url URL --mode latency --events 200 [--load] [--poll SECONDS]

DBOS is a process singleton, so each configuration runs in its own process (`bench.compare` runs the
matrix). Prints one JSON line on stdout; DBOS's own logs go to stderr.

The workflow is one `@DBOS.workflow` calling a no-op `@DBOS.step` 10 times, so each run checkpoints 10
step outputs plus its own status.

Databases (always fresh, so every measurement starts from an empty system database):
- `sqlite:///FILE`: FILE must not exist. DBOS creates it in SQLite's default rollback-journal mode;
  with `--wal` the file is created first and set to `PRAGMA journal_mode=WAL` (persistent in the file),
  and the journal mode DBOS actually runs on is read back through DBOS's own engine.
- `postgresql://...` (`+psycopg` is accepted): a server to use; a database `dbos_bench_<pid>_<n>` is
  created on it for this process and dropped at the end.

Throughput (`--runs` runs, `--concurrency` at a time), two ways DBOS offers:
- `--via threads`: `--concurrency` threads call the workflow function directly (DBOS runs a workflow
  called outside a workflow synchronously in the calling thread); concurrency 1 is plain sequential calls.
  The clock covers everything, since each call starts and finishes its own workflow.
- `--via queue`: a DBOS queue with `worker_concurrency=--concurrency`, polled every `--poll` seconds. The
  runs are enqueued while the queue is paused (worker concurrency 0, DBOS reloads a queue's settings on
  every poll), then the clock starts as the queue is resumed and stops when DBOS has recorded all runs
  as SUCCESS, so, as for the kit, enqueueing is not counted.

Latency (`--events` samples, fewer if `--time-limit` seconds run out first): the time from just before
`Queue.enqueue` (DBOS's way to start work from an event) to the first step's body starting, through a
queue polled every `--poll` seconds (DBOS's default is 1 s). The queue allows 20 runs at a time
(`worker_concurrency=20`). Each event is sent after a random pause of up to one polling interval, so that
events arrive at random moments relative to the queue's polls (sending right after a poll would measure
the worst case every time).
- Idle: each event is sent once the previous run has finished (recorded as SUCCESS).
- `--load`: a closed loop keeps `LOAD_IN_FLIGHT` (10) 10-step runs enqueued or running on the same queue
  throughout, and each measured event takes one of those 10 slots (it waits for a slot before its pause and
  its clock start), so the measured run never waits for a free concurrency slot, only for the next poll and
  a busy database. The load's rate (runs/s, measured runs included) is reported.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from dbos import DBOS, DBOSConfig, Queue

STEPS = 10
QUEUE = "bench"
QUEUE_CONCURRENCY = 20
LOAD_IN_FLIGHT = 10
DEFAULT_POLL_S = 1.0  # DBOS.register_queue's default polling_interval_sec
LOAD = -1  # the `n` of a background load run


@dataclass
class _Marks:
    """What the workflow bodies report back to the measuring thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    first_step: dict[int, float] = field(default_factory=dict)
    first_step_seen: dict[int, threading.Event] = field(default_factory=dict)
    bodies_done: int = 0
    load_done: int = 0
    load_slots: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(LOAD_IN_FLIGHT))

    body_seen: dict[int, threading.Event] = field(default_factory=dict)
    slot_runs: set[int] = field(default_factory=set)  # measured runs that hold a load slot

    def expect(self, n: int) -> tuple[threading.Event, threading.Event]:
        """Events set when run `n`'s first step starts and when its body returns."""
        seen, done = threading.Event(), threading.Event()
        with self.lock:
            self.first_step_seen[n] = seen
            self.body_seen[n] = done
        return seen, done

    def step_started(self, n: int) -> None:
        now = time.perf_counter()
        with self.lock:
            if n in self.first_step:
                return  # a replayed step (not expected here) keeps its first time
            self.first_step[n] = now
            seen = self.first_step_seen.get(n)
        if seen is not None:
            seen.set()

    def body_done(self, n: int) -> None:
        with self.lock:
            holds_slot = n == LOAD or n in self.slot_runs
            if holds_slot:
                self.load_done += 1
            if n >= 0:  # warm-up runs have other negative numbers
                self.bodies_done += 1
            done = self.body_seen.get(n)
        if holds_slot:
            self.load_slots.release()
        if done is not None:
            done.set()


MARKS = _Marks()


@DBOS.step()
def noop_step(n: int, i: int) -> None:
    if i == 0 and n >= 0:
        MARKS.step_started(n)


@DBOS.workflow()
def ten_steps(n: int) -> int:
    for i in range(STEPS):
        noop_step(n, i)
    MARKS.body_done(n)
    return n


# --- databases ---------------------------------------------------------------------------------------


def _libpq_url(url: str, database: str | None = None) -> str:
    u = sa.make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


@contextmanager
def system_database(url: str, wal: bool) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (DBOS's system database URL, a label, settings known before launch); fresh, cleaned up after."""
    if url.startswith("sqlite"):
        path = sa.make_url(url).database
        if not path or path == ":memory:":
            raise SystemExit("--db-url: a SQLite file path is needed")
        if Path(path).exists():
            raise SystemExit(f"--db-url: {path} exists; each measurement needs a fresh file")
        if wal:
            with sqlite3.connect(path) as conn:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise SystemExit(f"could not set WAL on {path}: journal_mode={mode}")
        yield url, "sqlite-wal" if wal else "sqlite", {"sqlite_version": sqlite3.sqlite_version}
        return
    if wal:
        raise SystemExit("--wal is for SQLite")
    name = f"dbos_bench_{os.getpid()}_{random.randrange(10**6)}"
    admin = _libpq_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        settings: dict[str, Any] = {
            key: conn.execute(f"SHOW {key}").fetchone()[0]  # type: ignore[index]
            for key in ("server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method")
        }
    try:
        yield _libpq_url(url, name), "postgres", settings
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_settings_in_use(dbos: DBOS) -> dict[str, Any]:
    """The journal mode and synchronous level on a connection of DBOS's own engine."""
    engine: sa.Engine = dbos._sys_db.engine
    with engine.connect() as conn:
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return {"journal_mode": journal, "synchronous": names.get(int(sync or 0), sync)}


def launch(url: str) -> DBOS:
    # WARNING: DBOS's startup lines (one per schema migration) would drown the errors.
    config: DBOSConfig = {"name": "dbos-bench", "system_database_url": url, "log_level": "WARNING"}
    dbos = DBOS(config=config)
    DBOS.launch()
    return dbos


# --- measurements --------------------------------------------------------------------------------------


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(every)


def all_succeeded(workflow_ids: list[str]) -> bool:
    done = DBOS.list_workflows(workflow_ids=workflow_ids, status="SUCCESS", load_input=False, load_output=False)
    return len(done) == len(workflow_ids)


def warm_queue(queue: Queue, poll: float) -> None:
    """Run a few workflows through the queue: its worker thread is then running (DBOS starts it within ~1 s)."""
    ids = [queue.enqueue(ten_steps, -1000 - i).get_workflow_id() for i in range(3)]
    wait_until(lambda: all_succeeded(ids), 30 + 5 * poll, "the warm-up runs", every=0.01)


def throughput_threads(runs: int, concurrency: int) -> float:
    for i in range(3):  # warm-up, not counted
        ten_steps(-100 - i)
    started = time.perf_counter()
    if concurrency == 1:
        for n in range(runs):
            ten_steps(n)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for result in pool.map(ten_steps, range(runs)):
                assert result >= 0
    elapsed = time.perf_counter() - started
    assert MARKS.bodies_done == runs, f"{MARKS.bodies_done} of {runs} runs finished"
    return elapsed


def throughput_queue(runs: int, concurrency: int, poll: float) -> float:
    queue = DBOS.register_queue(QUEUE, worker_concurrency=concurrency, polling_interval_sec=poll)
    warm_queue(queue, poll)
    queue.set_worker_concurrency(0)
    time.sleep(2.2 * poll)  # the worker picks the pause up at its next poll
    ids = [queue.enqueue(ten_steps, n).get_workflow_id() for n in range(runs)]
    waiting = DBOS.list_workflows(workflow_ids=ids, status="ENQUEUED", load_input=False, load_output=False)
    assert len(waiting) == runs, f"the queue started {runs - len(waiting)} runs while paused"
    started = time.perf_counter()
    queue.set_worker_concurrency(concurrency)
    wait_until(lambda: MARKS.bodies_done == runs, 600, "the runs' bodies", every=0.005)
    wait_until(lambda: all_succeeded(ids), 60, "the runs to be recorded as SUCCESS")
    return time.perf_counter() - started


def load_loop(queue: Queue, stop: threading.Event) -> None:
    while not stop.is_set():
        if MARKS.load_slots.acquire(timeout=0.05):
            queue.enqueue(ten_steps, LOAD)


def latency(events: int, poll: float, load: bool, time_limit: float) -> tuple[list[float], float | None]:
    rng = random.Random(7)
    queue = DBOS.register_queue(QUEUE, worker_concurrency=QUEUE_CONCURRENCY, polling_interval_sec=poll)
    warm_queue(queue, poll)
    stop = threading.Event()
    loader = threading.Thread(target=load_loop, args=(queue, stop), name="bench-load", daemon=True)
    if load:
        loader.start()
        wait_until(lambda: MARKS.load_done >= 2 * LOAD_IN_FLIGHT, 60 + 10 * poll, "the load to flow", every=0.01)
    load_start, load_before = time.perf_counter(), MARKS.load_done
    samples: list[float] = []
    try:
        deadline = time.monotonic() + time_limit
        for n in range(events):
            if time.monotonic() > deadline:
                break  # a slow configuration reports fewer samples rather than stall the matrix
            if load:  # the measured run takes one of the load's slots: LOAD_IN_FLIGHT runs in flight throughout
                if not MARKS.load_slots.acquire(timeout=60 + 10 * poll):
                    raise TimeoutError("no load slot freed up")
                MARKS.slot_runs.add(n)
            time.sleep(rng.uniform(0, poll))  # a random moment relative to the queue's polls
            seen, done = MARKS.expect(n)
            sent = time.perf_counter()
            handle = queue.enqueue(ten_steps, n)
            if not seen.wait(timeout=60 + 10 * poll):
                raise TimeoutError(f"event {n}: the first step never started")
            samples.append((MARKS.first_step[n] - sent) * 1000)
            if not load:  # an idle system: the next event waits until this run has finished
                if not done.wait(timeout=60):
                    raise TimeoutError(f"event {n}: the run never finished")
                wait_until(lambda h=handle: h.get_status().status == "SUCCESS", 60, f"run {n} to be recorded")  # type: ignore[misc]
    finally:
        stop.set()
        if load:
            loader.join()
    if not load:
        return samples, None
    load_rate = (MARKS.load_done - load_before) / (time.perf_counter() - load_start)
    # Let the runs in flight finish before DBOS shuts down under them.
    for _ in range(LOAD_IN_FLIGHT):
        if not MARKS.load_slots.acquire(timeout=60):
            raise TimeoutError("the load runs never finished")
    wait_until(lambda: not DBOS.list_workflows(status=["PENDING", "ENQUEUED"], load_input=False), 60, "load", 0.01)
    return samples, load_rate


def percentile(sorted_samples: list[float], q: float) -> float:
    return sorted_samples[min(len(sorted_samples) - 1, int(len(sorted_samples) * q))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", required=True, help="sqlite:///FRESH_FILE or a PostgreSQL server URL")
    parser.add_argument("--wal", action="store_true", help="SQLite: set the fresh file to WAL before DBOS opens it")
    parser.add_argument("--mode", choices=["throughput", "latency"], required=True)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--via", choices=["threads", "queue"], default="threads")
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--poll", type=float, default=DEFAULT_POLL_S, help="queue polling_interval_sec")
    parser.add_argument("--time-limit", type=float, default=60, help="latency: stop sending events after this")
    args = parser.parse_args()

    logging.basicConfig(stream=sys.stderr)
    out: dict[str, Any] = {"system": "dbos", "dbos_version": version("dbos")}
    with system_database(args.db_url, args.wal) as (url, label, known):
        settings = dict(known)
        out |= {"db": label, "mode": args.mode}
        dbos = launch(url)
        try:
            if label.startswith("sqlite"):
                settings |= sqlite_settings_in_use(dbos)
                if args.wal and settings["journal_mode"] != "wal":
                    raise SystemExit(f"DBOS does not run on WAL: journal_mode={settings['journal_mode']}")
            if args.mode == "throughput":
                if args.via == "threads":
                    seconds = throughput_threads(args.runs, args.concurrency)
                else:
                    seconds = throughput_queue(args.runs, args.concurrency, args.poll)
                out |= {"via": args.via, "concurrency": args.concurrency, "runs": args.runs}
                if args.via == "queue":
                    out["poll_s"] = args.poll
                out |= {
                    "steps": args.runs * STEPS,
                    "seconds": round(seconds, 3),
                    "steps_per_s": round(args.runs * STEPS / seconds, 1),
                    "runs_per_s": round(args.runs / seconds, 2),
                }
            else:
                samples, load_rate = latency(args.events, args.poll, args.load, args.time_limit)
                samples.sort()
                out |= {
                    "via": "queue",
                    "poll_s": args.poll,
                    "load": args.load,
                    "samples": len(samples),
                    "p50_ms": round(statistics.median(samples), 2),
                    "p99_ms": round(percentile(samples, 0.99), 2),
                    "mean_ms": round(statistics.fmean(samples), 2),
                    "max_ms": round(samples[-1], 2),
                }
                if load_rate is not None:
                    out["load_runs_per_s"] = round(load_rate, 1)
        finally:
            DBOS.destroy()
        out["settings"] = settings
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
