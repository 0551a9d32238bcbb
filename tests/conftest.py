"""Fixtures for the runtime: the same tests run on SQLite and on PostgreSQL.

PostgreSQL comes from ``scripts/with-postgres`` (``make test`` uses it), which sets
``WORKFLOW_KIT_TEST_POSTGRES_URL``. Without it the PostgreSQL cases are skipped, unless
``WORKFLOW_KIT_REQUIRE_POSTGRES=1`` says they must run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workflow_kit import WorkflowKit
from workflow_kit.retry import RetryPolicy
from workflow_kit.runtime.db import Database
from workflow_kit.runtime.worker import Worker
from workflow_kit.timeutil import VirtualClock, to_ms

POSTGRES_URL = os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("WORKFLOW_KIT_REQUIRE_POSTGRES") == "1"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def postgres_url() -> str:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("WORKFLOW_KIT_REQUIRE_POSTGRES=1 but WORKFLOW_KIT_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL: run the tests through scripts/with-postgres (make test does)")
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a new SQLite file, or the test PostgreSQL with its tables emptied."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'workflow-kit.db'}"
        return
    url = postgres_url()
    db = Database(url)
    db.truncate_all()
    db.dispose()
    yield url


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(to_ms(START))


@pytest.fixture
def kit(database_url: str, clock: VirtualClock) -> Iterator[WorkflowKit]:
    kit = WorkflowKit(database_url=database_url, retry_policy=RetryPolicy.fast(), clock=clock)
    yield kit
    kit.close()


@pytest.fixture
async def worker(kit: WorkflowKit) -> AsyncIterator[Worker]:
    async with kit.worker(poll_ms=50, lease_ms=5_000) as worker:
        yield worker
