"""Shared helpers for the issue 3 acceptance tests (the durable runtime), written from the issue text.

Every test gets a fresh database: a temporary SQLite file, or a fresh PostgreSQL database on the
server named by WORKFLOW_KIT_TEST_POSTGRES_URL (skipped when it is not set).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from workflow_kit import WorkflowKit
from workflow_kit.retry import RetryPolicy
from workflow_kit.timeutil import VirtualClock

PG_URL = os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL")
TERMINAL = {"completed", "failed", "cancelled"}
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def chain(*actions: dict[str, Any]) -> dict[str, Any]:
    """A workflow running `actions` one after another."""
    edges = [{"from": "$source", "to": actions[0]["id"]}]
    edges += [{"from": a["id"], "to": b["id"]} for a, b in itertools.pairwise(actions)]
    return {"actions": list(actions), "edges": edges}


def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'wk.db'}"
        return
    if not PG_URL:
        pytest.skip("WORKFLOW_KIT_TEST_POSTGRES_URL is not set")
    name = "acc3_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def make_kit(url: str, *, clock: VirtualClock | None = None, policy: RetryPolicy | None = None) -> WorkflowKit:
    return WorkflowKit(
        database_url=url,
        clock=clock if clock is not None else VirtualClock(START_MS),
        retry_policy=policy if policy is not None else RetryPolicy.fast(),
    )


async def wait_status(
    kit: WorkflowKit, tenant: str, run_id: str, statuses: set[str] | str = TERMINAL, timeout: float = 10.0
) -> Any:
    """Poll kit.runs.get until the run's status is one of `statuses`."""
    wanted = {statuses} if isinstance(statuses, str) else statuses
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        run = await kit.runs.get(tenant, run_id)
        if str(run.status.value if hasattr(run.status, "value") else run.status) in wanted:
            return run
        if loop.time() > deadline:
            raise AssertionError(f"run {run_id} is {run.status}, not {wanted} after {timeout}s: {run.error}")
        await asyncio.sleep(0.02)


async def runs_of(
    kit: WorkflowKit, tenant: str, workflow_id: str | None = None, timeout: float = 5.0, count: int = 1
) -> list[Any]:
    """Poll until at least `count` runs exist (for the workflow); returns them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        runs = await kit.runs.list(tenant, workflow_id=workflow_id)
        if len(runs) >= count or loop.time() > deadline:
            return list(runs)
        await asyncio.sleep(0.02)


async def settle(seconds: float = 0.3) -> None:
    """Give the worker a moment (used only to check that something does NOT happen)."""
    await asyncio.sleep(seconds)


def status(run: Any) -> str:
    return str(run.status.value if hasattr(run.status, "value") else run.status)
