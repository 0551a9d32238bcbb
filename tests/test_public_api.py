"""The public surface is pinned: later issues and users' code depend on these names. And one rule
holds across it: a method that touches the database is async, and its synchronous twin has the same
name with ``_sync`` (as ``kit.send`` / ``kit.send_sync``)."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import workflow_kit
from workflow_kit import WorkflowKit
from workflow_kit.twins import async_twin

PUBLIC = {
    "SOURCE",
    "ActionContext",
    "ActionContextSync",
    "ActionDefinition",
    "ActionRecord",
    "ActionStatus",
    "AIProvider",
    "Attempt",
    "CelExpression",
    "Clock",
    "Connection",
    "ConnectionRecord",
    "ConnectionType",
    "Credential",
    "ConflictError",
    "Conditional",
    "ErrorInfo",
    "EvaluationLimits",
    "EventError",
    "EventType",
    "ExpressionError",
    "NonDeterminismError",
    "NonRetriableError",
    "NotFoundError",
    "OverBudgetError",
    "PredefinedEdge",
    "Problem",
    "RerunError",
    "Retention",
    "RetryAfterError",
    "RetryPolicy",
    "Run",
    "RunBrief",
    "RunResult",
    "RunStatus",
    "RunSummary",
    "Step",
    "StepError",
    "StepRecord",
    "StepStatus",
    "StepSync",
    "StoredEvent",
    "TokenError",
    "Trigger",
    "Worker",
    "Workflow",
    "WorkflowAction",
    "WorkflowEdge",
    "WorkflowKit",
    "WorkflowKitError",
    "WorkflowRecord",
    "WorkflowSettings",
    "WorkflowValidationError",
    "WorkflowVersion",
    "dump_workflow",
    "load_workflow",
}


def test_all_is_pinned() -> None:
    assert set(workflow_kit.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(workflow_kit, name) is not None


def test_issue_names_are_importable() -> None:
    from workflow_kit import (  # noqa: F401
        ActionContext,
        NonRetriableError,
        RetryAfterError,
        StepError,
        Workflow,
        WorkflowAction,
        WorkflowEdge,
        WorkflowKit,
        WorkflowValidationError,
    )
    from workflow_kit.testing import arun_workflow, run_workflow  # noqa: F401


def test_control_flow_signal_is_not_an_exception() -> None:
    from workflow_kit.signals import Suspend

    assert issubclass(Suspend, BaseException) and not issubclass(Suspend, Exception)


def test_step_error_is_not_retriable_and_errors_share_a_base() -> None:
    for error in (workflow_kit.NonRetriableError, workflow_kit.StepError, workflow_kit.WorkflowValidationError):
        assert issubclass(error, workflow_kit.WorkflowKitError)


def test_the_types_public_methods_return_are_the_ones_exported() -> None:
    from workflow_kit.runtime.models import Run, WorkflowRecord
    from workflow_kit.runtime.stores.events import StoredEvent
    from workflow_kit.runtime.worker.loop import Worker

    assert workflow_kit.Run is Run and workflow_kit.WorkflowRecord is WorkflowRecord
    assert workflow_kit.Worker is Worker and workflow_kit.StoredEvent is StoredEvent
    for error in (workflow_kit.NotFoundError, workflow_kit.ConflictError, workflow_kit.RerunError):
        assert issubclass(error, workflow_kit.WorkflowKitError)
    assert {"Worker", "StoredEvent"} <= set(dir(workflow_kit))


def test_importing_the_package_loads_no_database_layer() -> None:
    code = "import sys, workflow_kit; assert 'sqlalchemy' not in sys.modules, 'sqlalchemy loaded'; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


STORES = {
    "workflows": (
        "create",
        "update",
        "publish",
        "enable",
        "disable",
        "get",
        "list",
        "delete",
        "versions",
        "version",
        "version_by_id",
        "published_versions",
        "draft_changes",
        "snapshot",
    ),
    "runs": (
        "list",
        "page",
        "get",
        "wait",
        "cancel",
        "rerun",
        "start",
        "summaries",
        "stats",
        "bulk_cancel",
        "bulk_replay",
        "operation",
    ),
    "events": ("list", "page", "get", "links"),
    "connections": (
        "create",
        "list",
        "get",
        "rename",
        "delete",
        "test",
        "rotate_keys",
        "start_oauth",
        "finish_oauth",
        "forget_oauth",
        "problems",
        "broken",
        "credentials",
    ),
}


@pytest.mark.parametrize("store", sorted(STORES))
def test_every_database_method_is_async_with_a_sync_twin(tmp_path: Path, store: str) -> None:
    kit = WorkflowKit(database_url=f"sqlite:///{tmp_path}/api.db")
    target: Any = getattr(kit, store)
    public = {name for name, _ in inspect.getmembers(target, callable) if not name.startswith("_")}
    expected = set(STORES[store])
    assert {name.removesuffix("_sync") for name in public if name.endswith("_sync")} == expected
    for name in expected:
        method, twin = getattr(target, name), getattr(target, f"{name}_sync")
        assert inspect.iscoroutinefunction(method), f"kit.{store}.{name} is async"
        assert not inspect.iscoroutinefunction(twin), f"kit.{store}.{name}_sync is not"
        assert method.__doc__, f"kit.{store}.{name} has a docstring"
        assert list(inspect.signature(method).parameters) == list(inspect.signature(twin).parameters)
    for name in public - expected - {f"{n}_sync" for n in expected}:  # the rest touch no database
        assert name in ("trigger_problems", "triggers_problems", "settings_problems"), (
            f"kit.{store}.{name}: async, or a _sync twin?"
        )
    kit.close()


def test_the_kit_follows_the_rule_too(tmp_path: Path) -> None:
    kit = WorkflowKit(database_url=f"sqlite:///{tmp_path}/api.db")
    for name in ("send", "migrate"):
        assert inspect.iscoroutinefunction(getattr(kit, name))
        assert not inspect.iscoroutinefunction(getattr(kit, f"{name}_sync"))
    assert asyncio.run(kit.migrate()) == kit.migrate_sync()
    kit.close()


class _Counter:
    def __init__(self) -> None:
        self.threads: list[str] = []

    def add_sync(self, a: int, *, b: int = 1) -> int:
        """Adds."""
        import threading

        self.threads.append(threading.current_thread().name)
        return a + b

    add = async_twin(add_sync)


def test_an_async_twin_runs_its_blocking_method_off_the_event_loop() -> None:
    counter = _Counter()

    async def main() -> int:
        return await counter.add(1, b=2)

    assert asyncio.run(main()) == 3 and counter.add_sync(2) == 3
    assert counter.threads[0] != counter.threads[1] == "MainThread"
    assert _Counter.add.__name__ == "add" and _Counter.add.__doc__ == "Adds."
    assert list(inspect.signature(counter.add).parameters) == ["a", "b"]


def test_an_async_twin_needs_a_sync_name() -> None:
    def add(self: object) -> int:
        return 1

    with pytest.raises(ValueError, match="_sync"):
        async_twin(add)
