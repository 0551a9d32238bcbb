"""Group commit: the writer of a database writes for every run of the process, many jobs in one
transaction.

A durable step is done only when its record is committed; on SQLite with ``synchronous=FULL`` and on
PostgreSQL with synchronous commit, a commit waits for the disk. Giving each step its own transaction
caps a process at the disk's commit rate. Here every write (a run's journal, a claim, an event received)
is a `WriteJob` put on a queue; a writer thread (a lane) takes everything queued, runs it in one
transaction and commits once, and meanwhile the next jobs queue up. Nobody is told "done" before the
commit, so every guarantee of one transaction per job holds: a job's writes are either all committed or
none. On PostgreSQL several lanes, each with its own connection, take batches from the same queue, so
one batch is built while another waits for the server; a job's order relative to jobs of other callers
is not kept (a caller awaits its job before writing the next, so its own order is).

- Jobs fenced by a claim are checked together, in one query, at the start of the transaction (and the
  runs' rows locked on PostgreSQL); a job whose worker no longer owns the run gets `StaleRun`.
- `rows` of every plain job are grouped by table and written with one ``executemany`` per table.
- Jobs with an `apply` function run it after the grouped rows, in the same transaction.
- The queue is shared fairly among tenants: a lane takes everything queued, and when that is more than
  one batch, it builds the batch round-robin by the jobs' `tenant` (each tenant's oldest first, then
  each one's second...), keeping the rest for the next batches; so a tenant with thousands of writes
  queued delays another tenant's write by one batch at most, not by all of its own.
- If anything in the batch fails (a write, or a job's `apply` raising, e.g. `Rollback`), the whole
  transaction is rolled back and every job is written again alone, in its own transaction: one bad job
  cannot fail the others, and a job's failure undoes exactly its own writes. Failures are rare (a lost
  race, a database outage), so the common batch pays for no savepoints.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ...signals import StaleRun

T = TypeVar("T")
MAX_BATCH = 512
MAX_DRAIN = 8 * MAX_BATCH
"""Jobs a lane moves from the queue to the backlog at most at once, before building a batch."""
IDLE_RELEASE_S = 0.05
"""The writer gives its connection back to the pool after this long without work."""
_LOG = logging.getLogger("workflow_kit.writer")


class WriterDatabase(Protocol):
    """What the writer needs of its database (`db.Database`, which owns the writer: the writer does not
    import it)."""

    engine: Engine
    writer_lock: Any

    def ensure_schema(self) -> None: ...

    def owners(self, conn: Connection, run_ids: list[str], *, lock: bool = True) -> dict[str, int]: ...

    def upsert(
        self, conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
    ) -> None: ...


class Rollback(Exception):
    """Raised by a job's `apply` to undo the job's writes and fail it with `signal` (any exception)."""

    def __init__(self, signal: BaseException) -> None:
        super().__init__(str(signal))
        self.signal = signal


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's hold on a run: its writes count only while the run's ``claim_seq`` is `seq`."""

    run_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class Upsert:
    """Rows to insert, or update where their key exists; upserts of one shape are batched together."""

    table: sa.Table
    keys: tuple[str, ...]
    row: dict[str, Any]


@dataclass(eq=False)
class WriteJob(Generic[T]):
    """One unit of writing: all of it is committed, or none of it."""

    fence: Claim | None = None
    """Write only if this claim still holds the run (else the job fails with `StaleRun`)."""
    tenant: str | None = None
    """Whose write it is, for the fair share of the queue (None: the process's own, shared)."""
    rows: Sequence[Upsert] = ()
    apply: Callable[[Connection], T] | None = None
    """Anything else, run inside the transaction after `rows`; its return value is the job's result."""
    _result: Any = field(default=None, init=False)
    _error: BaseException | None = field(default=None, init=False)


