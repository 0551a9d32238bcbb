"""Whether a workflow's draft has changes that are not published yet. Pure.

What a version freezes is the draft's workflow instance, the triggers and the settings, so those three
are compared, as JSON with sorted keys: the same JSON in another key order is no change, while ``1``
and ``true`` (equal in Python) are. The instance is compared whole, so a change only to its layout
(the node positions the editor keeps in its ``metadata``) is a change too: publishing would keep it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..models import WorkflowRecord, WorkflowVersion


def draft_changed(record: WorkflowRecord, published: WorkflowVersion | None) -> bool:
    """Whether `record` differs from `published`, its latest published version.

    A workflow never published (`published` None) counts as changed only once its draft has an action:
    a new, untouched workflow has nothing to publish yet."""
    if published is None:
        actions = record.draft.get("actions")
        return isinstance(actions, list) and len(actions) > 0
    return (
        _canonical(record.draft) != _canonical(published.workflow)
        or record.triggers != published.triggers
        or _canonical(record.settings) != _canonical(published.settings)
    )


def _canonical(value: Any) -> bytes:
    return msgspec.json.encode(value, order="sorted")
