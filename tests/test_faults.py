"""Fault tests: real worker processes (``workflow-kit worker``) on a real database, under load, while
things break.

- PostgreSQL, 4 workers killed with SIGKILL at random (every 0.5-2 s) and replaced: every run completes,
  every step's output is recorded exactly once (a body may run again: at-least-once), no run is lost or
  duplicated.
- PostgreSQL restarted under load (``pg_ctl restart -m fast``, ``-m immediate``, then an outage longer
  than the workers' lease) on a private cluster: the workers reconnect and carry on; nothing is lost or
  duplicated.
- SQLite, two worker processes and a sending process on one file: no "database is locked" reaches a run.
- Two bugs these tests found, kept as regression tests: sync handlers deadlocked a worker whose
  concurrency exceeded the loop's thread pool (steps were saved through that pool too); a send_event
  step interrupted after sending sent its events again (now each sent event is keyed by its step).

The load is tests/apps/fault_app.py: four workflow shapes mixing steps, durable sleeps (50-500 ms),
waits for events (signalled by the test once the wait is open, or left to time out), steps and
handlers that fail on their first attempt, and parallel branches joining. The events are sent in
batches of 50 as fast as the database takes them. Each test prints a summary line.

Sizes are environment variables, so a long run is one command away, e.g.
``WK_FAULTS_RUNS=20000 WK_FAULTS_TIMEOUT=1800 pytest tests/test_faults.py -s``:

- ``WK_FAULTS_RUNS`` (default 1000: a worker is killed every 0.5-2 s, five to ten kills a run): runs of the kill test;
- ``WK_FAULTS_RESTART_RUNS`` (default 400): runs of the restart test;
- ``WK_FAULTS_SQLITE_RUNS`` (default 300): runs of the SQLite test;
- ``WK_FAULTS_WORKERS`` (default 4): worker processes of the kill test;
- ``WK_FAULTS_KILLS`` (default 1): 0 runs the kill test without kills (a baseline for its time);
- ``WK_FAULTS_TIMEOUT`` (default 150): seconds a test may take before it fails;
- ``WK_FAULTS_SEED``: the random seed (printed; default: random).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from apps.fault_app import CHILD, CHILD_EVENT, NOTIFY, SHAPES, SIGNAL, install
from conftest import REQUIRE_POSTGRES, postgres_url
from fleet import Fleet
from helpers import free_port

from workflow_kit import WorkflowKit
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.storage.db import Database

TESTS = Path(__file__).parent
TENANT = "faults"
R, A, S, WT, E = schema.runs, schema.run_actions, schema.run_steps, schema.waits, schema.events
SIGNALLED_TIMEOUT_MS = 600_000  # a signalled wait never times out during a test
SEND_BATCH = 50
OUTAGE_S = 3.0  # longer than the workers' lease (2 s)

pytestmark = [pytest.mark.slow, pytest.mark.durable]  # durable: its SQLite databases keep the default synchronous=FULL


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


TIMEOUT = env_int("WK_FAULTS_TIMEOUT", 150)


@pytest.fixture
def seed() -> int:
    value = env_int("WK_FAULTS_SEED", random.randrange(1_000_000))
    print(f"\nWK_FAULTS_SEED={value}")
    return value


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder


# -- the load ---------------------------------------------------------------------------------------


@dataclass
class Load:
    """The events that start the runs (one run each), sent in batches; and which waits get a signal."""

    events: list[dict[str, Any]]
    signalled: set[int]
    sent: int = 0
    signals_sent: set[int] = field(default_factory=set)

    @classmethod
    def make(cls, runs: int, rng: random.Random) -> Load:
        events, signalled = [], set()
        shapes = list(SHAPES.values())
        for n in range(runs):
            shape = shapes[n % len(shapes)]
            data: dict[str, Any] = {"n": n, "ms": rng.randint(50, 500)}
            if shape.name == "wait":
                if rng.random() < 0.5:
                    signalled.add(n)
                    data["timeout_ms"] = SIGNALLED_TIMEOUT_MS
                else:
                    data["timeout_ms"] = rng.randint(300, 800)
            events.append({"name": shape.trigger, "data": data, "id": f"load-{n}"})
        return cls(events, signalled)

    @property
    def all_sent(self) -> bool:
        return self.sent >= len(self.events)


def try_send(kit: WorkflowKit, events: list[dict[str, Any]]) -> bool:
    """Send; False if the database is unavailable (the events carry ids, so sending again is safe even
    if the failed attempt had committed)."""
    try:
        kit.send_sync(TENANT, events)
    except sa.exc.DBAPIError:
        return False
    return True


def send_some(kit: WorkflowKit, load: Load) -> None:
    batch = load.events[load.sent : load.sent + SEND_BATCH]
    if batch and try_send(kit, batch):
        load.sent += len(batch)


def signal_open_waits(kit: WorkflowKit, load: Load) -> None:
    """Send ``fault/signal`` to the signalled runs whose wait is open (an event sent before the wait
    opens is not seen by it, by design)."""
    query = (
        sa.select(R.c.event)
        .join(WT, WT.c.run_id == R.c.id)
        .where(WT.c.tenant == TENANT, WT.c.event_name == SIGNAL, WT.c.status == "waiting")
    )
    try:
        with kit.db.read() as conn:
            waiting = {int(event["data"]["n"]) for (event,) in conn.execute(query)}
    except sa.exc.DBAPIError:
        return
    due = sorted((waiting & load.signalled) - load.signals_sent)
    if due and try_send(kit, [{"name": SIGNAL, "data": {"n": n}, "id": f"signal-{n}"} for n in due]):
        load.signals_sent.update(due)


def open_runs(kit: WorkflowKit) -> int | None:
    try:
        with kit.db.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(R)
                    .where(R.c.tenant == TENANT, R.c.status.not_in(("completed", "failed", "cancelled")))
                ).scalar_one()
            )
    except sa.exc.DBAPIError:
        return None


def drive(
    kit: WorkflowKit,
    load: Load,
    *,
    timeout: float,
    tick: Callable[[float], None] = lambda ended: None,
    stall: float | None = None,
) -> float:
    """Send the load, signal the waits and call `tick` with the fraction of runs ended (to inject faults),
    until every run has ended; returns the seconds taken. Fails after `timeout` s, or after `stall` s
    in which no run ended."""
    started = time.monotonic()
    deadline = started + timeout
    last_look = last_change = 0.0
    ended = 0
    while True:
        now = time.monotonic()
        if now > deadline or (stall is not None and last_change and now - last_change > stall):
            why = f"no run ended for {stall} s" if now <= deadline else "timeout"
            raise AssertionError(
                f"not done after {now - started:.0f} s ({why}): {load.sent} of {len(load.events)} events sent, "
                f"{load.sent - ended} runs still open"
            )
        if not load.all_sent:
            send_some(kit, load)
        tick(ended / len(load.events))
        if now - last_look > 0.2:
            last_look = now
            signal_open_waits(kit, load)
            still_open = open_runs(kit)
            if still_open is not None:
                if load.sent - still_open != ended or not last_change:
                    ended, last_change = load.sent - still_open, now
                if load.all_sent and still_open == 0:
                    return time.monotonic() - started
        time.sleep(0.02)


# -- the workers ------------------------------------------------------------------------------------


@pytest.fixture
def fleet_factory(marks: Path) -> Iterator[Callable[..., Fleet]]:
    fleets: list[Fleet] = []

    def make(database_url: str, **options: int) -> Fleet:
        # Concurrency 4 keeps the processes' contention modest on 2 cores; a 2 s lease makes takeovers quick.
        fleet = Fleet(database_url, marks, **{"concurrency": 4, "lease_ms": 2000, "poll_ms": 100, **options})
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        fleet.close()


def make_kit(database_url: str) -> WorkflowKit:
    kit = WorkflowKit(database_url=database_url)
    install(kit, TENANT)
    return kit


# -- the checks -------------------------------------------------------------------------------------


@dataclass
class Summary:
    runs: int
    steps: int
    bodies: int
    reexecuted: int
    failed_on_purpose: int
    signalled: int
    timed_out: int


def read_marks(marks: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in marks.glob("marks-*.log"):
        counts.update(path.read_text().split())
    return counts


def check_journal(kit: WorkflowKit, load: Load, marks: Path) -> Summary:
    """Every run completed, once per event; every action and step recorded once, as expected."""
    with kit.db.read() as conn:
        runs = conn.execute(sa.select(R.c.id, R.c.event, R.c.status, R.c.error).where(R.c.tenant == TENANT)).all()
        actions = conn.execute(sa.select(A.c.run_id, A.c.action_id, A.c.status, A.c.attempts, A.c.output)).all()
        steps = conn.execute(
            sa.select(S.c.run_id, S.c.action_id, S.c.position, S.c.key, S.c.status, S.c.output, S.c.attempts)
        ).all()
        open_waits = conn.execute(sa.select(sa.func.count()).select_from(WT).where(WT.c.status == "waiting")).scalar()
        doubled_events = conn.execute(
            sa.select(E.c.key)
            .where(E.c.tenant == TENANT, E.c.duplicate.is_(False), E.c.key.is_not(None))
            .group_by(E.c.key)
            .having(sa.func.count() > 1)
        ).all()
        completions = Counter(
            payload["data"]["run_id"]
            for (payload,) in conn.execute(
                sa.select(E.c.payload).where(E.c.tenant == TENANT, E.c.name == "workflow/run.completed")
            )
        )
    assert not doubled_events, f"event ids received twice: {doubled_events[:10]}"
    assert open_waits == 0

    # Runs: one per event, no more, no fewer; all completed.
    per_event = Counter(run.event["id"] for run in runs)
    assert set(per_event) == {event["id"] for event in load.events}, "a run is missing, or one has no event"
    assert max(per_event.values()) == 1, f"duplicated runs: {[k for k, v in per_event.items() if v > 1][:10]}"
    not_completed = [(run.id, run.status, run.error) for run in runs if run.status != "completed"]
    assert not not_completed, f"{len(not_completed)} runs did not complete: {not_completed[:5]}"
    run_n = {run.id: int(run.event["data"]["n"]) for run in runs}
    # Each run finished once: one workflow/run.completed event per run.
    assert completions == Counter(list(run_n)), [k for k, v in completions.items() if v != 1][:10]
    shape_of = {run.id: SHAPES[run.event["name"].split("/")[1]] for run in runs}

    # Actions: exactly the workflow's, each completed with exactly one successful attempt.
    by_run: dict[str, dict[str, Any]] = {run_id: {} for run_id in run_n}
    for row in actions:
        if row.run_id in by_run:
            assert row.action_id not in by_run[row.run_id]
            by_run[row.run_id][row.action_id] = row
    for run_id, recorded in by_run.items():
        shape = shape_of[run_id]
        assert set(recorded) == set(shape.steps), (run_id, sorted(recorded))
        for action_id, row in recorded.items():
            assert row.status == "completed", (run_id, action_id, row.status)
            successes = [a for a in row.attempts if not a.get("error")]
            assert len(successes) == 1, (run_id, action_id, row.attempts)
            if shape.name == "flaky" and action_id == "b":
                assert len(row.attempts) >= 2, (run_id, row.attempts)  # the failed first attempt is recorded

    # Steps: per action exactly the expected keys at positions 0..k-1, completed, each output recorded
    # once (one successful attempt) and equal to what the body returned.
    recorded_steps: dict[tuple[str, str], dict[int, Any]] = {}
    for step in steps:
        if step.run_id in run_n:
            recorded_steps.setdefault((step.run_id, step.action_id), {})[step.position] = step
    expected_bodies: set[str] = set()
    signalled = timed_out = 0
    for run_id, n in run_n.items():
        for action_id, keys in shape_of[run_id].steps.items():
            rows = recorded_steps.pop((run_id, action_id), {})
            assert sorted(rows) == list(range(len(keys))), (run_id, action_id, sorted(rows))
            assert [rows[i].key for i in range(len(keys))] == keys, (run_id, action_id)
            for row in rows.values():
                assert row.status == "completed", (run_id, action_id, row.key, row.status)
                if row.key == "nap":
                    assert row.output is None
                elif row.key == "signal":
                    if n in load.signalled:
                        assert row.output["data"]["n"] == n, (run_id, row.output)
                        signalled += 1
                    else:
                        assert row.output is None, (run_id, row.output)
                        timed_out += 1
                else:
                    body = f"{n}/{action_id}/{row.key}"
                    assert row.output == body, (run_id, row.output, body)
                    assert len([a for a in row.attempts if not a.get("error")]) == 1, (run_id, body, row.attempts)
                    expected_bodies.add(body)
    assert not recorded_steps, f"steps recorded for unexpected actions: {list(recorded_steps)[:5]}"

    # Bodies: each recorded step's body ran at least once; nothing else ran.
    counts = read_marks(marks)
    failed_on_purpose = sum(c for line, c in counts.items() if line.endswith("!fail"))
    ran = {line: c for line, c in counts.items() if not line.endswith("!fail")}
    assert set(ran) == expected_bodies, sorted(set(ran) ^ expected_bodies)[:10]
    flaky_runs = sum(1 for shape in shape_of.values() if shape.name == "flaky")
    assert failed_on_purpose >= flaky_runs  # the first attempt of each flaky step (the handler has no body)
    return Summary(
        runs=len(runs),
        steps=len(steps),
        bodies=sum(ran.values()),
        reexecuted=sum(c - 1 for c in ran.values()),
        failed_on_purpose=failed_on_purpose,
        signalled=signalled,
        timed_out=timed_out,
    )


def assert_clean_logs(logs: str) -> None:
    for bad in ("Traceback", "ERROR", "database is locked"):
        assert bad not in logs, logs[-5000:]


# -- PostgreSQL: workers killed at random ----------------------------------------------------------------


def test_postgres_workers_killed_at_random_lose_nothing(
    fleet_factory: Callable[..., Fleet], marks: Path, seed: int
) -> None:
    url = postgres_url()
    db = Database(url)
    db.truncate_all()
    db.dispose()
    rng = random.Random(seed)
    load = Load.make(env_int("WK_FAULTS_RUNS", 1000), rng)
    kit = make_kit(url)
    fleet = fleet_factory(url)
    try:
        for _ in range(env_int("WK_FAULTS_WORKERS", 4)):
            fleet.spawn()
        kills = env_int("WK_FAULTS_KILLS", 1) != 0
        next_kill = time.monotonic() + rng.uniform(0.5, 2.0)
        ended_at_last_kill = -1.0

        def kill_at_random(ended: float) -> None:
            # Every 0.5-2 s, once some run has ended since the last kill: on a loaded machine, where a
            # new worker takes seconds to start, kills paced by the clock alone would leave no worker
            # alive long enough to finish anything.
            nonlocal next_kill, ended_at_last_kill
            if kills and time.monotonic() >= next_kill and ended > ended_at_last_kill:
                fleet.kill_one(rng)
                ended_at_last_kill = ended
                next_kill = time.monotonic() + rng.uniform(0.5, 2.0)

        elapsed = drive(kit, load, timeout=TIMEOUT, tick=kill_at_random)
        summary = check_journal(kit, load, marks)
        assert fleet.kills > 0 or not kills
        assert_clean_logs(fleet.logs())
        print(
            f"postgres kills: {summary.runs} runs from {len(load.events)} events, {summary.steps} steps recorded "
            f"once each; {fleet.kills} workers killed; {summary.bodies} bodies executed, {summary.reexecuted} "
            f"re-executed (at-least-once), {summary.failed_on_purpose} failed on purpose; waits "
            f"{summary.signalled} signalled, {summary.timed_out} timed out; {elapsed:.1f} s"
        )
    finally:
        kit.close()


# -- PostgreSQL: the server restarted under load ------------------------------------------------------


def postgres_bindir() -> Path | None:
    """The newest installed server binaries (Debian's layout), else the ones on PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all((folder / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


@dataclass
class Cluster:
    """A private PostgreSQL cluster the test can restart (scripts/with-postgres's approach)."""

    bindir: Path
    root: Path
    run_as: list[str]
    port: int = 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, program: str, *args: str, timeout: float = 60) -> None:
        command = [*self.run_as, str(self.bindir / program), *args]
        # Output to files, never pipes: the server inherits pg_ctl's descriptors and outlives it.
        with (self.root / "ctl.log").open("ab") as out:
            subprocess.run(command, cwd=self.root, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                           check=True, timeout=timeout)  # fmt: skip

    def ctl(self, *args: str) -> None:
        self.run("pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "server.log"), "-w", "-t", "60", *args)

    def start(self) -> None:
        """Start on a free port (retried if another process takes it first)."""
        for _attempt in range(3):
            self.port = free_port()
            try:
                self.boot()
                return
            except subprocess.CalledProcessError:
                if "already in use" not in (self.root / "server.log").read_text():
                    raise
        raise RuntimeError("no free port for PostgreSQL")

    def boot(self) -> None:
        """Start the server on its port. Commits are synchronous (the default): an immediate shutdown must
        not lose a transaction a worker saw committed; fsync is off (the OS does not crash here)."""
        self.ctl("start", "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
                 "-c full_page_writes=off -c max_connections=100")  # fmt: skip

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.root / "ctl.log", self.root / "server.log"))