class _Waiter:
    __slots__ = ("job", "loop", "target")

    def __init__(
        self,
        job: WriteJob[Any],
        target: asyncio.Future[Any] | concurrent.futures.Future[Any],
        loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        self.job, self.target, self.loop = job, target, loop


class GroupCommitWriter:
    """The process's writer for one database. `submit` from async code, `run` from threads."""

    def __init__(self, db: WriterDatabase, lanes: int = 1) -> None:
        self.db = db
        self.lanes = lanes
        self._queue: queue.SimpleQueue[_Waiter | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lanes: list[_Lane] = []
        self._start_lock = threading.Lock()
        self._closed = False
        self.observe: Callable[[int, float], None] | None = None
        """Told of each transaction written: its number of jobs and how long it took, in seconds (the
        metrics set it; None costs one branch per transaction)."""
        self._backlog = _Backlog()

    @property
    def batches(self) -> int:
        """Transactions written so far (for benchmarks: jobs / batches is the grouping)."""
        return sum(lane.batches for lane in self._lanes)

    @property
    def jobs(self) -> int:
        """Jobs written so far."""
        return sum(lane.jobs for lane in self._lanes)

    async def submit(self, job: WriteJob[T]) -> T:
        """Queue `job`, wait for its commit, and return its result (or raise its error)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._put(_Waiter(job, future, loop))
        return await future

    def run(self, job: WriteJob[T]) -> T:
        """`submit` for synchronous code (never from a writer's own thread)."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._put(_Waiter(job, future, None))
        return future.result()

    def close(self) -> None:
        """Finish what is queued, then stop the lanes and release their connections."""
        with self._start_lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=30)

    def _put(self, waiter: _Waiter) -> None:
        if self._closed:
            raise RuntimeError("the database was closed")
        if not self._threads:
            with self._start_lock:
                if self._closed:
                    raise RuntimeError("the database was closed")
                if not self._threads:
                    self.db.ensure_schema()
                    for number in range(self.lanes):
                        lane = _Lane(self)
                        self._lanes.append(lane)
                        thread = threading.Thread(target=lane.loop, name=f"workflow-kit-writer-{number}", daemon=True)
                        thread.start()
                        self._threads.append(thread)
        self._queue.put(waiter)


class _Lane:
    """One writer thread and its connection; the lanes of a writer take jobs from one queue."""

    def __init__(self, writer: GroupCommitWriter) -> None:
        self.writer = writer
        self.db = writer.db
        self._conn: Connection | None = None
        self.batches = 0  # counted by the lane's own thread only
        self.jobs = 0

    def loop(self) -> None:
        source, backlog = self.writer._queue, self.writer._backlog
        stopping = False
        while True:
            taken: list[_Waiter] = []
            if not backlog:
                if stopping:
                    break
                try:
                    first = source.get(timeout=IDLE_RELEASE_S) if self._conn is not None else source.get()
                except queue.Empty:
                    self._release()
                    continue
                if first is None:
                    stopping = True
                    continue
                taken.append(first)
            while not stopping and len(taken) < MAX_DRAIN:
                try:
                    more = source.get_nowait()
                except queue.Empty:
                    break
                if more is None:  # a stop: each lane takes one, and finishes the backlog first
                    stopping = True
                    break
                taken.append(more)
            # the usual case: everything queued fits in one batch; else round-robin by tenant
            batch = taken if len(taken) <= MAX_BATCH and not backlog else backlog.fair_batch(taken, MAX_BATCH)
            if batch:
                observe = self.writer.observe
                if observe is None:
                    self._write(batch)
                else:
                    started = time.perf_counter()
                    self._write(batch)
                    observe(len(batch), time.perf_counter() - started)
                _deliver(batch)
        self._release()

    def _write(self, batch: list[_Waiter]) -> None:
        jobs = [waiter.job for waiter in batch]
        for job in jobs:
            job._result, job._error = None, None
        self.batches += 1
        self.jobs += len(jobs)
        try:
            self._transaction(jobs)
        except Exception as exc:
            self._after_failure(exc)
            if len(jobs) == 1:
                jobs[0]._result, jobs[0]._error = None, exc
                return
            _LOG.debug("a batch of %d writes failed (%s); writing each alone", len(jobs), exc)
            for job in jobs:
                job._result, job._error = None, None
                try:
                    self._transaction([job])
                except Exception as alone:
                    self._after_failure(alone)
                    job._result, job._error = None, alone

    def _transaction(self, jobs: list[WriteJob[Any]]) -> None:
        conn = self._connection()
        with self.db.writer_lock, conn.begin():
            live = self._fence(conn, jobs)
            grouped: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[Upsert, list[dict[str, Any]]]] = {}
            for job in live:
                if job.apply is None:
                    for upsert in job.rows:
                        shape = (upsert.table.name, upsert.keys, tuple(upsert.row))
                        grouped.setdefault(shape, (upsert, []))[1].append(upsert.row)
            for upsert, rows in grouped.values():
                self.db.upsert(conn, upsert.table, rows, upsert.keys)
            for job in live:
                if job.apply is not None:
                    for upsert in job.rows:
                        self.db.upsert(conn, upsert.table, [upsert.row], upsert.keys)
                    job._result = job.apply(conn)

    def _fence(self, conn: Connection, jobs: list[WriteJob[Any]]) -> list[WriteJob[Any]]:
        claims = {job.fence.run_id for job in jobs if job.fence is not None}
        if not claims:
            return jobs
        owned = self.db.owners(conn, sorted(claims))
        live = []
        for job in jobs:
            if job.fence is not None and owned.get(job.fence.run_id) != job.fence.seq:
                job._error = StaleRun(job.fence.run_id)
            else:
                live.append(job)
        return live

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.db.engine.connect().execution_options(wk_write=True)
        return self._conn

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _after_failure(self, exc: Exception) -> None:
        """After a failed transaction (already rolled back): a database error may have left the
        connection dead, so the next transaction starts on a fresh one; a job's own error (`Rollback`,
        a bug) leaves it usable."""
        if isinstance(exc, SQLAlchemyError):
            self._reset()

    def _reset(self) -> None:
        """Start the next transaction on a fresh connection."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()
            with contextlib.suppress(Exception):
                conn.close()


class _Backlog:
    """Jobs taken from the queue beyond one batch, per tenant, shared by the lanes of a writer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_tenant: dict[str | None, deque[_Waiter]] = {}
        self._size = 0

    def __bool__(self) -> bool:
        return self._size > 0

    def fair_batch(self, taken: list[_Waiter], limit: int) -> list[_Waiter]:
        """Add `taken` (in queue order), then take up to `limit` jobs round-robin by tenant: each
        tenant's oldest, then each one's next, ... (tenants in the order they first queued)."""
        with self._lock:
            queues = self._by_tenant
            for waiter in taken:
                tenant = waiter.job.tenant
                found = queues.get(tenant)
                if found is None:
                    found = queues[tenant] = deque()
                found.append(waiter)
            self._size += len(taken)
            batch: list[_Waiter] = []
            while queues and len(batch) < limit:
                for tenant in list(queues):
                    waiting = queues[tenant]
                    batch.append(waiting.popleft())
                    if not waiting:
                        del queues[tenant]
                    if len(batch) >= limit:
                        break
            self._size -= len(batch)
            return batch


def _deliver(batch: list[_Waiter]) -> None:
    """Hand every job its result: asyncio futures in one callback per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Waiter]] = {}
    for waiter in batch:
        if waiter.loop is None:
            _settle(waiter)
        else:
            by_loop.setdefault(waiter.loop, []).append(waiter)
    for loop, waiters in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle_all, waiters)


def _settle_all(waiters: list[_Waiter]) -> None:
    for waiter in waiters:
        _settle(waiter)


def _settle(waiter: _Waiter) -> None:
    target, job = waiter.target, waiter.job
    if target.done():  # an asyncio caller was cancelled while waiting
        return
    if job._error is not None:
        error = job._error.signal if isinstance(job._error, Rollback) else job._error
        target.set_exception(error)
    else:
        target.set_result(job._result)
