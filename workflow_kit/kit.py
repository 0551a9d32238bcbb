"""`WorkflowKit`: the facade that holds the action registry (and, in the runtime, the store)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from . import struct_types
from .actions import ActionDefinition, ActionRegistry, PredefinedEdge
from .ai import AIProvider, provider_from_environment
from .connections.types import ConnectionType, ConnectionTypeRegistry, HeadersHook, Kind, TestHook
from .engine.builtins import builtin_actions
from .engine.loops import loop_actions
from .errors import Problem
from .event_types import EventType, EventTypeRegistry
from .events import normalize_events
from .observe import Observer, combine
from .retry import RetryPolicy
from .runtime.rules.budgets import EvaluationBudget, EvaluationLimits
from .runtime.rules.retention import Retention
from .templates import Template, TemplateRegistry
from .timeutil import Clock, SystemClock
from .tokens import SCOPES, TokenError, mint
from .twins import async_twin
from .validation import ensure_valid, validate
from .workflow import Workflow, WorkflowLike

if TYPE_CHECKING:  # the runtime (SQLAlchemy and friends) loads on first use, not on import
    from .runtime.lifecycle.decide import DecideFirst
    from .runtime.lifecycle.effects import Received
    from .runtime.lifecycle.events_in import HookTarget
    from .runtime.lifecycle.remote import RemoteEngine
    from .runtime.rules.settings import SettingsCache
    from .runtime.storage.db import Database
    from .runtime.storage.writer import WriteJob
    from .runtime.stores.connections import ConnectionStore
    from .runtime.stores.events import EventStore
    from .runtime.stores.hooks import HookStore
    from .runtime.stores.runs import RunStore
    from .runtime.stores.tenant_settings import TenantSettingsStore
    from .runtime.stores.workflows import WorkflowStore
    from .runtime.worker.host import Attached
    from .runtime.worker.loop import Worker
    from .secrets import Keyring


H = TypeVar("H", bound=Callable[..., Any])
EventSink = Callable[[str, dict[str, Any] | list[dict[str, Any]]], Coroutine[Any, Any, list[str]]]
DEFAULT_URL = "sqlite:///workflow-kit.db"


class WorkflowKit:
    """Register typed actions, validate workflows against them, and run them durably.

    `WorkflowKit()` is a registry with the builtin actions (``builtin:if``, ``builtin:sleep``, ...)
    registered, unless `disable_builtin_actions` is set; it touches no database until the runtime is
    used (``kit.workflows``, ``kit.runs``, ``kit.send``, ``kit.worker()``). The database is
    `database_url`, else ``$WORKFLOW_KIT_DATABASE_URL``, else ``sqlite:///workflow-kit.db``.
    `retry_policy` is the default for every step; `clock` is injectable for tests; `ai` is the chat
    model of ``ctx.step.ai`` (default: OpenAI with ``$OPENAI_API_KEY``, else a labelled local stand-in).
    `cron_seconds` lets cron triggers have a sixth field, seconds first (``*/10 * * * * *``); by default
    they have five, as in Inngest, so a schedule ticks at most once a minute. `secret_keys` are the keys
    connections' credentials are encrypted with (``id:base64,...``, newest first; default
    ``$WORKFLOW_KIT_SECRET_KEYS``; see ``workflow_kit/secrets.py``).
    `evaluation_limits` bound
    the time a tenant's expressions (trigger and wait conditions, flow-control keys) may take when its
    events are received: per request, per second and at once (`EvaluationLimits`; over them, `send`
    raises `OverBudgetError`). `retention` says how long each tenant's ended runs and events are kept
    (`Retention`: 30 days by default; a workflow's ``retention`` setting wins for its runs); workers
    delete what expired.

    One rule for the whole API: every method that touches the database is async, and its synchronous
    twin has the same name with ``_sync``: ``await kit.send(...)`` / ``kit.send_sync(...)``,
    ``await kit.workflows.create(...)`` / ``kit.workflows.create_sync(...)``, ``await kit.runs.get(...)``
    / ``kit.runs.get_sync(...)``, ``await kit.migrate()`` / ``kit.migrate_sync()``.
    """

    def __init__(
        self,
        *,
        database_url: str | None = None,
        disable_builtin_actions: bool = False,
        retry_policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        secret: str | None = None,
        ai: AIProvider | None = None,
        cron_seconds: bool = False,
        secret_keys: str | None = None,
        evaluation_limits: EvaluationLimits | None = None,
        retention: Retention | None = None,
    ) -> None:
        struct_types.prepare()  # before any thread of the kit's decodes (see struct_types)
        self.registry = ActionRegistry()
        self.event_types = EventTypeRegistry()
        """The declared event types (`event_type`), by name."""
        self.templates = TemplateRegistry()
        """The workflow templates (`template`), by id."""
        self.retry_policy = retry_policy or RetryPolicy()
        self.database_url = database_url or os.environ.get("WORKFLOW_KIT_DATABASE_URL") or DEFAULT_URL
        self.clock: Clock = clock or SystemClock()
        self.secret = secret or os.environ.get("WORKFLOW_KIT_SECRET")
        """Signs editor tokens (``$WORKFLOW_KIT_SECRET`` when not given; at least 32 characters)."""
        self.ai: AIProvider = ai or provider_from_environment()
        """The chat model behind ``ctx.step.ai`` (OpenAI when ``OPENAI_API_KEY`` is set, else local)."""
        self.cron_seconds = cron_seconds
        self.connection_types = ConnectionTypeRegistry()
        """The declared connection types (`connection_type`), by id."""
        self._secret_keys = secret_keys
        self.trace_events = False
        """Whether events sent carry the current trace context (``traces.enable`` turns it on)."""
        self.observers: list[Observer] = []
        """Told of runs, attempts and events received (JSON logs, metrics, traces: see observe.py). Workers
        read it when they start."""
        self.retention = retention or Retention()
        """How long history is kept per tenant (`Retention`; a workflow's ``retention`` setting wins)."""
        self.evaluation_budget = EvaluationBudget(evaluation_limits)
        """Each tenant's budget of evaluation time when its events are received (`EvaluationLimits`)."""
        self._notifier = _Notifier()
        self._workers: list[Attached] = []
        self.event_sink: EventSink | None = None
        """Where `send` hands received events instead of the embedded runtime, when set: the Inngest
        backend sets it (``InngestBackend.take_events``), so the editor API's events reach Inngest."""
        self.remote: RemoteEngine | None = None
        """The engine that executes the runs marked as its own (``runs_on``), when set: the Inngest
        backend sets itself here, so runs cancelled, rerun or replayed in the kit (the editor, the
        workers' bulk operations) are cancelled or asked for there."""
        if not disable_builtin_actions:
            for definition in [*builtin_actions(), *loop_actions()]:
                self.registry.register(definition)

    # -- the runtime -------------------------------------------------------------------------------

    @cached_property
    def db(self) -> Database:
        """The database (created, and its tables migrated, on first use)."""
        from .runtime.storage.db import Database

        return Database(self.database_url)

    @cached_property
    def keyring(self) -> Keyring:
        """The keys connections' credentials are sealed with (`secret_keys`, else
        ``$WORKFLOW_KIT_SECRET_KEYS``), read on first use."""
        from .secrets import Keyring

        return Keyring.parse(self._secret_keys) if self._secret_keys is not None else Keyring.from_environment()

    @cached_property
    def connections(self) -> ConnectionStore:
        """A tenant's connections to outside accounts (async, each with a ``_sync`` twin): ``create``
        (API key), ``start_oauth`` / ``finish_oauth``, ``list``, ``get``, ``rename``, ``test``, ``delete``,
        ``rotate_keys``, and for runs ``credentials``."""
        from .runtime.stores.connections import ConnectionStore

        return ConnectionStore(self.db, self.connection_types, self.registry, self.clock, lambda: self.keyring)

    @cached_property
    def _settings(self) -> SettingsCache:
        """The parsed settings of workflow versions: one cache per kit, shared by its writer threads
        (events received) and its workers."""
        from .runtime.rules.settings import SettingsCache

        return SettingsCache()

    @cached_property
    def workflows(self) -> WorkflowStore:
        """Stored workflows per tenant (async, each with a ``_sync`` twin): ``create``, ``update``,
        ``publish``, ``enable``, ``disable``, ``get``, ``list``, ``delete``, ``versions``, ``version``,
        ``draft_changes`` (unpublished changes)."""
        from .runtime.stores.workflows import WorkflowStore

        return WorkflowStore(
            self.db,
            self.registry,
            self.clock,
            self.notify,
            cron_seconds=self.cron_seconds,
            connection_problems=self.connections._problems_in,
        )

    @cached_property
    def runs(self) -> RunStore:
        """Runs per tenant (async, each with a ``_sync`` twin): ``list`` and ``page`` (filters, cursor),
        ``get`` (with the timeline), ``wait``, ``cancel``, ``rerun``, ``summaries`` (each workflow's newest
        run and recent failures), ``stats`` (runs and failures per hour), ``bulk_cancel`` and
        ``bulk_replay`` (many runs, by the workers) and ``operation`` (their progress)."""
        from .runtime.stores.runs import RunStore

        return RunStore(
            self.db,
            self._settings,
            self.clock,
            self.notify,
            self._cancelled,
            lambda: combine(self.observers),
            self.retention,
            lambda: self.remote,
        )

    @cached_property
    def events(self) -> EventStore:
        """Received events per tenant (async, each with a ``_sync`` twin): ``list`` and ``page`` (newest
        first, by cursor), ``get``, ``links`` (the runs each event started or resumed)."""
        from .runtime.stores.events import EventStore

        return EventStore(self.db)

    @cached_property
    def tenant_settings(self) -> TenantSettingsStore:
        """What each tenant chose for all its workflows (async, each with a ``_sync`` twin): ``get`` and
        ``set_retention`` (how long its history is kept: wins over `retention` for that tenant)."""
        from .runtime.stores.tenant_settings import TenantSettingsStore

        return TenantSettingsStore(self.db, self.clock, self.retention)

    @cached_property
    def hooks(self) -> HookStore:
        """Webhooks per tenant (async, each with a ``_sync`` twin): ``create`` (with a signing secret,
        returned once), ``get``, ``configure`` (how requests are checked, the transform, the rate
        limit), ``rotate_secret``, ``requests`` (the last 20), ``deliver`` (what ``POST /hooks/<id>``
        does) and ``send_sample``. A webhook trigger of a workflow names its hook. Secrets are sealed
        with a key from the kit's `secret`."""
        from .runtime.stores.hooks import HookStore

        return HookStore(self.db, self.clock, self._deliver_sync, self.secret)

    def _deliver_sync(self, tenant: str, event: dict[str, Any], target: HookTarget) -> str:
        """Receive a webhook's event (already checked) for its workflow only; its id."""
        checked, now = self._checked(tenant, event)
        received = self._receive_sync(tenant, checked, now, hook=target)
        if received.woke:
            self.notify()
        return received.event_ids[0]

    async def send(self, tenant: str, events: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
        """Receive one or more events for `tenant`: each starts every matching enabled workflow and
        resolves matching waits. Returns the events' ids. Raises `EventError` for a malformed event
        (then nothing is stored), and `OverBudgetError` when checking them against the tenant's
        workflows' conditions takes more time than its `evaluation_limits` allow (nothing is stored
        either: send them again after its ``retry_after`` seconds). With an `event_sink`, the events go
        there instead."""
        if self.event_sink is not None:
            return await self.event_sink(tenant, events)
        checked, now = self._checked(tenant, events)
        received = await self._receive(tenant, checked, now)
        if received.woke:
            self.notify()
        if self.observers:
            self._received(tenant, events, received.event_ids)
        return received.event_ids

    def send_sync(self, tenant: str, events: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
        """`send` for synchronous code."""
        if self.event_sink is not None:
            return asyncio.run(self.event_sink(tenant, events))
        checked, now = self._checked(tenant, events)
        received = self._receive_sync(tenant, checked, now)
        if received.woke:
            self.notify()
        if self.observers:
            self._received(tenant, events, received.event_ids)
        return received.event_ids

    def _received(self, tenant: str, events: dict[str, Any] | list[dict[str, Any]], ids: list[str]) -> None:
        observer = combine(self.observers)
        if observer is not None:
            names = [str(e.get("name")) for e in (events if isinstance(events, list) else [events])]
            observer.events_received(tenant, names, ids)

    def _checked(self, tenant: str, events: dict[str, Any] | list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """The events normalized (each with its time), and now; raises `EventError` for a malformed one."""
        from .tenancy import check_tenant

        check_tenant(tenant)
        now = self.clock.now_ms()
        checked = normalize_events(events, now)
        if self.trace_events:
            from .traces import current_traceparent

            traceparent = current_traceparent()
            if traceparent is not None:
                for event in checked:
                    event.setdefault("traceparent", traceparent)
        return checked, now

    async def _receive(
        self, tenant: str, checked: list[dict[str, Any]], now: int, *, hook: HookTarget | None = None
    ) -> Received:
        """Receive checked events: at once when they reach no expression of the tenant's, else decided
        first in a thread, outside the writer (see runtime/lifecycle/decide.py)."""
        plain = self._plain_job(tenant, checked, now, hook)
        if plain is not None:
            received = await self.db.writer.submit(plain)
            if received is not None:
                return received
            self._decide_first.needed(tenant, now)
        job = await asyncio.to_thread(self._decided_job, tenant, checked, now, hook)
        return await self.db.writer.submit(job)

    def _receive_sync(
        self, tenant: str, checked: list[dict[str, Any]], now: int, *, hook: HookTarget | None = None
    ) -> Received:
        """`_receive` for synchronous code."""
        plain = self._plain_job(tenant, checked, now, hook)
        if plain is not None:
            received = self.db.writer.run(plain)
            if received is not None:
                return received
            self._decide_first.needed(tenant, now)
        return self.db.writer.run(self._decided_job(tenant, checked, now, hook))

    @cached_property
    def _decide_first(self) -> DecideFirst:
        from .runtime.lifecycle.decide import DecideFirst

        return DecideFirst()

    def _plain_job(
        self, tenant: str, checked: list[dict[str, Any]], now: int, hook: HookTarget | None
    ) -> WriteJob[Received | None] | None:
        """Receiving the events at once, undecided: evaluates nothing of the tenant's, and gives None,
        its writes undone, if they reach an expression. None when the tenant's events are decided first
        now."""
        from .runtime.lifecycle.effects import Context
        from .runtime.lifecycle.settle import receive_at_once
        from .runtime.storage.writer import WriteJob

        if self._decide_first(tenant, now):
            return None
        ctx = Context(self.db.dialect, self._settings, self.retention)
        return WriteJob(tenant=tenant, apply=lambda conn: receive_at_once(ctx, conn, tenant, checked, now, hook=hook))

    def _decided_job(
        self, tenant: str, checked: list[dict[str, Any]], now: int, hook: HookTarget | None = None
    ) -> WriteJob[Received]:
        """Receiving events as a write of the group-commit writer, decided before it is queued (every
        expression of the tenant's that they reach evaluated, within its budget); the job writes what
        was decided. Raises `OverBudgetError` if the tenant's budget is spent. `hook`: the events a
        webhook made (they start its workflow only)."""
        from .runtime.lifecycle.decide import decide
        from .runtime.lifecycle.effects import Context
        from .runtime.lifecycle.settle import receive
        from .runtime.storage.writer import WriteJob

        ctx = Context(self.db.dialect, self._settings, self.retention)
        with self.evaluation_budget.request(tenant) as meter, self.db.read() as conn:
            decided = decide(ctx, conn, tenant, checked, now, meter.charge, hook=hook)
        return WriteJob(
            tenant=tenant,
            apply=lambda conn: receive(ctx, conn, tenant, checked, now, hook=hook, decided=decided),
        )

    def worker(self, **options: Any) -> Worker:
        """An in-process worker: ``async with kit.worker(): ...``. Options: concurrency, lease_ms,
        poll_ms, shutdown_grace_ms, name."""
        from .runtime.worker.host import WorkerHost
        from .runtime.worker.loop import Worker

        host = WorkerHost(
            registry=self.registry,
            db=self.db,
            clock=self.clock,
            retry_policy=self.retry_policy,
            ai=self.ai,
            settings=self._settings,
            connections=self.connections,
            notify=self.notify,
            attach=self._attach_worker,
            detach=self._detach_worker,
            observer=combine(self.observers),
            retention=self.retention,
            decide_first=self._decide_first,
            remote=lambda: self.remote,
        )
        return Worker(host, **options)

    def has_worker(self) -> bool:
        """Whether a worker of this kit runs in this process now (``async with kit.worker()`` entered)."""
        return bool(self._workers)

    def editor_token(
        self,
        tenant: str,
        user: str,
        *,
        ttl: timedelta | int = timedelta(hours=1),
        scopes: Iterable[str] = SCOPES,
    ) -> str:
        """A short-lived signed token for one end user of `tenant`, for the editor API
        (``Authorization: Bearer <token>``). `ttl` is a timedelta or seconds; `scopes` default to all
        the editor needs. Signed with the kit's `secret` (``$WORKFLOW_KIT_SECRET``)."""
        if self.secret is None:
            raise TokenError("no signing secret: pass WorkflowKit(secret=...) or set WORKFLOW_KIT_SECRET")
        return mint(self.secret, tenant, user, ttl=ttl, now_ms=self.clock.now_ms(), scopes=scopes)

    def migrate_sync(self) -> str:
        """Create or upgrade the database tables; returns the schema revision."""
        return self.db.migrate()

    migrate = async_twin(migrate_sync)

    def notify(self) -> None:
        """Wake this process's workers (something became due)."""
        self._notifier.notify()

    def close(self) -> None:
        """Release the database connections."""
        if "db" in self.__dict__:
            self.db.dispose()

    def _attach_worker(self, worker: Attached, loop: asyncio.AbstractEventLoop, wakeup: asyncio.Event) -> None:
        self._workers.append(worker)
        self._notifier.subscribe(loop, wakeup)

    def _detach_worker(self, worker: Attached, wakeup: asyncio.Event) -> None:
        self._notifier.unsubscribe(wakeup)
        self._workers = [w for w in self._workers if w is not worker]

    def _cancelled(self, run_id: str) -> None:
        for worker in list(self._workers):
            worker.cancelled(run_id)

    def action(
        self,
        *,
        kind: str,
        name: str | None = None,
        description: str | None = None,
        icon: str | None = None,
        edges: Sequence[PredefinedEdge | dict[str, Any]] = (),
        allow_add: bool = True,
        retries: int | None = None,
        side_effects: bool = True,
    ) -> Callable[[H], H]:
        """Register the decorated handler ``(ctx, inputs) -> output`` as an action of this `kind`.

        The handler may be sync or async; `inputs` is annotated as a msgspec Struct, a TypedDict, a
        dataclass or ``dict[str, Any]``; the return annotation is the output type. `edges` predefines
        outgoing edges (``{"name": "True", "conditional": {...}}``); `retries` overrides the retry count.
        `side_effects` (True unless said otherwise) says that running it changes something outside the
        run (sends an email, writes a record): the editor asks before testing it. The handler is
        returned unchanged.
        """

        def register(handler: H) -> H:
            # Types defined in the decorating scope (e.g. inside a function) resolve string annotations.
            scope = sys._getframe(1).f_locals
            self.register(
                ActionDefinition.from_handler(
                    handler,
                    kind=kind,
                    name=name,
                    description=description,
                    icon=icon,
                    edges=edges,
                    allow_add=allow_add,
                    retries=retries,
                    side_effects=side_effects,
                    localns=dict(scope),
                )
            )
            return handler

        return register

    def register(self, definition: ActionDefinition) -> None:
        """Register a definition built elsewhere; a kind may be registered once."""
        self.registry.register(definition)

    def event_type(
        self,
        name: str,
        *,
        schema: Any = None,
        examples: Sequence[dict[str, Any]] = (),
        description: str = "",
    ) -> EventType:
        """Declare what the event `name` looks like, for the editor: `schema` is the JSON Schema of its
        ``data`` (a dict, or a type such as a msgspec Struct), `examples` are realistic ``data`` objects
        (a new workflow on this event starts with the first as its sample). Each example is checked
        against the schema now: a bad one raises `ValueError` naming its path (``examples[0].title``).
        A name may be declared once. Received events are not checked against it."""
        declared = EventType.declare(name, schema=schema, examples=examples, description=description)
        self.event_types.register(declared)
        return declared

    def template(
        self,
        id: str,
        *,
        name: str,
        description: str = "",
        workflow: dict[str, Any],
        trigger: dict[str, Any] | str,
        settings: dict[str, Any] | None = None,
        tags: Sequence[str] = (),
    ) -> Template:
        """Ship a ready-made workflow for the editor's gallery ("Use this template" makes a draft of it).
        Checked now, against the actions registered so far: its `workflow`, its `trigger` (an event name,
        ``{"event", "if"?}`` or ``{"cron"}``) and its `settings`; a template that does not validate
        raises `TemplateError` listing every problem with its path (``workflow.actions[0].inputs.x``).
        An input may be left blank for the user: absent from the step's inputs and named in its
        ``to_fill`` (``{"post_id": "Which post?"}``), which the editor asks for before the first save.
        `tags` group templates in the gallery. An id may be registered once."""
        declared = Template.declare(
            self.registry,
            id,
            name=name,
            description=description,
            workflow=workflow,
            trigger=trigger,
            settings=settings,
            tags=tags,
            cron_seconds=self.cron_seconds,
        )
        self.templates.register(declared)
        return declared

    def public_templates(self) -> list[dict[str, Any]]:
        """The templates for the editor's gallery, as JSON: id, name, description, tags, trigger,
        settings, workflow, and the blanks it leaves to fill."""
        return self.templates.public()

    def connection_type(
        self,
        type_id: str,
        *,
        name: str | None = None,
        kind: Kind = "api_key",
        description: str = "",
        schema: Any = None,
        secret_fields: Sequence[str] = (),
        authorize_url: str | None = None,
        token_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: Sequence[str] = (),
        extra_authorize_params: dict[str, str] | None = None,
        test: TestHook | None = None,
        headers: HeadersHook | None = None,
    ) -> ConnectionType:
        """Declare a kind of outside account end users may connect, for inputs typed
        ``Connection["<type_id>"]``. ``kind="api_key"``: a form from `schema` (a JSON Schema dict or a
        type), whose secret fields carry ``"x-secret": true`` or are listed in `secret_fields`;
        `headers` (optional) turns its fields into the headers that authorize a request.
        ``kind="oauth2"``: authorization code with PKCE at `authorize_url` and `token_url`, asking for
        `scopes`, with the host's `client_id` and `client_secret` there. `test(credential)` (optional,
        sync or async) raises when a connection no longer works. An id may be declared once."""
        declared = ConnectionType.declare(
            type_id,
            name=name,
            kind=kind,
            description=description,
            schema=schema,
            secret_fields=secret_fields,
            authorize_url=authorize_url,
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            scopes=scopes,
            extra_authorize_params=extra_authorize_params,
            test=test,
            headers=headers,
        )
        self.connection_types.register(declared)
        return declared

    def public_event_types(self) -> list[dict[str, Any]]:
        """The declared event types for the editor, as JSON: name, description, schema, examples."""
        return self.event_types.public()

    def public_actions(self) -> list[dict[str, Any]]:
        """The action catalog for the editor, as JSON: kind, name, description, icon, input and output
        JSON Schemas, predefined edges, whether it has side effects. Never the handler."""
        return self.registry.public()

    def validate(self, workflow: WorkflowLike) -> list[Problem]:
        """Every problem in `workflow`, each with a code and a path; empty when it is valid."""
        return validate(workflow, self.registry)

    def load(self, workflow: WorkflowLike) -> Workflow:
        """Load and validate; raises `WorkflowValidationError` listing every problem."""
        return ensure_valid(workflow, self.registry)


class _Notifier:
    """Wakes the workers of this process (thread-safe): called when runs become due."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._targets: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def subscribe(self, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        with self._lock:
            self._targets.append((loop, event))

    def unsubscribe(self, event: asyncio.Event) -> None:
        with self._lock:
            self._targets = [(loop, e) for loop, e in self._targets if e is not event]

    def notify(self) -> None:
        with self._lock:
            targets = list(self._targets)
        for loop, event in targets:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed
                self.unsubscribe(event)
