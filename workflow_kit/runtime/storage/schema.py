"""Every durable table of the runtime, in one module. Read this first to understand the engine.

- ``wk_workflows``: a tenant's workflow record: its triggers (a list of one to ten, each an event name
  and ``if``, or a cron schedule), enabled flag, the editable draft (with a revision number for
  optimistic concurrency) and the number of the latest published version.
- ``wk_triggers``: the record's triggers again, one row each (``position`` in its list), which is how
  the runtime finds them: an event's workflows by (tenant, event name), and the cron ticks that are due
  by ``next_tick_at``. ``next_tick_at`` is set exactly on the cron triggers of a published, enabled
  workflow: the time of that schedule's next tick, which one worker fires by moving it on (see
  ``schedules.py``). The workflow store writes these rows with the record, in one transaction.
- ``wk_workflow_versions``: immutable snapshots (definition, triggers, settings). Published versions are
  numbered 1, 2, ... and note who published them and why (``author``, ``message``, both optional); a
  test run of a draft gets an unnumbered snapshot. A run pins one version.
- ``wk_events``: every event received, duplicates included; ``wk_event_keys`` holds the 24-hour
  deduplication window of events that carry their own ``id``.
- ``wk_runs``: one row per run. ``due_at`` is the only thing workers poll: for a parked run it is when to
  look again (a timer, a timeout, a retry); for a running run it is when its lease expires. ``claim_seq``
  fences writes: a worker writes only while the run's ``claim_seq`` is the one it claimed.
- ``wk_run_actions`` / ``wk_run_steps``: the journal: one row per action, one row per sub-step (keyed
  by position), each with its status, output or error, and attempts.
- ``wk_waits``: open ``wait_for_event`` steps, found by (tenant, event name, match key) when an event
  arrives (the key is the field and value the wait's ``if`` pins: see ``wait_keys.py``); a workflow's
  ``cancel_on`` events are waits of the run too (action ``$cancel``).
- Flow control (see ``flow.py``): ``wk_flow_state`` holds, per workflow and key, the state of a rate
  limit or a throttle (the GCRA's theoretical arrival time) and the run a debounce or a batch is
  collecting events for; ``wk_slots`` holds the concurrency slots of runs executing a step. On a run:
  ``limits`` (its concurrency keys), ``blocked_key`` (queued until a slot of that key frees up),
  ``singleton_key``, ``start_by`` (a start timeout) and ``batch`` (a batch's events).
- A run records the trigger that started it (``wk_runs.trigger``: its position in the workflow's list
  and the trigger itself, as it was then), null for a run no trigger started (a test run, an invoke).
- ``wk_connections``: a tenant's connections to outside accounts (see ``connections/``): the type, the
  name end users gave it, ``ok`` or ``broken`` (a refused refresh), the credential sealed with AES-GCM
  (``secrets.py``: never in clear), when an OAuth token expires, and ``refresh_until``, the claim of the
  one worker refreshing it now (a conditional update, so a token is refreshed once however many workers
  need it). ``wk_oauth_states``: the OAuth flows under way, by their ``state``, with the PKCE verifier
  sealed, kept server-side until the provider's callback (ten minutes at most).
- ``wk_hooks``: webhooks (``POST /hooks/<id>``, the id unguessable): each a workflow's, with how it
  checks its requests (``verification``), its sealed signing secret (see ``sealing.py``: never in
  clear), its CEL ``transform`` and its rate limit. A webhook trigger's row in ``wk_triggers`` names
  its hook (``hook_id``); events find only the triggers without one. ``wk_hook_requests`` holds the
  last 20 requests of each hook: when, accepted or refused, the status, why, the event made.
- ``wk_operations``: bulk actions over a tenant's runs (cancel, replay), worked off by the workers in
  small batches (see ``operations.py``): the filter, the keyset cursor of the last run handled, and the
  counts so far. A batch and the cursor's move are one transaction, so no run is handled twice.

Times are epoch milliseconds (BIGINT). JSON columns are JSONB on PostgreSQL, JSON text on SQLite.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """The runtime's own metadata, apart from any tables the host application defines with SQLModel."""


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def json_column(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=sa.Column(JSONType, nullable=nullable))


def ms_column(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=nullable, index=index))


