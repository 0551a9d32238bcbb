"""The worker: claims due runs, drives each with the shared `RunDriver` on a database journal, and parks
or finishes it. Any number of workers, in one process or many, share the work through leases.

A worker sleeps until something is due: it is woken at once by events and run changes made in its
own process (a notifier) and, on PostgreSQL, in any process (``LISTEN``/``NOTIFY``); otherwise it
looks again at the next due time or after `poll_ms` (SQLite workers of other processes).

Every worker also fires cron ticks: it wakes at the next tick of any workflow and fires the ticks due
in its claim transaction; a conditional update makes sure one worker fires each (see schedules.py).

And every worker works off bulk operations (cancel or replay many runs, see operations.py) in a loop of
its own: one small batch per transaction, with a pause between two batches, so the other writes of the
process (other tenants' runs) go in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ... import struct_types
from ...engine import WorkflowGraph
from ...errors import ErrorInfo
from ...events import new_id
from ...executor import RunContext
from ...observe import AttemptInfo, Observer, RunInfo
from ...records import ActionRecord, ActionStatus, Attempt, StepRecord
from ...runner import RunDriver
from ...signals import Interrupted, JournalUnavailable, ReloadRun, StaleRun
from ...step import MAX_STEPS_PER_RUN, MAX_STEPS_TOTAL, StepBudget
from ...workflow import load_workflow
from .. import operations
from ..lifecycle import retention
from ..lifecycle.effects import Context
from ..models import RunStatus
from ..rules.settings import WorkflowSettings, duration_ms
from ..storage.announce import DUE_CHANNEL
from ..storage.writer import Claim
from .claims import LoadedRun
from .host import WorkerHost
from .journal import RunJournalStore

_LOG = logging.getLogger("workflow_kit.worker")
GRAPH_CACHE_SIZE = 256
OPERATION_PAUSE_MS = 5
"""Between two batches of a bulk operation, at least (and at least as long as the batch took): room for
this process's other writes."""
RETENTION_EVERY_MS = 60_000
"""With no expired history left, how long a worker waits before it looks again."""
OPERATION_IDLE_MS = 100
"""With no bulk operation to work on, the least time between two looks for one."""


class _DbJournal:
    """The `RunJournal` of a claimed run: every write fenced by the claim."""

    def __init__(
        self, worker: Worker, loaded: LoadedRun, records: dict[str, ActionRecord], watch: _Watch | None
    ) -> None:
        self._worker = worker
        self._run = loaded
        self._claim = loaded.claim
        self._tenant = loaded.tenant
        self._records = records
        self._watch = watch

    async def save_actions(self, records: Sequence[ActionRecord]) -> None:
        await self._worker.store.save_actions(self._claim, records)
        if self._watch is not None:
            for record in records:
                self._watch.attempts(record.id, None, record.attempts, record.status)

    async def save_step(self, action_id: str, record: StepRecord) -> None:
        steps = self._records[action_id].steps
        position = next(i for i, step in enumerate(steps) if step is record)
        now = self._worker.host.clock.now_ms()
        await self._worker.store.save_step(self._run, action_id, position, record, now)
        if self._watch is not None:
            self._watch.attempts(action_id, record.key, record.attempts, record.status)

    async def send_events(self, action_id: str, step_key: str, events: list[dict[str, Any]]) -> list[str]:
        now = self._worker.host.clock.now_ms()
        if self._watch is not None:
            traceparent = self._watch.observer.traceparent(self._watch.run)
            if traceparent is not None:  # the events go on in this run's trace
                events = [_traced(event, traceparent) for event in events]
        received = await self._worker.store.send(self._claim, self._tenant, action_id, step_key, events, now)
        if received.woke:
            self._worker.host.notify()
        return received.event_ids


