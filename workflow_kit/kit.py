"""`WorkflowKit`: the facade that holds the action registry (and, in the runtime, the store)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .actions import ActionDefinition, ActionRegistry, PredefinedEdge
from .engine.builtins import builtin_actions
from .errors import Problem
from .retry import RetryPolicy
from .validation import ensure_valid, validate
from .workflow import Workflow, WorkflowLike

H = TypeVar("H", bound=Callable[..., Any])


class WorkflowKit:
    """Register typed actions, validate workflows against them, and run them.

    `WorkflowKit()` is a registry with the builtin actions (``builtin:if``, ...) registered, unless
    `disable_builtin_actions` is set. `retry_policy` is the default for every step.
    """

    def __init__(self, *, disable_builtin_actions: bool = False, retry_policy: RetryPolicy | None = None) -> None:
        self.registry = ActionRegistry()
        self.retry_policy = retry_policy or RetryPolicy()
        if not disable_builtin_actions:
            for definition in builtin_actions():
                self.registry.register(definition)

    def action(
        self,
        *,
        kind: str,
        name: str | None = None,
        description: str | None = None,
        icon: str | None = None,
        edges: Sequence[PredefinedEdge | dict[str, Any]] = (),
        allow_add: bool = True,
        retries: int | None = None,
    ) -> Callable[[H], H]:
        """Register the decorated handler ``(ctx, inputs) -> output`` as an action of this `kind`.

        The handler may be sync or async; `inputs` is annotated as a msgspec Struct, a TypedDict, a
        dataclass or ``dict[str, Any]``; the return annotation is the output type. `edges` predefines
        outgoing edges (``{"name": "True", "conditional": {...}}``); `retries` overrides the retry count.
        The handler is returned unchanged.
        """

        def register(handler: H) -> H:
            # Types defined in the decorating scope (e.g. inside a function) resolve string annotations.
            scope = sys._getframe(1).f_locals
            self.register(
                ActionDefinition.from_handler(
                    handler,
                    kind=kind,
                    name=name,
                    description=description,
                    icon=icon,
                    edges=edges,
                    allow_add=allow_add,
                    retries=retries,
                    localns=dict(scope),
                )
            )
            return handler

        return register

    def register(self, definition: ActionDefinition) -> None:
        """Register a definition built elsewhere; a kind may be registered once."""
        self.registry.register(definition)

    def public_actions(self) -> list[dict[str, Any]]:
        """The action catalog for the editor, as JSON: kind, name, description, icon, input and output
        JSON Schemas, predefined edges. Never the handler."""
        return self.registry.public()

    def validate(self, workflow: WorkflowLike) -> list[Problem]:
        """Every problem in `workflow`, each with a code and a path; empty when it is valid."""
        return validate(workflow, self.registry)

    def load(self, workflow: WorkflowLike) -> Workflow:
        """Load and validate; raises `WorkflowValidationError` listing every problem."""
        return ensure_valid(workflow, self.registry)
