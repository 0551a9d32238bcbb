"""Struct types are made ready while one thread runs, so that threads decoding a type for the first time
at once cannot crash the interpreter (msgspec's first use of a type is not thread-safe)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import msgspec

from workflow_kit import struct_types

ROOT = Path(__file__).resolve().parents[1]

RACE = """
import sys, threading
from workflow_kit import WorkflowKit
from workflow_kit.workflow import load_workflow
if sys.argv[1] == "kit":
    WorkflowKit(database_url="sqlite://")
sys.setswitchinterval(1e-6)  # threads switch as often as they can: the race, if any, shows
data = {"actions": [{"id": "f", "kind": "x"}], "edges": [{"from": "$source", "to": "f"}]}
start = threading.Barrier(4)
def load():
    start.wait()
    load_workflow(data)
threads = [threading.Thread(target=load) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def test_a_new_struct_type_is_prepared_once() -> None:
    class Order(msgspec.Struct):
        total: float

    assert struct_types.prepare() >= 1
    assert struct_types.prepare() == 0
    assert msgspec.convert({"total": 3}, Order) == Order(total=3.0)


def test_threads_loading_workflows_at_once_after_the_kit_is_made_never_crash(tmp_path: Path) -> None:
    """Without `prepare` about one such process in four died of a segmentation fault (msgspec 0.22): all
    eight pass by chance about one time in twelve."""
    script = tmp_path / "race.py"
    script.write_text(RACE)
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen([sys.executable, str(script), "kit"], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    try:
        for process in processes:
            _, err = process.communicate(timeout=60)
            assert process.returncode == 0, f"a process died ({process.returncode}): {err[-2000:]}"
    finally:
        for process in processes:
            process.kill()
            process.communicate()