class Worker:
    """Executes runs. Use ``async with kit.worker(): ...`` or `start`/`stop`.

    - `concurrency`: runs executed at once by this worker.
    - `lease_ms`: how long a claimed run stays this worker's without a heartbeat; after a crash,
      another worker takes the run over once the lease expires.
    - `poll_ms`: the longest sleep between looks at the database (other processes' events).
    - `operation_batch`, `operation_pause_ms`: the runs a bulk operation handles per transaction, and the
      pause between two of its transactions.
    - `retention_batch`, `retention_every_ms`: the expired runs (and events) deleted per transaction, and
      how often the worker looks for expired history when there was none (see lifecycle/retention.py).
    """

    def __init__(
        self,
        host: WorkerHost,
        *,
        concurrency: int = 32,
        lease_ms: int = 30_000,
        poll_ms: int = 1_000,
        shutdown_grace_ms: int = 10_000,
        name: str | None = None,
        operation_batch: int = operations.BATCH,
        operation_pause_ms: int = OPERATION_PAUSE_MS,
        retention_batch: int = retention.BATCH,
        retention_every_ms: int = RETENTION_EVERY_MS,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.host = host
        self.store = RunJournalStore(host.db, host.settings, host.retention, host.decide_first)
        self.concurrency = concurrency
        self.lease_ms = lease_ms
        self.poll_ms = poll_ms
        self.shutdown_grace_ms = shutdown_grace_ms
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{new_id(host.clock.now_ms())[-6:]}"
        self._active: dict[str, tuple[Claim, asyncio.Task[None]]] = {}
        self._cancelled: set[str] = set()
        self._graphs: OrderedDict[str, WorkflowGraph] = OrderedDict()
        self._next_due: int | None = None
        self._next_tick: int | None = 0  # unknown until the first claim: look at once
        self._wakeup = asyncio.Event()
        self._changed = asyncio.Event()
        self._stopping = False
        self._halt = asyncio.Event()
        self._claiming = False
        self._tasks: list[asyncio.Task[None]] = []
        self._handlers: ThreadPoolExecutor | None = None
        self._outage = False
        self.operation_batch = operation_batch
        self.operation_pause_ms = operation_pause_ms
        self._operations_due = asyncio.Event()
        self._operations_ctx = Context(host.db.dialect, host.settings, host.retention)
        self._observer = host.observer
        """Told of runs and attempts; None (then each hook is one branch) when nothing watches."""
        self.retention_batch = retention_batch
        self.retention_every_ms = retention_every_ms

    async def __aenter__(self) -> Worker:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        struct_types.prepare()  # the application's types too, before the worker's threads decode any
        # Sync handlers get threads of their own, one per run executing at once: a handler blocked on a
        # step never waits behind (or holds up) anything else that uses the loop's default pool.
        self._handlers = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"wk-{self.name}")
        self.host.attach(self, loop, self._wakeup)
        self._tasks = [
            loop.create_task(self._claim_loop()),
            loop.create_task(self._heartbeat()),
            loop.create_task(self._operations()),
            loop.create_task(self._retention()),
        ]
        if self.host.db.dialect == "postgresql":
            self._tasks.append(loop.create_task(self._listen()))

    async def stop(self) -> None:
        """Stop claiming; let executing runs reach their next step boundary (up to the grace period),
        then hand any still executing back to the database for another worker."""
        self._stopping = True
        self._wakeup.set()
        self._operations_due.set()
        pending = [task for _, task in self._active.values()]
        if pending:
            await asyncio.wait(pending, timeout=self.shutdown_grace_ms / 1000)
        self._halt.set()
        # Let the loops end on their own: a cancelled task would leave its database thread running.
        await asyncio.wait(self._tasks, timeout=10)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        leftovers = list(self._active.values())
        for _, task in leftovers:
            task.cancel()
        await asyncio.gather(*(task for _, task in leftovers), return_exceptions=True)
        if self._handlers is not None:
            self._handlers.shutdown(wait=False, cancel_futures=True)
        self.host.detach(self, self._wakeup)

    def wake(self) -> None:
        self._wakeup.set()

    def cancelled(self, run_id: str) -> None:
        """Told by ``kit.runs.cancel`` in this process: stop that run before its next step."""
        if run_id in self._active:
            self._cancelled.add(run_id)

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until this worker executes nothing and no run is due (by the kit's clock). For tests."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            if not self._active and not self._claiming:
                due = await asyncio.to_thread(self.store.next_due)
                if not self._active and not self._claiming and (due is None or due > self.host.clock.now_ms()):
                    return
                self._wakeup.set()  # something is due: make sure the claim loop looks now
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"worker not idle after {timeout} s ({len(self._active)} runs executing)")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))

    # -- loops -------------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            self._operations_due.set()  # whatever woke the worker may be a new bulk operation
            free = self.concurrency - len(self._active)
            claimed: list[LoadedRun] = []
            self._claiming = True  # until the claimed runs are in _active, `idle` must not trust it
            try:
                now = self.host.clock.now_ms()
                fire = self._next_tick is not None and self._next_tick <= now
                batch = await self.store.claim(self.name, max(free, 0), self.lease_ms, now, fire=fire)
                claimed, self._next_due, self._next_tick = batch.runs, batch.next_due, batch.next_tick
                if self._outage:
                    _LOG.info("worker %s: the database is back", self.name)
                    self._outage = False
            except JournalUnavailable as exc:
                if not self._outage:  # once per outage, not once per poll
                    _LOG.warning("worker %s: the database is unavailable (%s); retrying", self.name, exc)
                    self._outage = True
                self._next_due = None
            except Exception:
                _LOG.exception("worker %s: claiming runs failed; retrying", self.name)
                self._next_due = None
            for loaded in claimed:
                if loaded.run_id in self._active:  # our own lease ran out meanwhile: the old execution is fenced off
                    self._cancelled.add(loaded.run_id)
                task = asyncio.create_task(self._execute(loaded))
                self._active[loaded.run_id] = (loaded.claim, task)
            self._claiming = False
            self._changed.set()
            if free > 0 and len(claimed) == free:
                continue  # there may be more due
            await self._sleep()

    async def _operations(self) -> None:
        """Work off bulk operations, a batch at a time (see operations.py); when there is none, sleep until
        the worker is woken (a new operation notifies, as new runs do) or `poll_ms` has passed."""
        failing = False
        while not self._stopping:
            self._operations_due.clear()
            began = asyncio.get_running_loop().time()
            try:
                stepped = await asyncio.to_thread(
                    operations.step,
                    self._operations_ctx,
                    self.host.db,
                    self.host.clock.now_ms(),
                    batch=self.operation_batch,
                )
                failing = False
            except (Exception, JournalUnavailable):
                if not failing:  # once until a batch goes through again (a database outage: not once a look)
                    _LOG.exception("worker %s: a bulk operation's batch failed; retrying", self.name)
                failing = True
                stepped = operations.Stepped()
            for run in stepped.cancelled:
                self.cancelled(run.run_id)
                if self._observer is not None:
                    self._observer.run_ended(run, "cancelled", None, self.host.clock.now_ms())
            engine = self.host.remote()
            if engine is not None and stepped.tenant is not None and (stepped.cancelled or stepped.requested):
                try:  # runs another engine executes (Inngest): it is told
                    if stepped.cancelled:
                        await engine.cancelled(stepped.tenant, [run.run_id for run in stepped.cancelled])
                    if stepped.requested:
                        await engine.requested(stepped.tenant, stepped.requested)
                except Exception:  # a cancelled run stops at its next request anyway
                    _LOG.exception("worker %s: telling the remote engine failed", self.name)
            if stepped.woke:
                self.host.notify()
            if stepped.worked:
                # as long a pause as the batch took (at least operation_pause_ms): a bulk operation has
                # at most half of this worker's time, and a run of another tenant waits one batch at most
                took = asyncio.get_running_loop().time() - began
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._halt.wait(), timeout=max(self.operation_pause_ms / 1000, took))
                continue
            # At most one look per OPERATION_IDLE_MS however often the worker is woken (by every run that ends).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._halt.wait(), timeout=OPERATION_IDLE_MS / 1000)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._operations_due.wait(), timeout=self.poll_ms / 1000)

    async def _retention(self) -> None:
        """Delete expired history, a small batch per transaction (see lifecycle/retention.py): while
        there is more, after a pause as long as the batch took (at least `operation_pause_ms`), so the
        process's claims and writes go in between; else look again after `retention_every_ms`."""
        failing = False
        pause = self.retention_every_ms / 1000  # not at once: a worker starting has other things to do first
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._halt.wait(), timeout=pause)
            if self._stopping:
                break
            began = asyncio.get_running_loop().time()
            try:
                swept = await asyncio.to_thread(self.store.sweep, self.host.clock.now_ms(), self.retention_batch)
                failing = False
            except Exception:
                if not failing:  # once until a batch goes through again
                    _LOG.exception("worker %s: deleting expired history failed; retrying", self.name)
                failing = True
                swept = retention.Swept()
            if swept.full(self.retention_batch):
                took = asyncio.get_running_loop().time() - began
                pause = max(self.operation_pause_ms / 1000, took)
            else:
                pause = self.retention_every_ms / 1000

    async def _sleep(self) -> None:
        timeout = self.poll_ms / 1000
        now = self.host.clock.now_ms()
        if len(self._active) < self.concurrency and self._next_due is not None:
            timeout = min(timeout, max(0.0, (self._next_due - now) / 1000))
        if self._next_tick is not None:  # a tick is fired even when this worker has no room to run it
            timeout = min(timeout, max(0.0, (self._next_tick - now) / 1000))
        if timeout > 0 and not self._wakeup.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=timeout)

    async def _listen(self) -> None:
        """PostgreSQL: wake on ``NOTIFY`` from any process that made runs due (events received, runs
        started or resumed); reconnect if the connection drops."""
        import psycopg

        backoff = 0.1
        while not self._halt.is_set():
            try:
                conn = await psycopg.AsyncConnection.connect(self.host.db.libpq_url(), autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {DUE_CHANNEL}")
                    self._wakeup.set()  # (re)connected: something may have become due meanwhile
                    backoff = 0.1
                    while not self._halt.is_set():
                        async for _ in conn.notifies(timeout=0.5):
                            self._wakeup.set()
            except psycopg.Error as exc:
                _LOG.warning("worker %s: listening for due runs failed (%s); retrying", self.name, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._halt.wait(), timeout=backoff)
                backoff = min(backoff * 2, 5.0)

    async def _heartbeat(self) -> None:
        while not self._halt.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._halt.wait(), timeout=self.lease_ms / 3000)
            if self._halt.is_set():
                return
            claims = [claim for claim, _ in self._active.values()]
            if not claims:
                continue
            try:
                lost = await self.store.renew(claims, self.lease_ms, self.host.clock.now_ms())
            except (Exception, JournalUnavailable):
                _LOG.exception("worker %s: renewing leases failed", self.name)
                continue
            for claim in lost:
                self._cancelled.add(claim.run_id)

    # -- one run -----------------------------------------------------------------------------------

    async def _execute(self, loaded: LoadedRun) -> None:
        clock = self.host.clock
        claim = loaded.claim
        watch: _Watch | None = None
        try:
            graph, settings = await self._version(loaded.version_id)
            deadline = _finish_deadline(loaded, settings)
            late = _too_late(loaded, deadline, clock.now_ms())
            watch = None if self._observer is None else _Watch(self._observer, loaded, clock.now_ms())
            if late is not None:
                if (await self.store.cancel(loaded, late, clock.now_ms())).woke:
                    self.host.notify()
                if watch is not None:
                    watch.ended("cancelled", None, clock.now_ms())
                return
            driver_records = loaded.records
            journal = _DbJournal(self, loaded, driver_records, watch)
            context = RunContext(
                run_id=claim.run_id,
                workflow=graph.workflow,
                event=loaded.event,
                events=tuple(loaded.row.batch or ()),
                clock=clock,
                policy=self.host.retry_policy.with_retries(settings.retries),
                journal=journal,
                budget=_budget(graph, driver_records, loaded.step_count),
                stopped=lambda: (
                    self._stopping
                    or claim.run_id in self._cancelled
                    or (deadline is not None and clock.now_ms() >= deadline)
                ),
                ai=self.host.ai,
                tenant=loaded.tenant,
                executor=self._handlers,
                trigger=loaded.row.trigger,
                connections=self.host.connections,
            )
            driver = RunDriver(
                self.host.registry,
                graph,
                context,
                journal,
                records=driver_records,
                trace=_NoTrace(),
                keep_iterations=False,
            )
            progress = await driver.advance()
            now = clock.now_ms()
            if progress.status == "suspended":
                waiting = any(r.status == ActionStatus.WAITING for r in driver.records.values())
                wake_at = progress.wake_at_ms
                if deadline is not None:  # look again when the finish timeout runs out
                    wake_at = deadline if wake_at is None else min(wake_at, deadline)
                parked = RunStatus.WAITING if waiting else RunStatus.SLEEPING
                await self.store.park(loaded, parked, wake_at, now)
                if watch is not None:
                    watch.parked(parked.value, now)
            else:
                output = driver.outputs if progress.status == "completed" else None
                waited = bool(settings.cancel_on) or any(
                    step.kind == "wait_for_event" for r in driver.records.values() for step in r.steps
                )
                ended = RunStatus(progress.status)
                received = await self.store.finish(loaded, ended, output, progress.error, now, waited=waited)
                if received.woke:
                    self.host.notify()
                if watch is not None:
                    watch.ended(ended.value, progress.error, now)
        except StaleRun:
            _LOG.info("worker %s: run %s was cancelled or taken over", self.name, claim.run_id)
        except Interrupted:
            await self._release(claim, clock.now_ms())
        except ReloadRun:
            await self._release(claim, clock.now_ms())
        except JournalUnavailable as exc:
            _LOG.warning("worker %s: database unavailable during run %s: %s", self.name, claim.run_id, exc)
            await self._release(claim, clock.now_ms() + 1_000)
        except Exception:
            _LOG.exception("worker %s: run %s failed inside the worker; it will be retried", self.name, claim.run_id)
            await self._release(claim, clock.now_ms() + 5_000)
        finally:
            if watch is not None and not watch.settled:  # handed back (stopping, lost, failed): over here
                watch.parked("released", clock.now_ms())
            self._active.pop(claim.run_id, None)
            self._cancelled.discard(claim.run_id)
            self._changed.set()
            self._wakeup.set()

    async def _release(self, claim: Claim, due_at: int) -> None:
        try:
            await self.store.release(claim, due_at, self.host.clock.now_ms())
        except (Exception, JournalUnavailable):  # the lease expires on its own
            _LOG.warning("worker %s: could not release run %s", self.name, claim.run_id)

    async def _version(self, version_id: str) -> tuple[WorkflowGraph, WorkflowSettings]:
        """The graph and settings of a workflow version (immutable: the graph is cached here, the
        settings in the kit's cache)."""
        graph = self._graphs.get(version_id)
        settings = self.host.settings.cached(version_id)
        if graph is not None and settings is not None:
            self._graphs.move_to_end(version_id)
            return graph, settings
        found = await asyncio.to_thread(self.store.versions, [version_id])
        definition, raw = found[version_id]
        graph = WorkflowGraph.build(load_workflow(definition))
        settings = self.host.settings.get(version_id, raw)
        self._graphs[version_id] = graph
        if len(self._graphs) > GRAPH_CACHE_SIZE:
            self._graphs.popitem(last=False)
        return graph, settings


