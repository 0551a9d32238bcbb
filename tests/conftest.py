"""Fixtures for the runtime: the same tests run on SQLite and on PostgreSQL.

PostgreSQL comes from ``scripts/with-postgres`` (``make test`` uses it), which sets
``WORKFLOW_KIT_TEST_POSTGRES_URL``. Without it the PostgreSQL cases are skipped, unless
``WORKFLOW_KIT_REQUIRE_POSTGRES=1`` says they must run.

A test's SQLite database is a copy of one migrated once per test process, with ``synchronous=OFF``
(nothing here survives a power loss anyway) unless the test is marked ``durable``: the crash tests,
which kill processes and check what was committed, keep the kit's default, ``FULL``.

The editor API of `api` is one app per test module and kind of database, on a database of its own that
is emptied for each test, after the previous test's runs have settled (building a Litestar app takes a
few hundred milliseconds, and most API tests take less). `clocked_api` is an app per test.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import hypothesis
import pytest
import sqlalchemy as sa
from fake_openai import FakeOpenAI, fake_openai_server

from workflow_kit import ActionContext, ActionContextSync, NonRetriableError, WorkflowKit
from workflow_kit.retry import RetryPolicy
from workflow_kit.runtime.storage.db import Database
from workflow_kit.runtime.worker.loop import Worker
from workflow_kit.timeutil import Clock, VirtualClock, to_ms

# Hypothesis: the same examples on every run, no deadline (a loaded machine is not a failure). For a longer
# search, with new examples each run: WORKFLOW_KIT_PROPERTY_EXAMPLES=5000 pytest tests/test_planner_properties.py
# (tests that set max_examples themselves keep their count).
CHECKOUT = Path(__file__).resolve().parent.parent
# Python processes the tests start (workers, servers, the CLI, README examples) import this checkout's
# code, whichever copy of the package the virtualenv's editable install points at.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(CHECKOUT), *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(CHECKOUT))]
)
PROPERTY_EXAMPLES = int(os.environ.get("WORKFLOW_KIT_PROPERTY_EXAMPLES") or 0)
hypothesis.settings.register_profile("repeatable", derandomize=True, database=None, deadline=None, max_examples=100)
hypothesis.settings.register_profile("search", deadline=None, max_examples=PROPERTY_EXAMPLES or 100)
hypothesis.settings.load_profile("search" if PROPERTY_EXAMPLES else "repeatable")

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
    name = f"wk_test_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    os.environ[POSTGRES_ENV] = sa.make_url(base).set(database=name).render_as_string(hide_password=False)


# Test files in order of how long they took (tests/durations.json, seconds per file, written by a run with
# WORKFLOW_KIT_WRITE_DURATIONS=1): under pytest-xdist (``--dist loadfile``) the longest files start first,
# so that no long file starts last and runs alone at the end. A file not listed goes after those listed.
DURATIONS = Path(__file__).with_name("durations.json")
_measured: dict[str, float] = {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    seconds: dict[str, float] = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    first_seen = {}
    for index, item in enumerate(items):
        first_seen.setdefault(item.location[0], index)
    items.sort(key=lambda item: (-seconds.get(item.location[0], 0.0), first_seen[item.location[0]]))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if os.environ.get("WORKFLOW_KIT_WRITE_DURATIONS") == "1" and not os.environ.get("PYTEST_XDIST_WORKER"):
        path = report.location[0]
        _measured[path] = _measured.get(path, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _measured:
        known: dict[str, float] = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
        known.update({path: round(total, 1) for path, total in _measured.items()})
        DURATIONS.write_text(json.dumps(dict(sorted(known.items(), key=lambda kv: -kv[1])), indent=1) + "\n")


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


T = TypeVar("T")


class Snapshots:
    """Database contents built once per test process and copied into the database of each test that starts
    from one: for data too slow to build per test (workflows created, runs driven to their ends), while
    every test still has rows of its own. On SQLite a snapshot is a file; on PostgreSQL, a schema holding a
    copy of each of the kit's tables. Restoring one replaces every row of the kit's tables, with SQL, so a
    kit may have the database open meanwhile."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._taken: dict[tuple[str, str], tuple[Any, Any, list[str]]] = {}

    def restore(self, name: str, database_url: str, build: Callable[[], T]) -> T:
        """Fill `database_url` with the rows of snapshot `name`; the first time, `build` fills it (it is
        empty then) and the snapshot is taken from it. Returns (a copy of) what `build` returned."""
        dialect = sa.make_url(database_url).get_backend_name()
        taken = self._taken.get((name, dialect))
        if taken is None:
            value = build()
            where, tables = self._take(name, database_url)
            self._taken[name, dialect] = (value, where, tables)
            return copy.deepcopy(value)
        value, where, tables = taken
        if dialect == "sqlite":
            path = sa.make_url(database_url).database
            with closing(sqlite3.connect(str(path), isolation_level=None, timeout=30)) as conn:
                conn.execute("ATTACH DATABASE ? AS snapshot", (str(where),))
                conn.execute("BEGIN IMMEDIATE")
                for table in reversed(tables):
                    conn.execute(f'DELETE FROM main."{table}"')
                for table in tables:
                    conn.execute(f'INSERT INTO main."{table}" SELECT * FROM snapshot."{table}"')
                conn.execute("COMMIT")
                conn.execute("DETACH DATABASE snapshot")
            return copy.deepcopy(value)
        engine = sa.create_engine(database_url, poolclass=sa.NullPool)
        try:
            with engine.begin() as conn:
                for table in reversed(tables):
                    conn.execute(sa.text(f'DELETE FROM public."{table}"'))
                for table in tables:
                    conn.execute(sa.text(f'INSERT INTO public."{table}" SELECT * FROM "{where}"."{table}"'))
        finally:
            engine.dispose()
        return copy.deepcopy(value)

    def _take(self, name: str, database_url: str) -> tuple[Any, list[str]]:
        """Copy the rows of `database_url`: where the copy is, and the kit's tables, parents first."""
        url = sa.make_url(database_url)
        if url.get_backend_name() == "sqlite":
            snapshot = self._folder / f"{name}.db"
            # the backup API copies what is committed, WAL included, whatever connections are open
            with (
                closing(sqlite3.connect(str(url.database), timeout=30)) as source,
                closing(sqlite3.connect(snapshot)) as target,
            ):
                source.backup(target)
            engine = sa.create_engine(f"sqlite:///{snapshot}", poolclass=sa.NullPool)
        else:
            engine = sa.create_engine(database_url, poolclass=sa.NullPool)
        schema = f"wk_snapshot_{name}"
        try:
            with engine.begin() as conn:
                metadata = sa.MetaData()
                metadata.reflect(conn)
                tables = [table.name for table in metadata.sorted_tables]
                if url.get_backend_name() == "sqlite":
                    return snapshot, tables
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
                for table in tables:
                    conn.execute(sa.text(f'CREATE TABLE "{schema}"."{table}" AS TABLE public."{table}"'))
        finally:
            engine.dispose()
        return schema, tables


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Snapshots:
    return Snapshots(tmp_path_factory.mktemp("snapshots"))


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
    """A worker that looks at the database only when there is a reason: an event or a change in this process
    wakes it, and so does `idle()` when something is due. On the virtual clock a worker polling by itself
    could claim a run at any moment between two of the test's steps, such as between moving the clock to
    the instant a run is due and sending an event meant to reach it first."""
    async with kit.worker(poll_ms=3_600_000, lease_ms=5_000) as worker:
        yield worker


