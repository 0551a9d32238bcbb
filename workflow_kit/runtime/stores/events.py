"""Received events, per tenant (``kit.events``): for the editor's "pick a recent event" and for audits."""

from __future__ import annotations

import builtins
from typing import Any

import msgspec

from ...tenancy import check_tenant
from ...twins import async_twin
from ..models import NotFoundError
from ..storage import schema
from ..storage.db import Database
from .workflows import MAX_LIST

E = schema.events


class StoredEvent(msgspec.Struct, kw_only=True):
    """An event as received: its id (what `send` returned), the payload, and whether it was a duplicate."""

    id: str
    name: str
    event: dict[str, Any]
    duplicate: bool
    received_at: int


class EventStore:
    """``kit.events``: the events a tenant sent, newest first. Each method is async and has a
    synchronous twin of the same name with ``_sync`` (``kit.events.list_sync(tenant)``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def list_sync(
        self, tenant: str, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> builtins.list[StoredEvent]:
        """The tenant's events, newest first, optionally with one name."""
        check_tenant(tenant)
        query = E.select().where(E.c.tenant == tenant)
        if name is not None:
            query = query.where(E.c.name == name)
        query = query.order_by(E.c.received_at.desc(), E.c.id.desc()).limit(max(1, min(limit, MAX_LIST)))
        with self._db.read() as conn:
            return [_stored(row) for row in conn.execute(query.offset(max(0, offset))).mappings()]

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


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        id=row["id"], name=row["name"], event=row["payload"], duplicate=row["duplicate"], received_at=row["received_at"]
    )