class WorkflowRow(Base, table=True):
    __tablename__ = "wk_workflows"

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(max_length=128, index=True)
    name: str = Field(max_length=256)
    description: str = Field(default="")
    triggers: list[Any] = json_column(nullable=False)
    """``[{"event", "if"?} | {"cron"}]``, one to ten, in the order the workflow lists them."""
    enabled: bool = Field(default=False)
    draft: dict[str, Any] = json_column(nullable=False)
    revision: int = Field(default=1)
    published_version: int | None = Field(default=None)
    settings: dict[str, Any] = json_column(nullable=False)
    created_at: int = ms_column(nullable=False)
    updated_at: int = ms_column(nullable=False)


class TriggerRow(Base, table=True):
    __tablename__ = "wk_triggers"
    __table_args__ = (
        sa.Index("ix_wk_triggers_event", "tenant", "event"),
        sa.Index("ix_wk_triggers_next_tick", "next_tick_at"),
    )

    workflow_id: str = Field(primary_key=True, max_length=64)
    position: int = Field(primary_key=True)
    """Where the trigger is in the workflow's list (0 first)."""
    tenant: str = Field(max_length=128)
    event: str | None = Field(default=None, max_length=256)
    """Null for a cron trigger (so no event starts it)."""
    if_exp: str | None = Field(default=None)
    cron: str | None = Field(default=None, max_length=256)
    next_tick_at: int | None = ms_column()
    hook_id: str | None = Field(default=None, max_length=64)
    """A webhook trigger's hook: only its requests start the workflow (no event looked up by name)."""


class WorkflowVersionRow(Base, table=True):
    __tablename__ = "wk_workflow_versions"
    __table_args__ = (sa.UniqueConstraint("workflow_id", "number", name="uq_wk_workflow_versions_number"),)

    id: str = Field(primary_key=True, max_length=64)
    workflow_id: str = Field(max_length=64, index=True)
    tenant: str = Field(max_length=128)
    number: int | None = Field(default=None)
    definition: dict[str, Any] = json_column(nullable=False)
    triggers: list[Any] = json_column(nullable=False)
    settings: dict[str, Any] = json_column(nullable=False)
    created_at: int = ms_column(nullable=False)
    author: str | None = Field(default=None, max_length=256)
    """Who published it (the editor API records the caller's user); null for a test snapshot."""
    message: str | None = Field(default=None, max_length=500)
    """What the publisher said about it; null if nothing."""


EXPIRING: dict[str, Any] = {
    "sqlite_where": sa.text("expires_at IS NOT NULL"),
    "postgresql_where": sa.text("expires_at IS NOT NULL"),
}
"""``ix_wk_runs_expires`` and ``ix_wk_events_expires`` hold what will expire (migration 0010): the
workers delete history through them, oldest first (see lifecycle/retention.py)."""


class EventRow(Base, table=True):
    __tablename__ = "wk_events"
    __table_args__ = (
        sa.Index("ix_wk_events_tenant_received", "tenant", "received_at"),
        sa.Index("ix_wk_events_expires", "expires_at", **EXPIRING),
    )

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(max_length=128)
    name: str = Field(max_length=256)
    payload: dict[str, Any] = json_column(nullable=False)
    key: str | None = Field(default=None, max_length=256)
    duplicate: bool = Field(default=False)
    received_at: int = ms_column(nullable=False)
    expires_at: int | None = ms_column()
    """Deleted after this (its tenant's retention from its receipt)."""


class EventKeyRow(Base, table=True):
    __tablename__ = "wk_event_keys"
    __table_args__ = (sa.Index("ix_wk_event_keys_expires", "expires_at"),)

    tenant: str = Field(primary_key=True, max_length=128)
    key: str = Field(primary_key=True, max_length=256)
    event_id: str = Field(max_length=64)
    expires_at: int = ms_column(nullable=False)
    """The end of the key's deduplication window: after it the key is taken over, or deleted by the
    workers (see lifecycle/retention.py)."""


HAS_PARENT: dict[str, Any] = {
    "sqlite_where": sa.text("parent_run_id IS NOT NULL"),
    "postgresql_where": sa.text("parent_run_id IS NOT NULL"),
}
"""``ix_wk_runs_parent`` holds the runs that have a parent only (migration 0011): with every top-level
run's null in it, SQLite's planner judged it useless once ``ANALYZE`` ran and scanned the runs instead."""


FAILED_ONLY: dict[str, Any] = {
    "sqlite_where": sa.text("status = 'failed'"),
    "postgresql_where": sa.text("status = 'failed'"),
}
"""``ix_wk_runs_failed`` holds failed runs only. It serves the workflow list's count of each workflow's
recent failures (``RunStore.summaries``): without it that count reads every run a workflow ever had,
as no other index bounds a run by its end; with it, only the failures that ended in the window."""


