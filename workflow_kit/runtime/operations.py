"""Bulk actions over a tenant's runs: cancel or replay every run a filter matches (``kit.runs.bulk_cancel``,
``kit.runs.bulk_replay``; ``POST /api/runs/bulk-cancel``), as an operation that the workers work off.

`create` checks the filter (its expression compiled and checked, so a bad one is refused before anything
is stored), counts the runs it matches and stores the operation in ``wk_operations``; the caller gets its
id at once. The work is done by `step`, which every worker calls in a loop of its own: one batch of at
most `BATCH` runs, newest first from the operation's cursor, in one short transaction that also moves the
cursor and the counts. So:

- a crash in the middle of a batch rolls the whole batch back, and the next step does it again from the
  same cursor: the operation resumes, and no run is handled twice (a replayed run is a new run whose
  ``rerun_of`` is its source, created in the transaction that moves the cursor past the source);
- on PostgreSQL a batch locks its operation's row (``FOR UPDATE SKIP LOCKED``): two workers never work on
  the same operation at once, and take different operations side by side; SQLite has one writer anyway;
- the operation that waited longest goes next (by ``updated_at``), so the operations of several tenants
  take turns, and every batch is short: the workers' other writes (other tenants' runs) go between two
  batches.

Statuses change through the lifecycle only: cancelling is `settle.cancel_or_dismiss` (runs that have not
ended stop, failed runs are dismissed: cancelled, keeping their failure; idempotent: a run it cancelled
stays as it is, as does a completed one), replaying is `start.start_run`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import expressions
from ..errors import ExpressionError
from ..events import new_id
from ..observe import RunInfo
from ..tenancy import check_tenant
from .lifecycle import settle
from .lifecycle.effects import Context
from .lifecycle.runs import OPEN
from .lifecycle.start import new_run, start_run
from .models import FilterError, NotFoundError, RunStatus
from .storage import schema
from .storage.db import Database
from .storage.run_filter import NEWEST_FIRST, RunFilter, before

OP, R, V, W = schema.operations, schema.runs, schema.workflow_versions, schema.workflows
CANCELLABLE = (*OPEN, RunStatus.FAILED)
"""The statuses a bulk cancel takes: runs that have not ended stop, failed runs are dismissed (they become
cancelled, keeping their error: see `lifecycle.runs.dismiss`); completed and cancelled runs stay."""
BATCH = 25
"""Runs handled in one transaction: small, so that a bulk action never holds the database for long."""
EXPRESSION_VARIABLES = ("event",)
_ANY_RUNNING = sa.select(OP.c.id).where(OP.c.state == "running").limit(1)
CANCEL_REASON = "cancelled in bulk"
_DECIDE_OPERATIONS = 4
"""Running operations whose next batch is decided before a step (the step takes the one that waited
longest; more than one in case another worker takes that one meanwhile)."""


class OperationKind(StrEnum):
    CANCEL = "cancel"
    REPLAY = "replay"


class OperationState(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"


class ReplayVersion(StrEnum):
    OWN = "own"
    """Each run's own version (a test run's draft snapshot included)."""
    LATEST = "latest"
    """The workflow's latest published version."""


