"""The group-commit writer (workflow_kit/runtime/storage/writer.py): many jobs share a transaction, yet each job
is all-or-nothing and one job's failure never fails another. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.storage.db import Database
from workflow_kit.runtime.storage.writer import MAX_BATCH, Claim, GroupCommitWriter, Rollback, Upsert, WriteJob
from workflow_kit.signals import StaleRun

NOTES = sa.Table(
    "wk_test_writer_notes",
    sa.MetaData(),
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("body", sa.String, nullable=False),
)


class Signal(Exception):
    pass


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.ensure_schema()
    NOTES.metadata.drop_all(database.engine)
    NOTES.metadata.create_all(database.engine)
    yield database
    NOTES.metadata.drop_all(database.engine)
    database.dispose()


def note(key: str, body: str = "x") -> Upsert:
    return Upsert(NOTES, ("id",), {"id": key, "body": body})


def stored(db: Database) -> dict[str, str]:
    with db.engine.connect() as conn:
        return {row.id: row.body for row in conn.execute(sa.select(NOTES))}


def insert(key: str) -> Any:
    return lambda conn: conn.execute(NOTES.insert().values(id=key, body="applied")) and key


def make_run(db: Database, claim_seq: int) -> str:
    run_id = str(uuid.uuid4())
    with db.engine.begin() as conn:
        conn.execute(
            schema.runs.insert().values(
                id=run_id,
                tenant="t",
                workflow_id="w",
                version_id="v",
                version_number=1,
                event_id="e",
                event={},
                status="running",
                claim_seq=claim_seq,
                wake_requested=False,
                system_depth=0,
                created_at=0,
                updated_at=0,
            )
        )
    return run_id


async def test_concurrent_jobs_share_transactions_and_all_commit(db: Database) -> None:
    writer = db.writer
    batches_before = writer.batches
    await asyncio.gather(*(writer.submit(WriteJob(rows=[note(f"n{i}", str(i))])) for i in range(300)))
    assert stored(db) == {f"n{i}": str(i) for i in range(300)}
    batches = writer.batches - batches_before
    assert batches < 300, "every job had a transaction of its own: nothing was grouped"


async def test_a_failing_job_undoes_only_its_own_writes(db: Database) -> None:
    def fails_after_writing(conn: Connection) -> None:
        conn.execute(NOTES.insert().values(id="bad-apply", body="never"))
        raise ValueError("boom")

    jobs: list[WriteJob[Any]] = []
    for i in range(40):
        jobs.append(WriteJob(rows=[note(f"ok{i}")]))
        jobs.append(WriteJob(apply=insert(f"apply{i}")))
        if i == 20:
            jobs.append(WriteJob(rows=[note("bad-row")], apply=fails_after_writing))
    results = await asyncio.gather(*(db.writer.submit(job) for job in jobs), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], ValueError) and str(errors[0]) == "boom"
    rows = stored(db)
    assert "bad-row" not in rows and "bad-apply" not in rows
    assert {f"ok{i}" for i in range(40)} | {f"apply{i}" for i in range(40)} == set(rows)
    assert [r for r in results if isinstance(r, str)] == [f"apply{i}" for i in range(40)]


async def test_a_database_error_in_one_job_fails_that_job_alone(db: Database) -> None:
    await db.writer.submit(WriteJob(apply=insert("taken")))
    jobs = [WriteJob(apply=insert(f"fine{i}")) for i in range(30)]
    jobs.insert(15, WriteJob(apply=insert("taken")))  # a primary key that exists: an IntegrityError
    results = await asyncio.gather(*(db.writer.submit(job) for job in jobs), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], sa.exc.IntegrityError)
    assert set(stored(db)) == {"taken"} | {f"fine{i}" for i in range(30)}
    assert await db.writer.submit(WriteJob(apply=insert("after"))) == "after"  # the writer carries on


async def test_rollback_raises_its_signal_and_keeps_nothing_of_the_job(db: Database) -> None:
    def undo(conn: Connection) -> None:
        conn.execute(NOTES.insert().values(id="undone", body="x"))
        raise Rollback(Signal("reload"))

    jobs: list[WriteJob[Any]] = [WriteJob(rows=[note(f"k{i}")]) for i in range(10)]
    jobs.append(WriteJob(rows=[note("undone-row")], apply=undo))
    results = await asyncio.gather(*(db.writer.submit(job) for job in jobs), return_exceptions=True)
    assert isinstance(results[-1], Signal) and str(results[-1]) == "reload"
    assert set(stored(db)) == {f"k{i}" for i in range(10)}


async def test_a_job_fenced_by_a_lost_claim_is_refused(db: Database) -> None:
    run_id = make_run(db, claim_seq=2)
    current = WriteJob(fence=Claim(run_id, 2), rows=[note("current")])
    stale = WriteJob(fence=Claim(run_id, 1), rows=[note("stale")])
    unfenced = WriteJob(rows=[note("free")])
    results = await asyncio.gather(*(db.writer.submit(j) for j in (current, stale, unfenced)), return_exceptions=True)
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], StaleRun)
    assert set(stored(db)) == {"current", "free"}


def test_run_from_threads(db: Database) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            assert db.writer.run(WriteJob(apply=insert(f"t{n}"))) == f"t{n}"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert set(stored(db)) == {f"t{n}" for n in range(16)}


async def test_close_writes_what_is_queued(database_url: str) -> None:
    db = Database(database_url)
    db.ensure_schema()
    NOTES.metadata.create_all(db.engine)
    try:
        pending = [asyncio.ensure_future(db.writer.submit(WriteJob(rows=[note(f"q{i}")]))) for i in range(50)]
        await asyncio.sleep(0)  # every job is queued
        await asyncio.to_thread(db.writer.close)
        await asyncio.gather(*pending)
        assert set(stored(db)) == {f"q{i}" for i in range(50)}
    finally:
        NOTES.metadata.drop_all(db.engine)
        db.dispose()


@pytest.mark.parametrize("lanes", [1, 3])
async def test_lanes_share_the_queue_and_all_stop_on_close(database_url: str, lanes: int) -> None:
    """Several lanes (PostgreSQL's default is 2) write batches side by side; close stops every one of
    them after writing what was queued."""
    db = Database(database_url)
    db.ensure_schema()
    NOTES.metadata.create_all(db.engine)
    writer = GroupCommitWriter(db, lanes=lanes)
    try:
        results = await asyncio.gather(*(writer.submit(WriteJob(apply=insert(f"l{i}"))) for i in range(200)))
        assert results == [f"l{i}" for i in range(200)]
        pending = [asyncio.ensure_future(writer.submit(WriteJob(rows=[note(f"late{i}")]))) for i in range(50)]
        await asyncio.sleep(0)
        await asyncio.to_thread(writer.close)
        await asyncio.gather(*pending)
        assert set(stored(db)) == {f"l{i}" for i in range(200)} | {f"late{i}" for i in range(50)}
        assert len(writer._threads) == lanes and not any(thread.is_alive() for thread in writer._threads)
        assert writer.jobs == 250
        with pytest.raises(RuntimeError, match="closed"):
            await writer.submit(WriteJob(rows=[note("after")]))
    finally:
        writer.close()
        NOTES.metadata.drop_all(db.engine)
        db.dispose()


async def test_a_tenant_with_a_long_queue_does_not_hold_back_another(database_url: str) -> None:
    """Queued behind thousands of one tenant's writes, another tenant's write is in the next batch:
    batches are built round-robin by tenant."""
    db = Database(database_url)
    db.ensure_schema()
    writer = GroupCommitWriter(db, lanes=1)
    entered, gate = threading.Event(), threading.Event()
    order: list[str] = []

    def hold(conn: Connection) -> None:
        entered.set()
        gate.wait(30)

    def record(name: str) -> Any:
        return lambda conn: order.append(name)

    try:
        blocker = asyncio.ensure_future(writer.submit(WriteJob(apply=hold)))
        await asyncio.to_thread(entered.wait, 30)
        flood = [writer.submit(WriteJob(tenant="a", apply=record(f"a{i}"))) for i in range(2 * MAX_BATCH)]
        pending = [
            asyncio.ensure_future(job) for job in [*flood, writer.submit(WriteJob(tenant="b", apply=record("b")))]
        ]
        await asyncio.sleep(0)  # every job is queued
        gate.set()
        await asyncio.gather(blocker, *pending)
        assert order.index("b") == 1, order[:5]
        assert [name for name in order if name != "b"] == [f"a{i}" for i in range(2 * MAX_BATCH)]  # a's own order
    finally:
        gate.set()
        writer.close()
        db.dispose()
