"""A kit for the crash tests: its actions leave marks in files, and can be held at a gate.

`WK_MARKS` is the folder for marks and gates (the test and the worker processes share it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from workflow_kit import ActionContextSync, WorkflowKit
from workflow_kit.retry import RetryPolicy

kit = WorkflowKit(retry_policy=RetryPolicy.fast())


def marks() -> Path:
    return Path(os.environ["WK_MARKS"])


def mark(name: str) -> str:
    """Append a line to the marks file (one line per execution of a step body)."""
    with (marks() / "marks.log").open("a") as out:
        out.write(name + "\n")
        out.flush()
        os.fsync(out.fileno())
    return name


def wait_for_gate(name: str) -> None:
    """Block until the test opens the gate (creates the file); announce that we are waiting."""
    (marks() / f"{name}.waiting").touch()
    while not (marks() / f"{name}.open").exists():
        time.sleep(0.02)


@kit.action(kind="mark")
def mark_action(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
    """One step that leaves a mark."""
    return str(ctx.step.run("mark", mark, ctx.action.id))


@kit.action(kind="gate_then_mark")
def gate_then_mark(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
    """Waits at a gate between steps (outside any step body), then leaves a mark in a step."""
    wait_for_gate(inputs["gate"])
    return str(ctx.step.run("mark", mark, ctx.action.id))


@kit.action(kind="mark_then_gate")
def mark_then_gate(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
    """Inside one step: leaves a mark, then waits at a gate, so a crash lands inside the step."""

    def body() -> str:
        mark(f"{ctx.action.id}:started")
        wait_for_gate(inputs["gate"])
        return mark(ctx.action.id)

    return str(ctx.step.run("slow", body))


@kit.action(kind="mark_item")
def mark_item(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
    """A step of a for-each body: marks that it was invoked for its item (outside any step: a replay
    would mark again), waits at a gate for the item `gate_at`, then leaves a mark in a step."""
    mark(f"item{ctx.index}:invoked")
    if inputs.get("gate_at") == ctx.index:
        wait_for_gate(inputs["gate"])
    return str(ctx.step.run("mark", mark, f"item{ctx.index}"))
