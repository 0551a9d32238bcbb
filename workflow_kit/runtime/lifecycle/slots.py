"""Concurrency limits: a run executes a step only while it holds a slot of each of its keys.

A run's keys and limits are decided when it is queued (``wk_runs.limits``, see flow.py). When workers
claim due runs, `admit` gives each run with limits a slot of every key (a row of ``wk_slots``) if all
have room, in the order the runs became due; a run that finds a key full is *blocked*: queued with no
due time (or its start deadline, so a start timeout still fires) and ``blocked_key`` set. A run gives
its slots back when it parks (sleeping and waiting runs do not count) or ends (`release`), and the
oldest run blocked on each freed key becomes due at once. A run that already holds slots (its worker
died and its lease ran out) keeps them when it is claimed again.

On PostgreSQL, admitting and releasing take a transaction-level advisory lock per key, in key order, so
a slot freed while another worker decides to block a run is never missed; on SQLite the database has
one writer at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..storage import schema
from . import runs

SL = schema.slots


def lock_keys(conn: Connection, keys: Sequence[str]) -> None:
    if conn.dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        number = int.from_bytes(hashlib.blake2b(("slot:" + key).encode(), digest_size=8).digest(), "big", signed=True)
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(number)))


def admit(conn: Connection, due: Sequence[Any], now: int) -> list[str]:
    """Of the due runs (rows with ``id``, ``limits``, ``start_by``, in due order), those that may be
    claimed now; blocks the others. Takes their slots."""
    keys = sorted({limit["key"] for row in due for limit in row.limits or ()})
    lock_keys(conn, keys)
    used: dict[str, int] = dict.fromkeys(keys, 0)
    held: set[tuple[str, str]] = set()
    for key, run_id in conn.execute(sa.select(SL.c.key, SL.c.run_id).where(SL.c.key.in_(keys))):
        used[key] += 1
        held.add((key, run_id))
    admitted: list[str] = []
    taken: list[dict[str, str]] = []
    for row in due:
        limits = row.limits or ()
        if not limits or (row.start_by is not None and row.start_by <= now):  # to be cancelled: no slot needed
            admitted.append(row.id)
            continue
        needed = [limit for limit in limits if (limit["key"], row.id) not in held]
        full = next((limit["key"] for limit in needed if used[limit["key"]] >= limit["limit"]), None)
        if full is not None:
            runs.block(conn, row.id, full, row.start_by, now)
            continue
        for limit in needed:
            used[limit["key"]] += 1
            taken.append({"key": limit["key"], "run_id": row.id})
        admitted.append(row.id)
    if taken:
        conn.execute(SL.insert(), taken)
    return admitted


def release(conn: Connection, run_id: str, now: int) -> None:
    """Give back the run's slots; the oldest run blocked on each key becomes due."""
    keys = list(conn.execute(sa.select(SL.c.key).where(SL.c.run_id == run_id)).scalars())
    if not keys:
        return
    lock_keys(conn, keys)
    conn.execute(SL.delete().where(SL.c.run_id == run_id))
    for key in keys:
        runs.unblock_oldest(conn, key, now)
