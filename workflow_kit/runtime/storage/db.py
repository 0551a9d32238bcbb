"""The database: engine setup for SQLite and PostgreSQL, transactions, migrations, and upserts.

SQLite runs in WAL mode with ``synchronous=FULL`` by default: a committed step survives a process crash
*and* a power loss. ``?synchronous=normal`` in the URL trades the last commits on power loss (never on
a process crash) for speed. Write transactions start with ``BEGIN IMMEDIATE`` so two processes never
deadlock upgrading a read lock, and a busy timeout makes writers queue instead of failing. A new
SQLite file is made with ``auto_vacuum=INCREMENTAL``, so the workers that delete expired history give
the freed pages back to the file system as they go (``PRAGMA incremental_vacuum``, see
lifecycle/retention.py); a file made before keeps its mode until a ``VACUUM`` (the pragma is a no-op
on a file that has tables already).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from . import schema
from .direct import Direct
from .writer import GroupCommitWriter

MIGRATIONS = Path(__file__).parent.parent / "migrations"
VERSION_TABLE = "wk_alembic_version"
_SQLITE_SYNC = {"full": "FULL", "normal": "NORMAL", "off": "OFF", "extra": "EXTRA"}
POSTGRES_WRITER_LANES = 2
"""Group-commit transactions in flight at once on PostgreSQL (measured in bench/README.md: 2 gave 20%
more steps/s than 1 at 20 concurrent runs; 3 and 4 no more than 2)."""
_MIGRATION_LOCK = 7_347_201  # pg_advisory_xact_lock key: one migrating process at a time


def _json_dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def one_of(dialect: str, column: sa.ColumnElement[Any], name: str) -> sa.ColumnElement[bool]:
    """`column` is one of the list of strings bound to `name`, in SQL that is the same for any length
    of the list (an ``IN`` with one placeholder per value is compiled again for every length): on
    PostgreSQL ``= ANY(:name)``, on SQLite ``IN (SELECT value FROM json_each(:name))``. Both use an
    index on `column`."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(sa.String)))
    values = sa.func.json_each(sa.bindparam(name, type_=sa.JSON)).table_valued("value")
    return column.in_(sa.select(values.c.value))


def each_of(dialect: str, name: str) -> sa.TableValuedAlias:
    """The list of strings bound to `name` as a table of one column, ``value``, in SQL that is the same
    for any length of the list: on PostgreSQL ``unnest(:name)``, on SQLite ``json_each(:name)``. For a
    query that does something per value, such as a lookup along an index (see `one_of` to filter)."""
    if dialect == "postgresql":
        unnest = sa.func.unnest(sa.bindparam(name, type_=postgresql.ARRAY(sa.String)))
        return unnest.table_valued("value").render_derived()
    return sa.func.json_each(sa.bindparam(name, type_=sa.JSON)).table_valued("value")


def literals(values: Sequence[str]) -> list[sa.ColumnElement[Any]]:
    """Our own constants (status names) as SQL literals: ``status NOT IN ('completed', ...)`` is compiled
    once, where a list of bound values is expanded again at every execution."""
    assert all("'" not in value for value in values)
    return [sa.literal_column(f"'{value}'") for value in values]


