"""The app the issue 3 process tests run with ``workflow-kit worker --app issue3_app:kit``.

Each step body appends a line to ``$ISSUE3_MARKS/marks.log`` when it starts and when it ends, so the
test can count executions. Files in that folder hold a run between two steps (``hold-between-KEY``)
or inside a step (``block-inside-KEY``) until ``release`` exists.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from workflow_kit import ActionContext, WorkflowKit
from workflow_kit.retry import RetryPolicy


def _marks() -> Path:
    return Path(os.environ["ISSUE3_MARKS"])


def mark(text: str) -> None:
    fd = os.open(_marks() / "marks.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (text + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


async def _hold(flag: str) -> None:
    folder = _marks()
    if not (folder / flag).exists():
        return
    for _ in range(600):  # at most 30 s
        if (folder / "release").exists():
            return
        await asyncio.sleep(0.05)


def register(kit: WorkflowKit) -> None:
    @kit.action(kind="crashy", name="Crashy")
    async def crashy(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        key = str(ctx.event["data"]["key"])
        for i in range(4):

            async def body(i: int = i) -> int:
                mark(f"{key}:s{i}:start")
                if i == 2:
                    await _hold(f"block-inside-{key}")
                mark(f"{key}:s{i}:end")
                return i * 10

            await ctx.step.run(f"s{i}", body)
            if i == 1 and (_marks() / f"hold-between-{key}").exists():
                mark(f"{key}:between")
                await _hold(f"hold-between-{key}")
        return f"done {key}"


kit = WorkflowKit(
    database_url=os.environ.get("WORKFLOW_KIT_DATABASE_URL"),
    retry_policy=RetryPolicy.fast(),
)
register(kit)
