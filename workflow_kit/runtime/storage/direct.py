"""Hot statements straight on the driver's cursor.

The writer runs a few statements for every step of every run. For a small indexed statement,
SQLAlchemy's execution path (the compiled cache lookup, parameter processing, events, the result
object) costs several times what the database itself spends (about 25 µs against 5 µs on SQLite
here), and the writer thread's time is what bounds a process's steps per second. A `Direct` is a
Core statement compiled once per dialect and executed on the DBAPI cursor of a SQLAlchemy connection,
inside that connection's transaction:

- parameters are plain Python values by bind name; a JSON parameter is encoded with msgspec (``None``
  as JSON ``null``, as SQLAlchemy's JSON type does); on SQLite a list bound by `db.one_of` is JSON;
- binds with a value in the statement (``status == "waiting"``) keep it unless given;
- rows come back as named tuples with JSON columns decoded (psycopg decodes ``jsonb`` itself).

Only statements whose SQL is the same at every execution qualify: no expanding ``IN`` (use `one_of`
or `literals`), which `Direct` refuses at compile time.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

_encode = msgspec.json.encode
_decode = msgspec.json.decode


def _json_text(value: Any) -> str:
    return _encode(value).decode()


class _Plan:
    """One statement compiled for one dialect."""

    __slots__ = ("decoders", "defaults", "json", "names", "positional", "row_type", "sql")

    def __init__(self, statement: sa.Executable, dialect: Dialect, columns: Sequence[str] | None) -> None:
        compile_kw: dict[str, Any] = {"column_keys": list(columns)} if columns is not None else {}
        compiled = statement.compile(dialect=dialect, **compile_kw)  # type: ignore[attr-defined]
        prefetch = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        if prefetch:
            raise ValueError(f"{', '.join(prefetch)}: a default computed in Python: give the value")
        self.sql: str = compiled.string
        self.positional: bool = bool(dialect.positional)
        self.names: list[str] = list(compiled.positiontup or ()) if self.positional else []
        self.defaults: dict[str, Any] = {}
        self.json: frozenset[str] = frozenset()
        json_names = set()
        for bind, name in compiled.bind_names.items():
            if bind.expanding:
                raise ValueError(f"{name}: an expanding IN is compiled again at every execution")
            if not bind.required:
                self.defaults[name] = bind.callable() if bind.callable is not None else bind.value
            if isinstance(bind.type, sa.JSON):
                json_names.add(name)
        self.json = frozenset(json_names)
        self.decoders: tuple[Callable[[Any], Any] | None, ...] = ()
        if dialect.name == "sqlite":
            self.decoders = tuple(
                _decode_json if isinstance(column.type, sa.JSON) else None for column in _result_columns(statement)
            )
        self.row_type: Any = None  # a named tuple of the result's columns, made at the first execution

    def bind(self, params: dict[str, Any]) -> Any:
        values = {**self.defaults, **params} if self.defaults else params
        if self.json:
            values = {name: (_json_text(value) if name in self.json else value) for name, value in values.items()}
        if self.positional:
            return tuple(values[name] for name in self.names)
        return values

    def rows(self, cursor: Any) -> list[Any]:
        if self.row_type is None:
            self.row_type = namedtuple("Row", [column[0] for column in cursor.description], rename=True)  # type: ignore[misc]
        make = self.row_type._make
        fetched = cursor.fetchall()
        if not any(self.decoders):
            return [make(row) for row in fetched]
        decoders = self.decoders
        return [
            make(value if decoder is None else decoder(value) for decoder, value in zip(decoders, row, strict=False))
            for row in fetched
        ]


def _decode_json(value: Any) -> Any:
    # A JSON column has numeric affinity on SQLite: a JSON number comes back as the number itself.
    return _decode(value) if isinstance(value, str | bytes) else value


def _result_columns(statement: sa.Executable) -> list[sa.ColumnElement[Any]]:
    if isinstance(statement, sa.Select | sa.CompoundSelect):
        return list(statement.selected_columns)
    if isinstance(statement, sa.Insert | sa.Update | sa.Delete):
        return list(statement.exported_columns)
    return []


class Direct:
    """A statement for the hot path (see the module docstring). `columns`: the column keys an
    ``INSERT`` without ``.values()`` is compiled for (the keys of the rows given to `many`)."""

    __slots__ = ("_lock", "_plans", "columns", "statement")

    def __init__(self, statement: sa.Executable, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = tuple(columns) if columns is not None else None
        self._plans: dict[str, _Plan] = {}
        self._lock = threading.Lock()

    def _plan(self, conn: Connection) -> _Plan:
        plan = self._plans.get(conn.dialect.name)
        if plan is None:
            with self._lock:
                plan = self._plans.get(conn.dialect.name) or _Plan(self.statement, conn.dialect, self.columns)
                self._plans[conn.dialect.name] = plan
        return plan

    def bound(self, conn: Connection, params: dict[str, Any]) -> tuple[str, Any]:
        """The SQL and the driver's parameters an execution with `params` sends (to explain it)."""
        plan = self._plan(conn)
        return plan.sql, plan.bind(params)

    def run(self, conn: Connection, params: dict[str, Any]) -> int:
        """Execute once; the number of rows it changed."""
        plan = self._plan(conn)
        with _cursor(conn, plan.sql) as cursor:
            cursor.execute(plan.sql, plan.bind(params))
            return int(cursor.rowcount)

    def many(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Execute once per parameter set, in one driver call."""
        if not rows:
            return
        plan = self._plan(conn)
        with _cursor(conn, plan.sql) as cursor:
            cursor.executemany(plan.sql, [plan.bind(row) for row in rows])

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[Any]:
        """Execute and fetch every row (named tuples; JSON decoded)."""
        plan = self._plan(conn)
        with _cursor(conn, plan.sql) as cursor:
            cursor.execute(plan.sql, plan.bind(params))
            return plan.rows(cursor)


@contextmanager
def _cursor(conn: Connection, sql: str) -> Iterator[Any]:
    """A DBAPI cursor of `conn`, in the transaction SQLAlchemy began on it (begun now if none was, as
    ``conn.execute`` does). The driver's errors come out as SQLAlchemy's (``IntegrityError``,
    ``OperationalError``, ...), as they would from ``conn.execute``, so callers and the writer treat
    them alike."""
    if not conn.in_transaction():
        conn.begin()
    driver = conn.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        yield cursor
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()
