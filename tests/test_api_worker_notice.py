"""The editor API without a worker of its own says, once, that nothing will run unless a worker runs
(editor_api/worker_notice.py); with one, or with a worker of the kit running in the process, it says
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import logged
from litestar.testing import TestClient

from editor_api import create_app
from editor_api.worker_notice import NO_WORKER, WorkerNotice
from workflow_kit import WorkflowKit

SECRET = "notice-test-secret-n4LR5bJEwJJb4WtUZSgZK-dUlnfXADdZ"
WARNING = f"WARNING {NO_WORKER}"


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[WorkflowKit]:
    kit = WorkflowKit(database_url=f"sqlite:///{tmp_path / 'notice.db'}", secret=SECRET)
    yield kit
    kit.close()


def test_an_app_without_a_worker_warns_once_at_startup(kit: WorkflowKit) -> None:
    with logged("editor_api") as messages:
        app = create_app(kit)  # run_worker=False is the default
        assert messages == []  # not when the app is made: when it starts
        with TestClient(app) as client:
            assert messages == [WARNING]
            for _ in range(3):
                assert client.get("/api/health").status_code == 200
        with TestClient(app):  # started again: still the one warning for this app
            pass
    assert messages == [WARNING]


def test_two_apps_on_one_kit_warn_once_each(kit: WorkflowKit) -> None:
    with logged("editor_api") as messages:
        for app in (create_app(kit), create_app(kit)):
            with TestClient(app) as client:
                client.get("/api/health")
    assert messages == [WARNING, WARNING]


def test_an_app_with_its_own_worker_says_nothing(kit: WorkflowKit) -> None:
    with logged("editor_api") as messages, TestClient(create_app(kit, run_worker=True)) as client:
        assert client.get("/api/health").status_code == 200
    assert WARNING not in messages


async def test_nothing_is_said_while_a_worker_of_the_kit_runs_in_the_process(kit: WorkflowKit) -> None:
    notice = WorkerNotice(kit)
    with logged("editor_api") as messages:
        async with kit.worker(poll_ms=50):
            assert kit.has_worker()
            notice.check()
        assert not kit.has_worker()
        notice.check()  # once checked, never again
    assert messages == []


def test_the_warning_says_how_to_run_a_worker() -> None:
    for way in ("create_app(kit, run_worker=True)", "async with kit.worker():", "workflow-kit worker"):
        assert way in NO_WORKER
