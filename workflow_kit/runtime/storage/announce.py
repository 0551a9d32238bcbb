"""Telling the workers of every process that something became due (a run, a cron tick)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

DUE_CHANNEL = "workflow_kit_due"
"""The PostgreSQL channel workers ``LISTEN`` on."""


def announce_due(conn: Connection) -> None:
    """Tell the workers of every process that runs became due, once per transaction: on PostgreSQL a
    ``NOTIFY`` (delivered when the transaction commits, never if it rolls back). Workers of this
    process are woken by the caller (``kit.notify``); SQLite workers of other processes poll."""
    if conn.dialect.name != "postgresql":
        return
    transaction = conn.get_transaction()
    if transaction is None or conn.info.get("wk_announced") is transaction:
        return
    conn.execute(sa.select(sa.func.pg_notify(DUE_CHANNEL, "")))
    conn.info["wk_announced"] = transaction
