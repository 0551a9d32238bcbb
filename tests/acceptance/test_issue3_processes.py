"""Issue 3, as processes: `workflow-kit migrate`, `workflow-kit worker --app mod:kit`, and the crash test
(a worker SIGKILLed between two steps and inside a step; a new worker finishes; completed steps ran once;
an event sent while no worker was alive is not lost). Bounded: every wait has a timeout."""

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

from workflow_kit import WorkflowKit

from .issue3_support import chain, fresh_database

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CLI = Path(sys.executable).with_name("workflow-kit")
T = "tenant-p"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path)


def _env(url: str, marks: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["WORKFLOW_KIT_DATABASE_URL"] = url
    env["ISSUE3_MARKS"] = str(marks)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), env.get("PYTHONPATH", "")])
    return env


def _cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args], env=env, cwd=HERE, capture_output=True, text=True, timeout=timeout, check=False
    )


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrate_command_creates_the_tables_and_is_repeatable(url: str, tmp_path: Path) -> None:
    env = _env(url, tmp_path)
    assert _tables(url) == set()
    done = _cli("migrate", "--app", "issue3_app:kit", env=env)
    assert done.returncode == 0, done.stderr
    tables = _tables(url)
    assert any(t.endswith("alembic_version") for t in tables)
    assert len(tables) >= 4
    again = _cli("migrate", "--app", "issue3_app:kit", env=env)
    assert again.returncode == 0, again.stderr
    assert _tables(url) == tables
    # and the kit works on the migrated database
    kit = WorkflowKit(database_url=url)
    try:
        assert kit.workflows.list_sync(T) == []
    finally:
        kit.close()


def test_migrate_with_database_url_and_no_app(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    env = _env("sqlite:///unused.db", tmp_path)
    done = _cli("migrate", "--database-url", url, env=env)
    assert done.returncode == 0, done.stderr
    assert any(t.endswith("alembic_version") for t in _tables(url))


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(CLI), "worker", "--app", "issue3_app:kit", "--lease-ms", "1500", "--poll-ms", "100"],
            env=env,
            cwd=HERE,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _lines(marks: Path) -> list[str]:
    path = marks / "marks.log"
    return path.read_text().splitlines() if path.exists() else []


def _wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _runs(kit: WorkflowKit, workflow_id: str) -> list[object]:
    import asyncio

    return list(asyncio.run(kit.runs.list(T, workflow_id=workflow_id)))


def test_crash_between_steps_and_inside_a_step(url: str, tmp_path: Path) -> None:
    import asyncio

    from . import issue3_app

    marks = tmp_path / "marks"
    marks.mkdir()
    env = _env(url, marks)
    log = tmp_path / "worker.log"
    kit = WorkflowKit(database_url=url)
    issue3_app.register(kit)
    try:
        w = kit.workflows.create_sync(
            T, name="crashy", trigger="app/crash", workflow=chain({"id": "c", "kind": "crashy"})
        )
        (marks / "hold-between-A").touch()
        (marks / "block-inside-B").touch()
        first = _worker(env, log)
        try:
            kit.send_sync(T, [{"name": "app/crash", "data": {"key": "A"}}, {"name": "app/crash", "data": {"key": "B"}}])
            _wait_for(lambda: {"A:between", "B:s2:start"} <= set(_lines(marks)), 30, "A between steps, B inside s2")
            time.sleep(0.2)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(timeout=5)
        assert first.returncode == -signal.SIGKILL
        # events while no worker is alive
        keys = ["C", *(f"D{n}" for n in range(10))]
        kit.send_sync(T, [{"name": "app/crash", "data": {"key": k}} for k in keys])
        (marks / "release").touch()
        second, third = _worker(env, log), _worker(env, log)  # two worker processes share the rest
        try:
            deadline = time.monotonic() + 45
            while True:
                runs = _runs(kit, w.id)
                if len(runs) == 13 and all(str(r.status) in ("completed", "failed", "cancelled") for r in runs):  # type: ignore[attr-defined]
                    break
                assert time.monotonic() < deadline, (
                    f"runs not finished: {[str(r.status) for r in runs]}\n{log.read_text()[-3000:]}"
                )  # type: ignore[attr-defined]
                time.sleep(0.1)
        finally:
            _stop(second)
            _stop(third)
        assert second.returncode == 0 and third.returncode == 0, log.read_text()[-3000:]
        outputs = {}
        for r in runs:
            full = asyncio.run(kit.runs.get(T, r.id))  # type: ignore[attr-defined]
            assert str(full.status) == "completed", full.error
            outputs[full.event["data"]["key"]] = full.output
            steps = full.action("c").steps
            assert [s.key for s in steps] == ["s0", "s1", "s2", "s3"]
            assert [s.output for s in steps] == [0, 10, 20, 30]
        assert outputs == {k: {"c": f"done {k}"} for k in ["A", "B", *keys]}
        counts = Counter(_lines(marks))
        for key in ["A", "B", *keys]:
            for i in range(4):
                if key == "B" and i == 2:
                    continue
                assert counts[f"{key}:s{i}:start"] == 1, (key, i, counts)
                assert counts[f"{key}:s{i}:end"] == 1, (key, i, counts)
        # the step that was executing when the worker died runs again (at least once), ends once
        assert counts["B:s2:start"] == 2, counts
        assert counts["B:s2:end"] == 1, counts
    finally:
        kit.close()
