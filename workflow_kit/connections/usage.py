"""Where a workflow uses connections: the inputs typed as connections of its actions (loop bodies
included), with their paths. Pure: what a store checks against the tenant's connections at save, what
a delete looks for in published versions, and what the workflow list marks for "Reconnect"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import paths, refs
from ..actions import ActionRegistry
from ..errors import Problem, WorkflowValidationError
from ..workflow import WorkflowAction, WorkflowLike, load_workflow


@dataclass(frozen=True, slots=True)
class Use:
    """One connection input of one action: where it is, the type it takes, and what it holds."""

    path: str
    """``actions[1].inputs.slack``."""
    input: str
    type: str
    value: Any

    @property
    def connection_id(self) -> str | None:
        """The connection's id, when the input holds one (not a ref, not empty)."""
        value = self.value
        return value if isinstance(value, str) and value and not refs.has_ref(value) else None


def uses(workflow: WorkflowLike, registry: ActionRegistry) -> list[Use]:
    """Every connection input `workflow` sets (none for a workflow that does not load)."""
    try:
        loaded = load_workflow(workflow)
    except WorkflowValidationError:
        return []
    return list(_walk(loaded.actions, "actions", registry))


def _walk(actions: list[WorkflowAction], base: str, registry: ActionRegistry) -> Iterator[Use]:
    for position, action in enumerate(actions):
        where = paths.index(base, position)
        definition = registry.get(action.kind)
        if definition is not None:
            for name, type_id in definition.connections.items():
                if name in action.inputs:
                    yield Use(paths.key(paths.key(where, "inputs"), name), name, type_id, action.inputs[name])
        if action.body is not None:
            yield from _walk(action.body.actions, paths.key(paths.key(where, "body"), "actions"), registry)


def connection_ids(workflow: WorkflowLike, registry: ActionRegistry) -> set[str]:
    """The ids of the connections `workflow` uses."""
    return {use.connection_id for use in uses(workflow, registry) if use.connection_id is not None}


def problems(found: list[Use], known: dict[str, tuple[str, str]], type_names: dict[str, str]) -> list[Problem]:
    """The problems of `found` against the tenant's connections `known` (id -> (type, name)). An id the
    tenant does not have is "not found", whoever has it; one of another type says which type it needs."""
    listed: list[Problem] = []
    for use in found:
        wanted = type_names.get(use.type, use.type)
        if use.connection_id is None:
            message = f"choose one of your {wanted} connections"
            listed.append(Problem("invalid_connection", use.path, message))
            continue
        have = known.get(use.connection_id)
        if have is None:
            listed.append(
                Problem("unknown_connection", use.path, f"no such connection: choose one of your {wanted} connections")
            )
        elif have[0] != use.type:
            shown = type_names.get(have[0], have[0])
            message = f"{have[1]!r} is a {shown} connection; this input takes a {wanted} connection"
            listed.append(Problem("wrong_connection_type", use.path, message))
    return listed
