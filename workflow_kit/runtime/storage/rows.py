"""Rows as the runtime passes them between modules: a run (`RunRow`), a run about to be inserted
(`NewRun`), and the engine's records (msgspec Structs) converted to journal rows and back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from ...records import ActionRecord, StepRecord
from ..models import Run, RunStatus


class RunRow(msgspec.Struct, frozen=True, kw_only=True):
    """A run as the lifecycle and the workers read it: the columns of ``wk_runs`` they act on."""

    id: str
    tenant: str
    workflow_id: str
    version_id: str
    version_number: int | None
    status: RunStatus
    event: dict[str, Any]
    claim_seq: int = 0
    started_at: int | None = None
    limits: list[dict[str, Any]] | None = None
    """Concurrency: the slots of each key the run needs to execute a step (see lifecycle/slots.py)."""
    batch: list[Any] | None = None
    parent_run_id: str | None = None
    parent_action_id: str | None = None
    parent_step_position: int | None = None
    system_depth: int = 0
    """How many ``workflow/run.*`` events led to this run (see lifecycle/settle.py)."""
    trigger: dict[str, Any] | None = None
    """The trigger that started it (``ctx.trigger``), None if none did."""
    runs_on: str | None = None
    """None: the embedded runtime executes it; ``inngest``: Inngest does (no worker claims it)."""
    late: bool = False
    """Claimed after its start deadline (``timeouts.start``): it is cancelled instead of executed."""

    @classmethod
    def of(cls, row: Any) -> RunRow:
        """From a row of ``wk_runs`` (a mapping, or a named tuple with at least these columns)."""
        data: Mapping[str, Any] = row if isinstance(row, Mapping) else row._asdict()
        get = data.get
        return cls(
            id=data["id"],
            tenant=data["tenant"],
            workflow_id=data["workflow_id"],
            version_id=data["version_id"],
            version_number=get("version_number"),
            status=RunStatus(data["status"]),
            event=data["event"],
            claim_seq=get("claim_seq") or 0,
            started_at=get("started_at"),
            limits=get("limits"),
            batch=get("batch"),
            parent_run_id=get("parent_run_id"),
            parent_action_id=get("parent_action_id"),
            parent_step_position=get("parent_step_position"),
            system_depth=get("system_depth") or 0,
            trigger=get("trigger"),
            runs_on=get("runs_on"),
            late=bool(get("late")),
        )


RUN_ROW_COLUMNS = tuple(name for name in RunRow.__struct_fields__ if name != "late")
"""The columns of ``wk_runs`` a `RunRow` holds (`late` is computed by the claim)."""


class NewRun(msgspec.Struct, frozen=True, kw_only=True):
    """A run about to be created: queued, due at `due_at` (flow control may move it, see flow.py)."""

    id: str
    tenant: str
    workflow_id: str
    version_id: str
    version_number: int | None
    event_id: str | None
    event: dict[str, Any]
    created_at: int
    due_at: int
    system_depth: int = 0
    limits: list[dict[str, Any]] | None = None
    singleton_key: str | None = None
    start_by: int | None = None
    batch: list[Any] | None = None
    parent_run_id: str | None = None
    parent_action_id: str | None = None
    parent_step_position: int | None = None
    rerun_of: str | None = None
    trigger: dict[str, Any] | None = None
    """The trigger that starts it: ``{"index", "event", "if"?}`` or ``{"index", "cron"}`` (see triggers.fired)."""
    runs_on: str | None = None
    """``inngest`` for a run Inngest executes (see lifecycle/remote.py); None for the embedded runtime's."""
    remote_id: str | None = None
    remote_event_id: str | None = None

    def values(self, status: RunStatus) -> dict[str, Any]:
        """The row to insert, with its first `status` (decided by lifecycle/runs.py)."""
        row = msgspec.structs.asdict(self)
        row["status"] = status.value
        row["updated_at"] = self.created_at
        row["blocked_key"] = None
        return row


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
        event_id=row["event_id"],
        trigger=row["trigger"],
        actions=actions or [],
    )
