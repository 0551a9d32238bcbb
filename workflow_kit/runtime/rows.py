"""Converting the engine's records (msgspec Structs) to table rows and back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from ..records import ActionRecord, StepRecord
from .models import Run, RunStatus


def action_row(run_id: str, record: ActionRecord) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "action_id": record.id,
        "status": record.status.value,
        "inputs": record.inputs,
        "output": record.output,
        "error": msgspec.to_builtins(record.error) if record.error else None,
        "attempts": msgspec.to_builtins(record.attempts),
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "wake_at": record.wake_at,
    }


def step_row(run_id: str, action_id: str, position: int, record: StepRecord) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "action_id": action_id,
        "position": position,
        "key": record.key,
        "kind": record.kind,
        "status": record.status.value,
        "output": record.output,
        "error": msgspec.to_builtins(record.error) if record.error else None,
        "attempts": msgspec.to_builtins(record.attempts),
        "wake_at": record.wake_at,
        "wait": msgspec.to_builtins(record.wait) if record.wait else None,
        "invoke": msgspec.to_builtins(record.invoke) if record.invoke else None,
    }


def records_from_rows(
    actions: Iterable[Mapping[Any, Any]], steps: Iterable[Mapping[Any, Any]], order: Iterable[str] = ()
) -> dict[str, ActionRecord]:
    """Action records with their steps (by position), in `order` first, then any others."""
    by_action: dict[str, list[dict[str, Any]]] = {}
    for step in steps:
        by_action.setdefault(step["action_id"], []).append(dict(step))
    found: dict[str, ActionRecord] = {}
    for row in actions:
        raw = {k: v for k, v in row.items() if k not in ("run_id", "action_id") and v is not None}
        raw["id"] = row["action_id"]
        raw["steps"] = [
            {k: v for k, v in s.items() if k not in ("run_id", "action_id", "position") and v is not None}
            for s in sorted(by_action.get(row["action_id"], []), key=lambda s: s["position"])
        ]
        found[row["action_id"]] = msgspec.convert(raw, ActionRecord)
    ordered = {action_id: found.pop(action_id) for action_id in order if action_id in found}
    ordered.update(found)
    return ordered


def run_from_row(row: Mapping[Any, Any], actions: list[ActionRecord] | None = None) -> Run:
    return Run(
        id=row["id"],
        tenant=row["tenant"],
        workflow_id=row["workflow_id"],
        version=row["version_number"],
        version_id=row["version_id"],
        status=RunStatus(row["status"]),
        event=row["event"],
        output=row["output"],
        error=row["error"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        rerun_of=row["rerun_of"],
        parent_run_id=row["parent_run_id"],
        actions=actions or [],
    )
