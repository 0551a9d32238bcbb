"""Hot statements straight on the driver's cursor (workflow_kit/runtime/storage/direct.py): the same rows, the
same stored values and the same errors as SQLAlchemy's own execution, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from workflow_kit.runtime.storage.db import Database, literals, one_of
from workflow_kit.runtime.storage.direct import Direct
from workflow_kit.runtime.storage.schema import JSONType

ITEMS = sa.Table(
    "wk_test_direct_items",
    sa.MetaData(),
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("body", JSONType, nullable=True),
    sa.Column("n", sa.BigInteger, nullable=True),
    sa.Column("flag", sa.Boolean, nullable=False, server_default=sa.false()),
)
BODIES: list[Any] = [
    {"a": [1, 2.5, "x"], "nested": {"deep": None}},
    [1, 2],
    "text",
    7,
    2.5,
    True,
    None,
    'ü ✓ 𝄞 "quoted"',
]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.ensure_schema()
    ITEMS.metadata.drop_all(database.engine)
    ITEMS.metadata.create_all(database.engine)
    yield database
    ITEMS.metadata.drop_all(database.engine)
    database.dispose()


def _rows(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.select(ITEMS).order_by(ITEMS.c.id))]


def test_insert_many_stores_what_sqlalchemy_stores(db: Database) -> None:
    rows = [{"id": f"r{i}", "status": "open", "body": b, "n": i, "flag": i % 2 == 0} for i, b in enumerate(BODIES)]
    with db.engine.begin() as conn:
        conn.execute(ITEMS.insert(), rows)
    expected = _rows(db)
    with db.engine.begin() as conn:
        conn.execute(ITEMS.delete())
    with db.engine.begin() as conn:
        Direct(ITEMS.insert(), columns=tuple(rows[0])).many(conn, rows)
    assert _rows(db) == expected
    assert [row[2] for row in expected] == BODIES


def test_select_decodes_json_and_keeps_literal_binds(db: Database) -> None:
    with db.engine.begin() as conn:
        rows = [{"id": f"r{i}", "status": "open", "body": b, "n": i} for i, b in enumerate(BODIES)]
        conn.execute(ITEMS.insert(), rows)
        conn.execute(ITEMS.insert(), {"id": "closed", "status": "closed", "body": {"k": 1}, "n": 99})
    statement = sa.select(ITEMS.c.id, ITEMS.c.body, ITEMS.c.n).where(
        ITEMS.c.status == "open", one_of(db.dialect, ITEMS.c.id, "ids")
    )
    ids = ["r0", "r1", "r3", "r4", "r6", "closed", "missing"]
    with db.engine.begin() as conn:
        expected = sorted(tuple(row) for row in conn.execute(statement, {"ids": ids}))
        found = Direct(statement.order_by(ITEMS.c.id)).rows(conn, {"ids": ids})
    assert [tuple(row) for row in found] == expected
    assert [row.id for row in found] == ["r0", "r1", "r3", "r4", "r6"]
    assert found[0].body == BODIES[0] and found[3].body == 2.5 and found[4].body is None
    assert found[0]._asdict() == {"id": "r0", "body": BODIES[0], "n": 0}


def test_update_counts_rows_and_defaults_can_be_overridden(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(ITEMS.insert(), [{"id": f"r{i}", "status": "open", "n": i} for i in range(3)])
        conn.execute(ITEMS.insert(), {"id": "done", "status": "completed", "n": 0})
    close = Direct(
        ITEMS.update()
        .where(ITEMS.c.id == sa.bindparam("key"), ITEMS.c.status.not_in(literals(("completed", "failed"))))
        .values(status="closed", body=sa.bindparam("body", type_=JSONType), n=ITEMS.c.n + 10)
    )
    with db.engine.begin() as conn:
        assert close.run(conn, {"key": "r1", "body": {"why": "x"}}) == 1
        assert close.run(conn, {"key": "done", "body": None}) == 0  # a literal status list
        assert close.run(conn, {"key": "r2", "body": None, "status": "archived"}) == 1  # a default, overridden
    rows = {row[0]: row for row in _rows(db)}
    assert rows["r1"][1:4] == ("closed", {"why": "x"}, 11)
    assert rows["r2"][1:4] == ("archived", None, 12)
    assert rows["done"][1] == "completed"


def test_refuses_a_default_computed_in_python(db: Database) -> None:
    table = sa.Table(
        "t", sa.MetaData(), sa.Column("id", sa.String, primary_key=True), sa.Column("n", sa.Integer, default=1)
    )
    with db.engine.begin() as conn, pytest.raises(ValueError, match="n: a default computed in Python"):
        Direct(table.insert(), columns=("id",)).many(conn, [{"id": "a"}])


def test_begins_a_transaction_as_conn_execute_does(db: Database) -> None:
    with db.engine.connect() as conn:
        Direct(ITEMS.insert(), columns=("id", "status")).many(conn, [{"id": "a", "status": "open"}])
        assert conn.in_transaction()
        conn.rollback()
        assert Direct(sa.select(ITEMS.c.id)).rows(conn, {}) == []
        conn.rollback()
    assert _rows(db) == []


def test_refuses_an_expanding_in(db: Database) -> None:
    statement = Direct(sa.select(ITEMS.c.id).where(ITEMS.c.id.in_(["a", "b"])))
    with db.engine.begin() as conn, pytest.raises(ValueError, match="expanding IN"):
        statement.rows(conn, {})


def test_a_database_error_comes_out_as_sqlalchemys(db: Database) -> None:
    """The writer starts over on a fresh connection after a database error, and the journal turns one
    into `JournalUnavailable`: both look for SQLAlchemy's errors, as `conn.execute` raises them."""
    insert = Direct(ITEMS.insert(), columns=("id", "status"))
    with db.engine.begin() as conn:
        insert.many(conn, [{"id": "same", "status": "open"}])
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        insert.many(conn, [{"id": "same", "status": "open"}])
    with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
        Direct(sa.select(sa.func.no_such_function(ITEMS.c.id))).rows(conn, {})
    assert _rows(db) == [("same", "open", None, None, False)]