@pytest.fixture
def private_postgres() -> Iterator[Cluster]:
    bindir = postgres_bindir()
    if bindir is None:
        if REQUIRE_POSTGRES:
            pytest.fail("WORKFLOW_KIT_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries (initdb, pg_ctl) found")
        pytest.skip("no PostgreSQL server binaries (scripts/with-postgres installs them)")
    root = Path(tempfile.mkdtemp(prefix="wk-faults-pg-", dir="/tmp"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(bindir, root, run_as)
    try:
        cluster.run("initdb", "-D", str(root / "data"), "--auth=trust", "--username=postgres", "--encoding=UTF8",
                    "--locale=C")  # fmt: skip
        cluster.start()
        yield cluster
    finally:
        if (root / "data" / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                cluster.ctl("stop", "-m", "immediate")
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_restarted_under_load_workers_reconnect(
    private_postgres: Cluster, fleet_factory: Callable[..., Fleet], marks: Path, seed: int
) -> None:
    cluster = private_postgres
    rng = random.Random(seed)
    load = Load.make(env_int("WK_FAULTS_RESTART_RUNS", 400), rng)
    kit = make_kit(cluster.url)
    fleet = fleet_factory(cluster.url)
    try:
        for _ in range(2):
            fleet.spawn()
        # (when this fraction of the runs has ended, what to do): two restarts, then an outage longer
        # than the workers' lease, so every run in flight is taken over when the server is back.
        faults: list[tuple[float, str]] = [(0.2, "fast"), (0.45, "immediate"), (0.7, "outage")]
        done: list[str] = []

        def restart_under_load(ended: float) -> None:
            if not faults or ended < faults[0][0]:
                return
            _, fault = faults.pop(0)
            begun = time.monotonic()
            if fault == "outage":
                cluster.ctl("stop", "-m", "immediate")
                time.sleep(OUTAGE_S)
                cluster.boot()
            else:
                cluster.ctl("restart", "-m", fault)
            done.append(f"{fault} {time.monotonic() - begun:.1f} s")
            assert len(fleet.alive) == 2, fleet.logs()[-5000:]

        elapsed = drive(kit, load, timeout=TIMEOUT, tick=restart_under_load)
        assert not faults, f"the load ended before every fault ({done})"
        assert len(fleet.alive) == 2 and len(fleet.processes) == 2, "a worker died"
        summary = check_journal(kit, load, marks)
        logs = fleet.logs()
        assert "database is locked" not in logs
        problems = sum(1 for line in logs.splitlines() if " ERROR " in line or " WARNING " in line)
        print(
            f"postgres restarts ({', '.join(done)}): {summary.runs} runs from {len(load.events)} events, "
            f"{summary.steps} steps recorded once each; {summary.bodies} bodies executed, {summary.reexecuted} "
            f"re-executed; the 2 workers reconnected ({problems} error/warning lines logged); {elapsed:.1f} s"
        )
    finally:
        kit.close()


# -- SQLite: two worker processes and a sender on one file ------------------------------------------------


def test_sqlite_two_worker_processes_no_database_is_locked(
    tmp_path: Path, fleet_factory: Callable[..., Fleet], marks: Path, seed: int
) -> None:
    url = f"sqlite:///{tmp_path / 'faults.db'}"
    load = Load.make(env_int("WK_FAULTS_SQLITE_RUNS", 300), random.Random(seed))
    fleet = fleet_factory(url)
    for _ in range(2):  # on a file that does not exist yet: both create the tables at once
        fleet.spawn()
    wait_for(lambda: fleet.logs().count(" started on ") == 2, "both workers to start")
    kit = make_kit(url)
    try:
        elapsed = drive(kit, load, timeout=TIMEOUT)
        summary = check_journal(kit, load, marks)
        with kit.db.read() as conn:
            errors = [
                str(value)
                for table, columns in ((R, ("error",)), (A, ("error", "attempts")), (S, ("error", "attempts")))
                for row in conn.execute(sa.select(*(table.c[c] for c in columns)))
                for value in row
                if value and "error" in str(value)
            ]
        assert not [e for e in errors if "locked" in e], [e for e in errors if "locked" in e][:5]
        # The only errors recorded anywhere are the deliberate first-attempt failures.
        assert all("on purpose" in e for e in errors), [e for e in errors if "on purpose" not in e][:5]
        assert_clean_logs(fleet.logs())
        print(
            f"sqlite, 2 workers + a sender: {summary.runs} runs from {len(load.events)} events, {summary.steps} "
            f"steps recorded once each, {summary.bodies} bodies executed; no 'database is locked'; {elapsed:.1f} s"
        )
    finally:
        kit.close()


# -- bugs found by these tests ----------------------------------------------------------------------------


def test_sync_handlers_beyond_the_thread_pool_do_not_deadlock(
    tmp_path: Path, fleet_factory: Callable[..., Fleet]
) -> None:
    url = f"sqlite:///{tmp_path / 'deadlock.db'}"
    kit = make_kit(url)
    fleet = fleet_factory(url, concurrency=40)  # more runs at once than the pool has threads, on any machine
    fanout = SHAPES["fanout"].trigger  # its action x has a sync handler
    load = Load([{"name": fanout, "data": {"n": n, "ms": 50}, "id": f"load-{n}"} for n in range(80)], set())
    try:
        fleet.spawn()
        drive(kit, load, timeout=TIMEOUT, stall=10)
    finally:
        kit.close()


def test_send_event_step_interrupted_after_sending_does_not_send_twice(
    fleet_factory: Callable[..., Fleet], marks: Path
) -> None:
    url = postgres_url()
    db = Database(url)
    db.truncate_all()
    db.dispose()
    kit = WorkflowKit(database_url=url)
    install(kit, TENANT, [NOTIFY, CHILD])
    fleet = fleet_factory(url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as blocker:
            with blocker.begin():
                # Holding this lock, no step can be recorded: the worker sends the event (its transaction
                # commits) and then blocks saving the send_event step. That is where it gets killed.
                blocker.execute(sa.text(f"LOCK TABLE {S.name} IN SHARE ROW EXCLUSIVE MODE"))
                kit.send_sync(TENANT, {"name": NOTIFY.trigger, "data": {"n": 1}, "id": "notify-1"})
                worker = fleet.spawn()
                wait_for(lambda: children_sent(kit) == 1, "the worker to send the child event")
                wait_for(lambda: waiting_for_lock(kit, S.name), "the worker to wait to record the step")
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
            fleet.spawn()  # takes the run over once the dead worker's lease expires
            wait_for(lambda: open_runs(kit) == 0 and runs_of(kit, NOTIFY.trigger) == 1, "every run to end")
        sent, started = children_sent(kit), runs_of(kit, CHILD_EVENT)
        assert (sent, started) == (1, 1), f"{CHILD_EVENT} sent {sent} times, starting {started} child runs"
    finally:
        engine.dispose()
        kit.close()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")  # not an AssertionError: not the expected failure
        time.sleep(0.05)


def waiting_for_lock(kit: WorkflowKit, table: str) -> bool:
    """Whether a transaction waits for a lock on `table` (held by the test)."""
    query = sa.text(
        "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation"
        " WHERE pg_class.relname = :table AND NOT pg_locks.granted"
    )
    with kit.db.read() as conn:
        return bool(conn.execute(query, {"table": table}).scalar_one())


def children_sent(kit: WorkflowKit) -> int:
    with kit.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(E).where(E.c.name == CHILD_EVENT)).scalar_one())


def runs_of(kit: WorkflowKit, trigger: str) -> int:
    with kit.db.read() as conn:
        query = (
            sa.select(sa.func.count())
            .select_from(R)
            .where(R.c.tenant == TENANT, R.c.event["name"].as_string() == trigger)
        )
        return int(conn.execute(query).scalar_one())
