"""What the runtime's Python API returns: workflow records, versions and runs (msgspec Structs, JSON-ready).

Times are epoch milliseconds.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import msgspec

from ..errors import WorkflowKitError
from ..records import ActionRecord
from .rules.triggers import Trigger


class NotFoundError(WorkflowKitError):
    """No such workflow, version or run for this tenant (another tenant's ids are not found either)."""

    code = "not_found"


class ConflictError(WorkflowKitError):
    """A write was based on a stale version of the record (optimistic concurrency)."""

    code = "conflict"

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class RerunError(WorkflowKitError):
    """The run cannot be rerun that way (e.g. from its failed step, when nothing failed)."""

    code = "cannot_rerun"


class FilterError(WorkflowKitError):
    """A filter of runs or events the kit cannot use (a bad cursor, an expression that does not compile,
    nothing to act on); `path` names the field."""

    code = "invalid_filter"

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.reason = message


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SLEEPING = "sleeping"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


TERMINAL = tuple(s.value for s in RunStatus if s.terminal)


class WorkflowRecord(msgspec.Struct, kw_only=True):
    """A tenant's workflow: triggers, enabled flag, the editable draft and its published versions."""

    id: str
    tenant: str
    name: str
    description: str
    triggers: tuple[Trigger, ...]
    """What starts a run: any of these (one to ten), events with their filters and schedules."""
    enabled: bool
    version: int
    """The draft's revision, for optimistic concurrency: a write naming an older one is a conflict."""
    draft: dict[str, Any]
    """The workflow instance being edited (may be invalid until it is published)."""
    published_version: int | None
    settings: dict[str, Any]
    created_at: int
    updated_at: int
    next_tick_at: int | None = None
    """The next tick of its schedules (the earliest, with several) while it is published and enabled;
    None without a cron trigger."""

    @property
    def trigger(self) -> Trigger:
        """The first trigger (what code written for one trigger per workflow reads)."""
        return self.triggers[0]


class WorkflowVersion(msgspec.Struct, kw_only=True):
    """An immutable published snapshot of a workflow (or, unnumbered, a test run's snapshot of a draft)."""

    id: str
    workflow_id: str
    number: int | None
    workflow: dict[str, Any]
    triggers: tuple[Trigger, ...]
    settings: dict[str, Any]
    created_at: int
    author: str | None = None
    """Who published it, as the publisher said (the editor API: the caller's user); None if not said."""
    message: str | None = None
    """What the publisher wrote about this version; None if nothing."""

    @property
    def trigger(self) -> Trigger:
        """The first trigger."""
        return self.triggers[0]


class RunBrief(msgspec.Struct, kw_only=True):
    """A run in one line: what a list of workflows shows of each workflow's newest run."""

    id: str
    status: RunStatus
    created_at: int
    ended_at: int | None


class RunSummary(msgspec.Struct, kw_only=True):
    """A workflow's runs at a glance (`RunStore.summaries`)."""

    last_run: RunBrief | None = None
    """The newest run (by creation) of any version, test runs included; None if it never ran."""
    failures_24h: int = 0
    """How many of its runs failed in the last 24 hours (by when they ended) of the kit's clock."""


_RUN_TRIGGER = (
    "Which of the workflow's triggers started the run: its `index` in the workflow's list of triggers and the"
    ' trigger as it was then, `{"index": 1, "event": "app/order.*", "if": "..."}` or `{"index": 0, "cron":'
    ' "0 9 * * *"}`; null when no trigger started it (a test run, an invoked workflow)'
)


class Run(msgspec.Struct, kw_only=True):
    """A run and, from `runs.get`, its timeline: every action with its attempts and sub-steps."""

    id: str
    tenant: str
    workflow_id: str
    version: int | None
    version_id: str
    status: RunStatus
    event: dict[str, Any]
    output: Any = None
    error: dict[str, Any] | None = None
    created_at: int
    started_at: int | None = None
    ended_at: int | None = None
    rerun_of: str | None = None
    parent_run_id: str | None = None
    event_id: str | None = None
    """The received event that started it (``kit.events.get``); None for a run no event started (a test
    run, a cron tick's run, an invoked workflow)."""
    trigger: Annotated[dict[str, Any] | None, msgspec.Meta(description=_RUN_TRIGGER)] = None
    """The trigger that started it, with its position in the workflow's list: ``{"index": 1, "event":
    "app/order.*", "if"?: ...}`` or ``{"index": 0, "cron": ...}``; None when no trigger started it (a
    test run, an invoked workflow, a run from before a workflow could have several triggers)."""
    actions: list[ActionRecord] = msgspec.field(default_factory=list)
    """The timeline (from `runs.get`): every action in the workflow's order, with its steps."""

    def action(self, action_id: str) -> ActionRecord | None:
        return next((a for a in self.actions if a.id == action_id), None)


class ConnectionRecord(msgspec.Struct, kw_only=True):
    """One of a tenant's connections, as the API shows it: never its secret."""

    id: str
    type: str
    """The connection type's id (``slack``)."""
    name: str
    status: str
    """``ok``, or ``broken``: the provider refused to renew its access, the tenant must reconnect it."""
    expires_at: int | None
    """When its OAuth access token expires (it is renewed shortly before); None for an API key."""
    created_at: int
    updated_at: int


class ConnectionInUseError(WorkflowKitError):
    """A connection that a published workflow uses cannot be deleted; `.workflows` names them."""

    code = "connection_in_use"

    def __init__(self, message: str, workflows: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.workflows = workflows