def _finish_deadline(run: LoadedRun, settings: WorkflowSettings) -> int | None:
    """When the run must have finished (``timeouts.finish`` after it started), if it must."""
    if settings.timeouts is None or settings.timeouts.finish is None or run.row.started_at is None:
        return None
    return run.row.started_at + duration_ms(settings.timeouts.finish)


def _too_late(run: LoadedRun, deadline: int | None, now: int) -> str | None:
    """Why the run is cancelled instead of executed (a timeout ran out), if it is."""
    if run.row.late:
        return "it did not start within its start timeout"
    if deadline is not None and now >= deadline:
        return "it did not finish within its finish timeout"
    return None


def _budget(graph: WorkflowGraph, records: dict[str, ActionRecord], recorded: int) -> StepBudget:
    """The steps the run's own actions may still record (the steps of loop iterations count in the
    total only: each iteration has a budget of its own, see `StepBudget`)."""
    own = sum(len(records[a].steps) for a in graph.order if a in records)
    return StepBudget(MAX_STEPS_PER_RUN - own, StepBudget(MAX_STEPS_TOTAL - recorded, None))


def _traced(event: Any, traceparent: str) -> Any:
    if isinstance(event, dict) and "traceparent" not in event:
        return {**event, "traceparent": traceparent}
    return event


