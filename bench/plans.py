"""The database's plans of the runtime's own statements (EXPLAIN), for the benchmarks and the tests:
they show that finding the waits an event may resolve stays an index lookup however many waits are open.
Not part of the product: the runtime never explains its queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from workflow_kit.runtime.lifecycle import waits
from workflow_kit.runtime.lifecycle.events_in import probe
from workflow_kit.runtime.rules.triggers import patterns_for
from workflow_kit.runtime.storage.direct import Direct


def explain(conn: Connection, statement: Direct, params: dict[str, Any]) -> str:
    """The database's plan of `statement` run with `params`, on one line."""
    sql, parameters = statement.bound(conn, params)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, parameters)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + sql, parameters)
        return " ".join(str(row[0]).strip() for row in cursor.fetchall())
    finally:
        cursor.close()


def wait_lookup_plan(conn: Connection, tenant: str, event: dict[str, Any], now: int) -> str:
    """The plan for finding the open waits `event` may resolve: the very statement and parameters
    receiving an event uses."""
    return explain(conn, *waits.lookup(conn.dialect.name, tenant, event, now))


def listener_probe_plan(conn: Connection, tenant: str, event: dict[str, Any], now: int) -> str:
    """The plan of the first look at a received event: is any workflow triggered, may any wait take it."""
    found, params = waits.lookup(conn.dialect.name, tenant, event, now)
    return explain(conn, probe(conn.dialect.name, found), {**params, "patterns": patterns_for(event["name"])})
