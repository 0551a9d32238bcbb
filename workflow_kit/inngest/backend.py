"""`InngestBackend`: a kit's workflows as Inngest functions.

One function, ``workflow-run``, runs every workflow: triggered by run request events
(``workflow-kit/run.requested``), it records the pinned workflow version as its first step
(``$workflow``) and drives it with the kit's planner and handlers (`driver.py`). A workflow with
flow-control settings can have a function of its own with those settings as Inngest options
(`dedicate`). Events the kit receives (`send`) are matched to the tenant's enabled workflows as the
embedded runtime matches them (triggers, wildcards, CEL ``if``, first matching trigger per workflow);
each match becomes a run request, sent with the event itself (for waits and cancellations) in one
call of the SDK's client.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import inngest
import msgspec
from inngest._internal.server_lib import Opcode
from inngest._internal.step_lib import ResponseInterrupt

from ..errors import WorkflowValidationError
from ..events import normalize_events
from ..retry import MAX_RETRIES
from ..runtime.rules.cron import timer_event
from ..runtime.rules.settings import WorkflowSettings
from ..runtime.rules.triggers import Trigger, TriggerLike, condition_holds, fired, parse_triggers, patterns_for
from ..tenancy import check_tenant
from ..validation import ensure_valid
from ..workflow import Workflow
from .driver import InngestRun, RunRecorder
from .options import function_options
from .protocol import CANCEL_MATCH, CANCEL_REQUESTED, INVOKED, RUN_REQUESTED, TENANT_FIELD, RunRequest
from .recorder import StoreRecorder
from .sources import Published, StoreWorkflows, WorkflowSource

if TYPE_CHECKING:
    from ..kit import WorkflowKit

RUN_FUNCTION = "workflow-run"
ENDED_FUNCTION = "run-ended"
"""With the store's recorder: records the runs Inngest ended itself (a ``cancel`` option, a timeout, a
cancel in Inngest's dashboard or REST API, a failure outside the workflow), from its system events."""
SYSTEM_ENDS = ("inngest/function.cancelled", "inngest/function.failed")
MERGING = frozenset({"debounce", "rate_limit", "idempotency", "batch_events", "singleton"})
"""Function options with which Inngest may drop a run request or merge it with others: such runs are
recorded when they start, not when asked for (a run never started would show queued for ever)."""
CRON_EVENT = "inngest/scheduled.timer"
"""The event Inngest starts a function's scheduled runs with."""
WORKFLOW_STEP = "$workflow"
"""The run's first step: the pinned version it runs (``$`` as in ``$source``: no action's own id)."""
Sender = Callable[[list[inngest.Event]], Awaitable[list[str]]]
DEFAULT: Any = object()
"""`InngestBackend`'s recorder when none is given: the kit's store (`StoreRecorder`) if the workflows
are the store's, else none."""


