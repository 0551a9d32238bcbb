"""The command line: migrate, send, runs, and a worker process (`--app` like uvicorn)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import free_port

from workflow_kit import WorkflowKit
from workflow_kit.cli import load_app, main

TESTS = Path(__file__).parent
APP = "apps.cli_app:kit"


def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ["PYTHONPATH"]])}
    command = [sys.executable, "-m", "workflow_kit.cli", *args, "--app", APP, "--database-url", database_url]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_migrate_is_idempotent(database_url: str) -> None:
    from workflow_kit.runtime.storage.db import _head_revision

    head = _head_revision()
    first = cli("migrate", database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert f"schema at revision {head}" in first.stdout
    second = cli("migrate", database_url=database_url)
    assert second.returncode == 0 and head in second.stdout


def wait_until_ended(database_url: str, timeout: float = 30.0) -> str:
    """The status of tenant acme's one run once it has ended (the worker process runs it)."""
    reader = WorkflowKit(database_url=database_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            runs = reader.runs.list_sync("acme")
            if runs and runs[0].status in ("completed", "failed", "cancelled"):
                return runs[0].status
            assert time.monotonic() < deadline, f"the run did not end in {timeout} s: {runs}"
            time.sleep(0.05)
    finally:
        reader.close()


def test_worker_process_runs_what_send_starts(database_url: str, tmp_path: Path) -> None:
    from apps.cli_app import setup

    setup(database_url)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ["PYTHONPATH"]])}
    metrics_port = free_port()
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workflow_kit.cli",
                "worker",
                "--app",
                APP,
                "--database-url",
                database_url,
                "--poll-ms",
                "50",
                "--metrics-port",
                str(metrics_port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        sent = cli("send", "acme", '{"name": "greet/requested", "data": {"name": "Ann"}}', database_url=database_url)
        assert sent.returncode == 0, sent.stderr
        assert len(json.loads(sent.stdout)["ids"]) == 1
        # Waited for in this process (a `runs` command per poll would start Python each time), then listed
        # once by the command itself.
        assert wait_until_ended(database_url) == "completed"
        listed = cli("runs", "acme", database_url=database_url)
        assert listed.returncode == 0, listed.stderr
        runs: list[dict[str, object]] = json.loads(listed.stdout)
        assert runs and runs[0]["status"] == "completed", runs
        assert runs[0]["output"] == {"hello": "Hello, Ann!"}
        # --metrics-port: the worker's own metrics, on 127.0.0.1 (the run's end is counted just after it is
        # stored, so the scrape may come first)
        counted = 'workflow_kit_runs_ended_total{status="completed"} 1.0'
        deadline = time.monotonic() + 10
        while counted not in (scraped := httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text):
            assert time.monotonic() < deadline, scraped
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0  # a clean, graceful stop
    assert "Traceback" not in (tmp_path / "worker.log").read_text()


def test_send_reports_bad_events(database_url: str) -> None:
    bad_json = cli("send", "acme", "{not json", database_url=database_url)
    assert bad_json.returncode != 0 and "not valid JSON" in bad_json.stderr
    bad_event = cli("send", "acme", '{"data": {}}', database_url=database_url)
    assert bad_event.returncode == 1
    assert "events.name" in bad_event.stderr


def test_load_app_errors() -> None:
    with pytest.raises(SystemExit, match=r"mypkg\.module:kit"):
        load_app("nocolon")
    with pytest.raises(SystemExit, match="cannot import"):
        load_app("no_such_module_xyz:kit")
    with pytest.raises(SystemExit, match="no attribute"):
        load_app("json:nothing_here")
    with pytest.raises(SystemExit, match="not a WorkflowKit"):
        load_app("json:dumps")


def test_main_in_process_migrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    from workflow_kit.runtime.storage.db import _head_revision

    assert main(["migrate", "--database-url", url]) == 0
    assert f"schema at revision {_head_revision()}" in capsys.readouterr().out