class Database:
    """One engine per kit. Sync SQLAlchemy Core; async callers run it in a thread."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(parsed)
        elif self.dialect == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            self.engine = sa.create_engine(
                parsed,
                pool_size=pool_size,
                max_overflow=pool_size * 2,
                pool_pre_ping=True,
                json_serializer=_json_dumps,
                json_deserializer=msgspec.json.decode,
            )
        else:
            raise ValueError(f"unsupported database {url!r}: use sqlite:///path or postgresql+psycopg://...")
        self._ready = False
        self._ready_lock = threading.Lock()
        self._upserts: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Direct] = {}
        self.writer_lock: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if self.dialect == "sqlite" else contextlib.nullcontext()
        )
        """SQLite has one writer at a time: this process's writers queue here, not in SQLite's busy loop."""
        runs = schema.runs
        running = sa.select(runs.c.id, runs.c.claim_seq).where(
            one_of(self.dialect, runs.c.id, "ids"), runs.c.status == "running"
        )
        self._owners_read = Direct(running)
        self._owners_locked = Direct(
            running.order_by(runs.c.id).with_for_update(key_share=True) if self.dialect == "postgresql" else running
        )

    def owners(self, conn: Connection, run_ids: list[str], *, lock: bool = True) -> dict[str, int]:
        """``{run id: claim_seq}`` of those of `run_ids` that are running, inside `conn`'s transaction.
        With `lock`, on PostgreSQL their rows stay locked until it ends (taken in id order, so two
        transactions fencing overlapping runs cannot deadlock; a claim by another worker waits)."""
        statement = self._owners_locked if lock else self._owners_read
        return {row.id: row.claim_seq for row in statement.rows(conn, {"ids": run_ids})}

    @cached_property
    def writer(self) -> GroupCommitWriter:
        """The process's group-commit writer (threads, started on first use): one lane on SQLite, which
        has one writer at a time; `POSTGRES_WRITER_LANES` on PostgreSQL, whose transactions run side by
        side (one lane's transaction waits on the server while the next lane's is being built)."""
        return GroupCommitWriter(self, lanes=POSTGRES_WRITER_LANES if self.dialect == "postgresql" else 1)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success.

        SQLite has one writer at a time: threads of this process queue on a lock rather than on
        SQLite's busy handler, whose sleeps grow to 100 ms under contention."""
        self.ensure_schema()
        with self.writer_lock, self.engine.connect() as plain:
            conn = plain.execution_options(wk_write=True)
            with conn.begin():
                yield conn

    def give_back_pages(self, pages: int, least: int = 0) -> None:
        """SQLite: return up to `pages` free pages to the file system (``PRAGMA incremental_vacuum``, a
        write of its own; a no-op unless the file is in ``auto_vacuum=INCREMENTAL`` mode), once at least
        `least` pages are free (fewer, larger give-backs: each is a commit); PostgreSQL: nothing (its
        autovacuum makes deleted rows' space reusable)."""
        if self.dialect != "sqlite":
            return
        with self.writer_lock, self.engine.connect() as plain:
            dbapi = plain.connection.dbapi_connection
            assert dbapi is not None
            if least and dbapi.execute("PRAGMA freelist_count").fetchone()[0] < least:
                return
            # sqlite3's execute() steps a statement once, which frees one page: executescript() runs it
            # to the end (in autocommit: the connection is outside any transaction here)
            dbapi.executescript(f"PRAGMA incremental_vacuum({int(pages)})")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        self.ensure_schema()
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def ensure_schema(self) -> None:
        """Create or upgrade the tables once per process (a new database gets them on first use)."""
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                self.migrate()
                self._ready = True

    def migrate(self) -> str:
        """Upgrade the schema to the newest migration (Alembic); returns the revision."""
        head = _head_revision()
        with self.engine.connect() as plain:
            conn = plain.execution_options(wk_write=True)
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                if _current_revision(conn) == head:
                    return head
                from alembic import command  # only when there is something to upgrade
                from alembic.config import Config

                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        return head

    def libpq_url(self) -> str:
        """The PostgreSQL connection string for psycopg itself (e.g. a LISTEN connection)."""
        return self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def dispose(self) -> None:
        if "writer" in self.__dict__:
            self.writer.close()
            del self.__dict__["writer"]
        self.engine.dispose()

    # -- dialect helpers -----------------------------------------------------------------------

    def upsert(self, conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
        """Insert rows, or update every non-key column where the key exists (rows of one shape: the
        keys of the first)."""
        if not rows:
            return
        shape = (table.name, tuple(keys), tuple(rows[0]))
        statement = self._upserts.get(shape)
        if statement is None:  # building the statement costs more than running it: keep it
            insert = postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)
            columns = [c for c in rows[0] if c not in keys]
            upsert = insert.on_conflict_do_update(
                index_elements=list(keys), set_={c: insert.excluded[c] for c in columns}
            )
            statement = self._upserts[shape] = Direct(upsert, columns=shape[2])
        statement.many(conn, rows)

    def insert_ignore(self, conn: Connection, table: sa.Table, row: dict[str, Any]) -> bool:
        """Insert unless the primary key exists; True if inserted."""
        insert = postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)
        result = conn.execute(insert.on_conflict_do_nothing().values(**row))
        return bool(result.rowcount)

    def truncate_all(self) -> None:
        """Empty every runtime table (tests)."""
        with self.write() as conn:
            for table in reversed(schema.TABLES):
                conn.execute(table.delete())


def _sqlite_engine(url: sa.URL) -> Engine:
    query = dict(url.query)
    synchronous = _SQLITE_SYNC.get(str(query.pop("synchronous", "full")).lower())
    if synchronous is None:
        raise ValueError(f"synchronous must be one of {', '.join(_SQLITE_SYNC)}")
    url = url.set(query=query)
    memory = url.database in (None, "", ":memory:")
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if memory else None,
        json_serializer=_json_dumps,
        json_deserializer=msgspec.json.decode,
    )

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")  # before the first table, or by a VACUUM
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(conn: Connection) -> None:
        # Straight on the driver's connection: the writer begins a transaction for every group commit.
        write = conn.get_execution_options().get("wk_write")
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")  # type: ignore[union-attr]

    return engine


_REVISION_LINE = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:"([^"]*)"|None)\s*$', re.M)


@cache
def _head_revision() -> str:
    """The newest migration: the one revision no other names as its ``down_revision``. Read from the
    migration files' own lines, so a process whose schema is current never imports Alembic (0.1 to 0.2 s);
    tests/test_migrations.py checks it is Alembic's head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text()):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations in {MIGRATIONS} have {len(heads)} heads, not one: {sorted(heads)}")
    return heads.pop()


def _current_revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