class InngestBackend:
    """Run `kit`'s workflows on Inngest through `client` (an ``inngest.Inngest``).

    `workflows`: where workflows are found (default: the kit's store); `sender`: how events reach
    Inngest (default: ``client.send``; tests capture them); `recorder`: told what each run does
    (default: `StoreRecorder`, the kit's own tables, when the workflows are the store's; None: nothing
    is recorded). With the store's recorder, cancelling a run in the kit cancels it on Inngest."""

    def __init__(
        self,
        kit: WorkflowKit,
        client: inngest.Inngest,
        *,
        workflows: WorkflowSource | None = None,
        sender: Sender | None = None,
        recorder: RunRecorder | None = DEFAULT,
    ) -> None:
        self.kit = kit
        self.client = client
        self.workflows: WorkflowSource = workflows or StoreWorkflows(kit)
        if recorder is DEFAULT:
            recorder = StoreRecorder(kit) if workflows is None else None
        self.recorder: RunRecorder | None = recorder
        if isinstance(recorder, StoreRecorder):
            kit.remote = self  # runs cancelled, rerun or replayed in the kit: told to Inngest
        self._sender: Sender = sender or client.send
        self._functions: dict[str, inngest.Function[Any]] = {}
        self._routes: dict[tuple[str, str], tuple[str, str]] = {}
        """(tenant, workflow id) -> (function id, run request event name) of dedicated functions."""
        self._checked: dict[tuple[str, str, int | None, bytes], Workflow] = {}
        self._ended: inngest.Function[Any] | None = None
        self._merging: set[tuple[str, str]] = set()
        """(tenant, workflow id) of dedicated functions that may drop or merge run requests."""
        self._function(RUN_FUNCTION, "Run a workflow", RUN_REQUESTED, {})

    def functions(self) -> list[inngest.Function[Any]]:
        """Every function to serve: the run function and the dedicated ones (and, with the store's
        recorder, the one recording runs Inngest ended itself)."""
        functions = list(self._functions.values())
        if isinstance(self.recorder, StoreRecorder):
            functions.append(self._ended_function(self.recorder))
        return functions

    def _ended_function(self, recorder: StoreRecorder) -> inngest.Function[Any]:
        if self._ended is None:
            # every function of this backend's, and no other (its own id does not start so)
            expression = f"event.data.function_id.startsWith('{self.client.app_id}-workflow-')"
            triggers: list[inngest.TriggerEvent | inngest.TriggerCron] = [
                inngest.TriggerEvent(event=name, expression=expression) for name in SYSTEM_ENDS
            ]

            @self.client.create_function(fn_id=ENDED_FUNCTION, name="Record runs Inngest ended", trigger=triggers)
            async def run_ended(ctx: inngest.Context) -> None:
                data = dict(ctx.event.data)
                request = data.get("event") or {}
                asked = (request.get("data") or {}) if isinstance(request, dict) else {}
                run_id = str(asked.get("run_id") or data.get("run_id") or "")
                status = "cancelled" if ctx.event.name.endswith(".cancelled") else "failed"
                raw = data.get("error")
                error = dict(raw) if isinstance(raw, dict) else None
                if run_id:
                    await recorder.ended(run_id, status, error)

            self._ended = run_ended
        return self._ended

    def dedicate(
        self,
        tenant: str,
        workflow_id: str,
        settings: WorkflowSettings | dict[str, Any] | None = None,
        *,
        triggers: Sequence[TriggerLike] = (),
    ) -> None:
        """Give the workflow a function of its own whose Inngest options are its flow-control settings
        (`options.function_options`) and whose cron triggers are Inngest's: its runs go there from now
        on. `triggers`: the workflow's (only the cron ones matter here; events are matched by `send`).
        Call it before serving (Inngest reads functions when the app syncs)."""
        check_tenant(tenant)
        slug = _slug(f"{tenant}-{workflow_id}")
        function_id = f"workflow-{slug}-{hashlib.sha256(f'{tenant}/{workflow_id}'.encode()).hexdigest()[:8]}"
        event_name = f"{RUN_REQUESTED}.{function_id}"
        crons = [(i, t) for i, t in enumerate(parse_triggers(list(triggers)) if triggers else ()) if t.cron]
        schedule = _Schedule(tenant, workflow_id, tuple(crons))
        options = function_options(settings)
        self._function(function_id, f"Run {workflow_id} ({tenant})", event_name, options, schedule)
        self._routes[(tenant, workflow_id)] = (function_id, event_name)
        if MERGING & options.keys():
            self._merging.add((tenant, workflow_id))
        else:
            self._merging.discard((tenant, workflow_id))

    async def dedicate_published(self, tenant: str) -> None:
        """`dedicate` each of the tenant's enabled workflows that has settings or a cron trigger, with
        its published version's settings and triggers: what a host calls for its tenants at start-up."""
        for workflow in await self.workflows.enabled(tenant):
            if workflow.settings or any(t.cron for t in workflow.triggers):
                self.dedicate(tenant, workflow.workflow_id, workflow.settings, triggers=workflow.triggers)

    def take_events(self) -> None:
        """From now on ``kit.send`` (and so the editor API's events) sends to Inngest through `send`,
        instead of to the embedded runtime; the kit's event list then no longer shows them."""
        self.kit.event_sink = self.send

    async def send(self, tenant: str, events: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
        """Receive events for `tenant` as ``kit.send`` does: each starts a run of every enabled workflow
        one of whose triggers matches; returns the events' ids (Inngest's)."""
        check_tenant(tenant)
        return await self.forward(tenant, normalize_events(events, self.kit.clock.now_ms()), None)

    async def start(self, tenant: str, workflow_id: str, event: dict[str, Any], *, version: int | None = None) -> str:
        """Ask for one run of `workflow_id` (a version, or the latest published) for `event`, whatever
        its triggers say; the id of the run request event."""
        check_tenant(tenant)
        (checked,) = normalize_events([event], self.kit.clock.now_ms())
        request = RunRequest(tenant=tenant, workflow_id=workflow_id, version=version, event=checked)
        if self.recorder is not None:
            if version is None:  # pinned now, as the run is recorded with its version
                request.version = (await self.workflows.load(tenant, workflow_id, None)).version
            request.run_id = await self.recorder.requested(tenant, request)
        (sent,) = await self._sender([self._request_event(request, "")])
        if self.recorder is not None and request.run_id is not None:
            await self.recorder.sent([(request.run_id, sent)])
        return sent

    async def cancelled(self, tenant: str, run_ids: list[str]) -> None:
        """Cancel these runs on Inngest, those of them that run there (as the kit's ``remote``: called
        once the kit has cancelled them in its store): an event the run function's ``cancel`` option
        matches by run id and tenant."""
        if not isinstance(self.recorder, StoreRecorder) or not run_ids:
            return
        found = await self.recorder.remote_runs(tenant, run_ids)
        now = self.kit.clock.now_ms()
        events = [
            inngest.Event(name=CANCEL_REQUESTED, data={"run_id": run_id, TENANT_FIELD: tenant}, ts=now)
            for run_id, _remote_id in found
        ]
        if events:
            await self._sender(events)

    async def requested(self, tenant: str, run_ids: list[str]) -> None:
        """Ask Inngest for these runs, created queued in the kit's store and not asked for yet (as the
        kit's ``remote``: a rerun, a bulk replay); each request is keyed by its run, so asking twice
        starts one run."""
        if not isinstance(self.recorder, StoreRecorder) or not run_ids:
            return
        asked = await self.recorder.unsent(tenant, run_ids)
        requests = [
            RunRequest(
                tenant=tenant,
                workflow_id=wanted.workflow_id,
                version=wanted.version,
                event=wanted.event,
                trigger=wanted.trigger,
                run_id=run_id,
            )
            for run_id, wanted in asked
        ]
        if requests:
            ids = await self._sender([self._request_event(r, _digest(f"run/{r.run_id}")) for r in requests])
            await self.recorder.sent([(str(r.run_id), i) for r, i in zip(requests, ids, strict=True)])

    async def forward(self, tenant: str, events: list[dict[str, Any]], once: str | None) -> list[str]:
        """Send checked events and the run requests they cause; `once` keys events without an id, so a
        step that sends again sends nothing new (Inngest drops an event id it saw in the last 24 hours)."""
        published = await self.workflows.enabled(tenant)
        asked: list[list[RunRequest]] = []
        for event in events:
            requests = []
            for workflow in published:
                trigger = _first_match(workflow, event)
                if trigger is not None:
                    requests.append(
                        RunRequest(
                            tenant=tenant,
                            workflow_id=workflow.workflow_id,
                            version=workflow.version,
                            event=event,
                            trigger=trigger,
                        )
                    )
            asked.append(requests)
        if self.recorder is not None:  # stored as received, each requested run queued: before Inngest hears
            at_once = [[r for r in requests if (tenant, r.workflow_id) not in self._merging] for requests in asked]
            recorded = await self.recorder.received(tenant, events, at_once)
            for requests, now, (event_id, run_ids) in zip(asked, at_once, recorded, strict=True):
                if run_ids is None:  # a duplicate event: Inngest drops it, and starts nothing
                    requests.clear()
                    continue
                for request, run_id in zip(now, run_ids, strict=True):
                    request.run_id = run_id
                for request in requests:  # recorded when (if) they start, with their event
                    request.event_id = event_id
        outgoing: list[inngest.Event] = []
        positions: list[int] = []
        requested: list[tuple[int, str]] = []
        for index, (event, requests) in enumerate(zip(events, asked, strict=True)):
            key = event.get("id") or (_digest(f"{once}/{index}") if once else "")
            positions.append(len(outgoing))
            data = {**event["data"], TENANT_FIELD: tenant}
            outgoing.append(inngest.Event(name=event["name"], data=data, id=key, ts=event["ts"]))
            for request in requests:
                if request.run_id is not None:
                    requested.append((len(outgoing), request.run_id))
                outgoing.append(self._request_event(request, f"{key}/{request.workflow_id}" if key else ""))
        ids = await self._sender(outgoing)
        if self.recorder is not None and requested:
            await self.recorder.sent([(run_id, ids[i]) for i, run_id in requested])
        return [ids[i] for i in positions]

    def invoke_target(self, tenant: str, workflow_id: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The function that runs `workflow_id` and the run request invoking its latest version."""
        event = {"name": INVOKED, "data": data, "ts": self.kit.clock.now_ms()}
        function_id = self._routes.get((tenant, workflow_id), (RUN_FUNCTION, ""))[0]
        return function_id, RunRequest(tenant=tenant, workflow_id=workflow_id, event=event).to_data()

    # -- the function -----------------------------------------------------------------------------

    def _function(
        self,
        function_id: str,
        name: str,
        event_name: str,
        options: dict[str, Any],
        schedule: _Schedule | None = None,
    ) -> None:
        # Inngest may make every attempt the kit's policies allow; each step's own policy decides when
        # to stop (its retries come from the settings, the action, the kit: see `actions.py`).
        options = {k: v for k, v in options.items() if k != "retries"}
        # a run cancelled in the kit (the editor, kit.runs.cancel) is cancelled here by an event
        cancels = [*options.get("cancel", []), inngest.Cancel(event=CANCEL_REQUESTED, if_exp=CANCEL_MATCH)]
        options["cancel"] = cancels
        triggers: list[inngest.TriggerEvent | inngest.TriggerCron] = [inngest.TriggerEvent(event=event_name)]
        if schedule is not None:
            triggers += [inngest.TriggerCron(cron=str(trigger.cron)) for _, trigger in schedule.crons]

        @self.client.create_function(fn_id=function_id, name=name, trigger=triggers, retries=MAX_RETRIES, **options)
        async def run_workflow(ctx: inngest.Context) -> dict[str, Any]:
            return await self._run(ctx, schedule)

        self._functions[function_id] = run_workflow

    def _request_event(self, request: RunRequest, key: str) -> inngest.Event:
        name = self._routes.get((request.tenant, request.workflow_id), ("", RUN_REQUESTED))[1]
        return inngest.Event(name=name, data=request.to_data(), id=key, ts=request.event.get("ts", 0))

    async def _run(self, ctx: inngest.Context, schedule: _Schedule | None) -> dict[str, Any]:
        if schedule is not None and ctx.event.name == CRON_EVENT:
            request = schedule.request(ctx.event, self.kit.clock.now_ms())
            batch: tuple[dict[str, Any], ...] = (request.event,)
        else:
            try:
                request = RunRequest.from_data(dict(ctx.event.data))
                batch = tuple(RunRequest.from_data(dict(e.data)).event for e in ctx.events) or (request.event,)
            except msgspec.ValidationError as exc:
                raise inngest.NonRetriableError(f"not a run request: {exc}") from None

        async def pinned() -> dict[str, Any]:
            try:
                found = await self.workflows.load(request.tenant, request.workflow_id, request.version)
            except LookupError as exc:
                raise inngest.NonRetriableError(str(exc)) from None
            return {"version": found.version, "workflow": found.workflow, "settings": found.settings}

        version = await ctx.step.run(WORKFLOW_STEP, pinned)
        settings = WorkflowSettings.parse(version.get("settings") or None)
        run_id = request.run_id or ctx.run_id
        recorder = self.recorder
        number = version.get("version")
        if recorder is not None and not await recorder.started(run_id, ctx.run_id, request.tenant, request, number):
            raise inngest.NonRetriableError("the run was cancelled")  # in the kit: it stops here
        run = InngestRun(
            ctx=ctx,
            registry=self.kit.registry,
            workflow=self._valid(request, version),
            tenant=request.tenant,
            event=request.event,
            events=batch,
            trigger=request.trigger,
            policy=self.kit.retry_policy.with_retries(settings.retries),
            clock=self.kit.clock,
            sender=self.forward,
            invoker=self.invoke_target,
            ai=self.kit.ai,
            notes=[] if recorder is not None else None,
        )
        parked: str | None = None
        try:
            return await run.drive()
        except ResponseInterrupt as interrupt:  # the request ends with steps for Inngest to take
            parked = _parked(interrupt)
            raise
        finally:  # every request, however it ends (a new step found, a retry, the run's end)
            if recorder is not None:
                await recorder.record(run_id, run.notes or [], run.end, parked)

    def _valid(self, request: RunRequest, version: dict[str, Any]) -> Workflow:
        """The recorded version, checked against this kit's actions (once per version and content)."""
        content = msgspec.json.encode(version["workflow"])
        key = (request.tenant, request.workflow_id, version.get("version"), hashlib.sha256(content).digest())
        workflow = self._checked.get(key)
        if workflow is None:
            try:
                workflow = self._checked[key] = ensure_valid(version["workflow"], self.kit.registry)
            except WorkflowValidationError as exc:
                raise inngest.NonRetriableError(f"the workflow is not valid with this app's actions: {exc}") from None
        return workflow


@dataclass(frozen=True)
class _Schedule:
    """The cron triggers of a dedicated function's workflow, with their positions in its list."""

    tenant: str
    workflow_id: str
    crons: tuple[tuple[int, Trigger], ...]

    def request(self, tick: inngest.Event, now_ms: int) -> RunRequest:
        """The run a tick of Inngest's schedule starts: the latest version, with the kit's timer event."""
        cron = str(tick.data.get("cron") or "")
        position, trigger = next(((i, t) for i, t in self.crons if t.cron == cron), self.crons[0])
        event = timer_event(str(trigger.cron), tick.ts or now_ms, now_ms)
        return RunRequest(
            tenant=self.tenant, workflow_id=self.workflow_id, event=event, trigger=fired(trigger, position)
        )


_HOLDS = {Opcode.SLEEP: "sleeping", Opcode.WAIT_FOR_EVENT: "waiting", Opcode.INVOKE: "waiting"}


def _parked(interrupt: ResponseInterrupt) -> str | None:
    """``sleeping`` or ``waiting`` when the only steps a request ends with are Inngest holding the run
    (sleeps; waits for an event or an invoked run: waiting wins), else None (it runs on)."""
    held = {_HOLDS.get(response.step.op) for response in interrupt.responses}
    if not held or None in held:
        return None
    return "waiting" if "waiting" in held else "sleeping"


def _first_match(workflow: Published, event: dict[str, Any]) -> dict[str, Any] | None:
    """What the run records of the first of the workflow's triggers that the event matches, if any."""
    names = set(patterns_for(event["name"]))
    for position, trigger in enumerate(workflow.triggers):
        if trigger.event is not None and trigger.event in names and condition_holds(trigger.if_, event):
            return fired(trigger, position)
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "workflow"


def _digest(text: str) -> str:
    return "wk-" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
