"""Which runs of a tenant: the filter of the runs list and of bulk actions, and the opaque cursor that
pages through them newest first (a keyset on ``(created_at, id)``, which stays as fast on the last page
of a million runs as on the first, where an offset reads every row it skips)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

import msgspec
import sqlalchemy as sa

from ..models import FilterError, RunStatus
from . import schema

R = schema.runs


class RunFilter(msgspec.Struct, kw_only=True, frozen=True):
    """Runs of one workflow (or any), with one of some statuses (or any), started by one event, created in
    ``[since, until)`` (epoch ms), test runs only (`test` true: a run of a draft snapshot, whose version
    has no number) or none of them (false)."""

    workflow_id: str | None = None
    status: tuple[RunStatus, ...] = ()
    event_id: str | None = None
    since: int | None = None
    until: int | None = None
    test: bool | None = None

    def conditions(self, tenant: str) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses of these runs of `tenant`."""
        where: list[sa.ColumnElement[bool]] = [R.c.tenant == tenant]
        if self.workflow_id is not None:
            where.append(R.c.workflow_id == self.workflow_id)
        statuses = sorted({RunStatus(s).value for s in self.status})
        if len(statuses) == 1:
            where.append(R.c.status == statuses[0])
        elif statuses:
            where.append(R.c.status.in_(statuses))
        if self.event_id is not None:
            where.append(R.c.event_id == self.event_id)
        if self.since is not None:
            where.append(R.c.created_at >= self.since)
        if self.until is not None:
            where.append(R.c.created_at < self.until)
        if self.test is True:
            where.append(R.c.version_number.is_(None))
        elif self.test is False:
            where.append(R.c.version_number.is_not(None))
        return where


def statuses(status: RunStatus | str | Iterable[RunStatus | str] | None) -> tuple[RunStatus, ...]:
    """One status, several, or none (any), as a tuple; `FilterError` for a status that does not exist."""
    if status is None:
        return ()
    values = [status] if isinstance(status, str) else list(status)
    try:
        return tuple(RunStatus(value) for value in values)
    except ValueError:
        known = ", ".join(s.value for s in RunStatus)
        raise FilterError("status", f"a status is one of {known}") from None


def before(created_at: int, run_id: str) -> sa.ColumnElement[bool]:
    """Runs after this one newest first: created earlier, or at the same time with a smaller id."""
    return sa.tuple_(R.c.created_at, R.c.id) < sa.tuple_(
        sa.literal(created_at, sa.BigInteger), sa.literal(run_id, sa.String)
    )


NEWEST_FIRST = (R.c.created_at.desc(), R.c.id.desc())
MAX_TIME = 2**63 - 1
"""The largest time a cursor may hold (a BIGINT)."""


def encode_cursor(created_at: int, item_id: str) -> str:
    """An opaque cursor for the item after which the next page starts."""
    raw = msgspec.json.encode([created_at, item_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The time and id `encode_cursor` wrapped; `FilterError` (path ``cursor``) for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value: Any = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        value = None
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and not isinstance(value[0], bool)
        and 0 <= value[0] <= MAX_TIME
        and isinstance(value[1], str)
        and len(value[1]) <= 64
    ):
        return value[0], value[1]
    raise FilterError("cursor", "not a cursor this list gave: start again without one")
