"""Worker processes for the tests that need several (tests/test_faults.py, tests/test_flow_processes.py)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent


class Fleet:
    """Worker processes (``workflow-kit worker --app <app>``), each logging to its own file."""

    def __init__(
        self,
        database_url: str,
        marks: Path,
        *,
        concurrency: int,
        lease_ms: int,
        poll_ms: int,
        app: str = "apps.fault_app:kit",
    ) -> None:
        self.database_url = database_url
        self.app = app
        self.marks = marks
        self.options = ["--concurrency", str(concurrency), "--lease-ms", str(lease_ms), "--poll-ms", str(poll_ms)]
        self.processes: list[subprocess.Popen[bytes]] = []
        self.kills = 0

    def spawn(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "WK_MARKS": str(self.marks), "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path])}
        command = [sys.executable, "-m", "workflow_kit.cli", "worker", "--app", self.app,
                   "--database-url", self.database_url, *self.options]  # fmt: skip
        with (self.marks / f"worker-{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        self.processes.append(process)
        return process

    @property
    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a random live worker and start a replacement."""
        assert self.alive, f"every worker died:\n{self.logs()[-5000:]}"
        victim = rng.choice(self.alive)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        self.kills += 1
        self.spawn()

    def logs(self) -> str:
        return "".join(f"--- {p.name}\n{p.read_text()}" for p in sorted(self.marks.glob("worker-*.log")))

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
