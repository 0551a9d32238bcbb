"""Blanks: inputs a template leaves for the user to fill in ("to fill").

A step marks them in its ``to_fill`` key, by input name, each with the question the editor asks::

    {"id": "toc", "kind": "add_toc", "inputs": {}, "to_fill": {"post_id": "Which post gets a table of contents?"}}

A blank input is absent from ``inputs``. Validation reports each one still empty as a ``blank`` problem
on the input's path (``actions[0].inputs.post_id``) instead of ``missing_input``, so a draft with blanks
can be saved but not published; once the input has a value, the mark is inert (the editor drops it).
A ``to_fill`` that is not an object of questions, or that names an input the step does not take, is
an ``invalid_blank`` problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .workflow import Workflow, WorkflowAction, load_workflow

TO_FILL = "to_fill"
"""The key of a step that lists its blanks: ``{input name: question}``."""


@dataclass(frozen=True)
class Blank:
    """One input still to fill: the step, the input's name, the question, and the problem's path."""

    action_id: str
    input: str
    question: str
    path: str


def marks(action: WorkflowAction) -> Any:
    """The step's raw ``to_fill`` (None when it has none)."""
    return action.extra.get(TO_FILL)


def open_blanks(action: WorkflowAction) -> dict[str, str]:
    """The blanks of one step still empty, by input name (a malformed mark gives none)."""
    found = marks(action)
    if not isinstance(found, dict):
        return {}
    return {
        name: question
        for name, question in found.items()
        if isinstance(name, str) and isinstance(question, str) and _empty(action.inputs.get(name))
    }


def find_blanks(workflow: Workflow | dict[str, Any]) -> list[Blank]:
    """Every open blank of a workflow, in order, loop bodies included."""
    loaded = load_workflow(workflow) if isinstance(workflow, dict) else workflow
    return list(_walk(loaded.actions, ""))


def _walk(actions: list[WorkflowAction], prefix: str) -> Any:
    for i, action in enumerate(actions):
        for name, question in open_blanks(action).items():
            yield Blank(action.id, name, question, f"{prefix}actions[{i}].inputs.{name}")
        if action.body is not None:
            yield from _walk(action.body.actions, f"{prefix}actions[{i}].body.")


def _empty(value: Any) -> bool:
    return value is None or value == ""