class BulkFilter(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """The runs a bulk action applies to (as stored with the operation): those of one workflow (or any),
    with one of some statuses (or any; a cancel takes runs that have not ended, and failed runs only if
    `status` names them), created in
    ``[since, until)``, test runs or not, whose event satisfies the CEL expression `if_` (JSON ``if``;
    it reads ``event``)."""

    workflow_id: str | None = None
    status: tuple[RunStatus, ...] = ()
    since: int | None = None
    until: int | None = None
    test: bool | None = None
    if_: str | None = msgspec.field(default=None, name="if")
    version: ReplayVersion = ReplayVersion.OWN
    """Replay only: on which version the new runs start."""

    def runs(self) -> RunFilter:
        return RunFilter(
            workflow_id=self.workflow_id, status=self.status, since=self.since, until=self.until, test=self.test
        )


class Operation(msgspec.Struct, kw_only=True):
    """A bulk action and how far it got: `matched` runs to handle (the runs the filter found, less those
    its expression turned down so far; once it has completed, exactly the runs it handled), `done`
    (cancelled, or replayed), `failed` (could not be: a replay on the latest version of a workflow that
    has none published)."""

    id: str
    kind: OperationKind
    state: OperationState
    matched: int
    done: int
    failed: int
    filter: BulkFilter
    created_at: int
    ended_at: int | None = None


def create(db: Database, tenant: str, kind: OperationKind, bulk: BulkFilter, now: int) -> Operation:
    """Check the filter, count the runs it matches, and store the operation (completed at once if it
    matches none). `FilterError` (with the field's path) for a filter the kit cannot use."""
    check_tenant(tenant)
    if bulk.if_ is not None:
        try:
            expressions.check(bulk.if_, EXPRESSION_VARIABLES)
        except ExpressionError as exc:
            where = f" at line {exc.line}, column {exc.column}" if exc.line is not None else ""
            raise FilterError("if", f"{exc.reason}{where}") from None
    if bulk.since is not None and bulk.until is not None and bulk.since >= bulk.until:
        raise FilterError("until", "the end of the time range must come after its start")
    if kind == OperationKind.CANCEL:
        # no status: the runs that have not ended (cancelling a workflow's runs dismisses no old failure)
        wanted = set(bulk.status) or set(OPEN)
        cancellable = tuple(s for s in CANCELLABLE if s in wanted)
        if not cancellable:
            raise FilterError(
                "status",
                "completed and cancelled runs stay as they are, so there is nothing to cancel: runs that have "
                "not ended (queued, running, sleeping, waiting) stop, and failed runs are marked cancelled; "
                "replay ended runs to run them again",
            )
        bulk = msgspec.structs.replace(bulk, status=cancellable)
    # Runs created from now on (replays of this very operation among them) are not its business.
    until = now + 1 if bulk.until is None else min(bulk.until, now + 1)
    bulk = msgspec.structs.replace(bulk, until=until)
    with db.write() as conn:
        matched = conn.execute(sa.select(sa.func.count()).select_from(R).where(*bulk.runs().conditions(tenant)))
        count = int(matched.scalar_one())
        row = {
            "id": new_id(now),
            "tenant": tenant,
            "kind": kind.value,
            "filter": msgspec.to_builtins(bulk),
            "state": (OperationState.RUNNING if count else OperationState.COMPLETED).value,
            "cursor_created_at": None,
            "cursor_id": None,
            "matched": count,
            "done": 0,
            "failed": 0,
            "created_at": now,
            "updated_at": now,
            "ended_at": None if count else now,
        }
        conn.execute(OP.insert(), [row])
    return _operation(row)


def get(db: Database, tenant: str, operation_id: str) -> Operation:
    """The operation and its progress; `NotFoundError` if the tenant has none of that id."""
    check_tenant(tenant)
    with db.read() as conn:
        row = conn.execute(OP.select().where(OP.c.id == operation_id, OP.c.tenant == tenant)).mappings().first()
    if row is None:
        raise NotFoundError(f"no operation {operation_id!r}")
    return _operation(row)


@dataclass
class Stepped:
    """What one `step` did: whether it found work, whether runs became due, and the runs it ended by
    cancelling them (for the worker to stop them if it executes them, and to report their end to its
    observer; not the failed runs it dismissed, which ended when they failed)."""

    worked: bool = False
    woke: bool = False
    cancelled: list[RunInfo] = field(default_factory=list)
    tenant: str | None = None
    """The tenant of the operation it worked on."""
    requested: list[str] = field(default_factory=list)
    """The runs it started that another engine executes (to be asked of it: ``RemoteEngine.requested``)."""


def step(
    ctx: Context, db: Database, now: int, *, batch: int = BATCH, crash: Callable[[], None] | None = None
) -> Stepped:
    """Work one batch of the operation that waited longest, in one transaction (see the module
    docstring). `crash` (tests) is called after the batch's work and before its commit."""
    result = Stepped()
    with db.read() as conn:  # most of the time there is none: a read costs less than taking the writer's turn
        if conn.execute(_ANY_RUNNING).first() is None:
            return result
        holds = _decide(conn, batch)
    with db.write() as conn:
        pick = OP.select().where(OP.c.state == OperationState.RUNNING.value).order_by(OP.c.updated_at, OP.c.id).limit(1)
        if db.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        row = conn.execute(pick).mappings().first()
        if row is None:
            return result
        result.worked = True
        operation = _operation(row)
        result.tenant = row["tenant"]
        bulk = operation.filter
        query = R.select().where(*bulk.runs().conditions(row["tenant"]))
        if row["cursor_id"] is not None:
            query = query.where(before(row["cursor_created_at"], row["cursor_id"]))
        fetched = conn.execute(query.order_by(*NEWEST_FIRST).limit(batch)).mappings().all()
        # the tenant's expression was evaluated before this transaction: the batch stops at a run it did
        # not see (the next step decides it), so the cursor never moves past an undecided run
        candidates = []
        for run in fetched:
            if bulk.if_ is not None and (operation.id, run["id"]) not in holds:
                break
            candidates.append(run)
        chosen = [run for run in candidates if bulk.if_ is None or holds[operation.id, run["id"]]]
        matched = operation.matched - (len(candidates) - len(chosen))
        done, failed = operation.done, operation.failed
        if operation.kind == OperationKind.CANCEL:
            ids = [run["id"] for run in chosen]
            if ids:
                cancelled = settle.cancel_or_dismiss(ctx, conn, ids, CANCEL_REASON, now)
                result.woke = cancelled.woke
                # only the runs that ended now (a dismissed run ended when it failed)
                result.cancelled = [
                    RunInfo(run.id, run.tenant, run.workflow_id, run.version_number, run.parent_run_id)
                    for run in cancelled.ended
                ]
            done += len(ids)
        else:
            replayed, missing = _replay(ctx, conn, chosen, bulk.version, now, result.requested)
            done, failed = done + replayed, failed + missing
            result.woke = replayed > 0
        values: dict[str, Any] = {"matched": matched, "done": done, "failed": failed, "updated_at": now}
        if candidates:
            values |= {"cursor_created_at": candidates[-1]["created_at"], "cursor_id": candidates[-1]["id"]}
        if len(fetched) < batch and len(candidates) == len(fetched):
            values |= {"state": OperationState.COMPLETED.value, "ended_at": now, "matched": done + failed}
        conn.execute(OP.update().where(OP.c.id == operation.id).values(**values))
        if crash is not None:
            crash()
    return result


def _decide(conn: Connection, batch: int) -> dict[tuple[str, str], bool]:
    """Whether each run of the next batch of every running operation with an expression satisfies it,
    by (operation id, run id): evaluated on a read, before the write transaction, which then only looks
    the answers up (a run's event never changes), so a tenant's expression never holds the writer."""
    holds: dict[tuple[str, str], bool] = {}
    running = OP.select().where(OP.c.state == OperationState.RUNNING.value).order_by(OP.c.updated_at, OP.c.id)
    for row in conn.execute(running.limit(_DECIDE_OPERATIONS)).mappings().all():
        operation = _operation(row)
        bulk = operation.filter
        if bulk.if_ is None:
            continue
        condition = expressions.compile_expression(bulk.if_)
        query = sa.select(R.c.id, R.c.event).where(*bulk.runs().conditions(row["tenant"]))
        if row["cursor_id"] is not None:
            query = query.where(before(row["cursor_created_at"], row["cursor_id"]))
        for run in conn.execute(query.order_by(*NEWEST_FIRST).limit(batch)).all():
            holds[operation.id, run.id] = _holds(condition, run.event)
    return holds


def _holds(condition: expressions.Expression, event: dict[str, Any]) -> bool:
    """Whether the run's event satisfies the operation's expression (an error, or not a boolean: no)."""
    try:
        return expressions.evaluate(condition, {"event": event}) is True
    except ExpressionError:
        return False


def _replay(
    ctx: Context, conn: Connection, sources: Sequence[Any], version: ReplayVersion, now: int, remote: list[str]
) -> tuple[int, int]:
    """Start a new run of each source run (same event, on its own version or the latest published, on
    the engine its source ran on: the ids of those another engine executes join `remote`); how many
    started, and how many could not (no published version)."""
    latest: dict[str, tuple[str, int] | None] = {}
    started = missing = 0
    for source in sources:
        if version == ReplayVersion.OWN:
            pinned: tuple[str, int | None] | None = (source["version_id"], source["version_number"])
        else:
            workflow_id = source["workflow_id"]
            if workflow_id not in latest:
                found = conn.execute(
                    sa.select(V.c.id, V.c.number)
                    .join(W, sa.and_(W.c.id == V.c.workflow_id, W.c.published_version == V.c.number))
                    .where(W.c.id == workflow_id, W.c.tenant == source["tenant"])
                ).first()
                latest[workflow_id] = (found.id, found.number) if found is not None else None
            pinned = latest[workflow_id]
        if pinned is None:
            missing += 1
            continue
        run = new_run(
            tenant=source["tenant"],
            workflow_id=source["workflow_id"],
            version_id=pinned[0],
            version_number=pinned[1],
            event=source["event"],
            event_id=source["event_id"],
            now=now,
            rerun_of=source["id"],
            batch=source["batch"],
            trigger=source["trigger"],
            runs_on=source["runs_on"],
        )
        start_run(ctx, conn, run)
        if run.runs_on is not None:
            remote.append(run.id)
        started += 1
    return started, missing


def _operation(row: Any) -> Operation:
    return Operation(
        id=row["id"],
        kind=OperationKind(row["kind"]),
        state=OperationState(row["state"]),
        matched=row["matched"],
        done=row["done"],
        failed=row["failed"],
        filter=msgspec.convert(row["filter"], BulkFilter),
        created_at=row["created_at"],
        ended_at=row["ended_at"],
    )
