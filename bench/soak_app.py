"""The kit of `bench/soak.py`'s worker and API processes (``--app bench.soak_app:kit``): a step that
does a little work, and one that fails its first attempt (a retry). The database URL comes with
``--database-url``, the secret from ``$WORKFLOW_KIT_SECRET``."""

from __future__ import annotations

from typing import Any

from workflow_kit import ActionContextSync, WorkflowKit

kit = WorkflowKit()


@kit.action(kind="work")
def work(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
    """A step of a few milliseconds' work, journaled."""
    total: int = ctx.step.run("sum", lambda: sum(range(20_000)))
    return total


@kit.action(kind="flaky")
def flaky(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
    """Fails its first attempt; the retry succeeds."""
    if ctx.attempt == 0:
        raise RuntimeError("the first attempt fails on purpose (soak: a retry)")
    return "ok"