TESTS_ONLY: dict[str, Any] = {
    "sqlite_where": sa.text("version_number IS NULL"),
    "postgresql_where": sa.text("version_number IS NULL"),
}
"""``ix_wk_runs_tests`` holds test runs only (a test run pins an unnumbered draft snapshot)."""


class RunRow(Base, table=True):
    __tablename__ = "wk_runs"
    __table_args__ = (
        sa.Index("ix_wk_runs_due", "due_at"),
        sa.Index("ix_wk_runs_tenant_created", "tenant", "created_at"),
        sa.Index("ix_wk_runs_tenant_workflow", "tenant", "workflow_id", "created_at"),
        sa.Index("ix_wk_runs_parent", "parent_run_id", **HAS_PARENT),
        sa.Index("ix_wk_runs_singleton", "workflow_id", "singleton_key"),
        sa.Index("ix_wk_runs_blocked", "blocked_key", "created_at"),
        sa.Index("ix_wk_runs_failed", "tenant", "workflow_id", "ended_at", **FAILED_ONLY),
        # the runs and events views, and bulk actions (migration 0007): a status (of one workflow or any),
        # an event's runs, test runs; each newest first along (created_at, id)
        sa.Index("ix_wk_runs_tenant_status", "tenant", "status", "created_at", "id"),
        sa.Index("ix_wk_runs_tenant_workflow_status", "tenant", "workflow_id", "status", "created_at", "id"),
        sa.Index("ix_wk_runs_tenant_event", "tenant", "event_id"),
        sa.Index("ix_wk_runs_tests", "tenant", "created_at", "id", **TESTS_ONLY),
        sa.Index("ix_wk_runs_expires", "expires_at", **EXPIRING),
    )

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(max_length=128)
    workflow_id: str = Field(max_length=64)
    version_id: str = Field(max_length=64)
    version_number: int | None = Field(default=None)
    event_id: str | None = Field(default=None, max_length=64)
    event: dict[str, Any] = json_column(nullable=False)
    status: str = Field(max_length=16)
    output: Any = json_column()
    error: dict[str, Any] | None = json_column()
    created_at: int = ms_column(nullable=False)
    started_at: int | None = ms_column()
    ended_at: int | None = ms_column()
    updated_at: int = ms_column(nullable=False)
    due_at: int | None = ms_column()
    lease_owner: str | None = Field(default=None, max_length=128)
    claim_seq: int = Field(default=0)
    wake_requested: bool = Field(default=False)
    parent_run_id: str | None = Field(default=None, max_length=64)
    parent_action_id: str | None = Field(default=None, max_length=256)
    parent_step_position: int | None = Field(default=None)
    rerun_of: str | None = Field(default=None, max_length=64)
    system_depth: int = Field(default=0)
    limits: list[Any] | None = json_column()
    """Concurrency: ``[{"key", "limit"}]``, the slots this run needs to execute a step."""
    blocked_key: str | None = Field(default=None, max_length=64)
    """Queued (``due_at`` null) until a slot of this concurrency key frees up."""
    singleton_key: str | None = Field(default=None, max_length=64)
    start_by: int | None = ms_column()
    """Timeouts: cancelled if not started by then."""
    batch: list[Any] | None = json_column()
    """The events of a batch (``event`` is the first)."""
    trigger: dict[str, Any] | None = json_column()
    """The trigger that started the run: ``{"index", "event", "if"?}`` or ``{"index", "cron"}``."""
    expires_at: int | None = ms_column()
    """An ended run is deleted after this, with its actions, steps and waits (see rules/retention.py)."""
    runs_on: str | None = Field(default=None, max_length=16)
    """Null: the embedded runtime executes it; ``inngest``: Inngest does, and the kit records what it
    reports (see workflow_kit/inngest/recorder.py): no worker ever claims it (migration 0011)."""
    remote_id: str | None = Field(default=None, max_length=128)
    """Inngest's id of the run, once it started there."""
    remote_event_id: str | None = Field(default=None, max_length=128)
    """Inngest's id of the run request event that asked for it."""


