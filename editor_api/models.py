"""Request and response bodies of the editor API (msgspec Structs: they are the OpenAPI schema too)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from workflow_kit.errors import Problem
from workflow_kit.runtime.models import Run, RunBrief, RunStatus, RunSummary, WorkflowRecord, WorkflowVersion
from workflow_kit.runtime.operations import ReplayVersion
from workflow_kit.runtime.rules.signatures import Verification
from workflow_kit.runtime.rules.triggers import Trigger as RuntimeTrigger
from workflow_kit.runtime.rules.webhooks import DEFAULT_RATE_LIMIT
from workflow_kit.runtime.stores.events import EventLinks, RunLink, StoredEvent
from workflow_kit.runtime.stores.hooks import Hook


class Trigger(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What starts the workflow: an `event` name (``app/*`` wildcards allowed) with an optional CEL
    filter over ``event`` (`if`), or a `cron` schedule (``TZ=Europe/Paris 0 12 * * 5``: five fields,
    an optional time zone), or a webhook (`type` ``webhook``: the requests to ``POST /hooks/<hook>``
    become events named `event`, default ``webhook/received``, which start this workflow only; a
    webhook trigger without a `hook`, or with another workflow's, is given a new one). Each tick of a
    schedule starts one run, with a ``workflow/scheduled.timer`` event."""

    event: str | None = None
    if_: str | None = msgspec.field(default=None, name="if")
    cron: str | None = None
    type: Literal["webhook"] | None = None
    hook: Annotated[str, msgspec.Meta(max_length=64)] | None = None

    @classmethod
    def of(cls, trigger: RuntimeTrigger) -> Trigger:
        kind: Literal["webhook"] | None = "webhook" if trigger.type == "webhook" else None
        return cls(event=trigger.event, if_=trigger.if_, cron=trigger.cron, type=kind, hook=trigger.hook)

    @classmethod
    def all_of(cls, triggers: tuple[RuntimeTrigger, ...]) -> list[Trigger]:
        return [cls.of(trigger) for trigger in triggers]


TRIGGERS_DESCRIPTION = (
    "What starts the workflow: one to 10 triggers, no two the same; any of them starts a run (an event"
    " that several match starts one, for the first that matches; each schedule ticks on its own). A run"
    " records which started it (`trigger` of a run, `ctx.trigger` in a handler). More than 10 is a 422"
    " (`too_many_triggers`), two the same too (`duplicate_trigger`); problems have paths such as"
    " `triggers[1].if`."
)
TRIGGER_DESCRIPTION = (
    "One trigger: the same as `triggers` with one trigger (problems have paths such as `trigger.if`)."
    " Given with `triggers`, it is the first of them."
)
FIRST_TRIGGER_DESCRIPTION = "The first of `triggers` (for clients written for one trigger per workflow)."
Triggers = Annotated[list[Trigger], msgspec.Meta(description=TRIGGERS_DESCRIPTION)]


class WorkflowCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new workflow, with its `triggers` (or one `trigger`). It is stored as a draft (`publish` to also
    publish it, `enabled` to enable it)."""

    name: str
    triggers: Triggers | None = None
    trigger: Annotated[Trigger | None, msgspec.Meta(description=TRIGGER_DESCRIPTION)] = None
    workflow: dict[str, Any]
    description: str = ""
    settings: dict[str, Any] | None = None
    publish: bool = False
    enabled: bool = False


class WorkflowUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change to a workflow: only the fields given change. `version` (or an ``If-Match`` header) makes
    it conditional on the draft's current version. The instance goes in `workflow` or, as the record
    names it, `draft`; `enabled` enables or disables. A record as read (`GET`) can be sent back: its
    read-only fields (`id`, `published_version`, times, `problems`, `draft_changed`, `last_run`,
    `failures_24h`) are accepted and not changed.
    `triggers` replaces the list of triggers; `trigger` alone replaces it with one trigger. Given both
    (a record sent back has both), the one that differs from what is stored wins: `triggers`, or
    `trigger` (then it replaces the first trigger only)."""

    version: int | None = None
    name: str | None = None
    description: str | None = None
    triggers: Triggers | None = None
    trigger: Trigger | None = None
    workflow: dict[str, Any] | None = None
    draft: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    enabled: bool | None = None
    publish: bool = False
    id: str | None = None
    published_version: int | None = None
    created_at: int | None = None
    updated_at: int | None = None
    next_tick_at: int | None = None
    problems: list[dict[str, Any]] | None = None
    draft_changed: bool | None = None
    last_run: dict[str, Any] | None = None
    failures_24h: int | None = None


class PublishRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`version` (or an ``If-Match`` header) makes publishing conditional on the draft's version;
    `message` (at most 500 characters) says what changed, and is kept with the version, as is who
    published it (the caller's user)."""

    version: int | None = None
    message: Annotated[
        str | None, msgspec.Meta(description="What changed, kept with the version (at most 500 characters)")
    ] = None


class WorkflowOut(msgspec.Struct, kw_only=True):
    """A workflow record, the problems of its draft (empty when it could be published), whether the
    draft has unpublished changes, and its runs at a glance."""

    id: str
    name: str
    description: str
    triggers: Triggers
    trigger: Annotated[Trigger, msgspec.Meta(description=FIRST_TRIGGER_DESCRIPTION)]
    enabled: bool
    version: int
    draft: dict[str, Any]
    published_version: int | None
    settings: dict[str, Any]
    created_at: int
    updated_at: int
    next_tick_at: Annotated[
        int | None,
        msgspec.Meta(
            description="The next tick of its schedules (epoch milliseconds; the earliest, with several cron"
            " triggers) while it is published and enabled; null without a cron trigger"
        ),
    ] = None
    problems: list[Problem] = msgspec.field(default_factory=list)
    draft_changed: Annotated[
        bool,
        msgspec.Meta(
            description="Whether the draft, the triggers or the settings differ from the latest published version;"
            " for a workflow never published, whether its draft has any action (a new, untouched one has not)"
        ),
    ]
    last_run: Annotated[
        RunBrief | None, msgspec.Meta(description="The newest run, of any version (test runs too); null if none")
    ]
    failures_24h: Annotated[
        int, msgspec.Meta(ge=0, description="How many of its runs failed in the last 24 hours (by when they ended)")
    ]

    @classmethod
    def of(
        cls, record: WorkflowRecord, problems: list[Problem], *, draft_changed: bool, runs: RunSummary
    ) -> WorkflowOut:
        return cls(
            id=record.id,
            name=record.name,
            description=record.description,
            triggers=Trigger.all_of(record.triggers),
            trigger=Trigger.of(record.trigger),
            enabled=record.enabled,
            version=record.version,
            draft=record.draft,
            published_version=record.published_version,
            settings=record.settings,
            created_at=record.created_at,
            updated_at=record.updated_at,
            next_tick_at=record.next_tick_at,
            problems=problems,
            draft_changed=draft_changed,
            last_run=runs.last_run,
            failures_24h=runs.failures_24h,
        )


class WorkflowPage(msgspec.Struct):
    items: list[WorkflowOut]
    limit: int
    offset: int


class VersionOut(msgspec.Struct, kw_only=True):
    """A published version (`number` 1, 2, ...), or the unnumbered snapshot a test run used. `author`
    is who published it and `message` what they said about it (null when not given, and for a test
    run's snapshot)."""

    workflow_id: str
    number: int | None
    workflow: dict[str, Any]
    triggers: Triggers
    trigger: Annotated[Trigger, msgspec.Meta(description=FIRST_TRIGGER_DESCRIPTION)]
    settings: dict[str, Any]
    created_at: int
    author: Annotated[
        str | None, msgspec.Meta(description="Who published it: the token's user (`server` with a server key)")
    ]
    message: Annotated[str | None, msgspec.Meta(description="What the publisher said about it")]

    @classmethod
    def of(cls, version: WorkflowVersion) -> VersionOut:
        return cls(
            workflow_id=version.workflow_id,
            number=version.number,
            workflow=version.workflow,
            triggers=Trigger.all_of(version.triggers),
            trigger=Trigger.of(version.trigger),
            settings=version.settings,
            created_at=version.created_at,
            author=version.author,
            message=version.message,
        )


class VersionList(msgspec.Struct):
    items: list[VersionOut]


class ValidateResult(msgspec.Struct):
    problems: list[Problem]


class Event(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """An event: ``{name, data, id?, ts?, v?, user?}`` (Inngest's fields; `user` is kept as sent). An `id`
    deduplicates for 24 hours."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    id: str | None = None
    ts: int | None = None
    v: str | None = None
    user: dict[str, Any] | None = None


class EventIds(msgspec.Struct):
    ids: list[str]


class EventItem(StoredEvent, kw_only=True):
    """A received event and the runs it started (`GET /events/{id}/runs` also lists those it resumed)."""

    runs: list[RunLink] = msgspec.field(default_factory=list)


class EventPage(msgspec.Struct, kw_only=True):
    """A page of events, newest first: pass `next_cursor` as `cursor` for the next (null on the last)."""

    items: list[EventItem]
    limit: int
    offset: int
    next_cursor: str | None = None


class EventRuns(EventLinks, kw_only=True):
    """The runs an event started (`started`) and the runs waiting for an event that it resumed (`resumed`)."""


class TestRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A sample event for a test run of the draft (default: the first trigger's event with the first
    example of its declared type, or empty data; for a cron trigger a ``workflow/scheduled.timer`` event
    for now)."""

    event: Event | None = None


# -- testing one step ("Test this step") -------------------------------------------------------------


STATE_DESCRIPTION = (
    "The outputs of upstream steps, by step id, that its inputs may read. Any not given comes from the"
    " draft's kept sample outputs (`metadata.sample_outputs` of the instance), else from the workflow's"
    " latest run."
)


class StepTestRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Try one step of the draft (or of the unsaved instance in `workflow`) once, against a sample
    `event` (default: as a test run's) and the outputs of the steps before it. Nothing is stored."""

    action_id: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    event: Event | None = None
    state: Annotated[dict[str, Any] | None, msgspec.Meta(description=STATE_DESCRIPTION)] = None
    workflow: Annotated[
        dict[str, Any] | None, msgspec.Meta(description="The instance being edited (default: the stored draft)")
    ] = None


class StepTestResult(msgspec.Struct, kw_only=True):
    """How the tried step ended: its `output`, or an `error` in words for end users (never a traceback);
    `duration_ms` its handler's time; its `inputs` as resolved; the events it would have sent (a test
    sends none); inside a "for each" loop, the sample `item` it saw; the earlier steps it read without
    their outputs (`unsampled`)."""

    output: Any
    error: str | None
    duration_ms: int
    inputs: dict[str, Any] | None
    sent_events: list[dict[str, Any]]
    item: Any = None
    unsampled: Annotated[
        list[str],
        msgspec.Meta(
            description="The earlier steps (ids) its inputs read whose outputs were neither given, kept, nor in"
            " the latest run: they read as null"
        ),
    ] = msgspec.field(default_factory=list)


class RunId(msgspec.Struct):
    run_id: str


class StreamTicket(msgspec.Struct):
    """A single-use ticket to open a run's live stream (``GET /api/runs/{id}/stream?ticket=...``) within
    a minute: the URL of an EventSource carries it, never the editor's token."""

    ticket: str
    expires_at: int
    """When it expires, epoch milliseconds."""


class RerunRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`from_failed_step`: keep what completed and resume at the failed step (same version); otherwise
    start from scratch on the latest published version."""

    from_failed_step: bool = True


class RunPage(msgspec.Struct, kw_only=True):
    """A page of runs, newest first: pass `next_cursor` as `cursor` for the next (null on the last)."""

    items: list[Run]
    limit: int
    offset: int
    next_cursor: str | None = None


class BulkCancelRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Which runs to cancel: of one workflow (or any), with one of these statuses (default: every status
    of a run that has not ended; `failed` dismisses failed runs: they become cancelled, keeping their
    error), created in ``[since, until)`` (epoch ms), test runs only or none (`test`), whose event
    satisfies a CEL expression over ``event`` (`if`)."""

    workflow_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    status: list[RunStatus] | None = None
    since: Annotated[int, msgspec.Meta(ge=0, le=2**53)] | None = None
    until: Annotated[int, msgspec.Meta(ge=0, le=2**53)] | None = None
    test: bool | None = None
    if_: Annotated[str, msgspec.Meta(max_length=4096)] | None = msgspec.field(default=None, name="if")


class BulkReplayRequest(BulkCancelRequest, forbid_unknown_fields=True, kw_only=True):
    """Which runs to replay (as for a cancel; default: any status), and on which version: each run's
    own (`own`) or the workflow's latest published one (`latest`)."""

    version: ReplayVersion = ReplayVersion.OWN


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """Every error: a stable `code`, a `message`, and where it applies a `path` or the `problems`."""

    code: str
    message: str
    path: str | None = None
    problems: list[Problem] | None = None
    current_version: int | None = None
    workflows: list[dict[str, str]] | None = None
    """A connection in use: the workflows (id, name) that use it."""


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    tenant: str = "demo"
    user: str = "demo-user"


class TokenOut(msgspec.Struct):
    token: str
    tenant: str
    user: str


class TenantSettingsIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The tenant's settings to keep: `retention`, how long its ended runs and events are kept
    (``"90d"``, ``"12h"``: 1 hour to 10 years), or null for the kit's time."""

    retention: Annotated[str, msgspec.Meta(max_length=32)] | None


class HookSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How a webhook checks its requests (`verification`: ``style`` none, header, github, stripe or hmac,
    with ``header``, ``algorithm``, ``prefix``, ``encoding``, ``tolerance`` where they apply), its
    `transform` (CEL over ``method``, ``headers``, ``query``, ``body``, making ``{name?, data?, id?}``;
    none: the body is the event's data) and its `rate_limit` (requests a minute)."""

    verification: Verification = msgspec.field(default_factory=Verification)
    transform: str | None = None
    rate_limit: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = DEFAULT_RATE_LIMIT


class HookOut(Hook, kw_only=True):
    """A webhook (see `Hook`: its settings, whether it has a signing secret, never the secret itself, and
    `event`, null while no trigger of its workflow names it, when it answers 404), with its `url`:
    ``POST`` to it, no token needed."""

    url: str


class HookSecretOut(msgspec.Struct, kw_only=True):
    """A webhook with its new signing secret: shown this once (it is stored encrypted)."""

    hook: HookOut
    secret: str


class HookSample(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A test request: `body` (JSON) is posted to the webhook, signed as its sender would sign it."""

    body: Any = None


class HookDelivery(msgspec.Struct, kw_only=True):
    """What a request to a webhook got: its `status` (202 accepted), the event it made, or why not."""

    status: int
    event_id: str | None = None
    why: str = ""
