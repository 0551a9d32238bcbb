"""Drafting a workflow from words: the catalog as a constrained answer schema (`schema`), what the model
is told (`prompt`), and the ask-validate-repair loop (`builder`). Nothing here stores anything."""

from .builder import MAX_REPAIR_ROUNDS, Draft, DraftingError, draft_workflow, step_ids, unavailable_reason
from .schema import answer_schema

__all__ = [
    "MAX_REPAIR_ROUNDS",
    "Draft",
    "DraftingError",
    "answer_schema",
    "draft_workflow",
    "step_ids",
    "unavailable_reason",
]
