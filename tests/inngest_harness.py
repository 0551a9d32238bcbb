"""A kit served to the test double of Inngest's executor (`inngest_executor.py`), with workflows in memory:
what the Inngest backend's tests share."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import inngest
import msgspec
from inngest_executor import Ended, InngestExecutor
from litestar import Litestar

from workflow_kit import WorkflowKit
from workflow_kit.inngest import InngestBackend, MemoryWorkflows, RunRequest, inngest_router, serve_fastapi
from workflow_kit.inngest.backend import DEFAULT
from workflow_kit.inngest.driver import RunEnd
from workflow_kit.records import ActionStatus
from workflow_kit.runtime.lifecycle.remote import ActionNote, StepNote
from workflow_kit.testing import RunResult

TENANT = "acme"
QUIET = logging.getLogger("tests.inngest")
QUIET.setLevel(logging.CRITICAL)


@cache
def client() -> inngest.Inngest:
    """One SDK client for every test (making one loads TLS certificates: a third of a second)."""
    return inngest.Inngest(app_id="wk-test", is_production=False, logger=QUIET)


@dataclass
class Timeline:
    """A recorder of the backend's (in memory): what each run reported, replays included."""

    seen: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    ends: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = field(default_factory=dict)

    async def received(
        self, tenant: str, events: list[dict[str, Any]], asked: list[list[RunRequest]]
    ) -> list[tuple[str | None, list[str | None] | None]]:
        return [(None, [None] * len(requests)) for requests in asked]  # known by Inngest's run ids

    async def requested(self, tenant: str, request: RunRequest) -> str | None:
        return None

    async def sent(self, pairs: list[tuple[str, str]]) -> None:
        return None

    async def started(self, run_id: str, remote_id: str, tenant: str, request: RunRequest, version: int | None) -> bool:
        return True

    async def record(
        self, run_id: str, notes: list[ActionNote | StepNote], end: RunEnd | None, parked: str | None
    ) -> None:
        for note in notes:
            if not isinstance(note, ActionNote):  # the actions' sub-steps
                continue
            self.seen.setdefault(run_id, set()).add((note.record_id, _SAID.get(note.status, note.status.value)))
        if end is not None:
            self.ends[run_id] = (end.status, end.state, end.error)

    def having(self, run_id: str, status: str) -> set[str]:
        return {record for record, said in self.seen.get(run_id, set()) if said == status}


_SAID = {ActionStatus.RUNNING: "started"}


class Harness:
    """`kit` on Inngest: a Litestar host (or FastAPI) serving its functions, the executor calling them."""

    def __init__(self, kit: WorkflowKit, *, fastapi: bool = False, store: bool = False, record: bool = False) -> None:
        """`store`: the workflows of the kit's store (its database), instead of `workflows` in memory;
        `record`: and its runs recorded there (the backend's default recorder), instead of `timeline`."""
        self.client = client()
        self.workflows = MemoryWorkflows()
        self.timeline = Timeline()
        self.backend = InngestBackend(
            kit,
            self.client,
            workflows=None if store else self.workflows,
            sender=self._receive,
            recorder=DEFAULT if record else self.timeline,
        )
        self.kit = kit
        self._fastapi = fastapi
        self._executor: InngestExecutor | None = None

    @property
    def executor(self) -> InngestExecutor:
        if self._executor is None:  # built on first use: every function is dedicated by then
            app: Any
            if self._fastapi:
                from fastapi import FastAPI

                app = FastAPI()
                serve_fastapi(app, self.backend)
            else:
                app = Litestar(route_handlers=[inngest_router(self.backend)], openapi_config=None)
            self._executor = InngestExecutor(app, self.backend.functions())
        return self._executor

    async def _receive(self, events: list[inngest.Event]) -> list[str]:
        return await self.executor.receive(events)

    async def run(self, workflow: Any, event: dict[str, Any], *, workflow_id: str = "main") -> Ended:
        """Publish `workflow`, ask for a run of it, and drive every queued run; the first one's end."""
        self.workflows.add(TENANT, workflow_id, workflow)
        await self.backend.start(TENANT, workflow_id, event)
        ended = await self.executor.run_queued()
        return ended[0]

    async def close(self) -> None:
        if self._executor is not None:
            await self._executor.close()


def jsonable(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(msgspec.to_builtins(value)))


def assert_same_end(embedded: RunResult, ended: Ended, timeline: Timeline) -> None:
    """The Inngest run ended as the embedded one: status, state, what ran and what was skipped (for a
    completed run), or the same error of the same action (a failed one)."""
    assert ended.status == embedded.status, (ended.error, embedded.error)
    status, state, error = timeline.ends[ended.run_id]
    assert status == embedded.status
    if embedded.status == "completed":
        assert ended.output == jsonable(embedded.state)
        assert state == ended.output
        assert timeline.having(ended.run_id, "started") == set(embedded.executed)
        assert timeline.having(ended.run_id, "skipped") == set(embedded.skipped)
        return
    assert embedded.error is not None and error is not None
    expected = {k: embedded.error.get(k) for k in ("name", "message", "action")}
    assert {k: error.get(k) for k in ("name", "message", "action")} == expected
    assert ended.error is not None and ended.error["message"] == embedded.error["message"]
