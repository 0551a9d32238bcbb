"""workflow-kit: user-defined automations for SaaS products.

Developers register typed actions; end users compose them into workflows (JSON graphs in the
Workflow Kit format); the engine runs each workflow as durable steps.
"""

from .actions import ActionDefinition, PredefinedEdge
from .context import ActionContext, ActionContextSync
from .errors import (
    ErrorInfo,
    ExpressionError,
    NonDeterminismError,
    NonRetriableError,
    Problem,
    RetryAfterError,
    StepError,
    WorkflowKitError,
    WorkflowValidationError,
)
from .events import EventError
from .expressions import CelExpression
from .kit import WorkflowKit
from .retry import RetryPolicy
from .step import Step, StepSync
from .workflow import (
    SOURCE,
    Conditional,
    Workflow,
    WorkflowAction,
    WorkflowEdge,
    dump_workflow,
    load_workflow,
)

__all__ = [
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
]
