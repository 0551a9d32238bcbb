"""A test double of Inngest's executor: it calls a served app's Inngest endpoint the way Inngest's servers
do, so the real SDK's request handler runs the functions (no Inngest server can be installed here).

Per run it posts the SDK's protocol (``ctx`` with the run id, attempt, max attempts and whether to plan
instead of executing; ``event``, ``events``; ``steps``: the memoized results) and acts on each answer:
200 ends the run with its output; 206 lists ops: ``StepRun`` is memoized, ``StepError`` retried (a new
attempt) unless the answer says no retry or attempts are spent, then memoized as the error, like
``StepFailed``; ``StepPlanned`` steps are executed one by one (``stepId``), then the function is asked
again without immediate execution; ``Sleep`` and ``WaitForEvent`` wait until nothing else can move (then
a wait takes the first matching event received after it began, else times out to null, and sleeps
end); ``InvokeFunction`` runs the invoked function as a run of its own. Before each request, an event
received since the run began that one of its function's ``cancel`` options matches ends it cancelled.
A 500 is a function-level error, retried unless the answer says ``x-inngest-no-retry`` (time is
virtual: ``Retry-After`` is not waited).

Events sent through the backend (`receive`) are kept for waits, and those a function is triggered by
are queued as runs (`run_queued`).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import inngest

from workflow_kit import expressions
from workflow_kit.errors import ExpressionError

URL = "http://127.0.0.1"
PATH = "/api/inngest"
MAX_REQUESTS = 5000
SYSTEM = "inngest/function."


@dataclass
class Ended:
    status: Literal["completed", "failed", "cancelled"]
    output: Any = None
    error: dict[str, Any] | None = None
    run_id: str = ""
    event: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Run:
    run_id: str
    function_id: str
    event: dict[str, Any]
    steps: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    planned: list[str] = field(default_factory=list)


class InngestExecutor:
    def __init__(self, app: Any, functions: list[inngest.Function[Any]]) -> None:
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=URL)
        self.triggered: dict[str, str] = {}
        self.max_attempts: dict[str, int] = {}
        self.cancels: dict[str, list[tuple[str, str | None]]] = {}
        self.expressions: dict[str, str | None] = {}
        for function in functions:
            config = function.get_config(URL + PATH).main
            retries = config.steps["step"].retries
            self.max_attempts[function.id] = (retries.attempts if retries else 3) + 1
            self.cancels[function.id] = [(c.event, c.if_exp) for c in config.cancel or ()]
            for trigger in config.triggers:
                if isinstance(trigger, inngest.TriggerEvent):
                    self.triggered[trigger.event] = function.id
                    self.expressions[function.id] = trigger.expression
        self.inbox: list[dict[str, Any]] = []
        self.queued: list[tuple[str, dict[str, Any], int]] = []
        """Runs to start: (function id, its event, how many events had been received before it)."""
        self.posts = 0
        self.ops: Counter[str] = Counter()
        """How many times the SDK answered each op code (StepRun, StepPlanned, Sleep, ...)."""
        self.before_request: Callable[[], Awaitable[None]] | None = None
        """Called before each request (tests look at what the app recorded in between)."""
        self._seen: set[str] = set()
        self._ids = itertools.count(1)

    async def close(self) -> None:
        await self.http.aclose()

    async def receive(self, events: list[inngest.Event]) -> list[str]:
        """What Inngest's event API does with sent events (the backend's `sender`): their ids."""
        ids = []
        for sent in events:
            event = sent.model_dump(mode="json")
            event["id"] = event.get("id") or f"event-{next(self._ids)}"
            ids.append(event["id"])
            if event["id"] in self._seen:  # Inngest drops an id it saw in the last 24 hours
                continue
            self._seen.add(event["id"])
            self.inbox.append(event)
            if event["name"] in self.triggered:
                function_id = self.triggered[event["name"]]
                if _holds(self.expressions.get(function_id), event, {}):
                    self.queued.append((function_id, event, len(self.inbox)))
        return ids

    async def run_queued(self) -> list[Ended]:
        """Run every queued run to its end; how those of sent events ended (the runs Inngest's own
        system events start, ``inngest/function.*``, run too but are not in the list)."""
        ended = []
        while self.queued:
            function_id, event, since = self.queued.pop(0)
            run = await self.run(function_id, event, since)
            if not event["name"].startswith(SYSTEM):
                ended.append(run)
        return ended

    async def run(self, function_id: str, event: dict[str, Any], since: int | None = None) -> Ended:
        """Run one function run to its end (`since`: the events received before it was queued, which
        cannot cancel it). A run that failed or was cancelled is announced as Inngest announces it
        (``inngest/function.failed`` / ``.cancelled``, with the run's event), which may queue runs."""
        ended = await self._run(function_id, event, since)
        if ended.status != "completed":
            error = ended.error if ended.status == "failed" else {"name": "Error", "message": "function cancelled"}
            data = {"function_id": function_id, "run_id": ended.run_id, "event": ended.event, "error": error}
            await self.receive([inngest.Event(name=f"inngest/function.{ended.status}", data=data)])
        return ended

    async def _run(self, function_id: str, event: dict[str, Any], since: int | None) -> Ended:
        event = {"id": f"event-{next(self._ids)}", "ts": 0, **event}
        run = _Run(f"run-{next(self._ids)}", function_id, event)
        attempt, target, plan_only = 0, None, False
        since = len(self.inbox) if since is None else since
        for _ in range(MAX_REQUESTS):
            if self._cancelled(run, since):
                return Ended("cancelled", run_id=run.run_id, event=run.event)
            if target is None and run.planned:
                target = run.planned.pop(0)
            answer = await self._post(run, target, attempt, plan_only)
            if answer.status_code == 200:
                return Ended("completed", output=answer.json(), run_id=run.run_id)
            if answer.status_code != 206:
                if self._no_retry(answer, run, attempt):
                    return Ended("failed", error=answer.json(), run_id=run.run_id, event=run.event)
                attempt += 1
                continue
            retry, progressed = False, False
            for op in answer.json():
                step_id, kind = op["id"], op["op"]
                self.ops[kind] += 1
                if kind == "StepRun":
                    run.steps[step_id] = {"data": op.get("data")}
                elif kind in ("StepError", "StepFailed"):
                    if kind == "StepError" and not self._no_retry(answer, run, attempt):
                        retry = True
                        continue
                    run.steps[step_id] = {"error": op["error"]}
                elif kind == "StepPlanned":
                    plan_only = True
                    if step_id not in run.steps and step_id not in run.planned and step_id != target:
                        run.planned.append(step_id)
                    continue
                elif kind in ("Sleep", "WaitForEvent"):
                    run.pending.setdefault(step_id, {**op, "since": len(self.inbox)})
                    continue
                elif kind == "InvokeFunction":
                    opts = op["opts"]
                    child = await self.run(opts["function_id"], {"name": "inngest/function.invoked", **opts["payload"]})
                    ended = {"data": child.output} if child.status == "completed" else {"error": child.error}
                    run.steps[step_id] = ended
                else:
                    raise AssertionError(f"unknown op {kind}")
                progressed = True
            if retry:
                attempt += 1
                continue
            attempt, target = 0, None
            if not (run.planned or progressed):
                self._let_time_pass(run)
        raise AssertionError(f"run {run.run_id} did not end in {MAX_REQUESTS} requests")

    async def _post(self, run: _Run, target: str | None, attempt: int, plan_only: bool) -> httpx.Response:
        if self.before_request is not None:
            await self.before_request()
        self.posts += 1
        body = {
            "ctx": {
                "run_id": run.run_id,
                "attempt": attempt,
                "disable_immediate_execution": plan_only,
                "max_attempts": self.max_attempts.get(run.function_id, 4),
                "stack": {"stack": list(run.steps)},
            },
            "event": run.event,
            "events": [run.event],
            "steps": run.steps,
            "use_api": False,
        }
        params = {"fnId": run.function_id, "stepId": target or "step"}
        return await self.http.post(PATH, params=params, json=body, headers={"x-inngest-server-kind": "dev"})

    def _cancelled(self, run: _Run, since: int) -> bool:
        return any(
            candidate["name"] == name and _holds(condition, run.event, candidate)
            for candidate in self.inbox[since:]
            for name, condition in self.cancels.get(run.function_id, [])
        )

    def _no_retry(self, answer: httpx.Response, run: _Run, attempt: int) -> bool:
        spent = attempt + 1 >= self.max_attempts.get(run.function_id, 4)
        return spent or answer.headers.get("x-inngest-no-retry") == "true"

    def _let_time_pass(self, run: _Run) -> None:
        """Nothing else can move: a wait takes a matching event received since it began; if none can,
        time passes: every sleep ends, every wait times out."""
        if not run.pending:
            raise AssertionError(f"run {run.run_id} asked for nothing")
        received = False
        for step_id, op in list(run.pending.items()):
            if op["op"] != "WaitForEvent":
                continue
            wanted, condition = op["name"], (op.get("opts") or {}).get("if")
            for candidate in self.inbox[op["since"] :]:
                if candidate["name"] == wanted and _holds(condition, run.event, candidate):
                    run.steps[step_id] = candidate  # Inngest memoizes the event itself
                    del run.pending[step_id]
                    received = True
                    break
        if received:
            return
        for step_id in run.pending:
            run.steps[step_id] = None
        run.pending.clear()


def _holds(condition: str | None, event: dict[str, Any], candidate: dict[str, Any]) -> bool:
    if not condition:
        return True
    try:
        return expressions.evaluate_bool(condition, {"event": event, "async": candidate})
    except ExpressionError:
        return False
