"""A kit for tests/test_flow_processes.py: a step that notes when it starts and ends executing.

Each execution appends ``enter <n> <user> <time>`` and ``exit <n> <user> <time>`` (``time.time()``) to
``$WK_MARKS/marks-<pid>.log`` with one ``write`` per line, so the test can compute how many steps
executed at once across every worker process.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from workflow_kit import ActionContext, WorkflowKit

from .marks import mark as note

kit = WorkflowKit()


@kit.action(kind="held")
async def held(ctx: ActionContext, inputs: dict[str, Any]) -> None:
    """Executes for 40-80 ms."""
    data = ctx.event["data"]
    note(f"enter {data['n']} {data['user']} {time.time():.6f}")
    await asyncio.sleep(0.04 + (data["n"] % 5) * 0.01)
    note(f"exit {data['n']} {data['user']} {time.time():.6f}")
