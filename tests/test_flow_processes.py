"""Concurrency limits across several worker processes on PostgreSQL: however many workers claim runs,
no more steps execute at once than the limits allow (overall and per key), and every run completes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from apps import flow_app
from conftest import REQUIRE_POSTGRES, postgres_url
from fleet import Fleet

from workflow_kit import WorkflowKit
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.storage.db import Database

TENANT = "flow"
RUNS = 60
USERS = ("u0", "u1", "u2", "u3")


@pytest.fixture
def database() -> Iterator[str]:
    try:
        url = postgres_url()
    except Exception:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip("PostgreSQL is not available")
    db = Database(url)
    db.truncate_all()
    db.dispose()
    yield url


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    inside = most = 0
    for _, change in edges:  # at equal times an exit (-1) sorts first: touching intervals do not overlap
        inside += change
        most = max(most, inside)
    return most


def test_concurrency_limits_hold_across_worker_processes(database: str, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    kit = WorkflowKit(database_url=database)
    kit.register(flow_app.kit.registry.get("held"))  # type: ignore[arg-type]
    held = {"actions": [{"id": "h", "kind": "held"}], "edges": [{"from": "$source", "to": "h"}]}
    settings = {"concurrency": [{"limit": 3}, {"limit": 1, "key": "event.data.user"}]}
    kit.workflows.create_sync(TENANT, name="limited", trigger="flow/go", workflow=held, settings=settings)
    fleet = Fleet(database, marks, concurrency=8, lease_ms=5000, poll_ms=100, app="apps.flow_app:kit")
    try:
        for _ in range(3):
            fleet.spawn()
        kit.send_sync(TENANT, [{"name": "flow/go", "data": {"n": n, "user": USERS[n % 4]}} for n in range(RUNS)])
        deadline = time.monotonic() + 60
        completed = sa.select(sa.func.count()).where(schema.runs.c.status == "completed")
        while True:
            with kit.db.read() as conn:
                done = conn.execute(completed).scalar_one()
            if done == RUNS or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert done == RUNS, f"{done} of {RUNS} runs completed\n{fleet.logs()[-3000:]}"
    finally:
        fleet.close()
        kit.close()
    entered: dict[str, tuple[float, str]] = {}
    intervals: list[tuple[float, float, str]] = []
    for path in marks.glob("marks-*.log"):
        for line in path.read_text().splitlines():
            what, n, user, at = line.split()
            if what == "enter":
                entered[n] = (float(at), user)
            else:
                start, _ = entered.pop(n)
                intervals.append((start, float(at), user))
    assert len(intervals) == RUNS and not entered
    overall = most_at_once([(s, e) for s, e, _ in intervals])
    per_user = {u: most_at_once([(s, e) for s, e, who in intervals if who == u]) for u in USERS}
    print(f"\nsteps at once: {overall} (limit 3); per user: {per_user} (limit 1); {len(fleet.processes)} workers")
    assert overall == 3, "the limit must be reached (and never passed) for the test to mean anything"
    assert per_user == dict.fromkeys(USERS, 1)
