"""Export and import of a workflow record as one file in the TypeScript Workflow Kit's format.

The file is the draft's workflow instance, showing the record's `name` and `description`, with what the
instance format has no place for in its ``metadata``:

- ``metadata.trigger``: the trigger (``{"event": ..., "if"?: ...}`` or ``{"cron": ...}``), for a
  workflow with one (as files were before workflows had several, so older versions import it); or
  ``metadata.triggers``: the list, for a workflow with several (a webhook trigger without its hook:
  the imported workflow gets a new one, with no secret);
- ``metadata.settings``: the flow-control settings (``{}`` when there are none);
- ``metadata.draft``: only when the draft's own ``name`` or ``description`` is not what the file shows
  (e.g. a draft without a name), or its metadata was an empty ``{}``: its own values, ``null`` for one
  it does not have.

Importing the file restores the same record: name, description, triggers, settings and the draft exactly
as it was (these keys are taken out of its metadata again). A file without them (the TypeScript kit's,
or an export older than settings) imports too: its instance is stored as is.
"""

from __future__ import annotations

from typing import Any

import msgspec

from workflow_kit.runtime.models import WorkflowRecord
from workflow_kit.workflow import dump_workflow, load_workflow

SHOWN = ("name", "description")
"""The instance's fields that show the record's values in an export."""
NOTED = frozenset({*SHOWN, "metadata"})
"""The draft's own fields ``metadata.draft`` may keep."""


class Imported(msgspec.Struct, kw_only=True):
    """What an imported file holds, ready for ``kit.workflows.create``."""

    name: str | None
    description: str
    trigger: Any
    """The file's ``metadata.trigger`` (one trigger), or None."""
    triggers: Any
    """The file's ``metadata.triggers`` (a list), or None."""
    settings: Any
    """The file's ``metadata.settings``, or None (then the defaults)."""
    draft: dict[str, Any]


def export_record(record: WorkflowRecord) -> dict[str, Any]:
    """The record as one workflow instance file (see the module's docstring)."""
    draft = dump_workflow(load_workflow(record.draft))
    shown = {"name": record.name, **({"description": record.description} if record.description else {})}
    own = {key: draft.get(key) for key in SHOWN if draft.get(key) != shown.get(key)}
    if draft.get("metadata") == {}:
        own["metadata"] = {}
    # a webhook trigger is exported without its hook: the importing workflow gets a hook of its own
    triggers = [{k: v for k, v in msgspec.to_builtins(t).items() if k != "hook"} for t in record.triggers]
    metadata: dict[str, Any] = {
        **(draft.get("metadata") or {}),
        **({"trigger": triggers[0]} if len(triggers) == 1 else {"triggers": triggers}),
        "settings": record.settings,
    }
    if own:
        metadata["draft"] = own
    rest = {key: value for key, value in draft.items() if key not in SHOWN}
    return {**shown, **rest, "metadata": metadata}


def import_document(data: dict[str, Any]) -> Imported:
    """Read an exported (or TypeScript kit) file; raises `WorkflowValidationError` if it is not a
    workflow instance. The trigger and settings are checked when the record is created."""
    instance = load_workflow(data)
    draft = dump_workflow(instance)
    metadata = dict(instance.metadata)
    ours: dict[str, Any] = {key: metadata.pop(key) for key in ("trigger", "triggers", "settings") if key in metadata}
    own = metadata.get("draft")
    if isinstance(own, dict) and own and set(own) <= NOTED:
        del metadata["draft"]
        ours["draft"] = own
    if ours:
        if metadata:
            draft["metadata"] = metadata
        else:
            draft.pop("metadata", None)
    if isinstance(own, dict) and "draft" in ours:
        for key, value in own.items():
            if value is None:
                draft.pop(key, None)
            else:
                draft[key] = value
    return Imported(
        name=instance.name,
        description=instance.description or "",
        trigger=ours.get("trigger"),
        triggers=ours.get("triggers"),
        settings=ours.get("settings"),
        draft=draft,
    )
