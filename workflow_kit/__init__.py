"""workflow-kit: user-defined automations for SaaS products.

Developers register typed actions; end users compose them into workflows (JSON graphs in the
Workflow Kit format); the engine runs each workflow as durable steps.

Every method that touches the database is async, and its synchronous twin has the same name with
``_sync``: ``await kit.workflows.create(...)`` or ``kit.workflows.create_sync(...)``. The types those
methods take and return are importable from here. Importing this package loads no database driver:
`Worker` and `StoredEvent` (whose modules do) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .actions import ActionDefinition, PredefinedEdge
from .ai import AIProvider
from .connections import Connection, ConnectionType, Credential
from .context import ActionContext, ActionContextSync
from .errors import (
    ErrorInfo,
    ExpressionError,
    NonDeterminismError,
    NonRetriableError,
    OverBudgetError,
    Problem,
    RetryAfterError,
    StepError,
    WorkflowKitError,
    WorkflowValidationError,
)
from .event_types import EventType
from .events import EventError
from .expressions import CelExpression
from .kit import WorkflowKit
from .records import ActionRecord, ActionStatus, Attempt, StepRecord, StepStatus
from .retry import RetryPolicy
from .runtime.models import (
    ConflictError,
    ConnectionRecord,
    NotFoundError,
    RerunError,
    Run,
    RunBrief,
    RunStatus,
    RunSummary,
    WorkflowRecord,
    WorkflowVersion,
)
from .runtime.rules.budgets import EvaluationLimits
from .runtime.rules.retention import Retention
from .runtime.rules.settings import WorkflowSettings
from .runtime.rules.triggers import Trigger
from .step import Step, StepSync
from .testing import RunResult
from .timeutil import Clock
from .tokens import TokenError
from .workflow import (
    SOURCE,
    Conditional,
    Workflow,
    WorkflowAction,
    WorkflowEdge,
    dump_workflow,
    load_workflow,
)

if TYPE_CHECKING:
    from .runtime.stores.events import StoredEvent
    from .runtime.worker.loop import Worker

_LAZY = {"StoredEvent": "workflow_kit.runtime.stores.events", "Worker": "workflow_kit.runtime.worker.loop"}
"""Public names whose modules load the database layer (SQLAlchemy): imported when first asked for."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "SOURCE",
    "AIProvider",
    "ActionContext",
    "ActionContextSync",
    "ActionDefinition",
    "ActionRecord",
    "ActionStatus",
    "Attempt",
    "CelExpression",
    "Clock",
    "Conditional",
    "ConflictError",
    "Connection",
    "ConnectionRecord",
    "ConnectionType",
    "Credential",
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
]
