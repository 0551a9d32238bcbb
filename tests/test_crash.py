"""Crash tests: a worker process is killed with SIGKILL in the middle of a run; a new worker finishes it.

Every step that completed before the crash ran exactly once; the step that was executing when the
worker died runs again (at-least-once for a step's body); each step's output is recorded once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import action, edge, workflow

from workflow_kit import WorkflowKit
from workflow_kit.runtime.models import RunStatus
from workflow_kit.runtime.storage import schema

TESTS = Path(__file__).parent
TENANT = "crash-co"
pytestmark = pytest.mark.durable  # SQLite keeps synchronous=FULL: these tests are about what a kill leaves


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder


@pytest.fixture
def spawn(database_url: str, marks: Path) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start_worker() -> subprocess.Popen[bytes]:
        path = os.pathsep.join([str(TESTS), os.environ["PYTHONPATH"]])
        env = {**os.environ, "WK_MARKS": str(marks), "PYTHONPATH": path}
        command = [
            sys.executable, "-m", "workflow_kit.cli", "worker", "--app", "apps.crash_app:kit",
            "--database-url", database_url, "--lease-ms", "1500", "--poll-ms", "50", "--concurrency", "4",
        ]  # fmt: skip
        log = (marks / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        started.append(process)
        return process

    yield start_worker
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def wait_until(condition: object, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def run_status(kit: WorkflowKit) -> str | None:
    with kit.db.read() as conn:
        return conn.execute(sa.select(schema.runs.c.status)).scalar()


def recorded_steps(kit: WorkflowKit) -> list[tuple[str, str, str]]:
    with kit.db.read() as conn:
        rows = conn.execute(sa.select(schema.run_steps.c.action_id, schema.run_steps.c.key, schema.run_steps.c.status))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def read_marks(marks: Path) -> Counter[str]:
    path = marks / "marks.log"
    return Counter(path.read_text().split()) if path.exists() else Counter()


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def setup_kit(database_url: str, second: str) -> WorkflowKit:
    from apps.crash_app import kit as app_kit

    kit = WorkflowKit(database_url=database_url)
    for definition in app_kit.registry:
        if not definition.kind.startswith("builtin:"):
            kit.register(definition)
    wf = workflow(
        [action("first", "mark"), action("second", second, gate="g"), action("third", "mark")],
        [edge("$source", "first"), edge("first", "second"), edge("second", "third")],
    )
    kit.workflows.create_sync(TENANT, name="Crash", trigger="crash/go", workflow=wf)
    return kit


@pytest.mark.parametrize("where", ["between steps", "inside a step"])
def test_killed_worker_is_resumed_by_another(database_url: str, marks: Path, spawn: object, where: str) -> None:
    second = "gate_then_mark" if where == "between steps" else "mark_then_gate"
    kit = setup_kit(database_url, second)
    try:
        kit.send_sync(TENANT, {"name": "crash/go", "data": {}})  # sent while no worker runs: not lost
        first_worker = spawn()  # type: ignore[operator]
        wait_until((marks / "g.waiting").exists, what="the run to reach the gate")
        kill(first_worker)
        assert run_status(kit) == RunStatus.RUNNING  # the dead worker still holds the lease
        (marks / "g.open").touch()
        spawn()  # type: ignore[operator]
        wait_until(lambda: run_status(kit) == RunStatus.COMPLETED, what="the new worker to finish the run")
        logs = "".join(p.read_text() for p in sorted(marks.glob("worker-*.log")))
        assert "Traceback" not in logs, logs
        counts = read_marks(marks)
        assert counts["first"] == 1, counts  # completed before the crash: never re-executed
        assert counts["second"] == 1, counts
        assert counts["third"] == 1, counts
        if where == "inside a step":
            assert counts["second:started"] == 2, counts  # the interrupted step body ran again
        steps = recorded_steps(kit)
        assert sorted(steps) == sorted(
            [("first", "mark", "completed"), ("second", "mark" if where == "between steps" else "slow", "completed"),
             ("third", "mark", "completed")]
        )  # fmt: skip
        print(f"\n{where}: marks {dict(counts)}; recorded steps {len(steps)}")
    finally:
        kit.close()


def test_a_loop_resumes_without_running_finished_iterations_again(
    database_url: str, marks: Path, spawn: object
) -> None:
    """A worker dies in the third iteration of a for-each; the next one finishes the loop, and the two
    iterations that had finished are not run again (their handler is not even invoked)."""
    from apps.crash_app import kit as app_kit

    kit = WorkflowKit(database_url=database_url)
    kit.register(app_kit.registry.get("mark_item"))  # type: ignore[arg-type]
    body = {
        "actions": [action("reserve", "mark_item", gate_at=2, gate="g", item="!ref($.item)")],
        "edges": [edge("$source", "reserve")],
        "result": "reserve",
    }
    loop = {"id": "each", "kind": "builtin:for_each", "inputs": {"items": "!ref($.event.data.lines)"}, "body": body}
    kit.workflows.create_sync(
        TENANT, name="Loop", trigger="crash/loop", workflow=workflow([loop], [edge("$source", "each")])
    )
    try:
        kit.send_sync(TENANT, {"name": "crash/loop", "data": {"lines": ["a", "b", "c", "d"]}})
        first_worker = spawn()  # type: ignore[operator]
        wait_until((marks / "g.waiting").exists, what="the loop to reach its third item")
        kill(first_worker)
        (marks / "g.open").touch()
        spawn()  # type: ignore[operator]
        wait_until(lambda: run_status(kit) == RunStatus.COMPLETED, what="the new worker to finish the loop")
        counts = read_marks(marks)
        assert counts["item0:invoked"] == counts["item1:invoked"] == 1, counts  # finished before the crash
        assert counts["item2:invoked"] == 2, counts  # interrupted: invoked again
        assert counts["item3:invoked"] == 1, counts
        assert [counts[f"item{i}"] for i in range(4)] == [1, 1, 1, 1], counts  # each step body once
        [run] = kit.runs.list_sync(TENANT)
        assert kit.runs.get_sync(TENANT, run.id).output["each"] == ["item0", "item1", "item2", "item3"]
    finally:
        kit.close()
