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
from workflow_kit.inngest import InngestBackend, MemoryWorkflows, inngest_router, serve_fastapi
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
    """The backend's recorder: what each run reported, replays included."""

    seen: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    ends: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = field(default_factory=dict)

    def action(self, run_id: str, record_id: str, status: str) -> None:
        self.seen.setdefault(run_id, set()).add((record_id, status))

    def finished(self, run_id: str, status: str, state: dict[str, Any], error: dict[str, Any] | None) -> None:
        self.ends[run_id] = (status, state, error)

    def having(self, run_id: str, status: str) -> set[str]:
        return {record for record, said in self.seen.get(run_id, set()) if said == status}


class Harness:
    """`kit` on Inngest: a Litestar host (or FastAPI) serving its functions, the executor calling them."""

    def __init__(self, kit: WorkflowKit, *, fastapi: bool = False, store: bool = False) -> None:
        """`store`: the workflows of the kit's store (its database), instead of `workflows` in memory."""
        self.client = client()
        self.workflows = MemoryWorkflows()
        self.timeline = Timeline()
        self.backend = InngestBackend(
            kit,
            self.client,
            workflows=None if store else self.workflows,
            sender=self._receive,
            recorder=self.timeline,
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
