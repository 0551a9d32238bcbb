"""A kit for the multi-process cron test (tests/test_cron.py): one action that says which process ran it
and for which tick."""

from __future__ import annotations

import os
from typing import Any

from workflow_kit import ActionContextSync, WorkflowKit

kit = WorkflowKit()


@kit.action(kind="cron_tick")
def tick(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"pid": os.getpid(), "scheduled_at": ctx.event["data"]["scheduled_at"]}