class RunActionRow(Base, table=True):
    __tablename__ = "wk_run_actions"

    run_id: str = Field(primary_key=True, max_length=64)
    action_id: str = Field(primary_key=True, max_length=256)
    status: str = Field(max_length=16)
    inputs: dict[str, Any] | None = json_column()
    output: Any = json_column()
    error: dict[str, Any] | None = json_column()
    attempts: list[Any] = json_column(nullable=False)
    started_at: int | None = ms_column()
    ended_at: int | None = ms_column()
    wake_at: int | None = ms_column()


class RunStepRow(Base, table=True):
    __tablename__ = "wk_run_steps"

    run_id: str = Field(primary_key=True, max_length=64)
    action_id: str = Field(primary_key=True, max_length=256)
    position: int = Field(primary_key=True)
    key: str = Field(max_length=512)
    kind: str = Field(max_length=32)
    status: str = Field(max_length=16)
    output: Any = json_column()
    error: dict[str, Any] | None = json_column()
    attempts: list[Any] = json_column(nullable=False)
    wake_at: int | None = ms_column()
    wait: dict[str, Any] | None = json_column()
    invoke: dict[str, Any] | None = json_column()


class WaitRow(Base, table=True):
    __tablename__ = "wk_waits"
    __table_args__ = (
        sa.Index(
            "ix_wk_waits_open",
            "tenant",
            "event_name",
            "match_key",
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        ),
        sa.Index("ix_wk_waits_run", "run_id"),
        sa.Index("ix_wk_waits_event", "event_id"),
    )

    id: str = Field(primary_key=True, max_length=600)
    tenant: str = Field(max_length=128)
    run_id: str = Field(max_length=64)
    action_id: str = Field(max_length=256)
    position: int
    event_name: str = Field(max_length=256)
    if_exp: str | None = Field(default=None)
    match_key: str | None = Field(default=None, max_length=32)
    """A digest of the field and value the ``if`` pins (see wait_keys.py); null: checked against every event."""
    registered_at: int = ms_column(nullable=False)
    expires_at: int = ms_column(nullable=False)
    status: str = Field(max_length=16)
    event_id: str | None = Field(default=None, max_length=64)


class FlowStateRow(Base, table=True):
    __tablename__ = "wk_flow_state"

    key: str = Field(primary_key=True, max_length=200)
    """``<kind>:<workflow id>:<digest of the key's value>``."""
    tat: int | None = ms_column()
    """Rate limit and throttle: the GCRA's theoretical arrival time."""
    run_id: str | None = Field(default=None, max_length=64)
    """Debounce and batch: the queued run collecting events."""
    first_at: int | None = ms_column()
    expires_at: int | None = ms_column()


class SlotRow(Base, table=True):
    __tablename__ = "wk_slots"
    __table_args__ = (sa.Index("ix_wk_slots_run", "run_id"),)

    key: str = Field(primary_key=True, max_length=64)
    run_id: str = Field(primary_key=True, max_length=64)


