"""Received events, per tenant (``kit.events``): for the editor's "pick a recent event" and for audits."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa

from ...events import RUN_EVENT_PREFIX
from ...tenancy import check_tenant
from ...twins import async_twin
from ..models import NotFoundError, RunStatus
from ..storage import schema
from ..storage.db import Database
from ..storage.run_filter import decode_cursor, encode_cursor
from .workflows import MAX_LIST

E, R, WT = schema.events, schema.runs, schema.waits


class StoredEvent(msgspec.Struct, kw_only=True):
    """An event as received: its id (what `send` returned), the payload, and whether it was a duplicate."""

    id: str
    name: str
    event: dict[str, Any]
    duplicate: bool
    received_at: int


class EventListPage(msgspec.Struct, kw_only=True):
    """A page of events, newest first, and the cursor of the next page (None on the last)."""

    items: builtins.list[StoredEvent]
    next_cursor: str | None = None


class RunLink(msgspec.Struct, kw_only=True):
    """A run in one line, as an event links to it."""

    id: str
    workflow_id: str
    status: RunStatus
    created_at: int
    ended_at: int | None = None
    test: bool = False
    """A test run (of a draft snapshot)."""


class EventLinks(msgspec.Struct, kw_only=True):
    """The runs an event started, and the runs waiting for an event that it resumed."""

    started: builtins.list[RunLink] = msgspec.field(default_factory=builtins.list)
    resumed: builtins.list[RunLink] = msgspec.field(default_factory=builtins.list)


class EventStore:
    """``kit.events``: the events a tenant sent, newest first. Each method is async and has a
    synchronous twin of the same name with ``_sync`` (``kit.events.list_sync(tenant)``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def list_sync(
        self, tenant: str, *, name: str | None = None, limit: int = 50, offset: int = 0, cursor: str | None = None
    ) -> builtins.list[StoredEvent]:
        """The tenant's events, newest first, optionally with one name (`page` gives the cursor of the
        next page: pass it as `cursor` rather than an `offset`, which reads every event it skips)."""
        return self.page_sync(tenant, name=name, limit=limit, offset=offset, cursor=cursor).items

    def page_sync(
        self,
        tenant: str,
        *,
        name: str | None = None,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
        system: bool | None = None,
    ) -> EventListPage:
        """One page of the tenant's events, newest first, and the cursor of the next (None on the last).
        `system`: None lists every event; False leaves out the kit's own run updates
        (``workflow/run.completed`` and the like); True lists only those."""
        check_tenant(tenant)
        limit = max(1, min(limit, MAX_LIST))
        query = E.select().where(E.c.tenant == tenant)
        if name is not None:
            query = query.where(E.c.name == name)
        if system is not None:
            is_system = E.c.name.startswith(RUN_EVENT_PREFIX, autoescape=True)
            query = query.where(is_system if system else sa.not_(is_system))
        if cursor is not None:
            received_at, event_id = decode_cursor(cursor)
            query = query.where(
                sa.tuple_(E.c.received_at, E.c.id)
                < sa.tuple_(sa.literal(received_at, sa.BigInteger), sa.literal(event_id, sa.String))
            )
        query = query.order_by(E.c.received_at.desc(), E.c.id.desc()).limit(limit + 1).offset(max(0, offset))
        with self._db.read() as conn:
            rows = conn.execute(query).mappings().all()
        items = [_stored(row) for row in rows[:limit]]
        following = encode_cursor(items[-1].received_at, items[-1].id) if len(rows) > limit else None
        return EventListPage(items=items, next_cursor=following)

    page = async_twin(page_sync)

    def links_sync(self, tenant: str, event_ids: Sequence[str]) -> dict[str, EventLinks]:
        """For each of these events of the tenant: the runs it started and the runs it resumed (the waits
        for an event it resolved), newest first. Two indexed queries however many events there are; an
        id that is not the tenant's event has no links."""
        check_tenant(tenant)
        ids = builtins.list(dict.fromkeys(event_ids))
        links = {event_id: EventLinks() for event_id in ids}
        if not ids:
            return links
        columns = (R.c.id, R.c.workflow_id, R.c.status, R.c.created_at, R.c.ended_at, R.c.version_number)
        with self._db.read() as conn:
            started = conn.execute(
                sa.select(R.c.event_id, *columns)
                .where(R.c.tenant == tenant, R.c.event_id.in_(ids))
                .order_by(R.c.created_at.desc(), R.c.id.desc())
            ).all()
            resumed = conn.execute(
                sa.select(WT.c.event_id, *columns)
                .join(R, R.c.id == WT.c.run_id)
                .where(WT.c.event_id.in_(ids), WT.c.tenant == tenant, WT.c.status == "resolved")
                .order_by(R.c.created_at.desc(), R.c.id.desc())
            ).all()
        for row in started:
            links[row.event_id].started.append(_link(row))
        for row in resumed:
            found = links[row.event_id].resumed
            if all(link.id != row.id for link in found):  # a run may have waited for it twice
                found.append(_link(row))
        return links

    links = async_twin(links_sync)

    list = async_twin(list_sync)

    def get_sync(self, tenant: str, event_id: str) -> StoredEvent:
        """One received event by its id (what `kit.send` returned); `NotFoundError` if there is none."""
        check_tenant(tenant)
        with self._db.read() as conn:
            row = conn.execute(E.select().where(E.c.id == event_id, E.c.tenant == tenant)).mappings().first()
        if row is None:
            raise NotFoundError(f"no event {event_id!r}")
        return _stored(row)

    get = async_twin(get_sync)


def _link(row: Any) -> RunLink:
    return RunLink(
        id=row.id,
        workflow_id=row.workflow_id,
        status=RunStatus(row.status),
        created_at=row.created_at,
        ended_at=row.ended_at,
        test=row.version_number is None,
    )


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        id=row["id"], name=row["name"], event=row["payload"], duplicate=row["duplicate"], received_at=row["received_at"]
    )