# -- the editor API -------------------------------------------------------------------------------

SECRET = "test-secret-Z9ybng7Afv12ZOt5jkVF-dm04cG9-f1Y"  # random: a weak secret is refused
SERVER_KEY = "server-key-for-tests-" + "y" * 16


class Api:
    """A TestClient for the editor API, with helpers to mint tokens."""

    def __init__(self, kit: WorkflowKit, client: Any) -> None:
        self.kit = kit
        self.client = client

    def token(self, tenant: str = "acme", user: str = "ann", **options: Any) -> str:
        return self.kit.editor_token(tenant, user, **options)

    def headers(self, tenant: str = "acme", user: str = "ann", **options: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(tenant, user, **options)}"}

    def server_headers(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {SERVER_KEY}", "X-Workflow-Kit-Tenant": tenant}

    def idle(self, timeout: float = 30.0) -> None:
        """Wait until the app's worker executes nothing and no run is due (`Worker.idle`, run in the app's
        event loop): after it, whatever the requests so far set off has happened."""
        [worker] = self.kit._workers  # the kit keeps no public list of its workers
        self.client.blocking_portal.call(worker.idle, timeout)


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


@pytest.fixture(scope="session")
def api_postgres_url() -> Iterator[str]:
    """A PostgreSQL database for the editor API apps of `served_api` alone: the tests' own database is
    emptied and written by other tests' kits and workers while such an app runs."""
    base = sa.make_url(postgres_url())
    url = base.set(database=f"{base.database}_api").render_as_string(hide_password=False)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{base.database}_api" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{base.database}_api"'))
        yield url
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{base.database}_api" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served_api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One editor API app per test module and kind of database (starting one takes a few hundred
    milliseconds), on a database of its own; `api` empties it for each test."""
    if request.param == "sqlite":
        url = sqlite_database(tmp_path_factory.mktemp("api"), request.getfixturevalue("sqlite_template"))
    else:
        url = request.getfixturevalue("api_postgres_url")
    with serve_api(url) as served:
        yield served


@pytest.fixture
def api(served_api: Api) -> Iterator[Api]:
    """The editor API with an in-process worker, a real clock and fast retries; actions `echo`, `fail` and
    `nap` (sleeps 50 ms) are registered. The app is the module's (`served_api`); its database has no rows
    when the test starts, and the test ends once the worker executes nothing and nothing is due, with the
    rows deleted again: no run of one test goes on into the next."""
    served_api.kit.db.truncate_all()
    yield served_api
    served_api.idle()
    served_api.kit.db.truncate_all()


@pytest.fixture
def clocked_api(database_url: str, clock: VirtualClock) -> Iterator[Api]:
    """`api` on the virtual `clock` (tokens are minted and checked on it too)."""
    with serve_api(database_url, clock) as served:
        yield served


@pytest.fixture(scope="module")
def fake_model_server() -> Iterator[FakeOpenAI]:
    """A fake OpenAI-compatible server on 127.0.0.1 for a whole test module (stopping one takes half a
    second); `fake_model` hands it to each test emptied."""
    with fake_openai_server() as state:
        yield state


@pytest.fixture
def fake_model(fake_model_server: FakeOpenAI) -> FakeOpenAI:
    """The module's fake OpenAI-compatible server, with nothing scripted and no request recorded."""
    fake_model_server.script.clear()
    fake_model_server.structured.clear()
    fake_model_server.requests.clear()
    return fake_model_server
