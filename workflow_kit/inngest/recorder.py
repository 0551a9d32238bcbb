"""`StoreRecorder`: runs on Inngest kept in the kit's own tables, so the editor shows them as it shows
the embedded runtime's (the runs list, the run view with its timeline, cancel, the events list).

- When the backend sends run requests, the events are stored as received and each requested run is
  created queued, marked as running on Inngest (``runs_on``; no worker ever claims it), with Inngest's
  event id once sent.
- Each request Inngest makes of the function marks the run running (once) and ends by merging what
  its actions did (statuses, inputs, attempts, outputs, errors, sleeps, waits) into their records;
  the request that ends the run records its end. Everything is idempotent under Inngest's replays
  (see runtime/lifecycle/remote.py, which does the writes).
- A run cancelled in the kit (the editor, ``kit.runs.cancel``, a bulk cancel) stops at its next
  request even if the cancel event never reached Inngest.

The database is used from a worker thread (``asyncio.to_thread``), as the kit's stores do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import Connection

from ..runtime.lifecycle import remote
from ..runtime.lifecycle.effects import Context
from ..runtime.lifecycle.remote import ActionNote, Requested, StepNote
from ..runtime.models import RunStatus
from .driver import RunEnd
from .protocol import RunRequest

if TYPE_CHECKING:
    from ..kit import WorkflowKit

RUNS_ON = "inngest"
T = TypeVar("T")


class StoreRecorder:
    """Records `kit`'s runs on Inngest in its store (the `InngestBackend`'s default recorder)."""

    def __init__(self, kit: WorkflowKit) -> None:
        self._kit = kit

    @property
    def _ctx(self) -> Context:
        kit = self._kit
        return Context(kit.db.dialect, kit._settings, kit.retention)

    async def _write(self, work: Callable[[Connection], T]) -> T:
        def transaction() -> T:
            with self._kit.db.write() as conn:
                return work(conn)

        return await asyncio.to_thread(transaction)

    async def received(
        self, tenant: str, events: list[dict[str, Any]], asked: list[list[RunRequest]]
    ) -> list[tuple[str | None, list[str | None] | None]]:
        now = self._kit.clock.now_ms()
        wanted = [[_requested(request) for request in requests] for requests in asked]
        found = await self._write(lambda conn: remote.receive(self._ctx, conn, tenant, events, wanted, RUNS_ON, now))
        return [(event_id, None if ids is None else list[str | None](ids)) for event_id, ids in found]

    async def requested(self, tenant: str, request: RunRequest) -> str | None:
        now = self._kit.clock.now_ms()
        return await self._write(lambda conn: remote.request(conn, tenant, _requested(request), RUNS_ON, now))

    async def sent(self, pairs: list[tuple[str, str]]) -> None:
        if pairs:
            await self._write(lambda conn: remote.sent(conn, pairs))

    async def started(self, run_id: str, remote_id: str, tenant: str, request: RunRequest, version: int | None) -> bool:
        now = self._kit.clock.now_ms()
        asked = _requested(request, version)
        row = await self._write(lambda conn: remote.started(conn, tenant, run_id, remote_id, asked, RUNS_ON, now))
        return row.status is not RunStatus.CANCELLED

    async def record(
        self, run_id: str, notes: list[ActionNote | StepNote], end: RunEnd | None, parked: str | None
    ) -> None:
        now = self._kit.clock.now_ms()

        def write(conn: Connection) -> None:
            remote.record(conn, run_id, notes)
            if parked is not None:
                remote.park(conn, run_id, RunStatus(parked), now)
            if end is not None:
                status = RunStatus(end.status)
                remote.finish(self._ctx, conn, run_id, status, end.state, end.error, now)

        await self._write(write)

    async def ended(self, run_id: str, status: str, error: dict[str, Any] | None) -> None:
        """Inngest ended the run itself (``cancelled``, or ``failed`` outside the workflow): it shows so,
        unless it had ended already."""
        now = self._kit.clock.now_ms()
        if status == "cancelled":
            await self._write(lambda conn: remote.cancel(self._ctx, conn, run_id, "on Inngest", now))
            return
        failure = {
            "name": str((error or {}).get("name") or "Error"),
            "message": str((error or {}).get("message") or "the run failed on Inngest"),
        }
        await self._write(lambda conn: remote.finish(self._ctx, conn, run_id, RunStatus.FAILED, None, failure, now))

    async def unsent(self, tenant: str, run_ids: list[str]) -> list[tuple[str, Requested]]:
        """Those of `run_ids` that run on Inngest and were not asked of it yet, with what to ask."""

        def read() -> list[tuple[str, Requested]]:
            with self._kit.db.read() as conn:
                return remote.unsent(conn, tenant, run_ids)

        return await asyncio.to_thread(read)

    async def remote_runs(self, tenant: str, run_ids: list[str]) -> list[tuple[str, str | None]]:
        """Those of `run_ids` that run on Inngest: (run id, Inngest's run id if it started)."""

        def read() -> list[tuple[str, str | None]]:
            with self._kit.db.read() as conn:
                return remote.remote_runs(conn, tenant, run_ids)

        return await asyncio.to_thread(read)


def _requested(request: RunRequest, version: int | None = None) -> Requested:
    number = version if version is not None else request.version
    if number is None:
        raise LookupError(f"the run of {request.workflow_id!r} names no version")
    return Requested(
        workflow_id=request.workflow_id,
        version=number,
        event=request.event,
        trigger=request.trigger,
        event_id=request.event_id,
    )
