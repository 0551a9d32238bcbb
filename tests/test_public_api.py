"""The public surface is pinned: later issues and users' code depend on these names."""

from __future__ import annotations

import workflow_kit

PUBLIC = {
    "SOURCE",
    "ActionContext",
    "ActionContextSync",
    "ActionDefinition",
    "CelExpression",
    "Conditional",
    "ErrorInfo",
    "EventError",
    "ExpressionError",
    "NonDeterminismError",
    "NonRetriableError",
    "PredefinedEdge",
    "Problem",
    "RetryAfterError",
    "RetryPolicy",
    "Step",
    "StepError",
    "StepSync",
    "Workflow",
    "WorkflowAction",
    "WorkflowEdge",
    "WorkflowKit",
    "WorkflowKitError",
    "WorkflowValidationError",
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
    from workflow_kit.step import Suspend

    assert issubclass(Suspend, BaseException) and not issubclass(Suspend, Exception)


def test_step_error_is_not_retriable_and_errors_share_a_base() -> None:
    for error in (workflow_kit.NonRetriableError, workflow_kit.StepError, workflow_kit.WorkflowValidationError):
        assert issubclass(error, workflow_kit.WorkflowKitError)