class OperationRow(Base, table=True):
    __tablename__ = "wk_operations"
    __table_args__ = (
        sa.Index("ix_wk_operations_open", "state", "updated_at"),
        sa.Index("ix_wk_operations_tenant", "tenant", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(max_length=128)
    kind: str = Field(max_length=16)
    """``cancel`` or ``replay``."""
    filter: dict[str, Any] = json_column(nullable=False)
    """Which runs: ``{"workflow_id"?, "status"?, "since", "until", "test"?, "if"?, "version"?}``."""
    state: str = Field(max_length=16)
    """``running`` until every matching run is handled, then ``completed``."""
    cursor_created_at: int | None = ms_column()
    cursor_id: str | None = Field(default=None, max_length=64)
    """The last run handled (runs are handled newest first); null before the first batch."""
    matched: int = Field(default=0)
    done: int = Field(default=0)
    failed: int = Field(default=0)
    created_at: int = ms_column(nullable=False)
    updated_at: int = ms_column(nullable=False)
    ended_at: int | None = ms_column()


class ConnectionRow(Base, table=True):
    __tablename__ = "wk_connections"
    __table_args__ = (sa.Index("ix_wk_connections_tenant_type", "tenant", "type", "name"),)

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(max_length=128)
    type: str = Field(max_length=64)
    name: str = Field(max_length=256)
    status: str = Field(max_length=16)
    """``ok``, or ``broken`` when the provider refused a refresh (the tenant must reconnect)."""
    secret: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    """The credential (API-key fields, or OAuth tokens), sealed: ``wk1.<key id>.<ciphertext>``."""
    expires_at: int | None = ms_column()
    """When an OAuth access token expires (null: an API key, or a token that does not)."""
    refresh_until: int | None = ms_column()
    """Set while a worker refreshes the token (until then, no other does)."""
    created_at: int = ms_column(nullable=False)
    updated_at: int = ms_column(nullable=False)


class HookRow(Base, table=True):
    __tablename__ = "wk_hooks"
    __table_args__ = (sa.Index("ix_wk_hooks_workflow", "workflow_id"),)

    id: str = Field(primary_key=True, max_length=64)
    """``secrets.token_urlsafe``: the URL's unguessable part."""
    tenant: str = Field(max_length=128)
    workflow_id: str = Field(max_length=64)
    verification: dict[str, Any] = json_column(nullable=False)
    """``{"style": "none" | "header" | "github" | "stripe" | "hmac", ...}`` (see ``signatures.py``)."""
    secret: str | None = Field(default=None)
    """The signing secret, sealed (AES-GCM, bound to the hook's id); null until one is made."""
    transform: str | None = Field(default=None)
    rate_limit: int
    """Requests a minute."""
    created_at: int = ms_column(nullable=False)
    updated_at: int = ms_column(nullable=False)


class OAuthStateRow(Base, table=True):
    __tablename__ = "wk_oauth_states"

    state: str = Field(primary_key=True, max_length=128)
    tenant: str = Field(max_length=128)
    type: str = Field(max_length=64)
    connection_id: str | None = Field(default=None, max_length=64)
    """The connection a reconnect renews; null for a new one."""
    name: str = Field(max_length=256)
    verifier: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    """The PKCE code verifier, sealed."""
    redirect_uri: str = Field(max_length=2048)
    expires_at: int = ms_column(nullable=False)


class TenantSettingsRow(Base, table=True):
    __tablename__ = "wk_tenant_settings"

    tenant: str = Field(primary_key=True, max_length=128)
    retention_ms: int | None = ms_column()
    """How long the tenant's history is kept (null: the kit's time; see rules/retention.py)."""
    updated_at: int = ms_column(nullable=False)


class HookRequestRow(Base, table=True):
    __tablename__ = "wk_hook_requests"
    __table_args__ = (sa.Index("ix_wk_hook_requests_hook", "hook_id", "id"),)

    id: str = Field(primary_key=True, max_length=64)
    hook_id: str = Field(max_length=64)
    received_at: int = ms_column(nullable=False)
    outcome: str = Field(max_length=16)
    """``accepted`` or ``refused``."""
    status: int
    why: str = Field(default="")
    event_id: str | None = Field(default=None, max_length=64)


metadata = Base.metadata
workflows: sa.Table = WorkflowRow.__table__  # type: ignore[attr-defined]
triggers: sa.Table = TriggerRow.__table__  # type: ignore[attr-defined]
workflow_versions: sa.Table = WorkflowVersionRow.__table__  # type: ignore[attr-defined]
events: sa.Table = EventRow.__table__  # type: ignore[attr-defined]
event_keys: sa.Table = EventKeyRow.__table__  # type: ignore[attr-defined]
runs: sa.Table = RunRow.__table__  # type: ignore[attr-defined]
run_actions: sa.Table = RunActionRow.__table__  # type: ignore[attr-defined]
run_steps: sa.Table = RunStepRow.__table__  # type: ignore[attr-defined]
waits: sa.Table = WaitRow.__table__  # type: ignore[attr-defined]
flow_state: sa.Table = FlowStateRow.__table__  # type: ignore[attr-defined]
slots: sa.Table = SlotRow.__table__  # type: ignore[attr-defined]
operations: sa.Table = OperationRow.__table__  # type: ignore[attr-defined]
connections: sa.Table = ConnectionRow.__table__  # type: ignore[attr-defined]
oauth_states: sa.Table = OAuthStateRow.__table__  # type: ignore[attr-defined]
hooks: sa.Table = HookRow.__table__  # type: ignore[attr-defined]
hook_requests: sa.Table = HookRequestRow.__table__  # type: ignore[attr-defined]
tenant_settings: sa.Table = TenantSettingsRow.__table__  # type: ignore[attr-defined]

TABLES = (
    workflows,
    triggers,
    workflow_versions,
    events,
    event_keys,
    runs,
    run_actions,
    run_steps,
    waits,
    flow_state,
    slots,
    operations,
    connections,
    oauth_states,
    hooks,
    hook_requests,
    tenant_settings,
)