class _Watch:
    """An observed run: tells the observer of its start, of each attempt that ended (found in the records
    as they are saved: those past the ones seen so far) and of its end."""

    def __init__(self, observer: Observer, loaded: LoadedRun, now: int) -> None:
        row = loaded.row
        self.observer = observer
        traceparent = row.event.get("traceparent")
        self.run = RunInfo(
            row.id,
            row.tenant,
            row.workflow_id,
            row.version_number,
            row.parent_run_id,
            traceparent if isinstance(traceparent, str) else None,
        )
        self.settled = False
        """Whether the observer was told how this execution ended (parked or ended)."""
        self._seen: dict[tuple[str, str | None], int] = {}
        for record in loaded.records.values():
            self._seen[(record.id, None)] = len(record.attempts)
            for step in record.steps:
                self._seen[(record.id, step.key)] = len(step.attempts)
        if loaded.records:
            observer.run_resumed(self.run, now)
        else:
            observer.run_started(self.run, now)

    def attempts(self, action_id: str, step: str | None, attempts: Sequence[Attempt], status: str) -> None:
        seen = self._seen.get((action_id, step), 0)
        if len(attempts) <= seen:
            return
        self._seen[(action_id, step)] = len(attempts)
        last = len(attempts) - 1
        for index in range(seen, len(attempts)):
            attempt = attempts[index]
            if attempt.error is None:
                outcome = "completed"
            elif index < last or status == "retrying":
                outcome = "retrying"
            else:
                outcome = "failed"
            info = AttemptInfo(action_id, step, outcome, attempt.started_at, attempt.ended_at, attempt.error)
            self.observer.attempt_ended(self.run, info)

    def parked(self, status: str, now: int) -> None:
        self.settled = True
        self.observer.run_parked(self.run, status, now)

    def ended(self, status: str, error: dict[str, Any] | None, now: int) -> None:
        """`error`: the run's (``{name, message, action, step?}``), as the driver reports it."""
        self.settled = True
        info = None if error is None else ErrorInfo(str(error.get("name")), str(error.get("message")))
        self.observer.run_ended(self.run, status, info, now)


class _NoTrace(list[tuple[str, str]]):
    """The driver's trace, unkept: a worker does not read it, and a long loop would grow it."""

    def append(self, item: tuple[str, str]) -> None:
        return None
