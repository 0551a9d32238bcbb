"""Fixtures for the runtime: the same tests run on SQLite and on PostgreSQL.

PostgreSQL comes from ``scripts/with-postgres`` (``make test`` uses it), which sets
``WORKFLOW_KIT_TEST_POSTGRES_URL``. Without it the PostgreSQL cases are skipped, unless
``WORKFLOW_KIT_REQUIRE_POSTGRES=1`` says they must run.

A test's SQLite database is a copy of one migrated once per test process, with ``synchronous=OFF``
(nothing here survives a power loss anyway) unless the test is marked ``durable``: the crash tests,
which kill processes and check what was committed, keep the kit's default, ``FULL``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from workflow_kit import ActionContext, ActionContextSync, NonRetriableError, WorkflowKit
from workflow_kit.retry import RetryPolicy
from workflow_kit.runtime.db import Database
from workflow_kit.runtime.worker import Worker
from workflow_kit.timeutil import Clock, VirtualClock, to_ms

POSTGRES_ENV = "WORKFLOW_KIT_TEST_POSTGRES_URL"
REQUIRE_POSTGRES = os.environ.get("WORKFLOW_KIT_REQUIRE_POSTGRES") == "1"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs ``-n``), each worker process gets a PostgreSQL database
    of its own on the test server, so workers never empty each other's tables. Set here, in the
    environment, so the servers and worker processes the tests start use it too."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = os.environ.get(POSTGRES_ENV)
    if not worker or not base:
        return
    import sqlalchemy as sa

    name = f"wk_test_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    os.environ[POSTGRES_ENV] = sa.make_url(base).set(database=name).render_as_string(hide_password=False)


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if REQUIRE_POSTGRES:
            pytest.fail("WORKFLOW_KIT_REQUIRE_POSTGRES=1 but WORKFLOW_KIT_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL: run the tests through scripts/with-postgres (make test does)")
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database with the kit's tables, migrated once per test process (a migration takes a few
    hundred milliseconds; a copy of the file, a few)."""
    path = tmp_path_factory.mktemp("template") / "workflow-kit.db"
    db = Database(f"sqlite:///{path}")
    db.ensure_schema()
    db.dispose()
    assert not path.with_name(path.name + "-wal").exists(), "the template's WAL was not checkpointed on close"
    return path


def sqlite_database(folder: Path, template: Path, *, durable: bool = False) -> str:
    """The URL of a new SQLite database in `folder`: a copy of `template` (migrated, no rows), with
    ``synchronous=OFF`` unless `durable`."""
    path = folder / "workflow-kit.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}" + ("" if durable else "?synchronous=off")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A fresh database with the kit's tables and no rows: a copy of the migrated SQLite template, or the
    test PostgreSQL with its tables emptied."""
    if request.param == "sqlite":
        yield sqlite_database(tmp_path, sqlite_template, durable=request.node.get_closest_marker("durable") is not None)
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


# -- the editor API -------------------------------------------------------------------------------

SECRET = "test-secret-" + "x" * 32
SERVER_KEY = "server-key-for-tests-" + "y" * 16


class Api:
    """A TestClient for the editor API on a fresh database, with helpers to mint tokens."""

    def __init__(self, kit: WorkflowKit, client: Any) -> None:
        self.kit = kit
        self.client = client

    def token(self, tenant: str = "acme", user: str = "ann", **options: Any) -> str:
        return self.kit.editor_token(tenant, user, **options)

    def headers(self, tenant: str = "acme", user: str = "ann", **options: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(tenant, user, **options)}"}

    def server_headers(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {SERVER_KEY}", "X-Workflow-Kit-Tenant": tenant}


@contextmanager
def serve_api(database_url: str, clock: Clock | None = None) -> Iterator[Api]:
    """The editor API with an in-process worker and fast retries, on `clock` (default: the real one);
    actions `echo`, `fail` and `nap` (sleeps 50 ms) are registered."""
    from litestar.testing import TestClient

    from editor_api import create_app

    kit = WorkflowKit(database_url=database_url, retry_policy=RetryPolicy.fast(), secret=SECRET, clock=clock)

    @kit.action(kind="echo", name="Echo", description="Returns its inputs", icon="repeat")
    def echo(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        return inputs

    @kit.action(kind="fail", name="Fail", description="Always fails")
    def fail(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise NonRetriableError(str(inputs.get("message", "failed on purpose")))

    @kit.action(kind="nap", name="Nap", description="Sleeps a little")
    async def nap(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        await ctx.step.sleep("nap", int(inputs.get("ms", 50)))
        return "rested"

    app = create_app(kit, server_keys=[SERVER_KEY], run_worker=True, worker_options={"poll_ms": 50})
    with TestClient(app) as client:
        yield Api(kit, client)
    kit.close()


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """The editor API with an in-process worker, a real clock and fast retries; actions `echo`,
    `fail` and `nap` (sleeps 50 ms of virtual... real time) are registered."""
    with serve_api(database_url) as served:
        yield served


@pytest.fixture
def clocked_api(database_url: str, clock: VirtualClock) -> Iterator[Api]:
    """`api` on the virtual `clock` (tokens are minted and checked on it too)."""
    with serve_api(database_url, clock) as served:
        yield served
